/**
 * The key-generation worker: the loop that connects the pure protocol engine to the world.
 *
 * Every tick it (1) polls the mapping state for the keys to generate and the decisions taken, and tells
 * the engine; (2) feeds the engine the frames received since the last tick; (3) makes the store durable;
 * (4) only then sends the engine's messages, one frame per peer, and submits its transactions. A key's
 * messages are kept until the key is ready, and re-sent to a peer whenever it (re)connects, so a peer
 * that was down catches up; receivers ignore what they already have.
 */
import { ResharingKeys } from '../../core/handoff/queries.js';
import { abciQuery, broadcastTxSync, status } from '../../core/comet/rpc.js';
import { hexToBytes } from '../../core/encoding/bytes.js';
import { parsePoint } from '../../core/crypto/point.js';
import { buildSignedTx, type TxContext } from '../../core/tx/build.js';
import type { Logger } from '../../core/log.js';
import type { KeygenEngine } from './protocol/engine.js';
import type { KeygenMessage, KeygenTx, MessageType, Output, RejectReason } from './protocol/messages.js';
import type { LevelDealingStore } from './level-store.js';

export interface FrameCodec {
  /** One or more frames, each within the transport's frame limit. */
  encode(messages: readonly KeygenMessage[]): Uint8Array[];
  /** Throws on malformed or invalid input. */
  decode(frame: Uint8Array): KeygenMessage[];
  /** The same for a frame from a node of the source epoch (its dealer indexes are the source's). */
  decodeFromSource(frame: Uint8Array): KeygenMessage[];
}

export interface FrameSender {
  send(to: number, frame: Uint8Array): Promise<void>;
}

/**
 * What the worker reports as it runs, for metrics (dkg/src/metrics.ts), so that neither it nor the engine
 * depends on a metrics library. `peer` is a member's index, or minus a source-epoch dealer's index for the
 * re-dealings of a hand-over (as in onSourceFrame).
 */
export interface WorkerMetrics {
  keyStarted(): void;
  /** The key left the mapping's pending set (it is ready, or assigned again after resharing). */
  keyFinished(): void;
  /** The engine completed a dealing (its `dealing-complete` event). */
  dealingCompleted(): void;
  messageRejected(type: MessageType, reason: RejectReason): void;
  messagesReceived(peer: number, count: number): void;
  messagesSent(peer: number, count: number): void;
  sendFailed(peer: number): void;
  /** A transaction CometBFT answered; code 0 = accepted into the mempool. */
  txSubmitted(type: KeygenTx['type'], code: number): void;
}

export interface WorkerOptions {
  readonly engine: KeygenEngine;
  readonly store: LevelDealingStore;
  readonly transport: FrameSender;
  readonly codec: FrameCodec;
  readonly cometRpc: string;
  readonly tx: TxContext;
  readonly logger: Logger;
  /** Keys this node works on at once. */
  readonly maxKeysInFlight: number;
  readonly tickMs: number;
  readonly pollMs: number;
  /** How many blocks a submitted transaction stays valid. */
  readonly txLifetimeBlocks: number;
  /**
   * Each key has a rotating submitter: the node of rank (κ - self) mod n waits rank × this before it
   * submits the key's proposal or publication, and submits nothing once the mapping shows the effect. So
   * normally one transaction per step reaches the chain instead of n, and a dead submitter costs one delay.
   */
  readonly txStaggerMs: number;
  readonly n: number;
  readonly self: number;
  /** This epoch takes keys over from a previous one: also work on the transferred keys (`/keys/resharing`). */
  readonly resharing: boolean;
  readonly metrics?: WorkerMetrics;
}

const RESUBMIT_MS = 5000;
/** The longest wait between two looks at the mapping state while there is nothing to generate. */
const IDLE_POLL_MAX_MS = 2000;
const MAX_BACKOFF_MS = 10_000;

interface PendingTx {
  readonly body: Output['txs'][number];
  readonly notBefore: number;
  lastSubmitted: number;
  /**
   * The signed bytes, re-sent unchanged until they expire: a re-sent identical tx stops at CometBFT's
   * cache, while a re-signed one (new nonce) would be verified again by every validator.
   */
  signed?: { readonly bytes: Uint8Array; readonly expiresAt: number };
}

interface PeerQueue {
  queue: KeygenMessage[];
  busy: boolean;
  downUntil: number;
  backoffMs: number;
  /** A send failed since the last success: the peer gets the full backlog once it is reachable. */
  missed: boolean;
}

interface Generating {
  key_indexes: number[];
  decided: Array<{ key_index: number; dealers: number[] }>;
  next_index: number;
}



