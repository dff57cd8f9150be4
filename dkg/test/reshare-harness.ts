/**
 * Test harness for a hand-over (crypto.md §2.3): a source committee that generated keys (a finished
 * `Cluster`), a target committee of KeygenEngines with the source as `source`, the source nodes' Redealers,
 * a seeded shuffled in-memory delivery loop, and a stand-in for the target BFT that judges every
 * transaction by the ledger's own rules: the first valid ResharePropose decides a key (reshare-rules.ts),
 * the first valid KeyPublish fixes it, and only if its public key is the key's old one.
 * Not a test file itself (no `.test.`).
 */
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { bytesToHex, hexToBytes } from '../../core/encoding/bytes.js';
import { encodePoint, parsePoint, type Point } from '../../core/crypto/point.js';
import { NodeSigner } from '../../core/crypto/signature.js';
import type { KeyPublishBody, ReshareProposeBody } from '../../core/tx/types.js';
import { checkPublication, isFailure, type Decision, type EpochContext } from '../../abci/src/state/keygen-rules.js';
import { checkReshareProposal, type SourceContext } from '../../abci/src/state/reshare-rules.js';
import { KeygenEngine, type SourceEpoch } from '../src/protocol/engine.js';
import { BENIGN_REASONS, type KeygenMessage, type Output, type Rejection, type SendMessage } from '../src/protocol/messages.js';
import { Redealer } from '../src/protocol/redealer.js';
import { MemoryDealingStore } from '../src/protocol/store.js';
import { CHAIN_ID, Cluster, decidedD, Prng, publicKeyOf } from './harness.js';

export const TARGET_CHAIN_ID = 'torus-dkg-test-target';

export interface ReshareOptions {
  /** The source committee, its keys generated (run). */
  readonly source: Cluster;
  readonly n: number;
  readonly k: number;
  readonly t: number;
  readonly seed: number;
  readonly epoch?: bigint;
  /** Target node j uses source node j's identity for j ≤ overlap: one operator in both committees. */
  readonly overlap?: number;
  /** Source nodes that re-deal (default: every live source node). */
  readonly dealers?: readonly number[];
  /** Target nodes that never run. */
  readonly silent?: readonly number[];
  /** Rewrites a source dealer's send in flight (empty = drop). */
  readonly tamperSend?: (dealer: number, to: number, message: SendMessage) => KeygenMessage[];
}

type Envelope =
  | { readonly kind: 'msg'; readonly from: number; readonly to: number; readonly message: KeygenMessage }
  | { readonly kind: 'source'; readonly dealer: number; readonly to: number; readonly message: KeygenMessage }
  | { readonly kind: 'decide'; readonly to: number; readonly keyIndex: bigint }
  | { readonly kind: 'key-ready'; readonly to: number; readonly keyIndex: bigint };

/** Target identities: distinct from the source's unless overlapping. */
function targetSigners(source: Cluster, n: number, overlap: number): NodeSigner[] {
  return Array.from({ length: n }, (_, i) => (i < overlap ? (source.signers[i] as NodeSigner) : new NodeSigner(secp256k1.Point.Fn.toBytes(BigInt(9001 + i)))));
}

export class ReshareCluster {
  readonly opts: ReshareOptions;
  readonly source: Cluster;
  readonly epoch: bigint;
  readonly signers: NodeSigner[];
  readonly members: Map<number, Uint8Array>;
  readonly engines = new Map<number, KeygenEngine>();
  readonly stores = new Map<number, MemoryDealingStore>();
  readonly live: number[] = [];
  readonly rng: Prng;
  readonly decided = new Map<bigint, ReshareProposeBody>();
  readonly decisions = new Map<bigint, Decision>();
  readonly published = new Map<bigint, KeyPublishBody>();
  readonly proposals: ReshareProposeBody[] = [];
  readonly invalidTxs: string[] = [];
  readonly rejected: Array<Rejection & { readonly at: number }> = [];
  readonly aborts: string[] = [];
  readonly #queue: Envelope[] = [];
  readonly #redealers = new Map<number, Redealer>();

