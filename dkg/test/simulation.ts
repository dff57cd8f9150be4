/**
 * A deterministic in-process simulation of the key-generation network: n engines, a seeded scheduler of
 * frames (delay, reordering, duplication, drops with worker-style retransmission of the backlog), crashes
 * and restarts, and the REAL mapping state machine as the ledger. Engines' transactions are signed by the
 * emitting node, included in blocks every `blockEvery` ticks and executed by `finalizeBlock`; after each
 * tick every live node polls the key records like the worker does (`dkg/src/worker.ts`).
 * Not a test file itself (no `.test.`).
 */
import { bytesToHex, hexToBytes, utf8 } from '../../core/encoding/bytes.js';
import { verifyShare } from '../../core/crypto/pedersen.js';
import { G, mulSecret, parsePoint, type Point } from '../../core/crypto/point.js';
import { interpolate } from '../../core/crypto/polynomial.js';
import { buildSignedTx } from '../../core/tx/build.js';
import type { NodeSigner } from '../../core/crypto/signature.js';
import { MappingStateMachine } from '../../abci/src/state/machine.js';
import { KEYS, type KeyRecord } from '../../abci/src/state/records.js';
import { KeygenEngine, type EngineConfig } from '../src/protocol/engine.js';
import type { EngineEvent, KeygenMessage, KeygenTx, Output, Rejection } from '../src/protocol/messages.js';
import { MemoryDealingStore } from '../src/protocol/store.js';
import { combinations, Prng, testSigners } from './harness.js';

export const SIM_CHAIN_ID = 'torus-dkg-sim';

/** Rewrites a Byzantine node's outgoing message: the messages to send instead (empty = drop). */
export type Tamper = (from: number, to: number, message: KeygenMessage) => KeygenMessage[];

export interface SimOptions {
  readonly n: number;
  readonly k: number;
  readonly t: number;
  readonly seed: number;
  /** Keys the ledger schedules (genesis key_buffer_target): indexes 0..keys-1. */
  readonly keys: number;
  readonly epoch?: number;
  /** Ticks between blocks. Default 3. */
  readonly blockEvery?: number;
  /** Frame delay, uniform in 0..maxDelay ticks. Default 4. */
  readonly maxDelay?: number;
  readonly pDrop?: number;
  readonly pDup?: number;
  /** A node starts a scheduled key up to this many ticks after it sees it. Default 5. */
  readonly startJitter?: number;
  /** Keys a node works on at once (worker maxKeysInFlight). Default: all. */
  readonly maxKeysInFlight?: number;
  /** Rank stagger of transaction submission, in ticks (worker txStaggerMs). Default 1. */
  readonly txStagger?: number;
  /** Nodes that never run. */
  readonly crashed?: readonly number[];
  /** Node `node` goes down at tick `at` (losing its engine and in-flight frames) and comes back at `restartAt`. */
  readonly crashRestart?: { readonly node: number; readonly at: number; readonly restartAt: number };
  /** Byzantine nodes (run the engine, but their output passes through `tamper`). */
  readonly byzantine?: readonly number[];
  readonly tamper?: Tamper;
  /** A Byzantine node forwards everything it receives to its peers (a replay adversary). */
  readonly forwardReceived?: (from: number, self: number, message: KeygenMessage) => Array<{ to: number; message: KeygenMessage }>;
  readonly maxTicks?: number;
  /** Dealers draw polynomials from a seeded source (default true). */
  readonly seededDealings?: boolean;
}

interface Frame {
  readonly from: number;
  readonly to: number;
  readonly messages: readonly KeygenMessage[];
}

type Scheduled = { readonly kind: 'frame'; readonly frame: Frame } | { readonly kind: 'resend'; readonly from: number; readonly to: number };

interface PendingTx {
  readonly body: KeygenTx;
  readonly notBefore: number;
  submittedAt?: number;
}

/** What the worker keeps per node; rebuilt empty on a restart (only the store survives). */
interface NodeState {
  engine: KeygenEngine;
  readonly started: Set<bigint>;
  readonly decided: Set<bigint>;
  readonly finished: Set<bigint>;
  readonly startAt: Map<bigint, number>;
  /** Messages sent per key and peer, kept until the key is ready, re-sent after a failure. */
  readonly sent: Map<bigint, Map<number, KeygenMessage[]>>;
  readonly pendingTxs: Map<string, PendingTx>;
  /** Frames whose send failed (dropped, or the peer was down), per peer: re-sent with the backlog. */
  readonly failed: Map<number, KeygenMessage[]>;
}

