import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bytesToHex, fromUtf8 } from '../../core/encoding/bytes.js';
import { buildSignedTx } from '../../core/tx/build.js';
import { G, encodePoint, mulSecret, parsePoint } from '../../core/crypto/point.js';
import { interpolateInExponent } from '../../core/crypto/polynomial.js';
import { Fn } from '../../core/crypto/scalar.js';
import type { KeygenProposeBody, KeyPublishBody, TxBody } from '../../core/tx/types.js';
import { MappingStateMachine, type ExecResult } from '../src/state/machine.js';
import { TxCode } from '../src/state/codes.js';
import type { KeyRecord } from '../src/state/records.js';
import { CHAIN_ID, assignTx, ctx, genesisBytes, keygenOutcome, publishBody, registerTx, shareProof, testEpoch, type TestEpoch } from './fixtures.js';

function start(epoch: TestEpoch, devAttestedKeys = false): MappingStateMachine {
  return MappingStateMachine.genesis(CHAIN_ID, genesisBytes(epoch, 3, 50, devAttestedKeys), 1);
}

function run(m: MappingStateMachine, e: TestEpoch, body: TxBody, signer = 1): ExecResult {
  const tx = buildSignedTx(ctx(e, signer), body, 40n);
  const checked = m.checkTx(tx);
  const [delivered] = m.finalizeBlock(m.height + 1, [tx]).results;
  assert.equal(checked.code, delivered?.code, `CheckTx and FinalizeBlock agree (${checked.log} / ${delivered?.log})`);
  return delivered as ExecResult;
}

function key(m: MappingStateMachine, index: number): KeyRecord {
  return m.table.get<KeyRecord>(`key/${index.toString(16).padStart(16, '0')}`) as KeyRecord;
}

for (const [n, k, t] of [[5, 3, 1], [9, 5, 2]] as const) {
  test(`(${n},${k},${t}): the first valid proposal decides, k share proofs fix the public key, the key is assigned`, () => {
    const e = testEpoch(n, k, t);
    const m = start(e);
    const dealers = Array.from({ length: k + t }, (_, i) => n - i);
    const outcome = keygenOutcome(e, 0, dealers);
    const publishedTooEarly = run(m, e, publishBody(e, 0, outcome, Array.from({ length: k }, (_, i) => i + 1)));
    assert.equal(publishedTooEarly.code, TxCode.KEY_NOT_DECIDED);

    const decided = run(m, e, outcome.propose, 2);
    assert.equal(decided.code, TxCode.OK, decided.log);
    assert.equal(key(m, 0).status, 'decided');
    assert.deepEqual(key(m, 0).dealers, [...dealers].sort((a, b) => a - b));
    assert.equal(key(m, 0).commitments?.length, k);
    assert.equal(m.counters.generating, 3, 'a decided key still counts as generating');

    const second = keygenOutcome(e, 0, Array.from({ length: k + t }, (_, i) => i + 1));
    const late = run(m, e, second.propose, 3);
    assert.equal(late.code, TxCode.KEY_NOT_GENERATING);
    assert.match(late.log, /already decided/);

    const publishers = Array.from({ length: k }, (_, i) => n - i);
    const published = run(m, e, publishBody(e, 0, outcome, publishers), 4);
    assert.equal(published.code, TxCode.OK, published.log);
    const expected = bytesToHex(encodePoint(mulSecret(G, outcome.secret)));
    assert.equal(key(m, 0).public_key, expected, 'the public key is the sum of the decided secrets times G');
    assert.equal(key(m, 0).status, 'ready');
    assert.equal(m.counters.ready, 1);
    const sharePublics = key(m, 0).share_publics ?? [];
    assert.deepEqual(sharePublics.map((p) => p.index), [...publishers].sort((a, b) => a - b), 'the provers, ascending');
    const evaluations = sharePublics.map((p) => ({ index: BigInt(p.index), value: parsePoint(p.point) }));
    for (let j = 1; j <= n; j++) {
      const share = outcome.shares.get(j) as { s: bigint };
      assert.equal(bytesToHex(encodePoint(interpolateInExponent(evaluations, BigInt(j)))), bytesToHex(encodePoint(mulSecret(G, share.s))),
        `g^s_${j} follows from the published points, also for a member that published nothing`);
    }

    const assigned = m.finalizeBlock(m.height + 1, [assignTx(e, 'alice@example.com')]).results[0] as ExecResult;
    assert.equal(JSON.parse(fromUtf8(assigned.data as Uint8Array)).public_key, expected);
    assert.equal(run(m, e, publishBody(e, 0, outcome, publishers)).code, TxCode.KEY_NOT_DECIDED, 'a key is published once');
  });
}