  constructor(opts: ReshareOptions) {
    this.opts = opts;
    this.source = opts.source;
    this.epoch = opts.epoch ?? this.source.epoch + 1n;
    this.rng = new Prng(opts.seed);
    this.signers = targetSigners(this.source, opts.n, opts.overlap ?? 0);
    this.members = new Map(this.signers.map((s, i) => [i + 1, s.publicKey]));
    const silent = new Set(opts.silent ?? []);
    for (let j = 1; j <= opts.n; j++) {
      const store = new MemoryDealingStore();
      this.stores.set(j, store);
      if (silent.has(j)) continue;
      this.live.push(j);
      this.engines.set(j, new KeygenEngine({
        chainId: TARGET_CHAIN_ID, epoch: this.epoch, n: opts.n, k: opts.k, t: opts.t, self: j, members: this.members,
        signer: this.signers[j - 1] as NodeSigner, store, source: this.sourceEpoch(), earlyMessagesPerPeer: 4096,
      }));
    }
    const session = {
      source: { chainId: CHAIN_ID, epoch: this.source.epoch, n: this.source.opts.n, k: this.source.opts.k, t: this.source.opts.t },
      target: { chainId: TARGET_CHAIN_ID, epoch: this.epoch, n: opts.n, k: opts.k, t: opts.t },
    };
    for (const i of opts.dealers ?? this.source.live) {
      this.#redealers.set(i, new Redealer({ session, self: i, store: this.source.stores.get(i) as MemoryDealingStore }));
    }
  }

  sourceEpoch(): SourceEpoch {
    const { n, k, t } = this.source.opts;
    return { chainId: CHAIN_ID, epoch: this.source.epoch, n, k, t, members: this.source.members };
  }

  targetContext(epoch = this.epoch): EpochContext {
    const { n, k, t } = this.opts;
    return { chainId: TARGET_CHAIN_ID, epoch: { id: Number(epoch), n, k, t, members: [] }, memberKeys: this.members };
  }

  sourceContext(): SourceContext {
    const { n, k, t } = this.source.opts;
    return { chainId: CHAIN_ID, epoch: { id: Number(this.source.epoch), n, k, t }, memberKeys: this.source.members };
  }

  /** The key's combined commitment in the source epoch, hex, as the transferred mapping carries it. */
  sourceCommitments(keyIndex: bigint): string[] {
    return decidedD(this.source, keyIndex).map((p) => bytesToHex(encodePoint(p)));
  }

  engine(j: number): KeygenEngine {
    const e = this.engines.get(j);
    if (e === undefined) throw new Error(`target node ${j} is not live`);
    return e;
  }

  /** Every live target node expects the keys; every re-dealing source node re-deals them. */
  start(keys: readonly bigint[]): void {
    for (const keyIndex of keys) {
      const D = decidedD(this.source, keyIndex);
      for (const j of this.live) this.#absorb(j, this.engine(j).expectReshare(keyIndex, D));
    }
    for (const keyIndex of keys) {
      for (const [i, redealer] of this.#redealers) {
        const share = (this.source.stores.get(i) as MemoryDealingStore).share(this.source.epoch, keyIndex);
        if (share === undefined) throw new Error(`source node ${i} holds no share of key ${keyIndex}`);
        for (const { to, message } of redealer.redeal(keyIndex, share)) this.deliverFromSource(i, to, message);
      }
    }
  }

  /** Queues a source dealer's message to target node `to` (through `tamperSend`). */
  deliverFromSource(dealer: number, to: number, message: SendMessage): void {
    const messages = this.opts.tamperSend === undefined ? [message] : this.opts.tamperSend(dealer, to, message);
    for (const m of messages) this.#queue.push({ kind: 'source', dealer, to, message: m });
  }

