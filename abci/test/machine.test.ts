import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bytesToHex, fromUtf8, utf8 } from '../../core/encoding/bytes.js';
import { buildSignedTx, attestKey } from '../../core/tx/build.js';
import { encodeSignedTx, encodePayload } from '../../core/tx/codec.js';
import { SignedTxType } from '../../core/tx/schema.js';
import { NodeSigner } from '../../core/crypto/signature.js';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { MappingStateMachine, type ExecResult } from '../src/state/machine.js';
import { TxCode } from '../src/state/codes.js';
import { GenesisError } from '../src/state/genesis.js';
import { decodeRecord } from '../src/state/records.js';
import { CHAIN_ID, assignTx, ctx, genesisBytes, randomKey, registerBody, registerTx, testEpoch, type TestEpoch } from './fixtures.js';

function start(epoch: TestEpoch = testEpoch(), target = 4): MappingStateMachine {
  return MappingStateMachine.genesis(CHAIN_ID, genesisBytes(epoch, target), 1);
}

/** Runs one block and returns its results. */
function block(machine: MappingStateMachine, ...txs: Uint8Array[]): ExecResult[] {
  return [...machine.finalizeBlock(machine.height + 1, txs).results];
}

function data(result: ExecResult): Record<string, unknown> {
  assert.ok(result.data, `result has no data: ${result.log}`);
  return JSON.parse(fromUtf8(result.data)) as Record<string, unknown>;
}

function codes(results: ExecResult[]): number[] {
  return results.map((r) => r.code);
}

test('genesis schedules the buffer target for generation', () => {
  const machine = start(testEpoch(), 6);
  assert.deepEqual(machine.counters, { next_index: 6, generating: 6, ready: 0, assigned: 0 });
  assert.equal(machine.height, 0);
  assert.equal(machine.appHash.length, 32);
});

test('genesis with broken thresholds, member lists or keys is refused with the reason', () => {
  const e = testEpoch();
  const bad = (mutate: (g: Record<string, any>) => void, pattern: RegExp) => {
    const g = JSON.parse(fromUtf8(genesisBytes(e)));
    mutate(g);
    assert.throws(() => MappingStateMachine.genesis(CHAIN_ID, utf8(JSON.stringify(g)), 1), (err: unknown) => err instanceof GenesisError && pattern.test(err.message));
  };
  bad((g) => { g.epoch.k = 2; }, /k must be floor\(n\/2\)\+1/);
  bad((g) => { g.epoch.t = 2; }, /t < n\/4/);
  bad((g) => { g.epoch.members.pop(); }, /n=5 but 4 members/);
  bad((g) => { g.epoch.members[1].index = 1; }, /indexes must be 1\.\.5/);
  bad((g) => { g.epoch.members[2].public_key = '04' + '11'.repeat(64); }, /member 3 has an invalid public key/);
  bad((g) => { g.epoch.members[2].public_key = g.epoch.members[1].public_key; }, /repeats another member/);
  bad((g) => { g.unexpected = 1; }, /invalid app_state/);
  assert.throws(() => MappingStateMachine.genesis(CHAIN_ID, utf8('{not json'), 1), /not valid JSON/);
});

test('assignment takes the lowest ready key, is idempotent, and rejects an empty buffer cleanly', () => {
  const e = testEpoch();
  const m = start(e);
  const before = bytesToHex(m.appHash);
  const [empty] = block(m, assignTx(e, 'alice@example.com'));
  assert.equal(empty?.code, TxCode.BUFFER_EMPTY);
  assert.match(empty?.log ?? '', /buffer is empty/);
  assert.equal(bytesToHex(m.appHash), before, 'a rejected transaction changes nothing');

  const keys = [randomKey(e.k), randomKey(e.k), randomKey(e.k)];
  // Keys become ready out of order; assignment still takes the lowest index first.
  assert.deepEqual(codes(block(m, registerTx(e, 2, undefined, keys[2]), registerTx(e, 1, undefined, keys[1]))), [0, 0]);
  assert.equal(m.counters.ready, 2);

  const [alice] = block(m, assignTx(e, 'alice@example.com'));
  assert.equal(alice?.code, TxCode.OK);
  assert.deepEqual(data(alice as ExecResult), { key_index: 1, public_key: bytesToHex(keys[1]!.publicKey), address: data(alice as ExecResult)['address'], created: true });

  const [again] = block(m, assignTx(e, 'alice@example.com', 40n, 2));
  assert.equal(again?.code, TxCode.OK);
  assert.equal(data(again as ExecResult)['key_index'], 1, 'a repeated request keeps the same key');
  assert.equal(data(again as ExecResult)['created'], false);

  const [bob] = block(m, assignTx(e, 'bob@example.com'));
  assert.equal(data(bob as ExecResult)['key_index'], 2);
  assert.deepEqual({ ...m.counters }, { next_index: 6, generating: 4, ready: 0, assigned: 2 });
  // The same verifier_id under another verifier is another user.
  assert.equal(block(m, assignTx(e, 'alice@example.com', 40n, 1, 'github'))[0]?.code, TxCode.BUFFER_EMPTY);
});

