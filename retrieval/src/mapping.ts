/**
 * What the retrieval server needs from its node's mapping state, read and written through its own CometBFT:
 * the epoch, a user's keys, a key by public key, the epoch hand-off (the frozen mapping's chunks, the
 * progress of taking over the previous epoch), and AssignKey transactions signed with the node key.
 * Everything read here was committed by BFT consensus. A user's keys are cached once seen: the state machine
 * never changes or removes an assignment within an epoch (a repeated AssignKey returns the same key), so a
 * cached answer cannot go stale, and a login then needs no round trip through CometBFT. Unassigned answers
 * are never cached.
 */
import { z } from 'zod';
import { abciQuery, broadcastTxCommit, status } from '../../core/comet/rpc.js';
import { buildSignedTx, type TxContext } from '../../core/tx/build.js';
import { FrozenChunk, HandoffIn, HandoffOut, ResharingKeys } from '../../core/handoff/queries.js';
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

/** A frozen chunk, or why there is none. */
export type FrozenChunkLookup =
  | { readonly kind: 'chunk'; readonly chunk: FrozenChunk }
  | { readonly kind: 'not-frozen'; readonly votes: number }
  | { readonly kind: 'no-such-chunk'; readonly chunks: number };

export class MappingError extends Error {
  override name = 'MappingError';
}

export interface AssignOutcome {
  readonly code: number;
  readonly log: string;
}

/** Users whose keys are kept in memory; the oldest entry goes first (a few hundred bytes each). */
const USER_CACHE_ENTRIES = 100_000;
/** How often a reveal that found no assignment asks again: about half the local network's block interval (500 ms). */
const ASSIGNMENT_POLL_MS = 250;

export class MappingClient {
  readonly #userKeys = new Map<string, UserKey[]>();
  #resharingCursor = 0;

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
    // A key taken over from the previous epoch is listed before its new shares are proven (no share_publics
    // yet); its record changes once more, so only finished keys are cached.
    if (keys.length > 0 && keys.every((key) => key.share_publics !== undefined)) {
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

  /**
   * Chunk `chunk` of this chain's frozen mapping. `/handoff/out` is asked first: its answer tells "not frozen"
   * from "no such chunk" (the chunk query answers both as not found), and a freeze is final, so the chunk
   * asked next exists.
   */
  async frozenChunk(chunk: number): Promise<FrozenChunkLookup> {
    const out = await this.#handoffOut();
    if (!out.frozen) return { kind: 'not-frozen', votes: out.votes.length };
    if (chunk >= out.chunks) return { kind: 'no-such-chunk', chunks: out.chunks };
    const answer = await abciQuery(this.rpcUrl, '/handoff/out/chunk', { chunk });
    return { kind: 'chunk', chunk: FrozenChunk.parse(this.#ok(answer, `reading frozen chunk ${chunk}`)) };
  }

  /** The epoch this chain's epoch is frozen for (it hands its keys to it), or undefined when it is not frozen. */
  async frozenFor(): Promise<number | undefined> {
    const out = await this.#handoffOut();
    return out.frozen ? out.next_epoch : undefined;
  }

  async #handoffOut(): Promise<HandoffOut> {
    return HandoffOut.parse(this.#ok(await abciQuery(this.rpcUrl, '/handoff/out'), 'reading the freeze'));
  }

  /** This chain's progress in taking over the previous epoch, or undefined when its genesis names none. */
  async handoffIn(): Promise<HandoffIn | undefined> {
    const answer = await abciQuery(this.rpcUrl, '/handoff/in');
    if (answer.code === QueryCode.NOT_FOUND) return undefined;
    return HandoffIn.parse(this.#ok(answer, 'reading the hand-off progress'));
  }

  /**
   * The lowest key index this epoch still has to take over (transferred, not yet reshared), or null when
   * none is waiting. Keys only ever leave that state, so the scan resumes where the last one found a key:
   * over a whole hand-over each key record is read about once.
   */
  async lowestResharing(): Promise<number | null> {
    const answer = await abciQuery(this.rpcUrl, '/keys/resharing', { from: this.#resharingCursor, limit: 1 });
    const first = ResharingKeys.parse(this.#ok(answer, 'reading the keys to take over')).keys[0];
    if (first === undefined) return null;
    this.#resharingCursor = first.key_index;
    return first.key_index;
  }

  #ok(answer: { code: number; log: string; value: unknown }, what: string): unknown {
    if (answer.code !== QueryCode.OK) throw new MappingError(`${what} failed: ${answer.log}`);
    return answer.value;
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
