/**
 * Test harness: n key-generation engines in one process, a seeded shuffled in-memory delivery loop and a
 * stand-in for the BFT ordering (the first valid KeygenPropose decides a key, the first valid KeyPublish fixes it),
 * with validity judged by the ledger's own rules (abci/src/state/keygen-rules.ts).
 * Not a test file itself (no `.test.`), so the runner does not pick it up.
 */
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { bytesToHex, hexToBytes } from '../../core/encoding/bytes.js';
import { NodeSigner } from '../../core/crypto/signature.js';
import { verifyShare } from '../../core/crypto/pedersen.js';
import { encodePoint, G, mulSecret, parsePoint, type Point } from '../../core/crypto/point.js';
import { Fn, ORDER } from '../../core/crypto/scalar.js';
import { interpolate, interpolateInExponent } from '../../core/crypto/polynomial.js';
import { keygenThresholds } from '../../core/keygen/session.js';
import type { KeygenProposeBody, KeyPublishBody } from '../../core/tx/types.js';
import { KeygenEngine, type EngineConfig } from '../src/protocol/engine.js';
import { BENIGN_REASONS, type EngineEvent, type KeygenMessage, type Output, type Rejection } from '../src/protocol/messages.js';
import { MemoryDealingStore } from '../src/protocol/store.js';
import { checkProposal, checkPublication, isFailure, type Decision, type EpochContext } from '../../abci/src/state/keygen-rules.js';
import { decodeBatch, encodeBatch } from '../src/protocol/wire.js';

export const CHAIN_ID = 'torus-dkg-test';

/** xoshiro128** seeded through splitmix32: small, fast, reproducible. */
export class Prng {
  #s: Uint32Array;

