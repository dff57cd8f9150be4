/**
 * The in-memory state table: typed records by key, with the writes of the current block tracked so they
 * can be hashed into the app hash and persisted atomically at Commit.
 */
import { bytesToHex, u64be } from '../../../core/encoding/bytes.js';
import { DomainHasher, domainHash } from '../../../core/crypto/hash.js';
import { encodeRecord, type StateRecord } from './records.js';

/** A write: the key and its canonical JSON value, or null for a deletion. */
export type Write = readonly [key: string, value: string | null];

export class StateTable {
  readonly #values = new Map<string, StateRecord>();
  #dirty = new Map<string, StateRecord | null>();

  get<T extends StateRecord>(key: string): T | undefined {
    return this.#values.get(key) as T | undefined;
  }

  has(key: string): boolean {
    return this.#values.has(key);
  }

  put(key: string, record: StateRecord): void {
    this.#values.set(key, record);
    this.#dirty.set(key, record);
  }

  delete(key: string): void {
    if (!this.#values.has(key)) return;
    this.#values.delete(key);
    this.#dirty.set(key, null);
  }

  /** Loads a committed record without marking it as written. */
  restore(key: string, record: StateRecord): void {
    this.#values.set(key, record);
  }

  get size(): number {
    return this.#values.size;
  }

  entries(): IterableIterator<[string, StateRecord]> {
    return this.#values.entries();
  }

  /** Returns the writes since the last drain, sorted by key, and starts a new change set. */
  drainWrites(): Write[] {
    const writes: Write[] = [];
    for (const [key, record] of this.#dirty) writes.push([key, record === null ? null : encodeRecord(record)]);
    this.#dirty = new Map();
    writes.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    return writes;
  }
}

export const APP_HASH_TAG = 'torus/mapping/app-hash/v1';
const WRITES_TAG = 'torus/mapping/writes/v1';

/**
 * app_hash(h) = H(app_hash(h-1), h, H(sorted writes of h)). The state is a deterministic function of its
 * writes, so this chain commits to the whole state, every record included: two validators whose records
 * ever differed have different app hashes from then on. A block without writes keeps the previous hash,
 * so CometBFT's `create_empty_blocks = false` can let an idle chain rest (it adds a block whenever the
 * app hash changed).
 */
export function nextAppHash(previous: Uint8Array, height: number, writes: readonly Write[]): Uint8Array {
  if (writes.length === 0 && previous.length > 0) return previous;
  const writesHasher = new DomainHasher(WRITES_TAG);
  for (const [key, value] of writes) {
    // A deletion hashes as the one-byte part 0x00; a value as 0x01 followed by its JSON.
    writesHasher.addText(key).addText(value === null ? '\u0000' : '\u0001' + value);
  }
  return domainHash(APP_HASH_TAG, [previous, u64be(height), writesHasher.digest()]);
}

export function appHashHex(hash: Uint8Array): string {
  return bytesToHex(hash);
}
