/**
 * The key-generation process's durable store: LevelDB under the node's data directory (mode 0700). It
 * serves the engine's synchronous reads from memory and queues its writes; `flush()` makes the queued
 * writes durable (one synced batch) and the worker calls it BEFORE sending anything the engine produced,
 * so a dealing, a ready or a share is on disk before any message that depends on it leaves the node.
 *
 *   dealing/<epoch>/<key>          {F, Fprime} as hex scalars   (secret: the dealer's polynomials)
 *   ready/<epoch>/<key>/<dealer>   commitment hash hex          (what this node sent ready for)
 *   share/<epoch>/<key>            {s, sPrime, D, dealers}      (secret: this node's share of the key)
 *   handoff/<epoch>                {next_epoch}                 (the epoch's keys were handed over; its
 *                                                                shares and re-dealings are deleted)
 */
import { mkdirSync } from 'node:fs';
import { Level } from 'level';
import { bytesToHex, hexToBytes } from '../../core/encoding/bytes.js';
import { encodePoint, parsePoint } from '../../core/crypto/point.js';
import { MemoryDealingStore, type DealingStore, type StoredDealing, type StoredShare } from './protocol/store.js';

const pad = (value: bigint | number, width: number) => value.toString(16).padStart(width, '0');
const dealingKey = (epoch: bigint, keyIndex: bigint) => `dealing/${pad(epoch, 16)}/${pad(keyIndex, 16)}`;
const readyKey = (epoch: bigint, keyIndex: bigint, dealer: number) => `ready/${pad(epoch, 16)}/${pad(keyIndex, 16)}/${pad(dealer, 8)}`;
const shareKey = (epoch: bigint, keyIndex: bigint) => `share/${pad(epoch, 16)}/${pad(keyIndex, 16)}`;
const handoffKey = (epoch: bigint) => `handoff/${pad(epoch, 16)}`;
const scalarHex = (value: bigint) => pad(value, 64);

export class LevelDealingStore implements DealingStore {
  readonly #db: Level<string, string>;
  readonly #memory = new MemoryDealingStore();
  #pending: Array<{ type: 'put'; key: string; value: string } | { type: 'del'; key: string }> = [];
  /** Epoch → the epoch its keys were handed over to. */
  readonly #handedOver = new Map<bigint, bigint>();

  private constructor(db: Level<string, string>) {
    this.#db = db;
  }

  static async open(directory: string): Promise<LevelDealingStore> {
    mkdirSync(directory, { recursive: true, mode: 0o700 });
    const db = new Level<string, string>(directory, { keyEncoding: 'utf8', valueEncoding: 'utf8' });
    await db.open();
    const store = new LevelDealingStore(db);
    for await (const [key, value] of db.iterator()) store.#restore(key, value);
    return store;
  }

