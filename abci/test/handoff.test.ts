/**
 * Epoch hand-off, part 1: the freeze of the old epoch (FreezeVote, /handoff/out) and the transfer of its
 * mapping into the new epoch's chain (genesis `previous`, MappingTransfer, /handoff/in), on real machines
 * with real signed transactions.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { bytesToHex, fromUtf8, utf8 } from '../../core/encoding/bytes.js';
import { NodeSigner } from '../../core/crypto/signature.js';
import { attestKey, buildSignedTx } from '../../core/tx/build.js';
import { decodeSignedTx, encodePayload, encodeSignedTx } from '../../core/tx/codec.js';
import type { MappingTransferBody, TxBody } from '../../core/tx/types.js';
import {
  CHUNK_SIZE, attestMappingChunk, mappingItemFromJson, type MappingItem, type MappingItemJson, type MappingSource,
} from '../../core/handoff/mapping.js';
import { MappingStateMachine, type ExecResult } from '../src/state/machine.js';
import { QueryCode, TxCode } from '../src/state/codes.js';
import { GenesisError } from '../src/state/genesis.js';
import { frozenKeyIndexes } from '../src/state/handoff-rules.js';
import { decodeRecord, KEYS, type KeyRecord, type StateRecord } from '../src/state/records.js';
import { runQuery } from '../src/query.js';
import { CHAIN_ID, assignTx, ctx, genesisBytes, randomKey, registerTx, testEpoch, type TestEpoch } from './fixtures.js';

const NEW_CHAIN = 'torus-test-chain-epoch-2';
const OLD = testEpoch(); // epoch 1: n=5, k=3, t=1 (k+t = 4 votes freeze it)
/** Epoch 2 has other nodes and other thresholds: n=7, k=4, t=1. */
const NEW = epochWithKeys(7, 4, 1, 2, 2000);
const SOURCE: MappingSource = { chainId: CHAIN_ID, epoch: 1n };

function epochWithKeys(n: number, k: number, t: number, id: number, firstSecret: number): TestEpoch {
  const signers = Array.from({ length: n }, (_, i) => new NodeSigner(secp256k1.Point.Fn.toBytes(BigInt(firstSecret + i))));
  return { id, n, k, t, signers };
}

function members(e: TestEpoch) {
  return e.signers.map((s, i) => ({ index: i + 1, public_key: bytesToHex(s.publicKey) }));
}

/** The genesis of a chain for `e` that takes over from `previous` (on chain `previousChain`). */
function handoffGenesis(e: TestEpoch, previous: TestEpoch = OLD, previousChain = CHAIN_ID, target = 4): Uint8Array {
  const g = JSON.parse(fromUtf8(genesisBytes(e, target))) as Record<string, unknown>;
  g['previous'] = { chain_id: previousChain, epoch: { id: previous.id, n: previous.n, k: previous.k, t: previous.t, members: members(previous) } };
  return utf8(JSON.stringify(g));
}

function startOld(target = 4): MappingStateMachine {
  return MappingStateMachine.genesis(CHAIN_ID, genesisBytes(OLD, target), 1);
}

function startNew(e: TestEpoch = NEW, chain = NEW_CHAIN): MappingStateMachine {
  return MappingStateMachine.genesis(chain, handoffGenesis(e), 1);
}

function block(m: MappingStateMachine, ...txs: Uint8Array[]): ExecResult[] {
  return [...m.finalizeBlock(m.height + 1, txs).results];
}

/** One tx in its own block; CheckTx must agree with FinalizeBlock. */
function run(m: MappingStateMachine, tx: Uint8Array): ExecResult {
  const checked = m.checkTx(tx);
  const [delivered] = block(m, tx);
  assert.equal(checked.code, delivered?.code, `CheckTx and FinalizeBlock agree (${checked.log} / ${delivered?.log})`);
  return delivered as ExecResult;
}

function data(result: ExecResult): Record<string, unknown> {
  assert.ok(result.data, `result has no data: ${result.log}`);
  return JSON.parse(fromUtf8(result.data)) as Record<string, unknown>;
}

async function query(m: MappingStateMachine, path: string, q?: unknown): Promise<{ code: number; log: string; value: any }> {
  const reader = { read: async (key: string) => m.table.get<StateRecord>(key) };
  const result = await runQuery(path, q === undefined ? new Uint8Array(0) : utf8(JSON.stringify(q)), reader);
  return { code: result.code, log: result.log, value: result.value ? JSON.parse(fromUtf8(result.value)) : undefined };
}