export interface SimResult {
  readonly ticks: number;
  readonly blocks: number;
  readonly framesSent: number;
  readonly framesDropped: number;
  readonly txsIncluded: number;
  readonly txsRejected: number;
}

const RESUBMIT_TICKS = 30;

export class Simulation {
  readonly opts: SimOptions;
  readonly epoch: bigint;
  readonly signers: NodeSigner[];
  readonly members: Map<number, Uint8Array>;
  readonly machine: MappingStateMachine;
  readonly stores = new Map<number, MemoryDealingStore>();
  readonly nodes = new Map<number, NodeState>();
  /** Nodes that follow the protocol (not crashed from the start, not Byzantine). */
  readonly honest: number[] = [];
  readonly rng: Prng;
  readonly dealRng: Prng;
  readonly events: Array<EngineEvent & { readonly at: number }> = [];
  readonly rejected: Array<Rejection & { readonly at: number }> = [];
  /** Transaction results that were not OK, with the ledger's log (losing races are normal). */
  readonly txFailures: string[] = [];
  readonly #crashed: Set<number>;
  readonly #byzantine: Set<number>;
  readonly #down = new Set<number>();
  readonly #agenda = new Map<number, Scheduled[]>();
  #mempool: Uint8Array[] = [];
  tick = 0;
  /**
   * Keys that became ready while the crash-restart node was down or catching up (up to 2·maxDelay+2 ticks
   * after the restart, while its peers' backlogs are in flight). The worker (and so this simulation) forgets a
   * key, and its backlog, once the key is ready: a node that lost its state for such a key gets no share of it.
   */
  readonly readyWhileDown = new Set<number>();
  readonly stats = { blocks: 0, framesSent: 0, framesDropped: 0, txsIncluded: 0, txsRejected: 0 };

  constructor(opts: SimOptions) {
    this.opts = opts;
    this.epoch = BigInt(opts.epoch ?? 1);
    this.rng = new Prng(opts.seed);
    this.dealRng = new Prng(opts.seed ^ 0x5eed);
    this.signers = testSigners(opts.n);
    this.members = new Map(this.signers.map((s, i) => [i + 1, s.publicKey]));
    this.#crashed = new Set(opts.crashed ?? []);
    this.#byzantine = new Set(opts.byzantine ?? []);
    const genesis = utf8(JSON.stringify({
      epoch: {
        id: Number(this.epoch), n: opts.n, k: opts.k, t: opts.t,
        members: this.signers.map((s, i) => ({ index: i + 1, public_key: bytesToHex(s.publicKey) })),
      },
      key_buffer_target: opts.keys,
      max_tx_lifetime_blocks: 50,
      dev_attested_keys: false,
    }));
    this.machine = MappingStateMachine.genesis(SIM_CHAIN_ID, genesis, 1);
    for (let i = 1; i <= opts.n; i++) {
      const store = new MemoryDealingStore();
      this.stores.set(i, store);
      if (this.#crashed.has(i)) continue;
      if (!this.#byzantine.has(i)) this.honest.push(i);
      this.nodes.set(i, this.#freshNode(i));
    }
  }

  configFor(i: number): EngineConfig {
    const { n, k, t } = this.opts;
    const dealRng = this.dealRng;
    return {
      chainId: SIM_CHAIN_ID,
      epoch: this.epoch,
      n, k, t,
      self: i,
      members: this.members,
      signer: this.signers[i - 1] as NodeSigner,
      store: this.stores.get(i) as MemoryDealingStore,
      earlyMessagesPerPeer: 4096,
      ...(this.opts.seededDealings === false ? {} : { random: () => dealRng.scalar() }),
    };
  }

  #freshNode(i: number): NodeState {
    return {
      engine: new KeygenEngine(this.configFor(i)),
      started: new Set(), decided: new Set(), finished: new Set(), startAt: new Map(), sent: new Map(), pendingTxs: new Map(), failed: new Map(),
    };
  }

  isLive(i: number): boolean {
    return this.nodes.has(i) && !this.#down.has(i);
  }

  keyRecord(keyIndex: number): KeyRecord | undefined {
    return this.machine.table.get<KeyRecord>(KEYS.key(keyIndex));
  }

  allReady(): boolean {
    for (let κ = 0; κ < this.opts.keys; κ++) if (this.keyRecord(κ)?.status !== 'ready') return false;
    return true;
  }

  #schedule(at: number, item: Scheduled): void {
    const list = this.#agenda.get(at);
    if (list === undefined) this.#agenda.set(at, [item]);
    else list.push(item);
  }

  #delay(): number {
    return this.rng.below((this.opts.maxDelay ?? 4) + 1);
  }