  constructor(seed: number) {
    let x = seed >>> 0;
    const next = () => {
      x = (x + 0x9e3779b9) >>> 0;
      let z = x;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.#s = Uint32Array.of(next(), next(), next(), next());
  }

  next(): number {
    const s = this.#s;
    const result = Math.imul(rotl(Math.imul(s[1] as number, 5), 7), 9) >>> 0;
    const t = ((s[1] as number) << 9) >>> 0;
    s[2] = (s[2] as number) ^ (s[0] as number);
    s[3] = (s[3] as number) ^ (s[1] as number);
    s[1] = (s[1] as number) ^ (s[2] as number);
    s[0] = (s[0] as number) ^ (s[3] as number);
    s[2] = (s[2] as number) ^ t;
    s[3] = rotl(s[3] as number, 11);
    return result;
  }

  /** Uniform integer in [0, bound). */
  below(bound: number): number {
    if (bound <= 0 || bound > 0x100000000) throw new RangeError(`bad bound ${bound}`);
    const limit = Math.floor(0x100000000 / bound) * bound;
    for (;;) {
      const v = this.next();
      if (v < limit) return v % bound;
    }
  }

  /** Uniform scalar in [1, n). */
  scalar(): bigint {
    for (;;) {
      let v = 0n;
      for (let i = 0; i < 8; i++) v = (v << 32n) | BigInt(this.next());
      if (v > 0n && v < ORDER) return v;
    }
  }

  bytes(length: number): Uint8Array {
    const out = new Uint8Array(length);
    for (let i = 0; i < length; i++) out[i] = this.next() & 0xff;
    return out;
  }
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}

/** Deterministic test identities: node i has secret key 7000+i (never outside tests). */
export function testSigners(n: number): NodeSigner[] {
  return Array.from({ length: n }, (_, i) => new NodeSigner(secp256k1.Point.Fn.toBytes(BigInt(7001 + i))));
}

export function membersOf(signers: readonly NodeSigner[]): Map<number, Uint8Array> {
  return new Map(signers.map((s, i) => [i + 1, s.publicKey]));
}

type Envelope =
  | { readonly kind: 'msg'; readonly from: number; readonly to: number; readonly message: KeygenMessage }
  | { readonly kind: 'decide'; readonly to: number; readonly keyIndex: bigint }
  | { readonly kind: 'key-ready'; readonly to: number; readonly keyIndex: bigint }
  | { readonly kind: 'start'; readonly to: number; readonly keyIndex: bigint };

export interface ClusterOptions {
  readonly n: number;
  readonly k: number;
  readonly t: number;
  readonly seed: number;
  readonly epoch?: bigint;
  /** Crashed nodes: never started, receive and send nothing. */
  readonly silent?: readonly number[];
  /** Rewrites a message in flight: return the messages to deliver instead (empty = drop). */
  readonly tamper?: (from: number, to: number, message: KeygenMessage) => KeygenMessage[];
  /** Pass every frame through the wire encoder and decoder. */
  readonly wire?: boolean;
  readonly curveChecksOnly?: boolean;
  /** Dealers draw their polynomials from the seeded PRNG. */
  readonly seededDealings?: boolean;
  /** Tell nodes only the decided dealer list, not the decided proposal. */
  readonly listDecision?: boolean;
  /** false: no automatic decisions; the test calls `decide`. 'quiet': decide only once no message is in flight. */
  readonly autoDecide?: true | false | 'quiet';
  /** Engines hold this many early messages per peer (EngineConfig.earlyMessagesPerPeer). */
  readonly earlyMessagesPerPeer?: number;
  /** Per-node store overrides (e.g. a pre-filled store). */
  readonly stores?: ReadonlyMap<number, MemoryDealingStore>;
}

export interface Timing {
  ms: number;
  count: number;
}

export interface Delivered {
  readonly from: number;
  readonly to: number;
  readonly message: KeygenMessage;
}

export class Cluster {
  readonly opts: ClusterOptions;
  readonly epoch: bigint;
  readonly signers: NodeSigner[];
  readonly members: Map<number, Uint8Array>;
  readonly engines = new Map<number, KeygenEngine>();
  readonly stores = new Map<number, MemoryDealingStore>();
  readonly live: number[];
  readonly rng: Prng;
  readonly decided = new Map<bigint, KeygenProposeBody>();
  /** The ledger rules' decision (dealers, D) for each decided key. */
  readonly decisions = new Map<bigint, Decision>();
  readonly published = new Map<bigint, KeyPublishBody>();
  readonly proposals: KeygenProposeBody[] = [];
  readonly publications: KeyPublishBody[] = [];
  readonly invalidTxs: string[] = [];
  readonly rejected: Array<Rejection & { readonly at: number }> = [];
  readonly events: Array<EngineEvent & { readonly at: number }> = [];
  /** Violations of "nothing secret-derived before the decision". */
  readonly leaks: string[] = [];
  readonly timing = new Map<string, Timing>();
  readonly delivered: Delivered[] = [];
  recordDeliveries = false;
  readonly #queue: Envelope[] = [];
  /** Node → keys whose decision it has received. */
  readonly #knowsDecision = new Map<number, Set<bigint>>();
  #pendingDecisions: bigint[] = [];
  steps = 0;

  constructor(opts: ClusterOptions) {
    this.opts = opts;
    this.epoch = opts.epoch ?? 3n;
    this.rng = new Prng(opts.seed);
    this.signers = testSigners(opts.n);
    this.members = membersOf(this.signers);
    const silent = new Set(opts.silent ?? []);
    this.live = [];
    for (let i = 1; i <= opts.n; i++) {
      const store = opts.stores?.get(i) ?? new MemoryDealingStore();
      this.stores.set(i, store);
      this.#knowsDecision.set(i, new Set());
      if (silent.has(i)) continue;
      this.live.push(i);
      this.engines.set(i, new KeygenEngine(this.configFor(i, store)));
    }
  }