function vote(signer: number, nextEpoch = 2n, nonce?: bigint): Uint8Array {
  return buildSignedTx(ctx(OLD, signer), { type: 'freeze_vote', nextEpoch }, 40n, nonce);
}

function keyRecord(m: MappingStateMachine, index: number): KeyRecord | undefined {
  return m.table.get<KeyRecord>(KEYS.key(index));
}

/** The assigned keys of a machine, ascending: the oracle for the frozen mapping. */
function assignedKeys(m: MappingStateMachine): KeyRecord[] {
  return [...m.table.entries()]
    .filter(([key, record]) => key.startsWith('key/') && (record as KeyRecord).status === 'assigned')
    .map(([, record]) => record as KeyRecord)
    .sort((a, b) => a.index - b.index);
}

/**
 * The old chain's blocks: `users` users get keys; `skipped` scheduled keys are never registered, so they
 * stay generating and leave holes between the assigned keys.
 */
function oldChainBlocks(users: number, skipped: readonly number[]): Uint8Array[][] {
  const target = users + skipped.length + 3;
  const registers: Uint8Array[] = [];
  for (let i = 0; i < target; i++) if (!skipped.includes(i)) registers.push(registerTx(OLD, i));
  const assigns = Array.from({ length: users }, (_, u) => assignTx(OLD, `user${u}@example.com`, 40n, 1 + (u % OLD.n)));
  return [registers, assigns];
}

function replay(m: MappingStateMachine, blocks: readonly Uint8Array[][]): void {
  for (const txs of blocks) for (const result of block(m, ...txs)) assert.equal(result.code, TxCode.OK, result.log);
}

/** An old chain with `users` users, frozen for epoch 2 by nodes 1..4. */
function frozenOld(users: number, skipped: readonly number[] = [], blocks = oldChainBlocks(users, skipped)): MappingStateMachine {
  const m = startOld(users + skipped.length + 3);
  replay(m, blocks);
  // Fixed nonces: the same votes on every node that replays these blocks.
  replay(m, [[vote(1, 2n, 1n), vote(2, 2n, 2n), vote(3, 2n, 3n), vote(4, 2n, 4n)]]);
  return m;
}

/** A MappingTransfer body for chunk `c` as the frozen chain answers it, attested by the given old nodes. */
async function chunkBody(old: MappingStateMachine, c: number, attesters: readonly number[] = [1, 2, 3]): Promise<MappingTransferBody> {
  const answer = await query(old, '/handoff/out/chunk', { chunk: c });
  assert.equal(answer.code, QueryCode.OK, answer.log);
  const items = (answer.value.items as MappingItemJson[]).map(mappingItemFromJson);
  return attested(c, answer.value.chunks, BigInt(answer.value.end_index), items, attesters);
}

function attested(
  chunkIndex: number, chunkCount: number, endIndex: bigint, items: readonly MappingItem[], attesters: readonly number[],
  source: MappingSource = SOURCE, nextEpoch = 2n,
): MappingTransferBody {
  const attestations = attesters.map((i) => attestMappingChunk(OLD.signers[i - 1] as NodeSigner, i, source, nextEpoch, chunkIndex, chunkCount, endIndex, items));
  return { type: 'mapping_transfer', chunkIndex, chunkCount, endIndex, items, attestations };
}

function transferTx(body: TxBody, signer = 1, nonce?: bigint, e: TestEpoch = NEW, chain = NEW_CHAIN): Uint8Array {
  return buildSignedTx(ctx(e, signer, chain), body, 40n, nonce);
}

function newAssignTx(user: string, signer = 1): Uint8Array {
  return buildSignedTx(ctx(NEW, signer, NEW_CHAIN), { type: 'assign_key', verifier: 'google', verifierId: user }, 40n);
}