  #restore(key: string, value: string): void {
    const [kind, epochHex, keyHex, dealerHex] = key.split('/');
    const epoch = BigInt(`0x${epochHex}`);
    if (kind === 'handoff') {
      this.#handedOver.set(epoch, BigInt((JSON.parse(value) as { next_epoch: number }).next_epoch));
      return;
    }
    const keyIndex = BigInt(`0x${keyHex}`);
    if (kind === 'dealing') {
      const parsed = JSON.parse(value) as { F: string[][]; Fprime: string[][] };
      const toScalars = (rows: string[][]) => rows.map((row) => row.map((h) => BigInt(`0x${h}`)));
      this.#memory.saveDealing(epoch, keyIndex, { F: toScalars(parsed.F), Fprime: toScalars(parsed.Fprime) });
    } else if (kind === 'ready') {
      this.#memory.saveReady(epoch, keyIndex, Number.parseInt(dealerHex as string, 16), hexToBytes(value));
    } else if (kind === 'share') {
      const parsed = JSON.parse(value) as { s: string; sPrime: string; D: string[]; dealers: number[] };
      this.#memory.saveShare(epoch, keyIndex, {
        s: BigInt(`0x${parsed.s}`), sPrime: BigInt(`0x${parsed.sPrime}`), D: parsed.D.map((p) => parsePoint(p)), dealers: parsed.dealers,
      });
    } else {
      throw new Error(`unknown record ${key} in the key-generation store`);
    }
  }

  loadDealing(epoch: bigint, keyIndex: bigint): StoredDealing | undefined {
    return this.#memory.loadDealing(epoch, keyIndex);
  }

  saveDealing(epoch: bigint, keyIndex: bigint, dealing: StoredDealing): void {
    this.#memory.saveDealing(epoch, keyIndex, dealing);
    const hex = (rows: StoredDealing['F']) => rows.map((row) => row.map(scalarHex));
    this.#pending.push({ type: 'put', key: dealingKey(epoch, keyIndex), value: JSON.stringify({ F: hex(dealing.F), Fprime: hex(dealing.Fprime) }) });
  }

  loadReady(epoch: bigint, keyIndex: bigint, dealer: number): Uint8Array | undefined {
    return this.#memory.loadReady(epoch, keyIndex, dealer);
  }

  saveReady(epoch: bigint, keyIndex: bigint, dealer: number, commitmentHash: Uint8Array): void {
    this.#memory.saveReady(epoch, keyIndex, dealer, commitmentHash);
    this.#pending.push({ type: 'put', key: readyKey(epoch, keyIndex, dealer), value: bytesToHex(commitmentHash) });
  }

  saveShare(epoch: bigint, keyIndex: bigint, share: StoredShare): void {
    this.#memory.saveShare(epoch, keyIndex, share);
    this.#pending.push({
      type: 'put',
      key: shareKey(epoch, keyIndex),
      value: JSON.stringify({ s: scalarHex(share.s), sPrime: scalarHex(share.sPrime), D: share.D.map((p) => bytesToHex(encodePoint(p))), dealers: share.dealers }),
    });
  }

  /** This node's share of a key, once derived. */
  share(epoch: bigint, keyIndex: bigint): StoredShare | undefined {
    return this.#memory.share(epoch, keyIndex);
  }

  /** The epoch that `epoch`'s keys were handed over to, once they were. */
  handedOverTo(epoch: bigint): bigint | undefined {
    return this.#handedOver.get(epoch);
  }

  /**
   * The next committee holds every key of `epoch` now: deletes this node's shares, dealings and readies of
   * `epoch` and its re-dealings for `nextEpoch` (whose constant terms are the old shares), and records the
   * hand-over, all in one batch at the next flush. Old and new shares must never coexist (crypto.md §5 #11).
   */
  markHandedOver(epoch: bigint, nextEpoch: bigint): void {
    // The memory store's keys are `epoch/key[/dealer]` in decimal; LevelDB's come from the same builders as on write.
    const parse = (key: string) => {
      const [e, k, dealer] = key.split('/');
      return { e: BigInt(e as string), k: BigInt(k as string), dealer: Number(dealer) };
    };
    const old = this.#memory.forgetEpoch(epoch);
    // Only the re-dealings: a store that also served the next epoch keeps that epoch's own shares.
    const redealings = this.#memory.forgetEpoch(nextEpoch, ['dealings']).dealings;
    const del = (key: string) => this.#pending.push({ type: 'del', key });
    for (const { e, k } of [...old.dealings, ...redealings].map(parse)) del(dealingKey(e, k));
    for (const { e, k, dealer } of old.readies.map(parse)) del(readyKey(e, k, dealer));
    for (const { e, k } of old.shares.map(parse)) del(shareKey(e, k));
    this.#pending.push({ type: 'put', key: handoffKey(epoch), value: JSON.stringify({ next_epoch: Number(nextEpoch) }) });
    this.#handedOver.set(epoch, nextEpoch);
  }

  /** True when writes are waiting for `flush`. */
  get dirty(): boolean {
    return this.#pending.length > 0;
  }

  /** Makes every queued write durable (fsynced) in one atomic batch. */
  async flush(): Promise<void> {
    if (this.#pending.length === 0) return;
    const batch = this.#pending;
    this.#pending = [];
    await this.#db.batch(batch, { sync: true });
  }

  async close(): Promise<void> {
    await this.flush();
    await this.#db.close();
  }
}