test('two assignments of one new user in one block give one key', () => {
  const e = testEpoch();
  const m = start(e);
  block(m, registerTx(e, 0), registerTx(e, 1));
  const results = block(m, assignTx(e, 'carol@example.com', 40n, 1), assignTx(e, 'carol@example.com', 40n, 2));
  assert.deepEqual(results.map((r) => data(r)['key_index']), [0, 0]);
  assert.equal(m.counters.assigned, 1);
  assert.equal(m.counters.ready, 1);
});

test('envelope checks: malformed, version, size, epoch, signer, signature, expiry, replay', () => {
  const e = testEpoch();
  const m = start(e);
  const tx = assignTx(e, 'dave@example.com');
  const decoded = SignedTxType.toObject(SignedTxType.decode(tx)) as { payload: Uint8Array; signature: Uint8Array };

  const outsider = new NodeSigner(secp256k1.Point.Fn.toBytes(424242n));
  const forged = buildSignedTx({ chainId: CHAIN_ID, epoch: 1n, signerIndex: 2, signer: outsider }, { type: 'assign_key', verifier: 'google', verifierId: 'x' }, 40n);
  const badSig = new Uint8Array(decoded.signature);
  badSig[10] = (badSig[10] as number) ^ 1;
  const cases: Array<[string, Uint8Array, number, RegExp]> = [
    ['garbage', utf8('definitely not protobuf \u0000\u00ff'), TxCode.MALFORMED, /not a SignedTx|payload|signature/],
    ['empty', new Uint8Array(0), TxCode.UNSUPPORTED_VERSION, /version 0/],
    ['truncated', tx.subarray(0, tx.length - 7), TxCode.MALFORMED, /protobuf|signature/],
    ['version 2', SignedTxType.encode(SignedTxType.fromObject({ version: 2, payload: decoded.payload, signature: decoded.signature })).finish(), TxCode.UNSUPPORTED_VERSION, /version 2/],
    ['oversized', new Uint8Array(70 * 1024), TxCode.TX_TOO_LARGE, /exceeds/],
    ['wrong epoch', buildSignedTx({ ...ctx(e), epoch: 2n }, { type: 'assign_key', verifier: 'google', verifierId: 'x' }, 40n), TxCode.WRONG_EPOCH, /epoch 2/],
    ['non-member index', buildSignedTx({ ...ctx(e), signerIndex: 9 }, { type: 'assign_key', verifier: 'google', verifierId: 'x' }, 40n), TxCode.UNKNOWN_SIGNER, /index 9 is not a member/],
    ['non-member key', forged, TxCode.BAD_SIGNATURE, /does not verify/],
    ['flipped signature', encodeSignedTx(decoded.payload, badSig), TxCode.BAD_SIGNATURE, /does not verify/],
    ['other chain', buildSignedTx(ctx(e, 1, 'another-chain'), { type: 'assign_key', verifier: 'google', verifierId: 'x' }, 40n), TxCode.BAD_SIGNATURE, /does not verify/],
    ['expired', assignTx(e, 'x', 0n), TxCode.EXPIRED, /expired/],
    ['expiry too far', assignTx(e, 'x', 10_000n), TxCode.EXPIRY_TOO_FAR, /beyond/],
    ['empty verifier_id', buildSignedTx(ctx(e), { type: 'assign_key', verifier: 'google', verifierId: '' }, 40n), TxCode.MALFORMED, /verifier_id is empty/],
    ['padded verifier_id', buildSignedTx(ctx(e), { type: 'assign_key', verifier: 'google', verifierId: ' x' }, 40n), TxCode.MALFORMED, /white space/],
  ];
  const hash = bytesToHex(m.appHash);
  for (const [name, bytes, code, log] of cases) {
    const checked = m.checkTx(bytes);
    assert.equal(checked.code, code, `${name}: CheckTx gave ${checked.code} (${checked.log})`);
    assert.match(checked.log, log, name);
    const [delivered] = block(m, bytes);
    assert.equal(delivered?.code, code, `${name}: FinalizeBlock gave ${delivered?.code} (${delivered?.log})`);
  }
  assert.equal(bytesToHex(m.appHash), hash, 'rejected transactions change nothing');

  block(m, registerTx(e, 0));
  // Same payload and signature, different bytes (an unknown field 15 appended).
  const reencoded = Uint8Array.from([...tx, 0x78, 0x01]);
  assert.equal(block(m, tx)[0]?.code, TxCode.OK);
  assert.equal(m.checkTx(tx).code, TxCode.REPLAY);
  const replays = block(m, tx, reencoded);
  assert.deepEqual(codes(replays), [TxCode.REPLAY, TxCode.REPLAY], 'the same payload is a replay whatever its encoding');
  assert.match(replays[0]?.log ?? '', /already committed/);
});

