/**
 * LevelDB persistence of the mapping state. At Commit, the writes of the finalized block(s), their
 * versioned copies and the (height, app hash) meta record go in ONE atomic batch: after a crash the store
 * is at some committed height exactly (never between two), and CometBFT's handshake replays the blocks the
 * application is missing from its own block store. The batch is not fsynced: a process crash loses
 * nothing (the OS has the data), and an OS crash can only roll the store back to an earlier committed
 * height, which the handshake repairs the same way. An fsync per block cost up to a third of the block
 * time on a shared disk.
 *
 *   meta                      {"height": h, "app_hash": hex}
 *   s\0<key>                  latest value
 *   h\0<key>\0<height:16 hex> value as of that height ("" = deleted), for queries at a past height
 *
 * Replay records (seen/) get no history: nobody asks for them at a past height.
 */
import { Level } from 'level';
import { bytesToHex, hexToBytes } from '../../../core/encoding/bytes.js';
import type { BlockWrites } from './machine.js';
import { decodeRecord, KEY_PREFIX, type StateRecord } from './records.js';

export interface CommittedMeta {
  readonly height: number;
  readonly appHash: Uint8Array;
}

const META = 'meta';
const latestKey = (key: string) => `s\u0000${key}`;
const historyPrefix = (key: string) => `h\u0000${key}\u0000`;
const heightHex = (height: number) => height.toString(16).padStart(16, '0');

export class StateStore {
  readonly #db: Level<string, string>;

  private constructor(db: Level<string, string>) {
    this.#db = db;
  }

  static async open(directory: string): Promise<StateStore> {
    const db = new Level<string, string>(directory, { keyEncoding: 'utf8', valueEncoding: 'utf8' });
    await db.open();
    return new StateStore(db);
  }

  async close(): Promise<void> {
    await this.#db.close();
  }

  async meta(): Promise<CommittedMeta | undefined> {
    const raw = await this.#db.get(META);
    if (raw === undefined) return undefined;
    const parsed = JSON.parse(raw) as { height: number; app_hash: string };
    return { height: parsed.height, appHash: hexToBytes(parsed.app_hash) };
  }

  /** Every latest record, for rebuilding the in-memory state at start-up. */
  async latestRecords(): Promise<Array<[string, StateRecord]>> {
    const out: Array<[string, StateRecord]> = [];
    for await (const [storedKey, value] of this.#db.iterator({ gt: 's\u0000', lt: 's\u0001' })) {
      const key = storedKey.slice(2);
      out.push([key, decodeRecord(key, value)]);
    }
    return out;
  }

  async commit(blocks: readonly BlockWrites[]): Promise<void> {
    const last = blocks[blocks.length - 1];
    if (last === undefined) return;
    const ops: Array<{ type: 'put'; key: string; value: string } | { type: 'del'; key: string }> = [];
    for (const block of blocks) {
      for (const [key, value] of block.writes) {
        ops.push(value === null ? { type: 'del', key: latestKey(key) } : { type: 'put', key: latestKey(key), value });
        if (!key.startsWith(KEY_PREFIX.seen)) ops.push({ type: 'put', key: historyPrefix(key) + heightHex(block.height), value: value ?? '' });
      }
    }
    ops.push({ type: 'put', key: META, value: JSON.stringify({ height: last.height, app_hash: bytesToHex(last.appHash) }) });
    await this.#db.batch(ops, { sync: false });
  }

  async readLatest(key: string): Promise<StateRecord | undefined> {
    const value = await this.#db.get(latestKey(key));
    return value === undefined ? undefined : decodeRecord(key, value);
  }

  /** The record as it was after the block at `height` was committed. */
  async readAt(key: string, height: number): Promise<StateRecord | undefined> {
    const prefix = historyPrefix(key);
    for await (const value of this.#db.values({ gte: prefix, lte: prefix + heightHex(height), reverse: true, limit: 1 })) {
      return value === '' ? undefined : decodeRecord(key, value);
    }
    return undefined;
  }
}
