/**
 * The answers of the mapping state's hand-off queries (abci/src/query.ts), as the processes that read them
 * through CometBFT validate them: the retrieval server (the methods old and new nodes call) and torus-dkg
 * (the hand-over roles and the worker). One schema per query, so the readers cannot drift apart.
 */
import { z } from 'zod';
import { CHUNK_SIZE, MappingItemJson } from './mapping.js';

const count = z.number().int().nonnegative();
const epochId = z.number().int().positive();
const point = z.string().regex(/^[0-9a-f]{66}$/);

/** `/handoff/out`: the freeze votes so far, or the frozen mapping's size. */
export const HandoffOut = z.discriminatedUnion('frozen', [
  z.object({ frozen: z.literal(false), votes: z.array(z.object({ node_index: z.number().int().positive(), next_epoch: epochId })) }),
  z.object({ frozen: z.literal(true), next_epoch: epochId, end_index: count, items: count, chunks: z.number().int().positive() }),
]);
export type HandoffOut = z.infer<typeof HandoffOut>;

/** `/handoff/out/chunk`: a chunk of the frozen mapping. Items stay as JSON: they are signed as sent. */
export const FrozenChunk = z.object({
  chain_id: z.string().min(1),
  epoch: epochId,
  next_epoch: epochId,
  chunk: count,
  chunks: z.number().int().positive(),
  end_index: count,
  items: z.array(MappingItemJson).max(CHUNK_SIZE),
});
export type FrozenChunk = z.infer<typeof FrozenChunk>;

/** `/handoff/in`: how far this chain has taken over the previous epoch. */
export const HandoffIn = z.object({
  previous_epoch: epochId,
  chunks_received: count,
  chunk_count: z.number().int().positive().nullable(),
  end_index: count.nullable(),
  keys_transferred: count,
  keys_resharing: count,
  complete: z.boolean(),
  chunks_missing: z.array(count),
});
export type HandoffIn = z.infer<typeof HandoffIn>;

/** `/keys/resharing`: transferred keys not reshared yet, ascending; `dealers` once their re-dealings are decided. */
export const ResharingKeys = z.object({
  keys: z.array(z.object({
    key_index: count,
    status: z.enum(['transferred', 'reshare-decided']),
    source_commitments: z.array(point),
    dealers: z.array(z.number().int().positive()).optional(),
  })),
});
export type ResharingKeys = z.infer<typeof ResharingKeys>;