test('replay records expire with their transactions and are pruned', () => {
  const e = testEpoch();
  const m = start(e);
  block(m, registerTx(e, 0, undefined, undefined, 3n));
  const seen = () => [...m.table.entries()].filter(([k]) => k.startsWith('seen/')).length;
  assert.equal(seen(), 1);
  block(m); // height 2
  assert.equal(seen(), 1);
  block(m); // height 3: the tx could still be included at 3, so its record stays until the block ends
  assert.equal(seen(), 0);
});

test('key registration rules', () => {
  const e = testEpoch();
  const m = start(e);
  const key = randomKey(e.k);
  const bad = (body: ReturnType<typeof registerBody>, code: number, log: RegExp) => {
    const result = block(m, buildSignedTx(ctx(e), body, 40n))[0] as ExecResult;
    assert.equal(result.code, code, result.log);
    assert.match(result.log, log);
  };
  bad(registerBody(e, 0, [1, 2], key), TxCode.INSUFFICIENT_ATTESTATIONS, /k=3 members, got 2/);
  bad(registerBody(e, 0, [1, 2, 2], key), TxCode.INVALID_ATTESTATION, /two attestations by node 2/);
  const withOutsider = registerBody(e, 0, [1, 2, 3], key) as Extract<ReturnType<typeof registerBody>, { type: 'register_key' }>;
  bad({ ...withOutsider, attestations: [...withOutsider.attestations.slice(0, 2), { nodeIndex: 7, signature: withOutsider.attestations[2]!.signature }] }, TxCode.INVALID_ATTESTATION, /non-member index 7/);
  // An attestation over another key index does not count for this one.
  const other = registerBody(e, 1, [3], key) as typeof withOutsider;
  bad({ ...withOutsider, attestations: [...withOutsider.attestations.slice(0, 2), other.attestations[0]!] }, TxCode.INVALID_ATTESTATION, /node 3 does not verify/);
  bad({ ...withOutsider, commitments: key.commitments.slice(0, 2) }, TxCode.INVALID_KEY, /k=3 commitments/);
  bad(registerBody(e, 99, [1, 2, 3], key), TxCode.KEY_NOT_GENERATING, /not scheduled/);
  assert.equal(block(m, registerTx(e, 0, [1, 2, 3], key))[0]?.code, TxCode.OK);
  bad(registerBody(e, 0, [1, 2, 3], randomKey(e.k)), TxCode.KEY_NOT_GENERATING, /already ready/);
  bad(registerBody(e, 1, [3, 4, 5], key), TxCode.DUPLICATE_PUBLIC_KEY, /already registered/);
  // The attestations bind the chain: the same signatures made for another chain do not verify.
  const foreign = attestKey(e.signers[0]!, 1, 'another-chain', 1n, 1n, key.publicKey, key.commitments);
  const good = registerBody(e, 1, [1, 2, 3]) as typeof withOutsider;
  bad({ ...good, attestations: [foreign, ...good.attestations.slice(1)] }, TxCode.INVALID_ATTESTATION, /node 1 does not verify/);
  assert.equal(m.counters.ready, 1);
});

