import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { bytesToHex } from '../../core/encoding/bytes.js';
import { decideLookup, InvalidLookupAnswer, LookupError, parseLookupResult, VerifierNotSupportedError, type LookupAnswer } from '../src/lookup.js';
import type { LookupResult } from '../src/protocol.js';
import { NodeCallError, NodeRpcError } from '../src/rpc.js';
import { lookupResult, makeKey } from './fixtures.js';

const ok = (index: number, result: LookupResult): LookupAnswer => ({ index, ok: true, result });
const notAssigned = (index: number, suffix = ''): LookupAnswer => ({
  index,
  ok: false,
  error: new NodeRpcError(`http://node${index}/jrpc`, 'VerifierLookupRequest', { code: -32602, message: 'Input Error', data: `Verifier + VerifierID has not yet been assigned${suffix}` }),
});
const down = (index: number): LookupAnswer => ({
  index,
  ok: false,
  error: new NodeCallError('transport', `http://node${index}/jrpc`, 'VerifierLookupRequest', 'fetch failed: connect ECONNREFUSED'),
});

describe('decideLookup (n = 5, majority 3)', () => {
  const key = makeKey(5, 3);
  const other = makeKey(5, 3, 0x20n);

  it('three identical results decide, even while two nodes have not answered', () => {
    const d = decideLookup([ok(1, lookupResult(key)), ok(4, lookupResult(key)), ok(2, lookupResult(key))], 5);
    assert.equal(d.status, 'assigned');
    assert.ok(d.status === 'assigned');
    assert.deepEqual(d.agreeing, [1, 2, 4]);
    assert.equal(d.keys[0]?.keyIndex, 0x1fn);
    assert.equal(bytesToHex(d.keys[0]?.publicKey ?? new Uint8Array()), bytesToHex(key.publicKey));
    assert.equal(d.keys[0]?.address, key.address);
  });

  it('compares by value: hex case and zero padding do not split the majority', () => {
    const plain = lookupResult(key);
    const k0 = plain.keys[0] as LookupResult['keys'][number];
    const upper: LookupResult = { keys: [{ ...k0, key_index: '001F', pub_key_X: k0.pub_key_X.toUpperCase().padStart(64, '0') }] };
    const d = decideLookup([ok(1, plain), ok(2, upper), ok(3, plain)], 5);
    assert.equal(d.status, 'assigned');
  });

  it('two against two with one node missing is still pending; a fifth answer decides', () => {
    const answers = [ok(1, lookupResult(key)), ok(2, lookupResult(other)), ok(3, lookupResult(key)), ok(4, lookupResult(other))];
    assert.equal(decideLookup(answers, 5).status, 'pending');
    assert.equal(decideLookup([...answers, ok(5, lookupResult(other))], 5).status, 'assigned');
  });

  it('no majority once everyone answered: an error naming every node and what it said', () => {
    const d = decideLookup([ok(1, lookupResult(key)), ok(2, lookupResult(other)), ok(3, lookupResult(key)), notAssigned(4), down(5)], 5);
    assert.equal(d.status, 'failed');
    assert.ok(d.status === 'failed');
    assert.ok(d.error instanceof LookupError);
    assert.match(d.error.message, /cannot decide the lookup: no 3 of 5 nodes gave the same answer\n/);
    assert.match(d.error.message, /node 2: key 20 0x/);
    assert.match(d.error.message, /node 4: not assigned/);
    assert.match(d.error.message, /node 5: unreachable: fetch failed/);
    assert.deepEqual(d.error.nodes.map((n) => n.index), [1, 2, 3, 4, 5]);
  });

  it('fails early once a majority has become impossible', () => {
    assert.equal(decideLookup([down(1), down(2), ok(3, lookupResult(key))], 5).status, 'pending');
    const d = decideLookup([down(1), down(2), ok(3, lookupResult(key)), ok(4, lookupResult(other))], 5);
    assert.ok(d.status === 'failed');
    assert.match(d.error.message, /the 1 that have not answered yet could not make up for it/);
  });

  it('three "not assigned" errors mean unassigned, whatever text follows the marker', () => {
    const d = decideLookup([notAssigned(1, ' (a)'), notAssigned(2), ok(3, lookupResult(key)), notAssigned(5, ': no record')], 5);
    assert.equal(d.status, 'unassigned');
    assert.ok(d.status === 'unassigned');
    assert.deepEqual(d.agreeing, [1, 2, 5]);
  });

  it('two "not assigned" are not enough', () => {
    assert.equal(decideLookup([notAssigned(1), notAssigned(2), down(3), down(4)], 5).status, 'pending');
    assert.equal(decideLookup([notAssigned(1), notAssigned(2), down(3), down(4), down(5)], 5).status, 'failed');
  });

  it('a majority saying "Verifier not supported" is its own error', () => {
    const unsupported = (index: number): LookupAnswer => ({
      index,
      ok: false,
      error: new NodeRpcError('http://x/jrpc', 'VerifierLookupRequest', { code: -32602, message: 'Input error', data: 'Verifier not supported' }),
    });
    const d = decideLookup([unsupported(1), unsupported(2), unsupported(3)], 5);
    assert.ok(d.status === 'failed');
    assert.ok(d.error instanceof VerifierNotSupportedError);
  });

  it('an answer whose address is not its key\'s EIP-55 address is not a vote', () => {
    const forged = lookupResult(key);
    const k0 = forged.keys[0] as LookupResult['keys'][number];
    const lowercase: LookupResult = { keys: [{ ...k0, address: k0.address.toLowerCase() }] };
    assert.throws(() => parseLookupResult(lowercase), InvalidLookupAnswer);
    const d = decideLookup([ok(1, lookupResult(key)), ok(2, lowercase), ok(3, lookupResult(key)), down(4), down(5)], 5);
    assert.ok(d.status === 'failed');
    assert.match(d.error.message, /node 2: invalid answer: .*not the EIP-55 address/);
  });

  it('a point that is not on the curve is not a vote', () => {
    const bad: LookupResult = { keys: [{ key_index: '1', pub_key_X: '7', pub_key_Y: '1', address: key.address }] };
    assert.throws(() => parseLookupResult(bad), /not a point on secp256k1/);
  });

  it('n = 4 needs 3, n = 1 needs 1', () => {
    assert.equal(decideLookup([ok(1, lookupResult(key)), ok(2, lookupResult(key))], 4).status, 'pending');
    assert.equal(decideLookup([ok(1, lookupResult(key))], 1).status, 'assigned');
  });
});
