/**
 * The key-generation process's part of an epoch hand-over (docs/ARCHITECTURE.md, "Epoch hand-over"), in
 * two roles that run in the processes of different epochs:
 *
 * HandoverSource — in a node of the ending epoch e (its config names the `target` committee e+1):
 *   1. votes to freeze epoch e (FreezeVote on its own chain) until k+t members did;
 *   2. reads the frozen mapping from its own chain and re-deals its share of every assigned key over the
 *      target committee (Redealer; the re-dealing is durable before it is sent), on the hand-over channel,
 *      REDEALING_WINDOW keys ahead of the lowest key the target still waits for; re-sends a target node
 *      what it still keeps when the node reconnects;
 *   3. asks the target nodes (their retrieval servers, `HandoffStatus`) whether the hand-over is complete,
 *      and once t'+1 distinct target nodes have signed that it is — so at least one honest node saw it in
 *      the target chain's state — deletes its shares of epoch e (LevelDealingStore.markHandedOver).
 *
 * MappingCollector — in a node of the new epoch e+1 (its config names the `source` committee e):
 *   asks every source node for each chunk of the frozen mapping (their retrieval servers,
 *   `HandoffMappingChunk`), checks each answer's signature against the source member's key, and once
 *   k_source source nodes sent the identical chunk, submits it with their signatures (MappingTransfer); the
 *   new chain checks the signatures itself, so a lying collector can do nothing but waste a transaction.
 *
 * The source side's re-dealings reach the target nodes' engines through KeygenWorker.onSourceFrame.
 */
import { z } from 'zod';
import { abciQuery, broadcastTxSync, rpcCall, status } from '../../core/comet/rpc.js';
import { bytesToHex, hexToBytes } from '../../core/encoding/bytes.js';
import { verifySignature } from '../../core/crypto/signature.js';
import { MAPPING_CHUNK_TAG, mappingChunkParts, mappingItemFromJson, type MappingAttestation, type MappingItem } from '../../core/handoff/mapping.js';
import { FrozenChunk, HandoffIn, HandoffOut } from '../../core/handoff/queries.js';
import { verifyHandoffComplete } from '../../core/handoff/status.js';
import { parsePublicKey } from '../../core/crypto/keys.js';
import { buildSignedTx, type TxContext } from '../../core/tx/build.js';
import type { TxBody } from '../../core/tx/types.js';
import type { Logger } from '../../core/log.js';
import type { Committee } from './config.js';
import type { LevelDealingStore } from './level-store.js';
import type { KeygenMessage } from './protocol/messages.js';
import type { Redealer } from './protocol/redealer.js';
import type { ChannelHandle } from './transport.js';

const RESUBMIT_MS = 5000;
const STATUS_EVERY_MS = 3000;
const MAX_BACKOFF_MS = 10_000;

/** Submits one transaction to this node's chain, valid for `lifetimeBlocks`. Rejections are the caller's to judge. */
async function submit(cometRpc: string, tx: TxContext, body: TxBody, lifetimeBlocks: number): Promise<{ code: number; log: string }> {
  const height = (await status(cometRpc)).height;
  return broadcastTxSync(cometRpc, buildSignedTx(tx, body, BigInt(height + lifetimeBlocks)));
}

const errorText = (err: unknown) => (err instanceof Error ? err.message : String(err));

/** HandoffMappingChunk: a frozen chunk with the answering node's attestation. */
const SignedChunk = FrozenChunk.extend({
  node_index: z.number().int().positive(),
  signature: z.string().regex(/^[0-9a-f]{128}$/),
});

const HandoffStatusAnswer = z.object({
  chain_id: z.string(),
  epoch: z.number().int().positive(),
  previous_epoch: z.number().int().positive(),
  complete: z.boolean(),
  node_index: z.number().int().positive(),
  next_awaiting: z.number().int().nonnegative().nullable().optional(),
  signature: z.string().regex(/^[0-9a-f]{128}$/).optional(),
}).loose();

/** A loop that runs `tick` every `everyMs` until stopped, logging failures. */
class Loop {
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;
  #stopped = false;