test('a malformed key in a RegisterKey transaction is rejected at decoding', () => {
  const e = testEpoch();
  const m = start(e);
  const body = registerBody(e, 0, [1, 2, 3]) as Extract<ReturnType<typeof registerBody>, { type: 'register_key' }>;
  // x = 2^256 - 1 is not a field element, so no point has it.
  const offCurve = new Uint8Array(33).fill(0xff);
  offCurve[0] = 2;
  for (const [field, mutated] of [
    ['public_key', { ...body, publicKey: offCurve }],
    ['commitments', { ...body, commitments: [offCurve, ...body.commitments.slice(1)] }],
  ] as const) {
    const payload = encodePayload({ epoch: 1n, signerIndex: 1, nonce: 1n, expiresAtHeight: 40n, body: mutated });
    const tx = encodeSignedTx(payload, e.signers[0]!.sign('torus/mapping/tx/v1', [utf8(CHAIN_ID), payload]));
    const result = m.checkTx(tx);
    assert.equal(result.code, TxCode.MALFORMED);
    assert.match(result.log, new RegExp(`${field}.*not a valid compressed point`));
  }
});

test('same transactions give the same app hash; different mappings give different app hashes', () => {
  const e = testEpoch();
  const a = start(e);
  const b = start(e);
  const setup = [registerTx(e, 0), registerTx(e, 1)];
  block(a, ...setup);
  block(b, ...setup);
  assert.equal(bytesToHex(a.appHash), bytesToHex(b.appHash));
  const alice = assignTx(e, 'alice@example.com');
  const bob = assignTx(e, 'bob@example.com');
  block(a, alice, bob);
  block(b, alice, bob);
  assert.equal(bytesToHex(a.appHash), bytesToHex(b.appHash));
  // Same height, same number of assignments, but a different user: the hashes must differ.
  const c = start(e);
  block(c, ...setup);
  block(c, alice, assignTx(e, 'mallory@example.com'));
  assert.equal(c.counters.assigned, a.counters.assigned);
  assert.notEqual(bytesToHex(c.appHash), bytesToHex(a.appHash));
});

test('a machine restored from its committed records continues exactly like the original', () => {
  const e = testEpoch();
  const live = start(e);
  const committed = new Map<string, string>();
  const persist = () => {
    for (const blockWrites of live.takePendingWrites()) {
      for (const [key, value] of blockWrites.writes) value === null ? committed.delete(key) : committed.set(key, value);
    }
  };
  block(live, registerTx(e, 0), registerTx(e, 1), registerTx(e, 2, undefined, undefined, 5n));
  block(live, assignTx(e, 'alice@example.com'));
  persist();
  const restored = MappingStateMachine.restore([...committed].map(([k, v]) => [k, decodeRecord(k, v)] as const), live.height, live.appHash);
  assert.deepEqual(restored.counters, live.counters);
  const next = [assignTx(e, 'bob@example.com'), assignTx(e, 'alice@example.com', 40n, 3), registerTx(e, 3)];
  const fromLive = block(live, ...next);
  const fromRestored = block(restored, ...next);
  assert.deepEqual(fromRestored, fromLive);
  assert.equal(bytesToHex(restored.appHash), bytesToHex(live.appHash));
  for (let i = 0; i < 5; i++) {
    block(live);
    block(restored);
  }
  assert.equal(bytesToHex(restored.appHash), bytesToHex(live.appHash), 'expiry pruning matches after restore');
});

test('finalizeBlock refuses a height that does not follow the state', () => {
  const m = start();
  assert.throws(() => m.finalizeBlock(5, []), /height 5, but the state is at height 0/);
});
