/**
 * The retrieval process's own durable state (LevelDB in its data directory): the commitments it signed and
 * the id tokens already revealed. Both are needed across restarts: a commitment binds a token hash to the
 * temporary key this node will encrypt to (first come, first bound), and a used-token record is what makes
 * an id token single-use at this node until the token itself expires.
 *
 *   c/<sha256(verifier)>/<commitment>   {x, y, expires_at}   temporary public key committed for this token hash
 *   u/<keccak256(trimmed token)>        {expires_at}         token revealed; refused again until expiry
 *
 * Everything is also held in memory (bounded by the expiry times) so checks are synchronous: two concurrent
 * requests for the same token cannot both pass. Used-token records are written with fsync before a share
 * leaves the node; commitments without (a lost commitment only makes the client commit again).
 */
import { mkdirSync } from 'node:fs';
import { Level } from 'level';
import { z } from 'zod';
import { bytesToHex, utf8 } from '../../core/encoding/bytes.js';
import { sha256 } from '../../core/crypto/hash.js';

const CommitmentValue = z.object({ x: z.string().regex(/^[0-9a-f]{64}$/), y: z.string().regex(/^[0-9a-f]{64}$/), expires_at: z.number().int() }).strict();
const UsedValue = z.object({ expires_at: z.number().int() }).strict();

export interface CommittedKey {
  /** 64 hex each: the temporary public key's coordinates. */
  readonly x: string;
  readonly y: string;
}

export class TokenStore {
  readonly #db: Level<string, string>;
  readonly #commitments = new Map<string, CommittedKey & { expiresAt: number }>();
  readonly #used = new Map<string, number>();
  /** Tokens between the uniqueness check and their used record: a second request for one is refused. */
  readonly #inFlight = new Set<string>();

  private constructor(db: Level<string, string>) {
    this.#db = db;
  }

  static async open(directory: string): Promise<TokenStore> {
    mkdirSync(directory, { recursive: true, mode: 0o700 });
    const db = new Level<string, string>(directory, { keyEncoding: 'utf8', valueEncoding: 'utf8' });
    await db.open();
    const store = new TokenStore(db);
    for await (const [key, value] of db.iterator()) {
      if (key.startsWith('c/')) {
        const v = CommitmentValue.parse(JSON.parse(value));
        store.#commitments.set(key, { x: v.x, y: v.y, expiresAt: v.expires_at });
      } else if (key.startsWith('u/')) {
        store.#used.set(key.slice(2), UsedValue.parse(JSON.parse(value)).expires_at);
      } else {
        throw new Error(`unknown record ${key} in the retrieval store`);
      }
    }
    return store;
  }

  static #commitmentKey(verifier: string, commitment: string): string {
    return `c/${bytesToHex(sha256(utf8(verifier)))}/${commitment}`;
  }

  /** Binds a token hash to a temporary key, unless one is bound already or the token was used. */
  async recordCommitment(verifier: string, commitment: string, key: CommittedKey, expiresAt: number, now: number): Promise<'recorded' | 'duplicate'> {
    const dbKey = TokenStore.#commitmentKey(verifier, commitment);
    const existing = this.#commitments.get(dbKey);
    if ((existing !== undefined && existing.expiresAt > now) || this.isUsed(commitment, now) || this.#inFlight.has(commitment)) return 'duplicate';
    this.#commitments.set(dbKey, { ...key, expiresAt });
    await this.#db.put(dbKey, JSON.stringify({ x: key.x, y: key.y, expires_at: expiresAt }));
    return 'recorded';
  }

  committedKey(verifier: string, commitment: string, now: number): CommittedKey | undefined {
    const entry = this.#commitments.get(TokenStore.#commitmentKey(verifier, commitment));
    return entry !== undefined && entry.expiresAt > now ? { x: entry.x, y: entry.y } : undefined;
  }

  isUsed(tokenHash: string, now: number): boolean {
    const expiresAt = this.#used.get(tokenHash);
    return expiresAt !== undefined && expiresAt > now;
  }

  /** Reserves a token for one request; false if it is used or another request holds it. */
  claim(tokenHash: string, now: number): boolean {
    if (this.isUsed(tokenHash, now) || this.#inFlight.has(tokenHash)) return false;
    this.#inFlight.add(tokenHash);
    return true;
  }

  release(tokenHash: string): void {
    this.#inFlight.delete(tokenHash);
  }

  /** Durably records a claimed token as used until `expiresAt` (unix seconds). */
  async markUsed(tokenHash: string, expiresAt: number): Promise<void> {
    await this.#db.put(`u/${tokenHash}`, JSON.stringify({ expires_at: expiresAt }), { sync: true });
    this.#used.set(tokenHash, expiresAt);
  }

  /** Forgets expired commitments and used tokens; returns how many records went. */
  async prune(now: number): Promise<number> {
    const batch: Array<{ type: 'del'; key: string }> = [];
    for (const [key, entry] of this.#commitments) {
      if (entry.expiresAt <= now) {
        this.#commitments.delete(key);
        batch.push({ type: 'del', key });
      }
    }
    for (const [hash, expiresAt] of this.#used) {
      if (expiresAt <= now) {
        this.#used.delete(hash);
        batch.push({ type: 'del', key: `u/${hash}` });
      }
    }
    if (batch.length > 0) await this.#db.batch(batch);
    return batch.length;
  }

  get size(): { commitments: number; usedTokens: number } {
    return { commitments: this.#commitments.size, usedTokens: this.#used.size };
  }

  async close(): Promise<void> {
    await this.#db.close();
  }
}
