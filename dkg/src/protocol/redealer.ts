/**
 * The source side of a hand-over (crypto.md §2.3): a node of the old epoch re-deals its share (s_i, s'_i)
 * of each key as an AVSS dealing over the new committee, with the new committee's threshold: F(0,0) = s_i,
 * F'(0,0) = s'_i, k'×k'. The new nodes run the rest of the AVSS among themselves (KeygenEngine with a
 * `source`), check that C_00 = D_old(i), and combine k_source re-dealings.
 *
 * Like a key-generation dealing, the re-dealing is saved before its first send and dealt again unchanged
 * after a restart, never resampled for the same key (crypto.md §5 #16). It is stored under the target
 * epoch's id, which a source epoch's own dealings never use.
 */
import { verifyShare } from '../../../core/crypto/pedersen.js';
import type { Point } from '../../../core/crypto/point.js';
import type { ReshareSession } from '../../../core/keygen/session.js';
import { sampleDealing, sendMessages, type ScalarSource } from './dealing.js';
import type { SendMessage } from './messages.js';
import type { DealingStore } from './store.js';

export interface RedealerConfig {
  readonly session: ReshareSession;
  /** This node's index in the source epoch. */
  readonly self: number;
  readonly store: DealingStore;
  readonly random?: ScalarSource;
}

export interface OldShare {
  readonly s: bigint;
  readonly sPrime: bigint;
  /** The key's combined commitment in the source epoch (k_source points). */
  readonly D: readonly Point[];
}

export class Redealer {
  readonly #cfg: RedealerConfig;

  constructor(cfg: RedealerConfig) {
    const { source } = cfg.session;
    if (!Number.isSafeInteger(cfg.self) || cfg.self < 1 || cfg.self > source.n) throw new Error(`self ${cfg.self} is not a node of epoch ${source.epoch}`);
    this.#cfg = cfg;
  }

  /**
   * The `send` of this node's re-dealing of key κ to each target node 1..n'. Refuses a share that does not
   * open its own commitment: re-dealing it would only get this node excluded by every new node.
   */
  redeal(keyIndex: bigint, share: OldShare): Array<{ to: number; message: SendMessage }> {
    const { session, self, store, random } = this.#cfg;
    const { source, target } = session;
    if (!verifyShare(share.D, source.k, self, share.s, share.sPrime)) {
      throw new Error(`this node's share of key ${keyIndex} does not match its commitment in epoch ${source.epoch}`);
    }
    let dealing = store.loadDealing(target.epoch, keyIndex);
    if (dealing === undefined) {
      dealing = sampleDealing(share.s, share.sPrime, target.k, random);
      store.saveDealing(target.epoch, keyIndex, dealing);
    } else if (dealing.F[0]?.[0] !== share.s || dealing.Fprime[0]?.[0] !== share.sPrime) {
      throw new Error(`the saved re-dealing of key ${keyIndex} is not of this node's share`);
    }
    return sendMessages(dealing, target.k, target.n, { epoch: target.epoch, keyIndex, dealer: self });
  }
}