test('proposals are refused unless every dealing is complete and bound to this session', () => {
  const e = testEpoch(5, 3, 1);
  const m = start(e);
  const good = keygenOutcome(e, 0, [1, 2, 3, 4]).propose;
  const bad = (body: KeygenProposeBody, pattern: RegExp) => {
    const result = run(m, e, body);
    assert.equal(result.code, TxCode.INVALID_PROPOSAL, `${pattern}: ${result.log}`);
    assert.match(result.log, pattern);
  };
  const [d1, d2, d3, d4] = good.dealings as [typeof good.dealings[0], typeof good.dealings[0], typeof good.dealings[0], typeof good.dealings[0]];
  bad({ ...good, dealings: [d1, d2, d3] }, /needs k\+t=4 dealings, got 3/);
  bad({ ...good, dealings: [d1, d2, d3, d3] }, /appears twice/);
  bad({ ...good, dealings: [d1, d2, d3, { ...d4, dealer: 7 }] }, /dealer 7 is not a member/);
  bad({ ...good, dealings: [d1, d2, d3, { ...d4, commitment: d4.commitment.slice(1) }] }, /8 points, expected k\*k=9/);
  bad({ ...good, dealings: [d1, d2, d3, { ...d4, readies: d4.readies.slice(1) }] }, /needs k\+t=4 readies, got 3/);
  bad({ ...good, dealings: [d1, d2, d3, { ...d4, readies: [...d4.readies.slice(1), { ...d4.readies[0]!, nodeIndex: 9 }] }] }, /non-member 9/);
  bad({ ...good, dealings: [d1, d2, d3, { ...d4, readies: [...d4.readies, d4.readies[0]!] }] }, /two readies by node 1/);
  // Readies for dealer 3's commitment do not count for dealer 4's.
  bad({ ...good, dealings: [d1, d2, d3, { ...d4, readies: d3.readies }] }, /dealer 4: ready signature by node 1 does not verify/);
  // A commitment other than the one the readies were for.
  bad({ ...good, dealings: [d1, d2, d3, { ...d4, commitment: [d3.commitment[0]!, ...d4.commitment.slice(1)] }] }, /dealer 4: ready signature/);
  // A valid proposal for key 1 replayed as key 0, and one made for another epoch.
  bad({ ...keygenOutcome(e, 1, [1, 2, 3, 4]).propose, keyIndex: 0n }, /does not verify/);
  bad(keygenOutcome({ ...e, id: 2 }, 0, [1, 2, 3, 4]).propose, /does not verify/);
  assert.equal(key(m, 0).status, 'generating', 'nothing was decided');
  assert.equal(run(m, e, good).code, TxCode.OK);
});

test('publications are refused unless exactly k valid share proofs of the decided key are given', () => {
  const e = testEpoch(5, 3, 1);
  const m = start(e);
  const outcome = keygenOutcome(e, 0, [2, 3, 4, 5]);
  assert.equal(run(m, e, outcome.propose).code, TxCode.OK);
  const bad = (body: KeyPublishBody, pattern: RegExp) => {
    const result = run(m, e, body);
    assert.equal(result.code, TxCode.INVALID_SHARE_PROOF, `${pattern}: ${result.log}`);
    assert.match(result.log, pattern);
  };
  const good = publishBody(e, 0, outcome, [1, 2, 3]);
  const [p1, p2, p3] = good.proofs as [typeof good.proofs[0], typeof good.proofs[0], typeof good.proofs[0]];
  bad({ ...good, proofs: [p1, p2] }, /exactly k=3 share proofs, got 2/);
  bad({ ...good, proofs: [p1, p2, p3, shareProof(e, 0, outcome, 4)] }, /exactly k=3/);
  bad({ ...good, proofs: [p1, p2, p2] }, /two share proofs by node 2/);
  bad({ ...good, proofs: [p1, p2, { ...p3, nodeIndex: 4 }] }, /node 4 does not verify/);
  bad({ ...good, proofs: [p1, p2, { ...p3, sharePublic: p2.sharePublic }] }, /node 3 does not verify/);
  bad({ ...good, proofs: [p1, p2, { ...p3, nodeIndex: 8 }] }, /non-member 8/);
  // A proof made for another key index does not count here.
  const otherKey = keygenOutcome(e, 1, [2, 3, 4, 5]);
  bad({ ...good, proofs: [p1, p2, shareProof(e, 1, { ...otherKey, shares: outcome.shares }, 3)] }, /node 3 does not verify/);
  // A node that lies about its share (s+1) cannot prove it.
  const lying = { ...outcome, shares: new Map(outcome.shares).set(3, { s: Fn.add(outcome.shares.get(3)!.s, 1n), sPrime: outcome.shares.get(3)!.sPrime }) };
  bad({ ...good, proofs: [p1, p2, shareProof(e, 0, lying, 3)] }, /node 3 does not verify/);
  assert.equal(key(m, 0).status, 'decided');
  assert.equal(run(m, e, good).code, TxCode.OK);
  assert.equal(key(m, 0).public_key, bytesToHex(encodePoint(mulSecret(G, outcome.secret))));
});

test('attested keys (RegisterKey) are refused unless the genesis enables the development mode', () => {
  const e = testEpoch(5, 3, 1);
  const production = start(e, false);
  const result = production.finalizeBlock(1, [registerTx(e, 0)]).results[0] as ExecResult;
  assert.equal(result.code, TxCode.ATTESTED_KEYS_DISABLED);
  assert.match(result.log, /disabled/);
  assert.equal(production.checkTx(registerTx(e, 0)).code, TxCode.ATTESTED_KEYS_DISABLED);
  const development = start(e, true);
  assert.equal((development.finalizeBlock(1, [registerTx(e, 0)]).results[0] as ExecResult).code, TxCode.OK);
});