  constructor(private readonly name: string, private readonly everyMs: number, private readonly logger: Logger, private readonly tick: () => Promise<void>) {}

  start(): void {
    const next = () => {
      if (this.#stopped) return;
      this.#running = this.tick()
        .catch((err: unknown) => this.logger.warn({ err: errorText(err) }, `${this.name} failed`))
        .finally(() => {
          if (!this.#stopped) this.#timer = setTimeout(next, this.everyMs);
        });
    };
    next();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
    await this.#running;
  }
}

/** What the source role reports, for metrics (dkg/src/metrics.ts); completion is read from `handedOver`. */
export interface HandoverMetrics {
  /** This node re-dealt its share of one more frozen key. */
  keyRedealt(): void;
}

export interface HandoverSourceOptions {
  readonly cometRpc: string;
  readonly tx: TxContext;
  readonly store: LevelDealingStore;
  readonly redealer: Redealer;
  readonly target: Committee;
  readonly channel: ChannelHandle;
  readonly encode: (messages: readonly KeygenMessage[]) => Uint8Array[];
  readonly logger: Logger;
  readonly txLifetimeBlocks: number;
  readonly pollMs: number;
  readonly metrics?: HandoverMetrics;
}

interface TargetPeer {
  /** Messages not sent yet. */
  queue: KeygenMessage[];
  busy: boolean;
  downUntil: number;
  backoffMs: number;
}

/**
 * Keys re-dealt ahead of the lowest key the target committee still has to take over. The target nodes work
 * on the lowest transferred keys a few at a time and hold early messages only up to a quota, so sending
 * every key at once would lose re-dealings beyond it; the window keeps what is in flight (and in memory
 * here) bounded by this, whatever the number of keys.
 */
export const REDEALING_WINDOW = 64;

/**
 * How many of the frozen keys (ascending key indexes) should have been re-dealt when the target committee's
 * lowest key still to take over is `frontier`: those below it, and `window` more.
 */
export function redealingWindowEnd(frozenKeys: readonly number[], frontier: number, window = REDEALING_WINDOW): number {
  let below = 0;
  let above = frozenKeys.length;
  while (below < above) {
    const middle = (below + above) >>> 1;
    if ((frozenKeys[middle] as number) < frontier) below = middle + 1;
    else above = middle;
  }
  return Math.min(frozenKeys.length, below + window);
}

export class HandoverSource {
  readonly #o: HandoverSourceOptions;
  readonly #loop: Loop;
  readonly #peers = new Map<number, TargetPeer>();
  readonly #confirmed = new Set<number>();
  readonly #targetKeys: Map<number, Uint8Array>;
  /** The frozen mapping's key indexes, ascending, once read. */
  #frozenKeys: number[] | undefined;
  /** How many of #frozenKeys were re-dealt (always a prefix). */
  #redealt = 0;
  /** Per key re-dealt and not yet taken over: the messages for each target node, kept for re-sending. */
  readonly #sent = new Map<number, Map<number, KeygenMessage[]>>();
  /** The lowest key index the target committee still waits for, as the most advanced target node reports it. */
  #frontier = 0;
  #lastVote = 0;
  #lastStatus = 0;
  readonly stats = { keysRedealt: 0, framesOut: 0, sendFailures: 0 };

  constructor(options: HandoverSourceOptions) {
    this.#o = options;
    this.#targetKeys = new Map(options.target.members.map((m) => [m.index, parsePublicKey(m.public_key)]));
    for (const m of options.target.members) this.#peers.set(m.index, { queue: [], busy: false, downUntil: 0, backoffMs: 0 });
    options.channel.onPeerConnected((index) => this.#resendAll(index));
    this.#loop = new Loop('hand-over (source)', options.pollMs, options.logger, () => this.#tick());
  }

  get epoch(): bigint {
    return this.#o.tx.epoch;
  }

  get handedOver(): boolean {
    return this.#o.store.handedOverTo(this.epoch) !== undefined;
  }

  start(): void {
    this.#loop.start();
  }

  stop(): Promise<void> {
    return this.#loop.stop();
  }

  async #tick(): Promise<void> {
    if (this.handedOver) return;
    // The freeze is final: once the frozen keys are read, the old chain has nothing new to say.
    if (this.#frozenKeys === undefined && !(await this.#readFreeze())) return;
    if (Date.now() - this.#lastStatus >= STATUS_EVERY_MS) {
      this.#lastStatus = Date.now();
      await this.#askTargets();
      if (this.handedOver) return;
    }
    await this.#redealWindow();
    for (const [index, peer] of this.#peers) this.#pump(index, peer);
  }

  /** Votes the freeze until it happened; then reads the frozen keys. True once they are known. */
  async #readFreeze(): Promise<boolean> {
    const { cometRpc, target, logger } = this.#o;
    const answer = await abciQuery(cometRpc, '/handoff/out');
    if (answer.code !== 0) throw new Error(`cannot read the hand-off state: ${answer.log}`);
    const out = HandoffOut.parse(answer.value);
    if (!out.frozen) {
      if (Date.now() - this.#lastVote >= RESUBMIT_MS) {
        this.#lastVote = Date.now();
        const result = await submit(cometRpc, this.#o.tx, { type: 'freeze_vote', nextEpoch: BigInt(target.epoch) }, this.#o.txLifetimeBlocks);
        logger.info({ next_epoch: target.epoch, code: result.code, log: result.log }, 'voted to freeze this epoch for the hand-over');
      }
      return false;
    }
    if (out.next_epoch !== target.epoch) throw new Error(`this epoch is frozen for epoch ${out.next_epoch}, but the configured target is epoch ${target.epoch}`);
    this.#frozenKeys = await this.#readFrozenKeys(out.chunks);
    return true;
  }

  async #readFrozenKeys(chunks: number): Promise<number[]> {
    const keys: number[] = [];
    for (let chunk = 0; chunk < chunks; chunk++) {
      const answer = await abciQuery(this.#o.cometRpc, '/handoff/out/chunk', { chunk });
      if (answer.code !== 0) throw new Error(`cannot read chunk ${chunk} of the frozen mapping: ${answer.log}`);
      keys.push(...FrozenChunk.parse(answer.value).items.map((item) => item.key_index));
    }
    return keys;
  }

  /** Re-deals the frozen keys up to REDEALING_WINDOW beyond the target committee's frontier. */
  async #redealWindow(): Promise<void> {
    const { store, redealer, logger } = this.#o;
    const frozen = this.#frozenKeys as number[];
    // Taken over by the target chain: nothing of them needs re-sending any more.
    for (const keyIndex of this.#sent.keys()) if (keyIndex < this.#frontier) this.#sent.delete(keyIndex);
    const until = redealingWindowEnd(frozen, this.#frontier);
    if (this.#redealt >= until) return;
    for (; this.#redealt < until; this.#redealt++) {
      const keyIndex = frozen[this.#redealt] as number;
      const share = store.share(this.epoch, BigInt(keyIndex));
      if (share === undefined) {
        logger.warn({ keyIndex }, 'this node holds no share of a key it hands over; the other source nodes must deal it');
        continue;
      }
      const byPeer = new Map<number, KeygenMessage[]>();
      for (const { to, message } of redealer.redeal(BigInt(keyIndex), share)) {
        byPeer.set(to, [...(byPeer.get(to) ?? []), message]);
        (this.#peers.get(to) as TargetPeer).queue.push(message);
      }
      this.#sent.set(keyIndex, byPeer);
      this.stats.keysRedealt++;
      this.#o.metrics?.keyRedealt();
    }
    // The re-dealings are durable before any of them leaves the node.
    await store.flush();
  }

  /** Everything still kept for a target node, in key order. */
  #backlog(index: number): KeygenMessage[] {
    return [...this.#sent.values()].flatMap((byPeer) => byPeer.get(index) ?? []);
  }

  #resendAll(index: number): void {
    const peer = this.#peers.get(index);
    if (peer === undefined || this.handedOver) return;
    peer.queue = this.#backlog(index);
    peer.downUntil = 0;
    this.#pump(index, peer);
  }

  #pump(index: number, peer: TargetPeer): void {
    if (peer.busy || peer.queue.length === 0 || Date.now() < peer.downUntil) return;
    const messages = peer.queue.splice(0);
    peer.busy = true;
    const frames = this.#o.encode(messages);
    frames.reduce((sent: Promise<void>, frame) => sent.then(() => this.#o.channel.send(index, frame)), Promise.resolve()).then(
      () => {
        this.stats.framesOut += frames.length;
        peer.busy = false;
        peer.backoffMs = 0;
        this.#pump(index, peer);
      },
      (err: unknown) => {
        this.stats.sendFailures++;
        peer.busy = false;
        // The target may have missed anything: everything still kept goes again once it is reachable.
        peer.queue = this.#backlog(index);
        peer.backoffMs = Math.min(MAX_BACKOFF_MS, Math.max(250, peer.backoffMs * 2));
        peer.downUntil = Date.now() + peer.backoffMs;
        this.#o.logger.debug({ to: index, err: errorText(err) }, 'hand-over send failed');
      },
    );
  }

  /**
   * Asks every target node how far the hand-over is. `next_awaiting` moves the re-dealing window (a hint: a
   * node that lies can only make this node send sooner or later, never anything else). Once t'+1 target nodes
   * signed that the target chain completed the hand-over, deletes this epoch's shares.
   */
  async #askTargets(): Promise<void> {
    const { target, logger, store } = this.#o;
    await Promise.all(target.members.filter((m) => !this.#confirmed.has(m.index)).map(async (m) => {
      try {
        const answer = HandoffStatusAnswer.parse(await rpcCall(m.jsonrpc, 'HandoffStatus', {}, 5000));
        if (answer.node_index !== m.index || answer.chain_id !== target.chain_id || answer.epoch !== target.epoch || answer.previous_epoch !== Number(this.epoch)) return;
        if (answer.next_awaiting !== undefined && answer.next_awaiting !== null) this.#frontier = Math.max(this.#frontier, answer.next_awaiting);
        const valid = answer.complete && answer.signature !== undefined &&
          verifyHandoffComplete(this.#targetKeys.get(m.index) as Uint8Array, target.chain_id, BigInt(target.epoch), this.epoch, hexToBytes(answer.signature));
        if (valid) this.#confirmed.add(m.index);
      } catch (err) {
        logger.debug({ node: m.index, err: errorText(err) }, 'hand-over status not available');
      }
    }));
    if (this.#confirmed.size < target.t + 1) return;
    store.markHandedOver(this.epoch, BigInt(target.epoch));
    await store.flush();
    this.#sent.clear();
    for (const peer of this.#peers.values()) peer.queue = [];
    logger.info({ next_epoch: target.epoch, confirmed_by: [...this.#confirmed].sort((a, b) => a - b) },
      `epoch ${target.epoch} completed the hand-over: this node's shares of epoch ${this.epoch} are deleted`);
  }
}

export interface MappingCollectorOptions {
  readonly cometRpc: string;
  readonly tx: TxContext;
  readonly source: Committee;
  readonly logger: Logger;
  readonly txLifetimeBlocks: number;
  readonly pollMs: number;
  /** Rotating submitters, as for key generation: node of rank r waits r × this before submitting a chunk. */
  readonly staggerMs: number;
  readonly n: number;
}

interface AgreedChunk {
  readonly body: Extract<TxBody, { type: 'mapping_transfer' }>;
  readonly notBefore: number;
  lastSubmitted: number;
}

export class MappingCollector {
  readonly #o: MappingCollectorOptions;
  readonly #loop: Loop;
  readonly #sourceKeys: Map<number, Uint8Array>;
  readonly #agreed = new Map<number, AgreedChunk>();
  #complete = false;

  constructor(options: MappingCollectorOptions) {
    this.#o = options;
    this.#sourceKeys = new Map(options.source.members.map((m) => [m.index, parsePublicKey(m.public_key)]));
    this.#loop = new Loop('mapping collection', options.pollMs, options.logger, () => this.#tick());
  }

  get complete(): boolean {
    return this.#complete;
  }

  start(): void {
    this.#loop.start();
  }

  stop(): Promise<void> {
    return this.#loop.stop();
  }

  async #tick(): Promise<void> {
    if (this.#complete) return;
    const answer = await abciQuery(this.#o.cometRpc, '/handoff/in');
    if (answer.code !== 0) throw new Error(`cannot read the hand-off state: ${answer.log}`);
    const handoff = HandoffIn.parse(answer.value);
    const missing = handoff.chunk_count === null ? [0] : handoff.chunks_missing;
    if (handoff.complete || (handoff.chunk_count !== null && missing.length === 0)) {
      this.#complete = handoff.complete;
      this.#agreed.clear();
      return;
    }
    for (const [chunk] of this.#agreed) if (!missing.includes(chunk)) this.#agreed.delete(chunk);
    for (const chunk of missing.slice(0, 4)) {
      if (!this.#agreed.has(chunk)) await this.#collect(chunk);
    }
    const now = Date.now();
    for (const [chunk, agreed] of this.#agreed) {
      if (now < agreed.notBefore || now - agreed.lastSubmitted < RESUBMIT_MS) continue;
      agreed.lastSubmitted = now;
      const result = await submit(this.#o.cometRpc, this.#o.tx, agreed.body, this.#o.txLifetimeBlocks);
      this.#o.logger.info({ chunk, code: result.code, log: result.log }, 'submitted a chunk of the previous epoch\'s mapping');
    }
  }

  /** Asks every source node for the chunk; keeps it once k_source of them signed identical copies. */
  async #collect(chunk: number): Promise<void> {
    const { source, logger } = this.#o;
    const copies = new Map<string, { parsed: z.infer<typeof SignedChunk>; items: MappingItem[]; attestations: MappingAttestation[] }>();
    await Promise.all(source.members.map(async (m) => {
      try {
        const parsed = SignedChunk.parse(await rpcCall(m.jsonrpc, 'HandoffMappingChunk', { chunk }, 10_000));
        if (parsed.node_index !== m.index || parsed.chain_id !== source.chain_id || parsed.epoch !== source.epoch || parsed.chunk !== chunk) {
          throw new Error(`answered for node ${parsed.node_index}, chain ${parsed.chain_id}, epoch ${parsed.epoch}, chunk ${parsed.chunk}`);
        }
        if (parsed.next_epoch !== Number(this.#o.tx.epoch)) throw new Error(`its epoch hands over to epoch ${parsed.next_epoch}, not to this one`);
        const items = parsed.items.map(mappingItemFromJson);
        const signature = hexToBytes(parsed.signature);
        const parts = mappingChunkParts({ chainId: source.chain_id, epoch: BigInt(source.epoch) }, this.#o.tx.epoch, chunk, parsed.chunks, BigInt(parsed.end_index), items);
        if (!verifySignature(this.#sourceKeys.get(m.index) as Uint8Array, MAPPING_CHUNK_TAG, parts, signature)) throw new Error('its signature does not verify');
        const key = bytesToHex(parts[parts.length - 1] as Uint8Array) + `/${parsed.chunks}/${parsed.end_index}`;
        const copy = copies.get(key) ?? { parsed, items, attestations: [] };
        copy.attestations.push({ nodeIndex: m.index, signature });
        copies.set(key, copy);
      } catch (err) {
        logger.debug({ chunk, node: m.index, err: errorText(err) }, 'no usable copy of a mapping chunk from this source node');
      }
    }));
    const agreed = [...copies.values()].find((c) => c.attestations.length >= source.k);
    if (agreed === undefined) return;
    const rank = ((chunk % this.#o.n) - (this.#o.tx.signerIndex - 1) + this.#o.n) % this.#o.n;
    this.#agreed.set(chunk, {
      body: {
        type: 'mapping_transfer', chunkIndex: chunk, chunkCount: agreed.parsed.chunks, endIndex: BigInt(agreed.parsed.end_index),
        items: agreed.items, attestations: agreed.attestations.sort((a, b) => a.nodeIndex - b.nodeIndex).slice(0, source.k),
      },
      notBefore: Date.now() + rank * this.#o.staggerMs,
      lastSubmitted: 0,
    });
  }
}