  configFor(i: number, store: MemoryDealingStore): EngineConfig {
    const { n, k, t } = this.opts;
    const rng = this.rng;
    return {
      chainId: CHAIN_ID,
      epoch: this.epoch,
      n,
      k,
      t,
      self: i,
      members: this.members,
      signer: this.signers[i - 1] as NodeSigner,
      store,
      ...(this.opts.seededDealings === true ? { random: () => rng.scalar() } : {}),
      ...(this.opts.curveChecksOnly === true ? { curveChecksOnly: true } : {}),
      ...(this.opts.earlyMessagesPerPeer !== undefined ? { earlyMessagesPerPeer: this.opts.earlyMessagesPerPeer } : {}),
    };
  }

  engine(i: number): KeygenEngine {
    const e = this.engines.get(i);
    if (e === undefined) throw new Error(`node ${i} is not live`);
    return e;
  }

  #time<T>(label: string, body: () => T): T {
    // Process CPU time, not wall time: the figures stay meaningful on a loaded machine.
    const start = process.cpuUsage();
    const result = body();
    const used = process.cpuUsage(start);
    const entry = this.timing.get(label) ?? { ms: 0, count: 0 };
    entry.ms += (used.user + used.system) / 1000;
    entry.count += 1;
    this.timing.set(label, entry);
    return result;
  }

  /**
   * Every live node deals (and expects) each key: at once, or (`late`) at a random point of the delivery
   * order, so that nodes receive messages for keys they have not started yet.
   */
  start(keys: readonly bigint[], options: { late?: boolean } = {}): void {
    if (options.late === true) {
      for (const keyIndex of keys) for (const i of this.live) this.#queue.push({ kind: 'start', to: i, keyIndex });
      return;
    }
    for (const keyIndex of keys) {
      for (const i of this.live) this.engine(i).expectKey(keyIndex);
    }
    for (const keyIndex of keys) {
      for (const i of this.live) this.#absorb(i, this.#time('startKey', () => this.engine(i).startKey(keyIndex)));
    }
  }

  #absorb(from: number, out: Output): void {
    for (const r of out.rejected) this.rejected.push({ ...r, at: from });
    for (const e of out.events) this.events.push({ ...e, at: from });
    for (const { to, messages } of out.outbox) {
      let outgoing: KeygenMessage[] = [];
      for (const m of messages) {
        if (m.type === 'share-proof' && !(this.#knowsDecision.get(from) as Set<bigint>).has(m.keyIndex)) {
          this.leaks.push(`node ${from} sent a share proof for key ${m.keyIndex} before the decision`);
        }
        outgoing.push(...(this.opts.tamper === undefined ? [m] : this.opts.tamper(from, to, m)));
      }
      if (outgoing.length === 0) continue;
      if (this.opts.wire === true) {
        const bytes = this.#time('wire-encode', () => encodeBatch(outgoing));
        const decoded = this.#time('wire-decode', () => decodeBatch(bytes, { n: this.opts.n, k: this.opts.k }));
        if (!decoded.ok) throw new Error(`own frame does not decode: ${decoded.error}`);
        outgoing = decoded.messages;
      }
      if (!this.engines.has(to)) continue;
      for (const message of outgoing) this.#queue.push({ kind: 'msg', from, to, message });
    }
    for (const tx of out.txs) {
      if (tx.type === 'keygen_propose') this.#onProposal(tx);
      else if (tx.type === 'key_publish') this.#onPublication(tx);
      else this.invalidTxs.push(`a key-generation node proposed a hand-over of key ${tx.keyIndex}`);
    }
  }

  /** The ledger's rules (abci keygen-rules) for this cluster's epoch. */
  ruleContext(): EpochContext {
    const { n, k, t } = this.opts;
    return { chainId: CHAIN_ID, epoch: { id: Number(this.epoch), n, k, t, members: [] }, memberKeys: this.members };
  }

