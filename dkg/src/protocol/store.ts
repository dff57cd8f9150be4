/**
 * What the engine must persist before it acts, so that a restarted node never contradicts what it already
 * sent. Synchronous by design: the engine is a pure state machine, and the process implements this with a
 * write-ahead log (LevelDB) whose writes are durable before the engine's output is sent.
 *
 * - A dealing (F, F') is saved before the first `send` leaves the node; after a restart the same polynomials
 *   are dealt again, never new ones for the same (epoch, key index) (crypto.md §5 #16).
 * - The commitment hash a node sent `ready` for is saved before that ready leaves; a restarted node never
 *   signs a ready for a different commitment of the same dealing (that would make it an equivocator and
 *   count against t).
 * - The final share of a key is saved when it is derived; it is what the node serves later.
 */
import type { Point } from '../../../core/crypto/point.js';

export interface StoredDealing {
  readonly F: readonly (readonly bigint[])[];
  readonly Fprime: readonly (readonly bigint[])[];
}

export interface StoredShare {
  readonly s: bigint;
  readonly sPrime: bigint;
  /** The combined column-0 commitment vector of the decided dealings (k points). */
  readonly D: readonly Point[];
  /** The decided dealers, ascending. */
  readonly dealers: readonly number[];
}

export interface DealingStore {
  loadDealing(epoch: bigint, keyIndex: bigint): StoredDealing | undefined;
  saveDealing(epoch: bigint, keyIndex: bigint, dealing: StoredDealing): void;
  loadReady(epoch: bigint, keyIndex: bigint, dealer: number): Uint8Array | undefined;
  saveReady(epoch: bigint, keyIndex: bigint, dealer: number, commitmentHash: Uint8Array): void;
  saveShare(epoch: bigint, keyIndex: bigint, share: StoredShare): void;
}

/** An in-memory store for tests and simulations. Values are copied on the way in. */
export class MemoryDealingStore implements DealingStore {
  readonly dealings = new Map<string, StoredDealing>();
  readonly readies = new Map<string, Uint8Array>();
  readonly shares = new Map<string, StoredShare>();

  static key(epoch: bigint, keyIndex: bigint, dealer?: number): string {
    return dealer === undefined ? `${epoch}/${keyIndex}` : `${epoch}/${keyIndex}/${dealer}`;
  }

  loadDealing(epoch: bigint, keyIndex: bigint): StoredDealing | undefined {
    return this.dealings.get(MemoryDealingStore.key(epoch, keyIndex));
  }

  saveDealing(epoch: bigint, keyIndex: bigint, dealing: StoredDealing): void {
    this.dealings.set(MemoryDealingStore.key(epoch, keyIndex), {
      F: dealing.F.map((row) => [...row]),
      Fprime: dealing.Fprime.map((row) => [...row]),
    });
  }

  loadReady(epoch: bigint, keyIndex: bigint, dealer: number): Uint8Array | undefined {
    return this.readies.get(MemoryDealingStore.key(epoch, keyIndex, dealer));
  }

  saveReady(epoch: bigint, keyIndex: bigint, dealer: number, commitmentHash: Uint8Array): void {
    this.readies.set(MemoryDealingStore.key(epoch, keyIndex, dealer), Uint8Array.from(commitmentHash));
  }

  saveShare(epoch: bigint, keyIndex: bigint, share: StoredShare): void {
    this.shares.set(MemoryDealingStore.key(epoch, keyIndex), { s: share.s, sPrime: share.sPrime, D: [...share.D], dealers: [...share.dealers] });
  }

  share(epoch: bigint, keyIndex: bigint): StoredShare | undefined {
    return this.shares.get(MemoryDealingStore.key(epoch, keyIndex));
  }

  /** Removes the given kinds of records of `epoch`; returns the removed keys by kind. */
  forgetEpoch(epoch: bigint, kinds: ReadonlyArray<'dealings' | 'readies' | 'shares'> = ['dealings', 'readies', 'shares']): { dealings: string[]; readies: string[]; shares: string[] } {
    const prefix = `${epoch}/`;
    const take = (kind: 'dealings' | 'readies' | 'shares') => {
      if (!kinds.includes(kind)) return [];
      const map: Map<string, unknown> = this[kind];
      const keys = [...map.keys()].filter((key) => key.startsWith(prefix));
      for (const key of keys) map.delete(key);
      return keys;
    };
    return { dealings: take('dealings'), readies: take('readies'), shares: take('shares') };
  }
}