export class KeygenWorker {
  readonly #o: WorkerOptions;
  readonly #inbox: Array<{ from: number; frame: Uint8Array }> = [];
  /** Messages sent per key and peer, kept until the key is ready, for peers that reconnect. */
  readonly #sent = new Map<bigint, Map<number, KeygenMessage[]>>();
  readonly #started = new Set<bigint>();
  readonly #decided = new Set<bigint>();
  readonly #reconnected = new Set<number>();
  readonly #peers = new Map<number, PeerQueue>();
  readonly #everConnected = new Set<number>();
  /** Transactions kept until the mapping state shows their effect (or another node's), re-submitted meanwhile. */
  readonly #pendingTxs = new Map<string, PendingTx>();
  #scanFrom = 0;
  #resharingFrom = 0;
  #lastPoll = 0;
  /** Grows while the mapping state has nothing to generate, so an idle node barely touches CometBFT. */
  #pollInterval = 0;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;
  #stopped = false;
  readonly stats = { keysStarted: 0, keysFinished: 0, txsSubmitted: 0, txsRejected: 0, framesIn: 0, framesOut: 0, sendFailures: 0, rejectedMessages: 0 };
  /** Rejected peer messages by reason (see RejectReason). */
  readonly rejections = new Map<string, number>();

  constructor(options: WorkerOptions) {
    this.#o = options;
  }

  /** From the transport: a frame from member `from`. */
  onFrame(from: number, frame: Uint8Array): void {
    this.#inbox.push({ from, frame });
    // A peer working on a key means there is work: look at the mapping state soon.
    this.#pollInterval = this.#o.pollMs;
  }

  /** From the hand-over channel: a frame of re-dealings from node `dealer` of the source epoch. */
  onSourceFrame(dealer: number, frame: Uint8Array): void {
    this.onFrame(-dealer, frame);
  }

