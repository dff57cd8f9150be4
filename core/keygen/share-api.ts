/**
 * The narrow local interface between a node's key-generation process (which owns the shares) and its
 * retrieval process (which hands them out, encrypted, after a valid login). The three processes stay
 * separate: torus-dkg serves HTTP on a Unix socket in its own data directory (mode 0600, so only the node's
 * operating-system user can connect), and the retrieval server asks for one share at a time:
 *
 *   GET /v1/share/<epoch>/<key_index>   ->  200 {"epoch", "key_index", "share": "<64 hex>"}
 *                                            404 {"error": "..."} when this node has no share of the key
 *   GET /v1/health                       ->  200 {"ok": true} (the retrieval server's health includes it)
 *
 * There is no way to list shares, and nothing is written through it.
 */
import { z } from 'zod';

export const SHARE_PATH = /^\/v1\/share\/(\d{1,15})\/(\d{1,15})$/;

export const HEALTH_PATH = '/v1/health';

export function sharePath(epoch: number, keyIndex: number): string {
  return `/v1/share/${epoch}/${keyIndex}`;
}

export const ShareAnswer = z.object({
  epoch: z.number().int().positive(),
  key_index: z.number().int().nonnegative(),
  share: z.string().regex(/^[0-9a-f]{64}$/),
}).strict();
export type ShareAnswer = z.infer<typeof ShareAnswer>;

export const ShareError = z.object({ error: z.string() }).strict();
