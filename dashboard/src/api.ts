/**
 * The dashboard server's JSON API, as zod schemas: the server builds its answers to these types and the page
 * validates every answer with them before reading a field (the page treats the server like any other network
 * peer). Imports nothing but zod, so the browser bundle can include it.
 *
 *   GET  /api/status           nodes and their health, block heights, epoch, key buffer, key-generation rate
 *   GET  /api/buffer           the key buffer sampled over time (bounded history)
 *   GET  /api/assignments      recent assignments from the chain (verifier ids masked)
 *   GET  /api/client-network   the client network description and verifier for the login demo
 *   POST /api/dev-token        {email} -> {id_token}, from the network's development issuer
 */
import { z } from 'zod';

/** A number of keys (or the next key index): a whole number, never negative. */
const count = z.number().int().nonnegative();

/** `/healthz`: 200 alive, 503 failing (with its detail), no HTTP answer unreachable. */
export const Liveness = z.enum(['alive', 'failing', 'unreachable']);
/** `/readyz`: 200 ready, 503 not ready; 404 (a server without the route) or no answer is unknown. */
export const Readiness = z.enum(['ready', 'not-ready', 'unknown']);

export const NodeStatus = z.object({
  /** Share index in the epoch; 0 while the node has not registered yet. */
  index: z.number().int().nonnegative(),
  name: z.string().nullable(),
  address: z.string().nullable(),
  jsonrpc: z.string(),
  comet_rpc: z.string().nullable(),
  liveness: Liveness,
  /** Why a node is failing or unreachable, in the node's words where it gave any. */
  liveness_detail: z.string().nullable(),
  readiness: Readiness,
  readiness_detail: z.string().nullable(),
  height: z.number().int().nonnegative().nullable(),
  catching_up: z.boolean().nullable(),
  /** ISO time of the node's latest block. */
  block_time: z.string().nullable(),
  /** Why the node's CometBFT RPC gave no status; null when it did or none is known. */
  comet_detail: z.string().nullable(),
});
export type NodeStatus = z.infer<typeof NodeStatus>;

export const EpochInfo = z.object({ id: z.number().int(), n: z.number().int(), k: z.number().int(), t: z.number().int() });
export type EpochInfo = z.infer<typeof EpochInfo>;

export const KeyBuffer = z.object({ target: count, next_index: count, generating: count, ready: count, assigned: count });
export type KeyBuffer = z.infer<typeof KeyBuffer>;

export const KeygenRate = z.object({
  /** Keys that finished generation (ready + assigned grew) per second, over `window_seconds`. */
  keys_per_second: z.number().nonnegative(),
  window_seconds: z.number().positive(),
});
export type KeygenRate = z.infer<typeof KeygenRate>;

export const StatusAnswer = z.object({
  /** ISO time of the last refresh; null before the first one finished. */
  updated_at: z.string().nullable(),
  network: z.object({
    /** The description file the server reads. */
    source: z.string(),
    kind: z.enum(['local-network', 'client-network']),
    chain_id: z.string().nullable(),
    /** Why the description could not be read (the last good one is shown meanwhile). */
    problem: z.string().nullable(),
  }),
  /** From the mapping state (`/epoch`); null while no CometBFT RPC answers. */
  epoch: EpochInfo.nullable(),
  buffer: KeyBuffer.nullable(),
  keygen_rate: KeygenRate.nullable(),
  nodes: z.array(NodeStatus),
});
export type StatusAnswer = z.infer<typeof StatusAnswer>;

export const BufferSample = z.object({
  /** Unix time in ms. */
  t: z.number(),
  ready: count,
  generating: count,
  assigned: count,
  target: count,
});
export type BufferSample = z.infer<typeof BufferSample>;

export const BufferHistoryAnswer = z.object({
  interval_ms: z.number().int().positive(),
  /** Samples older than this are dropped. */
  history_ms: z.number().int().positive(),
  samples: z.array(BufferSample),
});
export type BufferHistoryAnswer = z.infer<typeof BufferHistoryAnswer>;

export const Assignment = z.object({
  key_index: z.number().int().nonnegative(),
  verifier: z.string(),
  /** Partly masked (a***@example.com); null when the key record could not be read. */
  verifier_id: z.string().nullable(),
  address: z.string().nullable(),
  height: z.number().int().positive(),
  /** ISO time of the block; null when its header could not be read. */
  time: z.string().nullable(),
});
export type Assignment = z.infer<typeof Assignment>;

export const AssignmentsAnswer = z.object({
  /** False when no CometBFT RPC answered tx_search (down, or transaction indexing switched off). */
  available: z.boolean(),
  reason: z.string().nullable(),
  items: z.array(Assignment),
});
export type AssignmentsAnswer = z.infer<typeof AssignmentsAnswer>;

export const ClientNetworkAnswer = z.object({
  /** A client network description (client/src/network.ts); TorusClient validates it in full. */
  network: z.record(z.string(), z.unknown()).nullable(),
  verifier: z.string().nullable(),
  /** Why the login demo cannot run (no network description yet, no development issuer); null when it can. */
  problem: z.string().nullable(),
});
export type ClientNetworkAnswer = z.infer<typeof ClientNetworkAnswer>;

export const DevTokenRequest = z.strictObject({ email: z.email().max(254) });
export const DevTokenAnswer = z.object({ id_token: z.string().min(1) });

/** Any failure of the API: `{error}` with a status other than 200. */
export const ApiError = z.object({ error: z.string() });