test('freeze needs k+t distinct votes for the same next epoch; a repeated vote does not count', async () => {
  const m = startOld();
  const bad = run(m, vote(1, 1n));
  assert.equal(bad.code, TxCode.INVALID_FREEZE_VOTE);
  assert.match(bad.log, /next_epoch 1 must be greater than this chain's epoch 1/);
  assert.equal(run(m, vote(1, 0n)).code, TxCode.INVALID_FREEZE_VOTE);

  assert.equal(run(m, vote(1)).code, TxCode.OK);
  assert.equal(run(m, vote(2)).code, TxCode.OK);
  // Node 3 votes for epoch 3 first, then moves its vote to epoch 2: one vote per member.
  assert.equal(run(m, vote(3, 3n)).code, TxCode.OK);
  assert.equal(run(m, vote(3)).code, TxCode.OK);
  const again = run(m, vote(3, 2n, 77n));
  assert.equal(again.code, TxCode.DUPLICATE_VOTE, 'the same member for the same epoch, in another payload');
  assert.match(again.log, /node 3 already voted to hand epoch 1 to epoch 2/);
  const open = await query(m, '/handoff/out');
  assert.deepEqual(open.value, { frozen: false, votes: [{ node_index: 1, next_epoch: 2 }, { node_index: 2, next_epoch: 2 }, { node_index: 3, next_epoch: 2 }] });
  assert.equal(m.table.get(KEYS.handoffOut), undefined, 'k+t-1 = 3 votes do not freeze');
  // A vote for another epoch by a fourth node does not complete epoch 2's count.
  assert.equal(run(m, vote(4, 3n)).code, TxCode.OK);
  assert.equal(m.table.get(KEYS.handoffOut), undefined);

  const next = m.counters.next_index;
  const frozen = run(m, vote(4));
  assert.equal(frozen.code, TxCode.OK);
  assert.equal(frozen.log, 'epoch frozen');
  assert.ok(frozen.events.some((e) => e.type === 'torus.epoch_frozen'));
  const out = await query(m, '/handoff/out');
  assert.deepEqual(out.value, { frozen: true, next_epoch: 2, end_index: next, frozen_at_height: m.height, items: 0, chunk_size: CHUNK_SIZE, chunks: 1 });

  const late = run(m, vote(5, 3n));
  assert.equal(late.code, TxCode.EPOCH_FROZEN, 'a vote for another epoch after the freeze');
  assert.match(late.log, /hands its keys to epoch 2; a vote for epoch 3 comes too late/);
  assert.equal(run(m, vote(5)).code, TxCode.OK, 'a late vote for the same epoch is harmless');
});

test('votes survive a restore from records', () => {
  const live = startOld();
  replay(live, [[vote(1), vote(2)], [vote(3)]]);
  const restored = MappingStateMachine.restore(committedRecords(live), live.height, live.appHash);
  assert.equal(run(restored, vote(3, 2n, 5n)).code, TxCode.DUPLICATE_VOTE);
  assert.equal(run(restored, vote(4)).log, 'epoch frozen');
});

test('after the freeze: no new users, existing users keep their key, nothing new is scheduled', async () => {
  const e = OLD;
  const m = startOld(4);
  const late = registerTx(e, 3);
  replay(m, [[registerTx(e, 0), registerTx(e, 1), registerTx(e, 2)], [assignTx(e, 'alice@example.com')]]);
  const alice = keyRecord(m, 0) as KeyRecord;
  assert.equal(m.counters.next_index, 5);
  replay(m, [[vote(1), vote(2), vote(3)]]);
  // In one block: a new user before the freezing vote, the vote, then a new and an existing user.
  const [bob, freeze, carol, aliceAgain] = block(m, assignTx(e, 'bob@example.com'), vote(4), assignTx(e, 'carol@example.com'), assignTx(e, 'alice@example.com', 40n, 2));
  assert.equal(bob?.code, TxCode.OK);
  assert.equal(freeze?.log, 'epoch frozen');
  assert.equal(carol?.code, TxCode.EPOCH_FROZEN);
  assert.equal(carol?.log, "epoch 1 is frozen and hands its keys to epoch 2; ask epoch 2's nodes");
  assert.equal(aliceAgain?.code, TxCode.OK);
  assert.deepEqual(data(aliceAgain as ExecResult), { key_index: 0, public_key: alice.public_key, address: alice.address, created: false });
  assert.equal(m.checkTx(assignTx(e, 'dave@example.com')).code, TxCode.EPOCH_FROZEN, 'CheckTx already refuses new users');
  const out = await query(m, '/handoff/out');
  assert.deepEqual([out.value.end_index, out.value.items], [5, 2], 'bob, assigned before the freezing vote, is in the frozen mapping');

  // Bob's key left the buffer below its target, which would have scheduled key 5 before the freeze.
  assert.deepEqual({ ...m.counters }, { next_index: 5, generating: 2, ready: 1, assigned: 2 });
  assert.equal(keyRecord(m, 5), undefined);
  replay(m, [[late], [], []]);
  assert.deepEqual({ ...m.counters }, { next_index: 5, generating: 1, ready: 2, assigned: 2 });
  assert.equal(keyRecord(m, 5), undefined);
  assert.equal(run(m, assignTx(e, 'erin@example.com')).code, TxCode.EPOCH_FROZEN, 'a ready key is not handed out either');
});

test('layout of a frozen mapping: key indexes by position skip every hole', () => {
  for (let round = 0; round < 200; round++) {
    const end = 1 + Math.floor(Math.random() * 60);
    const holes = Array.from({ length: end }, (_, i) => i).filter(() => Math.random() < 0.3);
    const expected = Array.from({ length: end }, (_, i) => i).filter((i) => !holes.includes(i));
    const from = Math.floor(Math.random() * (expected.length + 1));
    const count = Math.floor(Math.random() * (expected.length - from + 1));
    assert.deepEqual(frozenKeyIndexes(holes, from, count), expected.slice(from, from + count), `holes ${holes} from ${from} count ${count}`);
  }
});

test('the frozen mapping is every assigned key ascending, in identical chunks on every node', async () => {
  const blocks = oldChainBlocks(35, [2, 17, 40]);
  const a = frozenOld(35, [2, 17, 40], blocks);
  const b = frozenOld(35, [2, 17, 40], blocks);
  assert.equal(bytesToHex(a.appHash), bytesToHex(b.appHash));
  const out = await query(a, '/handoff/out');
  assert.equal(out.value.items, 35);
  assert.equal(out.value.chunks, 2);
  assert.equal(out.value.end_index, a.counters.next_index);

  const items: MappingItemJson[] = [];
  for (const [c, size] of [[0, CHUNK_SIZE], [1, 35 - CHUNK_SIZE]] as const) {
    const fromA = await query(a, '/handoff/out/chunk', { chunk: c });
    const fromB = await query(b, '/handoff/out/chunk', { chunk: c });
    assert.deepEqual(fromA, fromB, `chunk ${c} is identical on both nodes`);
    assert.equal(fromA.value.chain_id, CHAIN_ID);
    assert.equal(fromA.value.epoch, 1);
    assert.equal(fromA.value.next_epoch, 2);
    assert.equal(fromA.value.chunks, 2);
    assert.equal(fromA.value.items.length, size);
    items.push(...fromA.value.items);
  }
  const oracle = assignedKeys(a);
  assert.equal(oracle.length, 35);
  assert.deepEqual(items, oracle.map((r) => ({
    key_index: r.index, public_key: r.public_key, commitments: r.commitments,
    verifier: r.assigned_to?.verifier, verifier_id: r.assigned_to?.verifier_id,
  })));
  assert.ok(items.some((item, i) => item.key_index !== i), 'the holes shift the key indexes');
  assert.equal((await query(a, '/handoff/out/chunk', { chunk: 2 })).code, QueryCode.NOT_FOUND);
  assert.equal((await query(startOld(), '/handoff/out/chunk', { chunk: 0 })).code, QueryCode.NOT_FOUND, 'not frozen');
});

test('genesis `previous` is validated like the epoch', () => {
  const bad = (mutate: (g: Record<string, any>) => void, pattern: RegExp) => {
    const g = JSON.parse(fromUtf8(handoffGenesis(NEW)));
    mutate(g);
    assert.throws(() => MappingStateMachine.genesis(NEW_CHAIN, utf8(JSON.stringify(g)), 1), (err: unknown) => err instanceof GenesisError && pattern.test(err.message));
  };
  bad((g) => { g.previous.epoch.id = 2; }, /previous epoch 2 must come before epoch 2/);
  bad((g) => { g.previous.epoch.k = 2; }, /invalid previous epoch thresholds/);
  bad((g) => { g.previous.epoch.members.pop(); }, /previous epoch has n=5 but 4 members/);
  bad((g) => { g.previous.epoch.members[1].index = 1; }, /previous member indexes must be 1\.\.5/);
  bad((g) => { g.previous.epoch.members[2].public_key = g.previous.epoch.members[1].public_key; }, /previous member 3 repeats/);
  bad((g) => { delete g.previous.chain_id; }, /invalid app_state/);
});

test('a receiving chain schedules nothing and assigns nothing', async () => {
  const m = startNew();
  assert.deepEqual({ ...m.counters }, { next_index: 0, generating: 0, ready: 0, assigned: 0 });
  assert.deepEqual((await query(m, '/handoff/in')).value, {
    previous_epoch: 1, chunks_received: 0, chunk_count: null, end_index: null, keys_transferred: 0, keys_resharing: 0, complete: false, chunks_missing: [],
  });
  const refused = run(m, newAssignTx('alice@example.com'));
  assert.equal(refused.code, TxCode.HANDOFF_IN_PROGRESS);
  assert.match(refused.log, /epoch 2 is still taking over the mapping and keys of epoch 1/);
  const vote = run(m, transferTx({ type: 'freeze_vote', nextEpoch: 3n }));
  assert.equal(vote.code, TxCode.HANDOFF_IN_PROGRESS, 'a receiving chain cannot be frozen');
  replay(m, [[], []]);
  assert.equal(m.counters.next_index, 0);
  // A chain without `previous` has nothing to receive.
  const old = startOld();
  const body = attested(0, 1, 4n, [], [1, 2, 3]);
  assert.equal(run(old, buildSignedTx(ctx(OLD), body, 40n)).code, TxCode.NO_PREVIOUS_EPOCH);
  assert.equal((await query(old, '/handoff/in')).code, QueryCode.NOT_FOUND);
});

test('MappingTransfer rejections leave the state unchanged', async () => {
  const old = frozenOld(35, [2, 17]);
  const m = startNew();
  const chunk0 = await chunkBody(old, 0);
  const chunk1 = await chunkBody(old, 1);
  const { chunkCount, endIndex, items } = chunk0;
  const hash = bytesToHex(m.appHash);
  const rejected = (name: string, body: MappingTransferBody, code: number, log: RegExp) => {
    const result = run(m, transferTx(body));
    assert.equal(result.code, code, `${name}: ${result.log}`);
    assert.match(result.log, log, name);
    assert.equal(bytesToHex(m.appHash), hash, `${name} changes nothing`);
  };
  const withSignatures = (body: MappingTransferBody, from: MappingTransferBody) => ({ ...body, attestations: from.attestations });

  rejected('k_prev-1 attestations', { ...chunk0, attestations: chunk0.attestations.slice(0, 2) }, TxCode.INSUFFICIENT_ATTESTATIONS, /k=3 members of epoch 1, got 2/);
  rejected('non-member', { ...chunk0, attestations: [...chunk0.attestations.slice(0, 2), { nodeIndex: 6, signature: chunk0.attestations[2]!.signature }] }, TxCode.INVALID_ATTESTATION, /node 6, not a member of epoch 1/);
  rejected('a new-epoch node signing as an old one', {
    ...chunk0,
    attestations: [...chunk0.attestations.slice(0, 2), { nodeIndex: 3, signature: NEW.signers[2]!.sign('torus/handoff/mapping-chunk/v1', [utf8('x')]) }],
  }, TxCode.INVALID_ATTESTATION, /node 3 of epoch 1 does not verify/);
  rejected('twice the same node', { ...chunk0, attestations: [...chunk0.attestations.slice(0, 2), chunk0.attestations[0]!] }, TxCode.INVALID_ATTESTATION, /two attestations by node 1/);
  rejected('signatures of another chunk index', withSignatures(chunk0, attested(1, chunkCount, endIndex, items, [1, 2, 3])), TxCode.INVALID_ATTESTATION, /does not verify for chunk 0 of 2/);
  rejected('signatures for another next epoch', attested(0, chunkCount, endIndex, items, [1, 2, 3], SOURCE, 3n), TxCode.INVALID_ATTESTATION, /does not verify/);
  rejected('signatures from another source epoch', attested(0, chunkCount, endIndex, items, [1, 2, 3], { chainId: CHAIN_ID, epoch: 0n }), TxCode.INVALID_ATTESTATION, /does not verify/);
  rejected('signatures from another chain', attested(0, chunkCount, endIndex, items, [1, 2, 3], { chainId: 'another-chain', epoch: 1n }), TxCode.INVALID_ATTESTATION, /does not verify/);
  rejected('signatures for another chunk count', withSignatures(chunk0, attested(0, 3, endIndex, items, [1, 2, 3])), TxCode.INVALID_ATTESTATION, /does not verify/);
  rejected('signatures for another end index', withSignatures({ ...chunk0, endIndex: endIndex + 1n }, chunk0), TxCode.INVALID_ATTESTATION, /does not verify/);
  const first = items[0] as MappingItem;
  rejected('tampered user', { ...chunk0, items: [{ ...first, verifierId: 'mallory@example.com' }, ...items.slice(1)] }, TxCode.INVALID_ATTESTATION, /does not verify/);
  rejected('tampered public key', { ...chunk0, items: [{ ...first, publicKey: randomKey(1).publicKey }, ...items.slice(1)] }, TxCode.INVALID_ATTESTATION, /does not verify/);
  rejected('a dropped item, re-signed', attested(0, chunkCount, endIndex, items.slice(1), [1, 2, 3]), TxCode.INVALID_MAPPING_CHUNK, /must hold 32 items, holds 31/);
  rejected('items out of order', { ...chunk0, items: [items[1]!, first, ...items.slice(2)] }, TxCode.INVALID_MAPPING_CHUNK, /strictly ascending/);
  rejected('an item at end_index', { ...chunk1, items: [...chunk1.items.slice(0, -1), { ...chunk1.items.at(-1)!, keyIndex: endIndex }] }, TxCode.INVALID_MAPPING_CHUNK, /not below end_index/);
  rejected('k_new commitments instead of k_prev', { ...chunk0, items: [{ ...first, commitments: randomKey(NEW.k).commitments }, ...items.slice(1)] }, TxCode.INVALID_MAPPING_CHUNK, /has 4 commitments, the previous epoch's k is 3/);
  rejected('more chunks than end_index allows', attested(0, 99, endIndex, items, [1, 2, 3]), TxCode.INVALID_MAPPING_CHUNK, /chunk_count 99/);

  // The first accepted chunk fixes the count and the end index.
  assert.equal(run(m, transferTx(chunk1)).code, TxCode.OK);
  const afterFirst = bytesToHex(m.appHash);
  const other = attested(0, 3, endIndex, items, [1, 2, 3]);
  const mismatch = run(m, transferTx(other));
  assert.equal(mismatch.code, TxCode.INVALID_MAPPING_CHUNK);
  assert.match(mismatch.log, /has 2 chunks below end index \d+ \(fixed by its first accepted chunk\); this chunk says 3/);
  assert.equal(run(m, transferTx(attested(0, chunkCount, endIndex + 32n, items, [1, 2, 3]))).code, TxCode.INVALID_MAPPING_CHUNK, 'another end index');
  const duplicate = run(m, transferTx(chunk1, 2));
  assert.equal(duplicate.code, TxCode.DUPLICATE_CHUNK, 'the same chunk in another payload');
  assert.match(duplicate.log, /chunk 1 of epoch 1's mapping was already accepted/);
  assert.equal(bytesToHex(m.appHash), afterFirst, 'rejections after the first chunk change nothing either');
});

test('a full transfer writes users, transferred keys and public keys; a restore mid-transfer keeps everything', async () => {
  const old = frozenOld(35, [2, 17]);
  const live = startNew();
  const chunk0 = transferTx(await chunkBody(old, 0, [5, 3, 1]), 4);
  const chunk1 = transferTx(await chunkBody(old, 1, [2, 4, 5]), 7);
  const [accepted] = block(live, chunk0);
  assert.equal(accepted?.code, TxCode.OK, accepted?.log);
  assert.deepEqual(data(accepted as ExecResult), { chunk_index: 0, chunk_count: 2, chunks_received: 1, keys: 32 });
  assert.equal(run(live, chunk0).code, TxCode.REPLAY, 'the same transaction again');
  assert.deepEqual((await query(live, '/handoff/in')).value.chunks_missing, [1]);

  const restored = MappingStateMachine.restore(committedRecords(live), live.height, live.appHash);
  assert.deepEqual(restored.counters, live.counters);
  assert.deepEqual(await query(restored, '/handoff/in'), await query(live, '/handoff/in'));
  const newUser = newAssignTx('new@example.com');
  const fromLive = block(live, chunk1, newUser);
  const fromRestored = block(restored, chunk1, newUser);
  assert.deepEqual(fromRestored.map((r) => r.code), fromLive.map((r) => r.code));
  assert.equal(bytesToHex(restored.appHash), bytesToHex(live.appHash));
  assert.equal(fromLive[0]?.code, TxCode.OK, fromLive[0]?.log);
  assert.equal(fromLive[1]?.code, TxCode.HANDOFF_IN_PROGRESS);

  const oldKeys = assignedKeys(old);
  const endIndex = old.counters.next_index;
  for (const m of [live, restored]) {
    for (const source of oldKeys) {
      const record = keyRecord(m, source.index) as KeyRecord;
      assert.deepEqual(record, {
        index: source.index, epoch: 2, status: 'transferred', public_key: source.public_key, address: source.address,
        source_commitments: source.commitments, assigned_to: source.assigned_to,
      });
      const user = source.assigned_to as { verifier: string; verifier_id: string };
      assert.deepEqual(m.table.get(KEYS.user(user.verifier, user.verifier_id)), { ...user, key_indexes: [source.index] });
      assert.deepEqual(m.table.get(`pubkey/${source.public_key}`), { key_index: source.index });
    }
    assert.deepEqual({ ...m.counters }, { next_index: endIndex, generating: 0, ready: 0, assigned: 35 });
    assert.deepEqual((await query(m, '/handoff/in')).value, {
      previous_epoch: 1, chunks_received: 2, chunk_count: 2, end_index: endIndex, keys_transferred: 35, keys_resharing: 35, complete: false, chunks_missing: [],
    });
  }
  // The lookups answer the transferred keys; the key-generation worker pages through the keys to reshare.
  const someone = oldKeys[20] as KeyRecord;
  const lookup = await query(live, '/lookup/verifier', { verifier: 'google', verifier_id: someone.assigned_to?.verifier_id });
  assert.equal(lookup.value.keys[0].public_key, someone.public_key);
  const page1 = await query(live, '/keys/resharing', { limit: 20 });
  const page2 = await query(live, '/keys/resharing', { from: page1.value.keys.at(-1).key_index + 1, limit: 20 });
  const listed = [...page1.value.keys, ...page2.value.keys];
  assert.deepEqual(listed, oldKeys.map((k) => ({ key_index: k.index, status: 'transferred', public_key: k.public_key, source_commitments: k.commitments })));

  // Every chunk is in but no key is reshared: still receiving. An existing user gets their key back.
  replay(live, [[], []]);
  assert.equal(live.counters.next_index, endIndex, 'still nothing scheduled');
  assert.equal(run(live, newAssignTx('other@example.com')).code, TxCode.HANDOFF_IN_PROGRESS);
  const again = run(live, newAssignTx(someone.assigned_to?.verifier_id as string));
  assert.equal(again.code, TxCode.OK);
  assert.deepEqual(data(again), { key_index: someone.index, public_key: someone.public_key, address: someone.address, created: false });
});

test('a conflicting chunk is refused: a key index, user or public key already in the mapping', async () => {
  const old = frozenOld(35, []);
  const m = startNew();
  const chunk0 = await chunkBody(old, 0);
  const chunk1 = await chunkBody(old, 1);
  assert.equal(run(m, transferTx(chunk0)).code, TxCode.OK);
  const hash = bytesToHex(m.appHash);
  const first = chunk0.items[0] as MappingItem;
  // Signed by the old nodes (a dishonest majority could): chunk 1 carrying chunk 0's first user.
  const lastOf1 = chunk1.items.at(-1) as MappingItem;
  const reuse = (item: MappingItem) => attested(1, 2, chunk1.endIndex, [...chunk1.items.slice(0, -1), item], [1, 2, 3]);
  assert.equal(run(m, transferTx(reuse({ ...lastOf1, verifier: first.verifier, verifierId: first.verifierId }))).code, TxCode.MAPPING_CONFLICT);
  assert.equal(run(m, transferTx(reuse({ ...lastOf1, publicKey: first.publicKey }))).code, TxCode.DUPLICATE_PUBLIC_KEY);
  const withOldIndex = attested(1, 2, chunk1.endIndex, [{ ...first, verifierId: 'x@example.com', publicKey: randomKey(1).publicKey }], [1, 2, 3]);
  assert.equal(run(m, transferTx(withOldIndex)).code, TxCode.MAPPING_CONFLICT);
  assert.equal(bytesToHex(m.appHash), hash);
});

test('an empty frozen mapping completes the hand-off at once; keys are then generated from end_index', async () => {
  const old = frozenOld(0);
  const out = await query(old, '/handoff/out');
  assert.equal(out.value.items, 0);
  assert.equal(out.value.chunks, 1);
  const endIndex = out.value.end_index as number;
  assert.ok(endIndex > 0, 'keys were scheduled before the freeze, none assigned');
  const body = await chunkBody(old, 0);
  assert.deepEqual(body.items, []);

  const m = startNew();
  const [accepted] = block(m, transferTx(body));
  assert.equal(accepted?.code, TxCode.OK, accepted?.log);
  assert.deepEqual((await query(m, '/handoff/in')).value, {
    previous_epoch: 1, chunks_received: 1, chunk_count: 1, end_index: endIndex, keys_transferred: 0, keys_resharing: 0, complete: true, chunks_missing: [],
  });
  // Scheduling resumed in the same block, from end_index upward.
  assert.deepEqual({ ...m.counters }, { next_index: endIndex + 4, generating: 4, ready: 0, assigned: 0 });
  assert.equal(keyRecord(m, endIndex - 1), undefined);
  assert.equal(keyRecord(m, endIndex)?.status, 'generating');
  assert.equal(run(m, transferTx(body, 2)).code, TxCode.DUPLICATE_CHUNK);

  const key = randomKey(NEW.k);
  const attestations = [1, 2, 3, 4].map((i) => attestKey(NEW.signers[i - 1] as NodeSigner, i, NEW_CHAIN, 2n, BigInt(endIndex), key.publicKey, key.commitments));
  const register = transferTx({ type: 'register_key', keyIndex: BigInt(endIndex), publicKey: key.publicKey, commitments: key.commitments, attestations });
  assert.equal(run(m, register).code, TxCode.OK);
  const assigned = run(m, newAssignTx('first@example.com'));
  assert.equal(assigned.code, TxCode.OK, assigned.log);
  assert.equal(data(assigned)['key_index'], endIndex);
  assert.equal(data(assigned)['public_key'], bytesToHex(key.publicKey));
});

test('FreezeVote and MappingTransfer encode and decode strictly', async () => {
  const old = frozenOld(35, [3]);
  const body = await chunkBody(old, 1);
  const tx = transferTx(body, 2, 9n);
  assert.deepEqual(plain(decodeSignedTx(tx).payload.body), plain(body));
  assert.deepEqual(decodeSignedTx(vote(1, 12n)).payload.body, { type: 'freeze_vote', nextEpoch: 12n });
  const m = startNew();
  const malformed = (name: string, mutated: MappingTransferBody, log: RegExp) => {
    const payload = encodePayload({ epoch: 2n, signerIndex: 1, nonce: 1n, expiresAtHeight: 40n, body: mutated });
    const bytes = encodeSignedTx(payload, NEW.signers[0]!.sign('torus/mapping/tx/v1', [utf8(NEW_CHAIN), payload]));
    const result = m.checkTx(bytes);
    assert.equal(result.code, TxCode.MALFORMED, `${name}: ${result.log}`);
    assert.match(result.log, log, name);
  };
  malformed('chunk index at the count', { ...body, chunkIndex: 2 }, /chunk_index 2 is not below chunk_count 2/);
  malformed('no chunk count', { ...body, chunkIndex: 0, chunkCount: 0 }, /chunk_count must be >= 1/);
  const full = (await chunkBody(old, 0)).items;
  malformed('too many items', { ...body, items: [...full, body.items[0] as MappingItem] }, /33 items, at most 32/);
  malformed('no commitments', { ...body, items: [{ ...(body.items[0] as MappingItem), commitments: [] }] }, /commitments has 0 entries/);
  malformed('padded verifier_id', { ...body, items: [{ ...(body.items[0] as MappingItem), verifierId: ' x' }] }, /items\[0\]\.verifier_id has leading or trailing white space/);
  const offCurve = new Uint8Array(33).fill(0xff);
  offCurve[0] = 2;
  malformed('off-curve public key', { ...body, items: [{ ...(body.items[0] as MappingItem), publicKey: offCurve }] }, /items\[0\]\.public_key is not a valid compressed point/);
  malformed('short signature', { ...body, attestations: [{ nodeIndex: 1, signature: new Uint8Array(63) }] }, /attestations\[0\]\.signature must be 64 bytes/);
});

/** The records a machine has committed so far, as the store would hand them to `restore`. */
function committedRecords(m: MappingStateMachine): Array<readonly [string, StateRecord]> {
  const committed = new Map<string, string>();
  for (const blockWrites of m.takePendingWrites()) {
    for (const [key, value] of blockWrites.writes) value === null ? committed.delete(key) : committed.set(key, value);
  }
  return [...committed].map(([k, v]) => [k, decodeRecord(k, v)] as const);
}

/** Bytes as hex and big integers as text, so decoded bodies (Buffers) compare with built ones (Uint8Arrays). */
function plain(value: unknown): unknown {
  if (value instanceof Uint8Array) return bytesToHex(value);
  if (typeof value === 'bigint') return value.toString();
  if (Array.isArray(value)) return value.map(plain);
  if (typeof value === 'object' && value !== null) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, plain(v)]));
  return value;
}