  /**
   * From the transport: member `index` connected. On a reconnection (it restarted, or the link broke) it
   * gets every message of the keys still pending; the first connection carries everything already.
   */
  onPeerConnected(index: number): void {
    if (this.#everConnected.has(index)) this.#reconnected.add(index);
    this.#everConnected.add(index);
  }

  start(): void {
    const loop = () => {
      if (this.#stopped) return;
      this.#running = this.#tick()
        .catch((err: unknown) => this.#o.logger.error({ err: err instanceof Error ? err.message : String(err) }, 'key-generation tick failed'))
        .finally(() => {
          if (!this.#stopped) this.#timer = setTimeout(loop, this.#o.tickMs);
        });
    };
    loop();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
    await this.#running;
    await this.#o.store.flush();
  }

  async #tick(): Promise<void> {
    const outputs: Output[] = [];
    if (Date.now() - this.#lastPoll >= this.#pollInterval) {
      this.#lastPoll = Date.now();
      outputs.push(...await this.#poll());
    }
    for (const { from, frame } of this.#inbox.splice(0)) {
      this.stats.framesIn++;
      let messages: KeygenMessage[];
      try {
        messages = from > 0 ? this.#o.codec.decode(frame) : this.#o.codec.decodeFromSource(frame);
      } catch (err) {
        this.#o.logger.warn({ from, err: err instanceof Error ? err.message : String(err) }, 'malformed key-generation frame dropped');
        continue;
      }
      this.#o.metrics?.messagesReceived(from, messages.length);
      // Messages for keys this node has not started yet are held by the engine and replayed at startKey.
      outputs.push(from > 0 ? this.#o.engine.receiveBatch(from, messages) : this.#o.engine.receiveFromSource(-from, messages));
    }
    // Durable before anything derived from it leaves the node.
    await this.#o.store.flush();
    const perPeer = new Map<number, KeygenMessage[]>();
    const txs = [];
    for (const output of outputs) {
      for (const { to, messages } of output.outbox) {
        const list = perPeer.get(to) ?? [];
        list.push(...messages);
        perPeer.set(to, list);
        for (const message of messages) this.#remember(to, message);
      }
      txs.push(...output.txs);
      this.stats.rejectedMessages += output.rejected.length;
      for (const rejection of output.rejected) {
        this.rejections.set(rejection.reason, (this.rejections.get(rejection.reason) ?? 0) + 1);
        this.#o.metrics?.messageRejected(rejection.type, rejection.reason);
      }
      for (const event of output.events) {
        if (event.type === 'dealing-complete') this.#o.metrics?.dealingCompleted();
        if (event.type === 'key-aborted' || event.type === 'dealing-error') this.#o.logger.warn({ ...event, keyIndex: String(event.keyIndex) }, `key generation: ${event.type}`);
      }
    }
    for (const peer of this.#reconnected) {
      const backlog: KeygenMessage[] = [];
      for (const byPeer of this.#sent.values()) backlog.push(...(byPeer.get(peer) ?? []));
      if (backlog.length > 0) perPeer.set(peer, [...(perPeer.get(peer) ?? []), ...backlog]);
    }
    this.#reconnected.clear();
    for (const [to, messages] of perPeer) this.#enqueue(to, messages);
    for (const [to, peer] of this.#peers) this.#pump(to, peer);
    const now = Date.now();
    for (const body of txs) {
      const rank = (Number(body.keyIndex % BigInt(this.#o.n)) - (this.#o.self - 1) + this.#o.n) % this.#o.n;
      this.#pendingTxs.set(`${body.type}/${body.keyIndex}`, { body, notBefore: now + rank * this.#o.txStaggerMs, lastSubmitted: 0 });
    }
    for (const pending of this.#pendingTxs.values()) {
      if (now < pending.notBefore || now - pending.lastSubmitted < RESUBMIT_MS) continue;
      pending.lastSubmitted = now;
      await this.#submit(pending);
    }
  }

  async #poll(): Promise<Output[]> {
    const { engine } = this.#o;
    const answer = await abciQuery(this.#o.cometRpc, '/keys/generating', { from: this.#scanFrom, limit: 1000 });
    if (answer.code !== 0) {
      this.#o.logger.warn({ code: answer.code, log: answer.log }, 'could not read the keys to generate');
      return [];
    }
    const pending = answer.value as Generating;
    const resharing = await this.#resharingKeys();
    if (resharing === undefined) return [];
    const pendingSet = new Set<bigint>([...pending.key_indexes, ...pending.decided.map((d) => d.key_index), ...resharing.keys.map((r) => r.key_index)].map(BigInt));
    const lowest = Math.min(pending.next_index, ...pending.key_indexes, ...pending.decided.map((d) => d.key_index));
    this.#scanFrom = lowest;
    const idle = pendingSet.size === 0 && this.#started.size === 0;
    const outputs: Output[] = [];
    this.#pollInterval = idle ? Math.min(Math.max(this.#pollInterval, this.#o.pollMs) * 2, IDLE_POLL_MAX_MS) : this.#o.pollMs;
    // Keys that left the pending set are ready (or assigned): forget their working state.
    for (const keyIndex of [...this.#started]) {
      if (!pendingSet.has(keyIndex)) {
        for (const type of ['key_publish', 'keygen_propose', 'reshare_propose']) this.#pendingTxs.delete(`${type}/${keyIndex}`);
        engine.onKeyReady(keyIndex);
        this.#started.delete(keyIndex);
        this.#decided.delete(keyIndex);
        this.#sent.delete(keyIndex);
        this.stats.keysFinished++;
        this.#o.metrics?.keyFinished();
      }
    }
    for (const { key_index: index, dealers } of pending.decided) {
      const keyIndex = BigInt(index);
      if (!this.#started.has(keyIndex)) this.#begin(keyIndex, outputs);
      if (!this.#decided.has(keyIndex)) {
        this.#decided.add(keyIndex);
        this.#pendingTxs.delete(`keygen_propose/${keyIndex}`);
        outputs.push(engine.onDecided(keyIndex, dealers));
      }
    }
    // Transferred keys: the source nodes deal them; this node receives, proposes and proves its new share.
    for (const key of resharing.keys) {
      const keyIndex = BigInt(key.key_index);
      if (!this.#started.has(keyIndex)) {
        if (key.status === 'transferred' && this.#started.size >= this.#o.maxKeysInFlight) continue;
        this.#started.add(keyIndex);
        this.stats.keysStarted++;
        this.#o.metrics?.keyStarted();
        outputs.push(engine.expectReshare(keyIndex, key.source_commitments.map((hex) => parsePoint(hexToBytes(hex)))));
      }
      if (key.status === 'reshare-decided' && !this.#decided.has(keyIndex)) {
        this.#decided.add(keyIndex);
        this.#pendingTxs.delete(`reshare_propose/${keyIndex}`);
        outputs.push(engine.onDecided(keyIndex, key.dealers ?? []));
      }
    }
    // Every node works on the lowest scheduled keys, so all nodes pick the same ones.
    for (const index of pending.key_indexes) {
      if (this.#started.size >= this.#o.maxKeysInFlight) break;
      const keyIndex = BigInt(index);
      if (!this.#started.has(keyIndex)) this.#begin(keyIndex, outputs);
    }
    return outputs;
  }

  /** The transferred keys still to reshare; none when this epoch takes over from no other. */
  async #resharingKeys(): Promise<ResharingKeys | undefined> {
    if (!this.#o.resharing) return { keys: [] };
    const answer = await abciQuery(this.#o.cometRpc, '/keys/resharing', { from: this.#resharingFrom, limit: 1000 });
    if (answer.code !== 0) {
      this.#o.logger.warn({ code: answer.code, log: answer.log }, 'could not read the keys to take over');
      return undefined;
    }
    const resharing = ResharingKeys.parse(answer.value);
    // Keys only leave the list, so the next scan can start at the lowest one still in it.
    this.#resharingFrom = resharing.keys[0]?.key_index ?? this.#resharingFrom;
    return resharing;
  }

  #begin(keyIndex: bigint, outputs: Output[]): void {
    this.#started.add(keyIndex);
    this.stats.keysStarted++;
    this.#o.metrics?.keyStarted();
    outputs.push(this.#o.engine.startKey(keyIndex));
  }

  #remember(to: number, message: KeygenMessage): void {
    let byPeer = this.#sent.get(message.keyIndex);
    if (byPeer === undefined) {
      byPeer = new Map();
      this.#sent.set(message.keyIndex, byPeer);
    }
    const list = byPeer.get(to) ?? [];
    list.push(message);
    byPeer.set(to, list);
  }

  /**
   * Sends never hold up the loop: each peer has a queue and at most one frame in flight. After a failure
   * the peer is skipped for a growing back-off (its messages stay remembered), and once a send succeeds
   * again it gets the whole backlog of the keys still pending.
   */
  #enqueue(to: number, messages: KeygenMessage[]): void {
    let peer = this.#peers.get(to);
    if (peer === undefined) {
      peer = { queue: [], busy: false, downUntil: 0, backoffMs: 0, missed: false };
      this.#peers.set(to, peer);
    }
    if (Date.now() < peer.downUntil) {
      // Remembered per key; they go out with the backlog once the peer is reachable again.
      peer.missed = true;
      return;
    }
    peer.queue.push(...messages);
    this.#pump(to, peer);
  }

  #pump(to: number, peer: PeerQueue): void {
    if (peer.busy || peer.queue.length === 0 || Date.now() < peer.downUntil) return;
    const messages = peer.queue.splice(0);
    peer.busy = true;
    const frames = this.#o.codec.encode(messages);
    frames.reduce((sent: Promise<void>, frame) => sent.then(() => this.#o.transport.send(to, frame)), Promise.resolve()).then(
      () => {
        this.stats.framesOut++;
        this.#o.metrics?.messagesSent(to, messages.length);
        peer.busy = false;
        peer.backoffMs = 0;
        if (peer.missed) {
          peer.missed = false;
          this.#reconnected.add(to);
        }
        this.#pump(to, peer);
      },
      (err: unknown) => {
        this.stats.sendFailures++;
        this.#o.metrics?.sendFailed(to);
        peer.busy = false;
        peer.missed = true;
        peer.backoffMs = Math.min(MAX_BACKOFF_MS, Math.max(250, peer.backoffMs * 2));
        peer.downUntil = Date.now() + peer.backoffMs;
        this.#o.logger.debug({ to, backoffMs: peer.backoffMs, err: err instanceof Error ? err.message : String(err) }, 'send failed');
      },
    );
  }

  async #submit(pending: PendingTx): Promise<void> {
    const { body } = pending;
    try {
      const height = (await status(this.#o.cometRpc)).height;
      if (pending.signed === undefined || height + 2 >= pending.signed.expiresAt) {
        const expiresAt = height + this.#o.txLifetimeBlocks;
        pending.signed = { bytes: buildSignedTx(this.#o.tx, body, BigInt(expiresAt)), expiresAt };
      }
      const answer = await broadcastTxSync(this.#o.cometRpc, pending.signed.bytes);
      this.stats.txsSubmitted++;
      this.#o.metrics?.txSubmitted(body.type, answer.code);
      // Another node's proposal or publication may have won already; that is the normal race, not an error.
      if (answer.code !== 0) {
        this.stats.txsRejected++;
        this.#o.logger.debug({ type: body.type, keyIndex: String(body.keyIndex), code: answer.code, log: answer.log }, 'transaction not accepted');
      } else {
        this.#o.logger.debug({ type: body.type, keyIndex: String(body.keyIndex) }, 'transaction submitted');
      }
    } catch (err) {
      // Includes CometBFT's "tx already exists in cache" for a re-sent identical tx: nothing to do.
      this.#o.logger.debug({ type: body.type, keyIndex: String(body.keyIndex), err: err instanceof Error ? err.message : String(err) }, 'transaction submission failed');
    }
  }
}
