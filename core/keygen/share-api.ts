/**
 * The narrow local interface between a node's key-generation process (which owns the shares) and its
 * retrieval process (which hands them out, encrypted, after a valid login). The three processes stay
 * separate: torus-dkg serves HTTP on a Unix socket in its own data directory (mode 0600, so only the node's
 * operating-system user can connect), and the retrieval server asks for one share at a time:
 *
 *   GET /v1/share/<epoch>/<key_index>   ->  200 {"epoch", "key_index", "share": "<64 hex>"}
 *                                            404 {"error": "..."} when this node has no share of the key
 *                                            410 {"error": "...", "handed_over_to": <next epoch>} when the epoch's
 *                                                keys were handed over to the next committee (the shares are
 *                                                deleted; the key is served by the nodes of that epoch now)
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

/** HTTP status of a share request for an epoch whose keys were handed over (and deleted here). */
export const HANDED_OVER_STATUS = 410;

export const ShareHandedOver = z.object({ error: z.string(), handed_over_to: z.number().int().positive() }).strict();
export type ShareHandedOver = z.infer<typeof ShareHandedOver>;

/**
 * The one wording of a hand-over, used by torus-dkg's 410 answer and by the retrieval server's error: it is
 * a fact of committed state, so every old node says the same and a wallet sees one reason, not five.
 */
export function handedOverMessage(epoch: bigint | number, nextEpoch: bigint | number): string {
  return `epoch ${epoch} has handed its keys over to epoch ${nextEpoch}; ask the nodes of epoch ${nextEpoch}`;
}
