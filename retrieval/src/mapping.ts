/**
 * What the retrieval server needs from its node's mapping state, read and written through its own CometBFT:
 * the epoch, a user's keys, a key by public key, and AssignKey transactions signed with the node key.
 * Everything read here was committed by BFT consensus. A user's keys are cached once seen: the state machine
 * never changes or removes an assignment within an epoch (a repeated AssignKey returns the same key), so a
 * cached answer cannot go stale, and a login then needs no round trip through CometBFT. Unassigned answers
 * are never cached.
 */
import { z } from 'zod';
import { abciQuery, broadcastTxCommit, status } from '../../core/comet/rpc.js';
import { buildSignedTx, type TxContext } from '../../core/tx/build.js';
import { QueryCode } from '../../abci/src/state/codes.js';

const hex33 = z.string().regex(/^[0-9a-f]{66}$/);

export const UserKey = z.object({
  key_index: z.number().int().nonnegative(),
  epoch: z.number().int().positive(),
  public_key: hex33,
  address: z.string(),
  share_publics: z.array(z.object({ index: z.number().int().positive(), point: hex33 })).optional(),
});
export type UserKey = z.infer<typeof UserKey>;

const UserKeys = z.object({ keys: z.array(UserKey) });

export const KeyView = z.object({
  index: z.number().int().nonnegative(),
  status: z.string(),
  public_key: hex33.optional(),
  assigned_to: z.object({ verifier: z.string(), verifier_id: z.string() }).optional(),
});
export type KeyView = z.infer<typeof KeyView>;

export class MappingError extends Error {
  override name = 'MappingError';
}

export interface AssignOutcome {
  readonly code: number;
  readonly log: string;
}

/** Users whose keys are kept in memory; the oldest entry goes first (a few hundred bytes each). */
const USER_CACHE_ENTRIES = 100_000;
/** How often a reveal that found no assignment asks again (about a block interval). */
const ASSIGNMENT_POLL_MS = 100;

export class MappingClient {
  readonly #userKeys = new Map<string, UserKey[]>();

  constructor(readonly rpcUrl: string, readonly txLifetimeBlocks = 100) {}

  /** A user's keys, or undefined when the user has none. */
  async keysOf(verifier: string, verifierId: string): Promise<UserKey[] | undefined> {
    const cacheKey = `${verifier}\u0000${verifierId}`;
    const cached = this.#userKeys.get(cacheKey);
    if (cached !== undefined) return cached;
    const answer = await abciQuery(this.rpcUrl, '/lookup/verifier', { verifier, verifier_id: verifierId });
    if (answer.code === QueryCode.NOT_FOUND) return undefined;
    if (answer.code !== 0) throw new MappingError(`lookup failed: ${answer.log}`);
    const keys = UserKeys.parse(answer.value).keys;
    if (keys.length > 0) {
      if (this.#userKeys.size >= USER_CACHE_ENTRIES) this.#userKeys.delete(this.#userKeys.keys().next().value as string);
      this.#userKeys.set(cacheKey, keys);
    }
    return keys;
  }

  /**
   * A user's keys, waiting up to `waitMs` for them to appear. A client may reveal at this node just after
   * another node committed the user's assignment, while this node's CometBFT is still a block behind; waiting
   * a little answers that login instead of failing it. A user with no assignment costs the full wait.
   */
  async keysOfWithin(verifier: string, verifierId: string, waitMs: number): Promise<UserKey[] | undefined> {
    const deadline = Date.now() + waitMs;
    for (;;) {
      const keys = await this.keysOf(verifier, verifierId);
      if (keys !== undefined && keys.length > 0) return keys;
      const left = deadline - Date.now();
      if (left <= 0) return keys;
      await new Promise((resolve) => setTimeout(resolve, Math.min(ASSIGNMENT_POLL_MS, left)));
    }
  }

  async keyByPublicKey(publicKeyHex: string): Promise<KeyView | undefined> {
    const answer = await abciQuery(this.rpcUrl, '/lookup/public-key', { public_key: publicKeyHex });
    if (answer.code === QueryCode.NOT_FOUND) return undefined;
    if (answer.code !== 0) throw new MappingError(`lookup failed: ${answer.log}`);
    return KeyView.parse(answer.value);
  }

  /** Submits AssignKey and waits for its commit. The state machine makes a repeat return the same key. */
  async assign(ctx: TxContext, verifier: string, verifierId: string): Promise<AssignOutcome> {
    const { height } = await status(this.rpcUrl);
    const tx = buildSignedTx(ctx, { type: 'assign_key', verifier, verifierId }, BigInt(height + this.txLifetimeBlocks));
    const committed = await broadcastTxCommit(this.rpcUrl, tx);
    if (committed.checkCode !== 0) return { code: committed.checkCode, log: committed.checkLog };
    return { code: committed.code, log: committed.log };
  }
}