  /** One frame from `from` to `to` on the simulated link: maybe dropped (then a backlog resend later), maybe duplicated. */
  #transmit(from: number, to: number, messages: readonly KeygenMessage[]): void {
    if (messages.length === 0 || !this.nodes.has(to)) return;
    this.stats.framesSent++;
    if (this.#down.has(to) || this.rng.below(1_000_000) < (this.opts.pDrop ?? 0) * 1_000_000) {
      // The send fails: the worker backs off and re-sends the whole backlog of pending keys.
      this.stats.framesDropped++;
      this.#failed(from, to, messages);
      if (!this.#down.has(to)) this.#schedule(this.tick + 1 + (this.opts.maxDelay ?? 4) + this.rng.below(4), { kind: 'resend', from, to });
      return;
    }
    const frame = { from, to, messages };
    this.#schedule(this.tick + this.#delay(), { kind: 'frame', frame });
    if (this.rng.below(1_000_000) < (this.opts.pDup ?? 0) * 1_000_000) this.#schedule(this.tick + this.#delay(), { kind: 'frame', frame });
  }

  #failed(from: number, to: number, messages: readonly KeygenMessage[]): void {
    const state = this.nodes.get(from);
    if (state === undefined) return;
    const list = state.failed.get(to) ?? [];
    list.push(...messages);
    state.failed.set(to, list);
  }

  /**
   * What a sender re-sends after a failure or a reconnection: its backlog of the keys still pending (as the
   * worker does) plus the frames that failed, also of keys that are ready by now (the worker forgets those:
   * a peer that missed them could not finish such a key; here delivery is kept eventually reliable).
   */
  #backlog(from: number, to: number): KeygenMessage[] {
    const state = this.nodes.get(from);
    if (state === undefined) return [];
    const out: KeygenMessage[] = [];
    for (const byPeer of state.sent.values()) out.push(...(byPeer.get(to) ?? []));
    const failed = state.failed.get(to) ?? [];
    state.failed.delete(to);
    for (const m of failed) if (!state.sent.has(m.keyIndex)) out.push(m);
    return out;
  }

  #absorb(i: number, out: Output): void {
    const state = this.nodes.get(i) as NodeState;
    for (const r of out.rejected) this.rejected.push({ ...r, at: i });
    for (const e of out.events) this.events.push({ ...e, at: i });
    for (const { to, messages } of out.outbox) {
      let outgoing: readonly KeygenMessage[] = messages;
      if (this.#byzantine.has(i) && this.opts.tamper !== undefined) outgoing = messages.flatMap((m) => (this.opts.tamper as Tamper)(i, to, m));
      for (const m of outgoing) {
        let byPeer = state.sent.get(m.keyIndex);
        if (byPeer === undefined) {
          byPeer = new Map();
          state.sent.set(m.keyIndex, byPeer);
        }
        const list = byPeer.get(to) ?? [];
        list.push(m);
        byPeer.set(to, list);
      }
      this.#transmit(i, to, outgoing);
    }
    const { n } = this.opts;
    for (const body of out.txs) {
      const rank = (Number(body.keyIndex % BigInt(n)) - (i - 1) + n) % n;
      state.pendingTxs.set(`${body.type}/${body.keyIndex}`, { body, notBefore: this.tick + rank * (this.opts.txStagger ?? 1) });
    }
  }

  #deliver(frame: Frame): void {
    if (!this.isLive(frame.to)) {
      // Lost with the crashed process: the sender sees the failure and re-sends once the peer is back.
      this.#failed(frame.from, frame.to, frame.messages);
      return;
    }
    const state = this.nodes.get(frame.to) as NodeState;
    this.#absorb(frame.to, state.engine.receiveBatch(frame.from, frame.messages));
    if (this.opts.forwardReceived !== undefined && this.#byzantine.has(frame.to)) {
      for (const m of frame.messages) {
        for (const { to, message } of this.opts.forwardReceived(frame.from, frame.to, m)) {
          if (to !== frame.to) this.#transmit(frame.to, to, [message]);
        }
      }
    }
  }

  /** The worker's poll of `/keys/generating`, from the key records. */
  #poll(i: number): void {
    const state = this.nodes.get(i) as NodeState;
    const begin = (keyIndex: bigint) => {
      state.started.add(keyIndex);
      this.#absorb(i, state.engine.startKey(keyIndex));
    };
    // Every node takes the lowest scheduled keys, like the worker, so all nodes pick the same ones.
    let slots = (this.opts.maxKeysInFlight ?? this.opts.keys) - state.started.size;
    for (let κ = 0; κ < this.opts.keys; κ++) {
      const keyIndex = BigInt(κ);
      if (state.finished.has(keyIndex)) continue;
      const record = this.keyRecord(κ);
      if (record === undefined) continue;
      if (record.status === 'ready' || record.status === 'assigned') {
        state.pendingTxs.delete(`key_publish/${keyIndex}`);
        state.pendingTxs.delete(`keygen_propose/${keyIndex}`);
        if (state.started.has(keyIndex)) state.engine.onKeyReady(keyIndex);
        state.started.delete(keyIndex);
        state.sent.delete(keyIndex);
        state.finished.add(keyIndex);
        continue;
      }
      if (record.status === 'decided') {
        if (!state.started.has(keyIndex)) begin(keyIndex);
        if (!state.decided.has(keyIndex)) {
          state.decided.add(keyIndex);
          state.pendingTxs.delete(`keygen_propose/${keyIndex}`);
          this.#absorb(i, state.engine.onDecided(keyIndex, record.dealers as number[]));
        }
        continue;
      }
      if (record.status !== 'generating' || state.started.has(keyIndex)) continue;
      if (slots <= 0) continue;
      slots--;
      let at = state.startAt.get(keyIndex);
      if (at === undefined) {
        at = this.tick + this.rng.below((this.opts.startJitter ?? 5) + 1);
        state.startAt.set(keyIndex, at);
      }
      if (this.tick >= at) begin(keyIndex);
    }
  }

  #submitTxs(i: number): void {
    const state = this.nodes.get(i) as NodeState;
    for (const pending of state.pendingTxs.values()) {
      if (this.tick < pending.notBefore) continue;
      if (pending.submittedAt !== undefined && this.tick - pending.submittedAt < RESUBMIT_TICKS) continue;
      pending.submittedAt = this.tick;
      const ctx = { chainId: SIM_CHAIN_ID, epoch: this.epoch, signerIndex: i, signer: this.signers[i - 1] as NodeSigner };
      const bytes = buildSignedTx(ctx, pending.body, BigInt(this.machine.height + 20));
      const check = this.machine.checkTx(bytes);
      if (check.code !== 0) {
        this.txFailures.push(`checkTx ${pending.body.type}/${pending.body.keyIndex} by ${i}: ${check.log}`);
        continue;
      }
      this.#mempool.push(bytes);
    }
  }

  #block(): void {
    const txs = this.#mempool;
    this.#mempool = [];
    const { results } = this.machine.finalizeBlock(this.machine.height + 1, txs);
    this.stats.blocks++;
    for (const r of results) {
      if (r.code === 0) this.stats.txsIncluded++;
      else {
        this.stats.txsRejected++;
        this.txFailures.push(`block ${this.machine.height}: ${r.log}`);
      }
    }
  }

  #crash(i: number): void {
    this.#down.add(i);
  }

  /** The process restarts on its durable store; every peer reconnects and sends it the backlog of pending keys. */
  #restart(i: number): void {
    this.#down.delete(i);
    this.nodes.set(i, this.#freshNode(i));
    for (const peer of this.nodes.keys()) {
      if (peer !== i && this.isLive(peer)) this.#schedule(this.tick + 1 + this.#delay(), { kind: 'resend', from: peer, to: i });
    }
  }

  step(): void {
    const cr = this.opts.crashRestart;
    if (cr !== undefined && this.tick === cr.at) this.#crash(cr.node);
    if (cr !== undefined && this.tick === cr.restartAt) this.#restart(cr.node);
    // The worker's poll of the ledger; then this tick's frames, including those sent with delay 0 meanwhile.
    for (const i of this.nodes.keys()) if (this.isLive(i)) this.#poll(i);
    for (let due = this.#agenda.get(this.tick); due !== undefined; due = this.#agenda.get(this.tick)) {
      this.#agenda.delete(this.tick);
      // Reordering: what is due in one tick arrives in a random order.
      for (let j = due.length - 1; j > 0; j--) {
        const r = this.rng.below(j + 1);
        [due[j], due[r]] = [due[r] as Scheduled, due[j] as Scheduled];
      }
      for (const item of due) {
        if (item.kind === 'frame') this.#deliver(item.frame);
        else if (this.isLive(item.from)) this.#transmit(item.from, item.to, this.#backlog(item.from, item.to));
      }
    }
    for (const i of this.nodes.keys()) if (this.isLive(i)) this.#submitTxs(i);
    if (this.tick % (this.opts.blockEvery ?? 3) === 0) this.#block();
    if (cr !== undefined && this.tick >= cr.at && this.tick <= cr.restartAt + 2 * (this.opts.maxDelay ?? 4) + 2) {
      for (let κ = 0; κ < this.opts.keys; κ++) if (this.keyRecord(κ)?.status === 'ready') this.readyWhileDown.add(κ);
    }
    this.tick++;
  }

  /** Runs until every scheduled key is ready and every live node has seen it (or throws at maxTicks). */
  run(): SimResult {
    const maxTicks = this.opts.maxTicks ?? 20_000;
    while (!this.#settled()) {
      if (this.tick >= maxTicks) {
        const statuses = Array.from({ length: this.opts.keys }, (_, κ) => `${κ}:${this.keyRecord(κ)?.status}`).join(' ');
        throw new Error(`simulation did not finish in ${maxTicks} ticks (${statuses})`);
      }
      this.step();
    }
    return { ticks: this.tick, ...this.stats };
  }

  #settled(): boolean {
    if (!this.allReady() || this.#agenda.size > 0) return false;
    for (const [i, state] of this.nodes) if (this.isLive(i) && state.finished.size < this.opts.keys) return false;
    return true;
  }

  keyAborts(nodes: readonly number[]): string[] {
    const set = new Set(nodes);
    return this.events.filter((e) => e.type === 'key-aborted' && set.has(e.at)).map((e) => `node ${e.at} key ${e.keyIndex}: ${e.type === 'key-aborted' ? e.reason : ''}`);
  }
}

