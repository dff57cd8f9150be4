/**
 * The mapping hand-off between epochs: what the nodes of a frozen epoch e attest and what the chain of
 * epoch e+1 checks. Shared by both chains, so they can never disagree about an encoding.
 *
 * The frozen mapping of epoch e is every assigned key ascending by key index, cut into chunks of
 * CHUNK_SIZE items (one empty chunk when nothing was assigned). A member of epoch e signs a chunk under
 * MAPPING_CHUNK_TAG over `mappingChunkParts`: the source chain and epoch, the next epoch, the chunk's index
 * and count, the end index and the chunk's canonical encoding. Every field is fixed-width or length-prefixed,
 * so an attestation for one chunk never verifies for another chunk, count, end index, epoch or chain.
 */
import { z } from 'zod';
import { hexToBytes, u32be, u64be, utf8, concatBytes } from '../encoding/bytes.js';
import type { NodeSigner } from '../crypto/signature.js';

export const MAPPING_CHUNK_TAG = 'torus/handoff/mapping-chunk/v1';

/** Items per chunk. 32 items with k = 33 commitments each (n = 64) stay well inside a 64 KiB transaction. */
export const CHUNK_SIZE = 32;

/** One assigned key of the frozen mapping. */
export interface MappingItem {
  readonly keyIndex: bigint;
  /** 33-byte compressed public key. */
  readonly publicKey: Uint8Array;
  /** The key's combined commitment D in the source epoch: k_source 33-byte compressed points. */
  readonly commitments: readonly Uint8Array[];
  readonly verifier: string;
  readonly verifierId: string;
}

/** The chain and epoch whose members attest a chunk. */
export interface MappingSource {
  readonly chainId: string;
  readonly epoch: bigint;
}

/** A member's signature over a chunk; `nodeIndex` is its index in the source epoch. */
export interface MappingAttestation {
  readonly nodeIndex: number;
  readonly signature: Uint8Array;
}

const point = z.string().regex(/^(02|03)[0-9a-f]{64}$/);

/** An item as the frozen chain's queries answer it (hex, decimal key index). */
export const MappingItemJson = z.object({
  key_index: z.number().int().nonnegative(),
  public_key: point,
  commitments: z.array(point).min(1),
  verifier: z.string().min(1),
  verifier_id: z.string().min(1),
}).strict();
export type MappingItemJson = z.infer<typeof MappingItemJson>;

export function mappingItemFromJson(json: MappingItemJson): MappingItem {
  return {
    keyIndex: BigInt(json.key_index),
    publicKey: hexToBytes(json.public_key, 33),
    commitments: json.commitments.map((c) => hexToBytes(c, 33)),
    verifier: json.verifier,
    verifierId: json.verifier_id,
  };
}

/** A length-prefixed byte string: u32(len) ‖ bytes. */
function prefixed(bytes: Uint8Array): Uint8Array {
  return concatBytes(u32be(bytes.length), bytes);
}

/**
 * Canonical encoding of one item: u64(key_index) ‖ u32(len) ‖ public key ‖ u32(count) ‖ (u32(len) ‖ point)*
 * ‖ u32(len) ‖ verifier ‖ u32(len) ‖ verifier_id (strings as UTF-8).
 */
export function encodeMappingItem(item: MappingItem): Uint8Array {
  return concatBytes(
    u64be(item.keyIndex),
    prefixed(item.publicKey),
    u32be(item.commitments.length),
    ...item.commitments.map(prefixed),
    prefixed(utf8(item.verifier)),
    prefixed(utf8(item.verifierId)),
  );
}

/** Canonical encoding of a chunk's items: u32(count) ‖ (u32(len) ‖ encodeMappingItem(item))*. */
export function encodeMappingChunk(items: readonly MappingItem[]): Uint8Array {
  return concatBytes(u32be(items.length), ...items.map((item) => prefixed(encodeMappingItem(item))));
}

/**
 * The parts a source member signs (under MAPPING_CHUNK_TAG) for chunk `chunkIndex` of `chunkCount` of the
 * mapping that `source` hands to `nextEpoch`; `endIndex` is the source's next key index at the freeze.
 */
export function mappingChunkParts(
  source: MappingSource, nextEpoch: bigint, chunkIndex: number, chunkCount: number, endIndex: bigint, items: readonly MappingItem[],
): Uint8Array[] {
  return [
    utf8(source.chainId), u64be(source.epoch), u64be(nextEpoch),
    u32be(chunkIndex), u32be(chunkCount), u64be(endIndex),
    encodeMappingChunk(items),
  ];
}

/** The number of chunks of a frozen mapping of `items` items (at least one, so an empty mapping is transferable). */
export function mappingChunkCount(items: number): number {
  return Math.max(1, Math.ceil(items / CHUNK_SIZE));
}

/** A source member's attestation of a chunk. */
export function attestMappingChunk(
  signer: NodeSigner, nodeIndex: number, source: MappingSource, nextEpoch: bigint,
  chunkIndex: number, chunkCount: number, endIndex: bigint, items: readonly MappingItem[],
): MappingAttestation {
  const signature = signer.sign(MAPPING_CHUNK_TAG, mappingChunkParts(source, nextEpoch, chunkIndex, chunkCount, endIndex, items));
  return { nodeIndex, signature };
}
