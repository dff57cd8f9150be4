/**
 * A whole hand-over through the REAL mapping state machine of the new epoch: its genesis names the previous
 * epoch; the previous epoch's nodes attest the frozen mapping (MappingTransfer); the new committee's engines
 * take the keys over from the re-dealings, and their ResharePropose and KeyPublish transactions, signed and
 * executed in blocks, move every key back to `assigned` with the same public key and new share
 * commitments, after which the hand-off is complete and new users get new keys.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { bytesToHex, fromUtf8, hexToBytes, utf8 } from '../../core/encoding/bytes.js';
import { encodePoint, parsePoint } from '../../core/crypto/point.js';
import { interpolateInExponent } from '../../core/crypto/polynomial.js';
import type { NodeSigner } from '../../core/crypto/signature.js';
import { attestMappingChunk, type MappingItem } from '../../core/handoff/mapping.js';
import { buildSignedTx } from '../../core/tx/build.js';
import type { TxBody } from '../../core/tx/types.js';
import { MappingStateMachine, type ExecResult } from '../../abci/src/state/machine.js';
import { TxCode } from '../../abci/src/state/codes.js';
import { KEYS, type HandoffInRecord, type KeyRecord } from '../../abci/src/state/records.js';
import { CHAIN_ID, checkKey, Cluster, decidedD, publicKeyOf } from './harness.js';
import { ReshareCluster, TARGET_CHAIN_ID } from './reshare-harness.js';

const KEYS_MOVED = [0n, 1n, 2n];

function run(machine: MappingStateMachine, signer: NodeSigner, signerIndex: number, body: TxBody): ExecResult {
  const tx = buildSignedTx({ chainId: machine.chainId, epoch: BigInt(machine.epoch.id), signerIndex, signer }, body, BigInt(machine.height + 10));
  const [result] = machine.finalizeBlock(machine.height + 1, [tx]).results;
  return result as ExecResult;
}

describe('a hand-over through the new epoch\'s state machine', () => {
  it('(5,3,1) -> (7,4,1): mapping transferred, keys reshared, public keys and owners unchanged, then new keys', () => {
    const source = new Cluster({ n: 5, k: 3, t: 1, seed: 21, epoch: 1n });
    source.start(KEYS_MOVED);
    source.run();
    const target = new ReshareCluster({ source, n: 7, k: 4, t: 1, seed: 22, overlap: 2 });
    const genesis = {
      epoch: { id: 2, n: 7, k: 4, t: 1, members: target.signers.map((s, i) => ({ index: i + 1, public_key: bytesToHex(s.publicKey) })) },
      key_buffer_target: 2,
      max_tx_lifetime_blocks: 50,
      previous: { chain_id: CHAIN_ID, epoch: { id: 1, n: 5, k: 3, t: 1, members: source.signers.map((s, i) => ({ index: i + 1, public_key: bytesToHex(s.publicKey) })) } },
    };
    const machine = MappingStateMachine.genesis(TARGET_CHAIN_ID, utf8(JSON.stringify(genesis)), 1);
    const member = (j: number) => target.signers[j - 1] as NodeSigner;

    // The frozen mapping of epoch 1: three users, attested by k=3 of its nodes.
    const items: MappingItem[] = KEYS_MOVED.map((keyIndex) => ({
      keyIndex, publicKey: encodePoint(publicKeyOf(source.published.get(keyIndex) as never)),
      commitments: decidedD(source, keyIndex).map((p) => encodePoint(p)), verifier: 'google', verifierId: `user${keyIndex}@example.com`,
    }));
    const chunk = { chunkIndex: 0, chunkCount: 1, endIndex: 3n };
    const attestations = [1, 3, 5].map((i) => attestMappingChunk(source.signers[i - 1] as NodeSigner, i, { chainId: CHAIN_ID, epoch: 1n }, 2n, 0, 1, 3n, items));
    const early = run(machine, member(1), 1, { type: 'assign_key', verifier: 'google', verifierId: 'new@example.com' });
    assert.equal(early.code, TxCode.HANDOFF_IN_PROGRESS, early.log);
    const transfer = run(machine, member(2), 2, { type: 'mapping_transfer', ...chunk, items, attestations });
    assert.equal(transfer.code, TxCode.OK, transfer.log);

    target.start(KEYS_MOVED);
    target.run();
    assert.deepEqual(target.invalidTxs, []);
    for (const keyIndex of KEYS_MOVED) {
      const proposal = target.decided.get(keyIndex);
      assert.ok(proposal);
      // A publication before the decision is refused; the proposal decides; a second proposal is refused.
      const tooEarly = run(machine, member(3), 3, target.published.get(keyIndex) as TxBody);
      assert.equal(tooEarly.code, TxCode.KEY_NOT_DECIDED, tooEarly.log);
      assert.equal(run(machine, member(3), 3, proposal).code, TxCode.OK);
      assert.equal(run(machine, member(4), 4, proposal).code, TxCode.KEY_NOT_TRANSFERRED);
      assert.equal((machine.table.get<KeyRecord>(KEYS.key(Number(keyIndex))) as KeyRecord).status, 'reshare-decided');
      const publication = run(machine, member(5), 5, target.published.get(keyIndex) as TxBody);
      assert.equal(publication.code, TxCode.OK, publication.log);
      const record = machine.table.get<KeyRecord>(KEYS.key(Number(keyIndex))) as KeyRecord;
      assert.equal(record.status, 'assigned');
      assert.equal(record.epoch, 2);
      assert.deepEqual(record.assigned_to, { verifier: 'google', verifier_id: `user${keyIndex}@example.com` });
      assert.equal(record.public_key, bytesToHex(encodePoint(checkKey(source, keyIndex).publicKey)), 'the public key is unchanged');
      const sharePublics = record.share_publics ?? [];
      assert.equal(sharePublics.length, 4, 'k\' new share commitments');
      const Y = interpolateInExponent(sharePublics.map((p) => ({ index: BigInt(p.index), value: parsePoint(hexToBytes(p.point)) })));
      assert.equal(bytesToHex(encodePoint(Y)), record.public_key);
    }
    const handoff = machine.table.get<HandoffInRecord>(KEYS.handoffIn) as HandoffInRecord;
    assert.equal(handoff.complete, true, 'the hand-off is complete once every key is reshared');
    const again = run(machine, member(1), 1, { type: 'assign_key', verifier: 'google', verifierId: 'user1@example.com' });
    assert.equal(JSON.parse(fromUtf8(again.data as Uint8Array)).key_index, 1, 'a transferred user keeps the key');
    // Key generation resumes in the new epoch above the transferred indexes.
    assert.equal((machine.table.get<KeyRecord>(KEYS.key(3)) as KeyRecord).status, 'generating');
    assert.equal(machine.counters.next_index, 5);
  });
});
