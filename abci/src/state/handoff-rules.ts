/**
 * Rules of the mapping hand-off between epochs that are pure functions of a transaction and the genesis
 * (so they can be memoised per transaction like signatures), and the layout of a frozen mapping.
 *
 * MappingTransfer: the chunk's shape (layout, ascending key indexes below end_index, k_previous commitments
 *   per item, no user or public key twice) and at least k_previous attestations by distinct members of the
 *   previous epoch, each over mappingChunkParts(previous chain and epoch, this epoch, ...). The state
 *   checks (first chunk fixes count and end index, duplicates, conflicts) are the machine's.
 */
import { bytesToHex } from '../../../core/encoding/bytes.js';
import { verifySignature } from '../../../core/crypto/signature.js';
import { CHUNK_SIZE, MAPPING_CHUNK_TAG, mappingChunkCount, mappingChunkParts, type MappingSource } from '../../../core/handoff/mapping.js';
import type { MappingTransferBody } from '../../../core/tx/types.js';
import { TxCode } from './codes.js';
import { fail, type RuleFailure } from './keygen-rules.js';
import { KEYS } from './records.js';

export interface TransferContext {
  /** The previous epoch's chain and id: whose members attest the chunks. */
  readonly source: MappingSource;
  /** The previous epoch's reconstruction threshold: attestations needed and commitments per key. */
  readonly sourceK: number;
  readonly sourceMembers: ReadonlyMap<number, Uint8Array>;
  /** This chain's epoch: the one the chunks are handed to. */
  readonly nextEpoch: bigint;
}

/** The shape of a chunk: what an honest frozen epoch's chunk always satisfies. */
function checkChunkShape(ctx: TransferContext, body: MappingTransferBody): RuleFailure | undefined {
  const { chunkIndex, chunkCount, endIndex, items } = body;
  if (endIndex > BigInt(Number.MAX_SAFE_INTEGER)) return fail(TxCode.INVALID_MAPPING_CHUNK, `end_index ${endIndex} is too large`);
  const maxChunks = mappingChunkCount(Number(endIndex));
  if (chunkCount > maxChunks) return fail(TxCode.INVALID_MAPPING_CHUNK, `chunk_count ${chunkCount} is more than ${maxChunks} chunks of ${CHUNK_SIZE} below end_index ${endIndex}`);
  const last = chunkIndex === chunkCount - 1;
  if (!last && items.length !== CHUNK_SIZE) {
    return fail(TxCode.INVALID_MAPPING_CHUNK, `chunk ${chunkIndex} of ${chunkCount} must hold ${CHUNK_SIZE} items, holds ${items.length}`);
  }
  if (last && chunkCount > 1 && items.length === 0) return fail(TxCode.INVALID_MAPPING_CHUNK, `the last of ${chunkCount} chunks is empty`);
  const users = new Set<string>();
  const publicKeys = new Set<string>();
  let previous = -1n;
  for (const item of items) {
    if (item.keyIndex <= previous) return fail(TxCode.INVALID_MAPPING_CHUNK, `key indexes must be strictly ascending: ${item.keyIndex} follows ${previous}`);
    if (item.keyIndex >= endIndex) return fail(TxCode.INVALID_MAPPING_CHUNK, `key index ${item.keyIndex} is not below end_index ${endIndex}`);
    previous = item.keyIndex;
    if (item.commitments.length !== ctx.sourceK) {
      return fail(TxCode.INVALID_MAPPING_CHUNK, `key ${item.keyIndex} has ${item.commitments.length} commitments, the previous epoch's k is ${ctx.sourceK}`);
    }
    const user = KEYS.user(item.verifier, item.verifierId);
    if (users.has(user)) return fail(TxCode.INVALID_MAPPING_CHUNK, `key ${item.keyIndex}: the user appears twice in the chunk`);
    users.add(user);
    const publicKey = bytesToHex(item.publicKey);
    if (publicKeys.has(publicKey)) return fail(TxCode.INVALID_MAPPING_CHUNK, `key ${item.keyIndex}: the public key appears twice in the chunk`);
    publicKeys.add(publicKey);
  }
  return undefined;
}

/** At least k_previous attestations, all by distinct members of the previous epoch, all valid for this chunk. */
function checkChunkAttestations(ctx: TransferContext, body: MappingTransferBody): RuleFailure | undefined {
  const attesters = new Set<number>();
  for (const { nodeIndex } of body.attestations) {
    if (!ctx.sourceMembers.has(nodeIndex)) return fail(TxCode.INVALID_ATTESTATION, `attestation by node ${nodeIndex}, not a member of epoch ${ctx.source.epoch}`);
    if (attesters.has(nodeIndex)) return fail(TxCode.INVALID_ATTESTATION, `two attestations by node ${nodeIndex}`);
    attesters.add(nodeIndex);
  }
  if (attesters.size < ctx.sourceK) {
    return fail(TxCode.INSUFFICIENT_ATTESTATIONS, `a mapping chunk needs attestations by k=${ctx.sourceK} members of epoch ${ctx.source.epoch}, got ${attesters.size}`);
  }
  const parts = mappingChunkParts(ctx.source, ctx.nextEpoch, body.chunkIndex, body.chunkCount, body.endIndex, body.items);
  for (const { nodeIndex, signature } of body.attestations) {
    if (!verifySignature(ctx.sourceMembers.get(nodeIndex) as Uint8Array, MAPPING_CHUNK_TAG, parts, signature)) {
      return fail(TxCode.INVALID_ATTESTATION, `attestation by node ${nodeIndex} of epoch ${ctx.source.epoch} does not verify for chunk ${body.chunkIndex} of ${body.chunkCount}`);
    }
  }
  return undefined;
}

/** Shape, then attestations: every state-independent check of a MappingTransfer. */
export function checkMappingChunk(ctx: TransferContext, body: MappingTransferBody): RuleFailure | undefined {
  return checkChunkShape(ctx, body) ?? checkChunkAttestations(ctx, body);
}

/**
 * The key indexes at positions [from, from+count) of a frozen mapping: the indexes below end_index that
 * are not in `unassigned` (ascending), in order. The caller keeps from+count within the mapping's items.
 */
export function frozenKeyIndexes(unassigned: readonly number[], from: number, count: number): number[] {
  // Position p is key index p moved up past every hole at or below it. After the first position, the
  // holes left are above the last index, so the same loop skips exactly the holes in the way.
  let keyIndex = from;
  let hole = 0;
  const out: number[] = [];
  while (out.length < count) {
    while (hole < unassigned.length && (unassigned[hole] as number) <= keyIndex) {
      keyIndex++;
      hole++;
    }
    out.push(keyIndex);
    keyIndex++;
  }
  return out;
}