/**
 * Test oracle for one key of a finished simulation: the ledger's key is ready; every honest node saved a
 * share for the ledger's dealers and commitments that verifies; every k honest shares (up to `maxSubsets`)
 * interpolate to the same s, and s·G is the ledger's public key. Throws on the first failure.
 */
export function checkSimKey(sim: Simulation, keyIndex: number, maxSubsets = 40): { publicKey: Point; secret: bigint } {
  const { k } = sim.opts;
  const record = sim.keyRecord(keyIndex);
  if (record?.status !== 'ready' || record.public_key === undefined || record.dealers === undefined || record.commitments === undefined) {
    throw new Error(`key ${keyIndex}: not ready on the ledger (${record?.status})`);
  }
  const Y = parsePoint(hexToBytes(record.public_key));
  const D = record.commitments.map((h) => parsePoint(hexToBytes(h)));
  const shares: Array<{ index: bigint; value: bigint }> = [];
  for (const i of sim.honest) {
    if (sim.readyWhileDown.has(keyIndex) && i === sim.opts.crashRestart?.node) continue;
    const share = (sim.stores.get(i) as MemoryDealingStore).share(sim.epoch, BigInt(keyIndex));
    if (share === undefined) throw new Error(`key ${keyIndex}: honest node ${i} saved no share`);
    if (share.dealers.join() !== record.dealers.join()) throw new Error(`key ${keyIndex}: node ${i} used dealers ${share.dealers.join()}, ledger ${record.dealers.join()}`);
    if (!share.D.every((p, j) => p.equals(D[j] as Point)) || share.D.length !== D.length) throw new Error(`key ${keyIndex}: node ${i} has another D`);
    if (!verifyShare(D, k, i, share.s, share.sPrime)) throw new Error(`key ${keyIndex}: node ${i}'s share does not verify`);
    shares.push({ index: BigInt(i), value: share.s });
  }
  let secret: bigint | undefined;
  let count = 0;
  for (const subset of combinations(shares, k)) {
    const s = interpolate(subset);
    if (secret === undefined) {
      secret = s;
      if (!mulSecret(G, s).equals(Y)) throw new Error(`key ${keyIndex}: s·G is not the ledger's public key`);
    } else if (s !== secret) throw new Error(`key ${keyIndex}: shares ${subset.map((x) => x.index).join()} give another secret`);
    if (++count >= maxSubsets) break;
  }
  if (secret === undefined) throw new Error(`key ${keyIndex}: fewer than k honest shares`);
  return { publicKey: Y, secret };
}