  #onProposal(body: KeygenProposeBody): void {
    this.proposals.push(body);
    if (this.decided.has(body.keyIndex)) return;
    const decision = checkProposal(this.ruleContext(), body);
    if (isFailure(decision)) {
      this.invalidTxs.push(`proposal for key ${body.keyIndex}: ${decision.log}`);
      return;
    }
    this.decided.set(body.keyIndex, body);
    this.decisions.set(body.keyIndex, decision);
    const mode = this.opts.autoDecide ?? true;
    if (mode === true) this.#announceDecision(body.keyIndex);
    else if (mode === 'quiet') this.#pendingDecisions.push(body.keyIndex);
  }

  #announceDecision(keyIndex: bigint): void {
    for (const i of this.live) this.#queue.push({ kind: 'decide', to: i, keyIndex });
  }

  /** Announces a decided key to every live node (for autoDecide false). */
  decide(keyIndex: bigint): void {
    if (!this.decided.has(keyIndex)) throw new Error(`key ${keyIndex} has no valid proposal yet`);
    this.#announceDecision(keyIndex);
  }

  #onPublication(body: KeyPublishBody): void {
    this.publications.push(body);
    if (this.published.has(body.keyIndex)) return;
    const decision = this.decisions.get(body.keyIndex);
    const published = decision === undefined ? undefined : checkPublication(this.ruleContext(), decision.commitments, body);
    if (published === undefined || isFailure(published)) {
      this.invalidTxs.push(`publication for key ${body.keyIndex}: ${published === undefined ? 'key not decided' : published.log}`);
      return;
    }
    this.published.set(body.keyIndex, body);
    for (const i of this.live) this.#queue.push({ kind: 'key-ready', to: i, keyIndex: body.keyIndex });
  }

  /** Delivers in random order until nothing is in flight (or the step limit). Returns the steps taken. */
  run(maxSteps = 5_000_000): number {
    let steps = 0;
    for (;;) {
      if (this.#queue.length === 0) {
        if (this.#pendingDecisions.length === 0) break;
        for (const keyIndex of this.#pendingDecisions) this.#announceDecision(keyIndex);
        this.#pendingDecisions = [];
        continue;
      }
      if (++steps > maxSteps) throw new Error('delivery loop did not settle');
      const index = this.rng.below(this.#queue.length);
      const env = this.#queue[index] as Envelope;
      this.#queue[index] = this.#queue[this.#queue.length - 1] as Envelope;
      this.#queue.pop();
      this.#deliver(env);
    }
    this.steps += steps;
    return steps;
  }

  #deliver(env: Envelope): void {
    const engine = this.engines.get(env.to);
    if (engine === undefined) return;
    switch (env.kind) {
      case 'msg':
        if (this.recordDeliveries) this.delivered.push({ from: env.from, to: env.to, message: env.message });
        this.#absorb(env.to, this.#time(env.message.type, () => engine.receive(env.from, env.message)));
        break;
      case 'decide': {
        (this.#knowsDecision.get(env.to) as Set<bigint>).add(env.keyIndex);
        const body = this.decided.get(env.keyIndex) as KeygenProposeBody;
        const decision = this.opts.listDecision === true ? body.dealings.map((d) => d.dealer) : body;
        this.#absorb(env.to, this.#time('onDecided', () => engine.onDecided(env.keyIndex, decision)));
        break;
      }
      case 'key-ready':
        this.#time('onKeyReady', () => engine.onKeyReady(env.keyIndex));
        break;
      case 'start':
        this.#absorb(env.to, this.#time('startKey', () => engine.startKey(env.keyIndex)));
        break;
    }
  }

  /** Hands a message to a node directly (outside the shuffled queue); its output is queued as usual. */
  inject(from: number, to: number, message: KeygenMessage): Output {
    const out = this.engine(to).receive(from, message);
    this.#absorb(to, out);
    return out;
  }

  harmfulRejections(): Array<Rejection & { readonly at: number }> {
    return this.rejected.filter((r) => !BENIGN_REASONS.has(r.reason));
  }

  totalMs(): number {
    let ms = 0;
    for (const { ms: m } of this.timing.values()) ms += m;
    return ms;
  }
}

/** The decided key's combined column-0 commitment D, as the ledger rules computed it. */
export function decidedD(cluster: Cluster, keyIndex: bigint): Point[] {
  const decision = cluster.decisions.get(keyIndex);
  if (decision === undefined) throw new Error(`key ${keyIndex} not decided`);
  return decision.commitments.map((hex) => parsePoint(hexToBytes(hex)));
}

export function publicKeyOf(body: KeyPublishBody): Point {
  return interpolateInExponent(body.proofs.map((p) => ({ index: BigInt(p.nodeIndex), value: parsePoint(p.sharePublic) })));
}

/** Every subset of `size` items, in index order. */
export function* combinations<T>(items: readonly T[], size: number, start = 0, prefix: T[] = []): Generator<T[]> {
  if (prefix.length === size) {
    yield [...prefix];
    return;
  }
  for (let i = start; i < items.length; i++) {
    prefix.push(items[i] as T);
    yield* combinations(items, size, i + 1, prefix);
    prefix.pop();
  }
}

export interface KeyCheck {
  readonly publicKey: Point;
  readonly secret: bigint;
  readonly dealers: readonly number[];
}

/**
 * The test oracle for one finished key: every live node saved a share of the decided set that verifies against
 * D; every k shares interpolate to Σ decided dealers' secrets, whose G-multiple is the published public key;
 * no k−1 shares do. Throws with a description of the first failure.
 */
export function checkKey(cluster: Cluster, keyIndex: bigint, maxSubsets = 64): KeyCheck {
  const { k } = cluster.opts;
  const decided = cluster.decided.get(keyIndex);
  const published = cluster.published.get(keyIndex);
  if (decided === undefined) throw new Error(`key ${keyIndex}: never decided`);
  if (published === undefined) throw new Error(`key ${keyIndex}: never published`);
  const dealers = decided.dealings.map((d) => d.dealer);
  const D = decidedD(cluster, keyIndex);
  const Dhex = D.map((p) => bytesToHex(encodePoint(p))).join();
  const shares: Array<{ index: bigint; value: bigint }> = [];
  for (const i of cluster.live) {
    const share = (cluster.stores.get(i) as MemoryDealingStore).share(cluster.epoch, keyIndex);
    if (share === undefined) throw new Error(`key ${keyIndex}: node ${i} saved no share`);
    if (share.dealers.join() !== dealers.join()) throw new Error(`key ${keyIndex}: node ${i} used dealers ${share.dealers.join()}`);
    if (share.D.map((p) => bytesToHex(encodePoint(p))).join() !== Dhex) throw new Error(`key ${keyIndex}: node ${i} has another D`);
    if (!verifyShare(D, k, i, share.s, share.sPrime)) throw new Error(`key ${keyIndex}: node ${i}'s share does not verify`);
    shares.push({ index: BigInt(i), value: share.s });
  }
  let secret = 0n;
  for (const d of dealers) {
    const dealing = (cluster.stores.get(d) as MemoryDealingStore).loadDealing(cluster.epoch, keyIndex);
    if (dealing === undefined) throw new Error(`key ${keyIndex}: dealer ${d} has no stored dealing`);
    secret = Fn.add(secret, (dealing.F[0] as readonly bigint[])[0] as bigint);
  }
  const publicKey = publicKeyOf(published);
  if (!mulSecret(G, secret).equals(publicKey)) throw new Error(`key ${keyIndex}: published key is not G·Σ secrets`);
  let subsets = 0;
  for (const subset of combinations(shares, k)) {
    if (interpolate(subset) !== secret) throw new Error(`key ${keyIndex}: shares ${subset.map((s) => s.index).join()} do not give the secret`);
    if (++subsets >= maxSubsets) break;
  }
  subsets = 0;
  for (const subset of combinations(shares, k - 1)) {
    if (subset.length > 0 && interpolate(subset) === secret) throw new Error(`key ${keyIndex}: k-1 shares give the secret`);
    if (++subsets >= maxSubsets) break;
  }
  return { publicKey, secret, dealers };
}

export function thresholdsOf(n: number, k: number, t: number): ReturnType<typeof keygenThresholds> {
  return keygenThresholds({ n, k, t });
}