  #absorb(from: number, out: Output): void {
    for (const r of out.rejected) this.rejected.push({ ...r, at: from });
    for (const e of out.events) if (e.type === 'key-aborted') this.aborts.push(`node ${from} key ${e.keyIndex}: ${e.reason}`);
    for (const { to, messages } of out.outbox) {
      if (!this.engines.has(to)) continue;
      for (const message of messages) this.#queue.push({ kind: 'msg', from, to, message });
    }
    for (const tx of out.txs) {
      if (tx.type === 'reshare_propose') this.#onProposal(tx);
      else if (tx.type === 'key_publish') this.#onPublication(tx);
      else this.invalidTxs.push(`a target node proposed a key generation for key ${tx.keyIndex}`);
    }
  }

  #onProposal(body: ReshareProposeBody): void {
    this.proposals.push(body);
    if (this.decided.has(body.keyIndex)) return;
    const decision = checkReshareProposal(this.targetContext(), this.sourceContext(), this.sourceCommitments(body.keyIndex), body);
    if (isFailure(decision)) {
      this.invalidTxs.push(`proposal for key ${body.keyIndex}: ${decision.log}`);
      return;
    }
    this.decided.set(body.keyIndex, body);
    this.decisions.set(body.keyIndex, decision);
    for (const j of this.live) this.#queue.push({ kind: 'decide', to: j, keyIndex: body.keyIndex });
  }

  #onPublication(body: KeyPublishBody): void {
    if (this.published.has(body.keyIndex)) return;
    const decision = this.decisions.get(body.keyIndex);
    const published = decision === undefined ? undefined : checkPublication(this.targetContext(), decision.commitments, body);
    if (published === undefined || isFailure(published)) {
      this.invalidTxs.push(`publication for key ${body.keyIndex}: ${published === undefined ? 'key not decided' : published.log}`);
      return;
    }
    const oldKey = publicKeyOf(this.source.published.get(body.keyIndex) as KeyPublishBody);
    if (!parsePoint(published.publicKey).equals(oldKey)) {
      this.invalidTxs.push(`publication for key ${body.keyIndex}: public key changed`);
      return;
    }
    this.published.set(body.keyIndex, body);
    for (const j of this.live) this.#queue.push({ kind: 'key-ready', to: j, keyIndex: body.keyIndex });
  }

  /** Delivers in random order until nothing is in flight. Returns the steps taken. */
  run(maxSteps = 5_000_000): number {
    let steps = 0;
    while (this.#queue.length > 0) {
      if (++steps > maxSteps) throw new Error('delivery loop did not settle');
      const index = this.rng.below(this.#queue.length);
      const env = this.#queue[index] as Envelope;
      this.#queue[index] = this.#queue[this.#queue.length - 1] as Envelope;
      this.#queue.pop();
      const engine = this.engines.get(env.to);
      if (engine === undefined) continue;
      switch (env.kind) {
        case 'msg':
          this.#absorb(env.to, engine.receive(env.from, env.message));
          break;
        case 'source':
          this.#absorb(env.to, engine.receiveFromSource(env.dealer, [env.message]));
          break;
        case 'decide':
          this.#absorb(env.to, engine.onDecided(env.keyIndex, this.decided.get(env.keyIndex) as ReshareProposeBody));
          break;
        case 'key-ready':
          engine.onKeyReady(env.keyIndex);
          break;
      }
    }
    return steps;
  }

  harmfulRejections(): Array<Rejection & { readonly at: number }> {
    return this.rejected.filter((r) => !BENIGN_REASONS.has(r.reason));
  }

  /** The new share target node j saved for a key, if any. */
  share(j: number, keyIndex: bigint): bigint | undefined {
    return (this.stores.get(j) as MemoryDealingStore).share(this.epoch, keyIndex)?.s;
  }

  newCommitments(keyIndex: bigint): Point[] {
    const decision = this.decisions.get(keyIndex);
    if (decision === undefined) throw new Error(`key ${keyIndex} not decided`);
    return decision.commitments.map((hex) => parsePoint(hexToBytes(hex)));
  }
}
