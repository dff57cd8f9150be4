/**
 * The key-generation protocol of one node, as a deterministic state machine: inputs are `startKey`,
 * `expectKey`, `receive`, `onDecided` and `onKeyReady`; each returns an `Output` (messages per peer, BFT
 * transactions, rejections, events). No I/O, no clocks, no threads; the only side effects are the
 * synchronous `DealingStore` writes that must precede the output they protect.
 *
 * Protocol (crypto.md §1.2 and §1.5): per key index κ every node deals one CKLS AVSS (dealer d, session
 * (epoch, κ, d)); a node that completes k+t dealings proposes them to the BFT; the first valid proposal
 * decides; every node sums its shares of the decided dealings, checks the sum against the combined column-0
 * commitment D and reveals g^{s_i} with a NIZK; k such proofs go to the BFT, which fixes the public key.
 *
 * Choices worth knowing:
 * - A node handles the messages it addresses to itself inside the same call (FIFO), so `Output.outbox`
 *   never contains the node itself and the transport needs no loopback.
 * - Echoes and readies are bucketed by commitment hash: an equivocating dealer gets one bucket per matrix,
 *   and at most one bucket can gather an echo quorum.
 * - Both halves (α and β) of every echo/ready point pair are checked. When the node holds its own row and
 *   column polynomials already verified against the bucket's matrix (from a valid send, or interpolated from
 *   k curve-checked points), the check is the scalar comparison α = b_i(m), β = a_i(m) (with twins): those
 *   polynomials satisfy g^{b_i(m)} h^{b'_i(m)} = Π C_jl^{m^j i^l}, so a pair passes the curve check iff it
 *   equals them, unless someone can open a Pedersen commitment two ways (crypto.md §1.6). Otherwise the
 *   curve check `verifyPointPair` runs. `curveChecksOnly` forces the curve check everywhere (tests, benches).
 * - Messages are consumed once per sender per dealing and type (a bad one uses up the sender's slot), and
 *   messages a node no longer needs (echoes after its ready, readies after completion, dealings outside the
 *   decided set, proofs after k) are dropped unverified with a benign reason.
 * - Nothing derived from a dealer's secret (no g^s, no partial public key) is sent before the decision:
 *   before it, the node sends only send/echo/ready/commitment messages and the proposal (Pedersen-hiding
 *   commitments and signatures).
 * - Messages for a key the node does not work on yet are rejected ('unknown-key'), or held per peer up to
 *   `earlyMessagesPerPeer` and handled once the key is started, expected or decided.
 * - Persisted before use (`DealingStore`): the dealing before its first send, the commitment hash a ready
 *   is sent for, the final share.
 */
import { bytesToHex, equalBytes } from '../../../core/encoding/bytes.js';
import { parsePublicKey } from '../../../core/crypto/keys.js';
import { proveShareKnowledge, verifyShareKnowledge, encodeProof, type ShareKnowledgeProof } from '../../../core/crypto/nizk.js';
import {
  assertCommitmentMatrix,
  columnZero,
  combineColumnZero,
  combineColumnZeroWeighted,
  commitmentAt,
  encodeCommitmentMatrix,
  verifyPointPair,
  verifyPolynomials,
  verifyShare,
  type CommitmentMatrix,
  type PointPair,
  type RowColumnPolynomials,
} from '../../../core/crypto/pedersen.js';
import { encodePoint, parsePoint, Point } from '../../../core/crypto/point.js';
import { evaluatePolynomial, interpolatePolynomial, lagrangeCoefficients, type Polynomial } from '../../../core/crypto/polynomial.js';
import { Fn, isScalar } from '../../../core/crypto/scalar.js';
import { NodeSigner, verifySignature } from '../../../core/crypto/signature.js';
import { thresholdError } from '../../../core/epoch.js';
import {
  commitmentHash,
  keygenThresholds,
  READY_TAG,
  readyParts,
  RESHARE_READY_TAG,
  reshareCommitmentHash,
  reshareReadyParts,
  shareProofContext,
  type DealingId,
  type EpochBinding,
  type KeygenThresholds,
  type ReshareSession,
} from '../../../core/keygen/session.js';
import type { KeygenProposeBody, KeyPublishBody, ProposedDealing, ReadyAttestation, ReshareProposeBody, ShareProof } from '../../../core/tx/types.js';
import { sampleDealing, sampleScalar, sendMessages } from './dealing.js';
import type {
  CommitmentMessage,
  CommitmentRequestMessage,
  EchoMessage,
  EngineEvent,
  KeygenMessage,
  KeygenTx,
  Output,
  ReadyMessage,
  Rejection,
  RejectReason,
  SendMessage,
  ShareProofMessage,
} from './messages.js';
import type { DealingStore } from './store.js';

export const COMMITMENT_HASH_BYTES = 32;
export const SIGNATURE_BYTES = 64;

export interface EngineConfig {
  readonly chainId: string;
  readonly epoch: bigint;
  readonly n: number;
  readonly k: number;
  readonly t: number;
  /** This node's 1-based index. */
  readonly self: number;
  /** Node index → secp256k1 public key (33 or 65 bytes); exactly the indexes 1..n. */
  readonly members: ReadonlyMap<number, Uint8Array>;
  readonly signer: NodeSigner;
  readonly store: DealingStore;
  /**
   * Source of the dealer's secret, blinding and polynomial coefficients: each call must return a uniform
   * scalar in [1, n). Defaults to the system CSPRNG; a seeded source makes dealings reproducible in tests.
   * (NIZK nonces always come from the system CSPRNG.)
   */
  readonly random?: () => bigint;
  /** Run the curve check on every echo/ready pair, never the equivalent scalar check. Default false. */
  readonly curveChecksOnly?: boolean;
  /**
   * How many messages per peer to hold for key indexes this node does not work on yet (not started,
   * expected or decided here). Held messages are handled, in arrival order, as soon as the key becomes known;
   * when a peer's quota is full its oldest held message is dropped as 'unknown-key'. Peers start keys at
   * slightly different times, so without holding, the first messages of a key can be lost. Default 0: reject
   * at once with 'unknown-key'.
   */
  readonly earlyMessagesPerPeer?: number;
  /**
   * The epoch this one takes over from, when keys are handed over (see `expectReshare`): its nodes deal the
   * re-dealings of its keys' shares here. Its thresholds and members come from the contract and the agreed
   * state, never from messages.
   */
  readonly source?: SourceEpoch;
}

export interface SourceEpoch extends EpochBinding {
  /** Source node index → secp256k1 public key; exactly the indexes 1..n of the source epoch. */
  readonly members: ReadonlyMap<number, Uint8Array>;
}

/** How a source-epoch dealer appears as a sender (`from`) in rejections and held messages: negative. */
const sourceSender = (dealer: number): number => -dealer;

/** Accepted decision: the decided dealers, or the decided proposal itself (then its matrices are used too). */
export type Decision = readonly number[] | Pick<KeygenProposeBody | ReshareProposeBody, 'keyIndex' | 'dealings'>;

export type KeyPhase = 'unknown' | 'active' | 'decided' | 'share-ready' | 'finished' | 'aborted';

export interface KeyStatus {
  readonly phase: KeyPhase;
  readonly dealt: boolean;
  /** Dealers whose dealing completed here, in completion order. */
  readonly completedDealers: readonly number[];
  readonly proposed: boolean;
  readonly decidedDealers?: readonly number[];
  readonly validProofs: number;
  readonly published: boolean;
  readonly abortReason?: string;
}

interface Ready {
  readonly pair: PointPair;
  readonly signature: Uint8Array;
}

/** Everything known about one commitment matrix (by hash) of one dealing. */
interface Bucket {
  readonly hash: Uint8Array;
  readonly hashHex: string;
  commitment?: CommitmentMatrix;
  /** This node's row/column polynomials, verified against `commitment`. */
  polys?: RowColumnPolynomials;
  readonly echoes: Map<number, PointPair>;
  readonly readies: Map<number, Ready>;
  /** Arrived before the matrix was known; checked when it arrives. */
  readonly pendingEchoes: Map<number, PointPair>;
  readonly pendingReadies: Map<number, Ready>;
  /** Nodes asked for the matrix. */
  readonly requested: Set<number>;
  /** Nodes this node sent the matrix to. */
  readonly answered: Set<number>;
}

interface Completed {
  readonly bucket: Bucket;
  readonly commitment: CommitmentMatrix;
  readonly share: bigint;
  readonly blinding: bigint;
  readonly readies: readonly ReadyAttestation[];
}

interface Dealing {
  readonly id: DealingId;
  sendSeen: boolean;
  readonly echoFrom: Set<number>;
  readonly readyFrom: Set<number>;
  readonly buckets: Map<string, Bucket>;
  readySent?: Bucket;
  /** The store holds a ready for another commitment (see `#sendReady`): this node never sends one here. */
  readyRefused?: boolean;
  completed?: Completed;
}

interface VerifiedProof {
  readonly gs: Point;
  readonly proof: ShareKnowledgeProof;
}

interface KeyState {
  readonly keyIndex: bigint;
  /**
   * Set for a key handed over from the source epoch: the source's combined commitment D_old (k_source
   * points). Its dealers are the source nodes; re-dealing i counts only if its C_00 is D_old(i), and the
   * decided k_source re-dealings are combined with their Lagrange coefficients.
   */
  reshare?: { readonly sourceCommitments: readonly Point[] };
  dealt: boolean;
  readonly dealings: Map<number, Dealing>;
  readonly completedOrder: number[];
  proposed: boolean;
  decided?: readonly number[];
  decidedSet?: ReadonlySet<number>;
  /** Hash hex of each decided dealing's matrix, when the decision carried the matrices. */
  decidedHashes?: ReadonlyMap<number, string>;
  /** Combined column-0 commitment of the decided dealings. */
  D?: Point[];
  shareSaved: boolean;
  readonly proofs: Map<number, VerifiedProof>;
  readonly proofFrom: Set<number>;
  readonly pendingProofs: Map<number, ShareProofMessage>;
  published: boolean;
  keyReady: boolean;
  aborted?: string;
}

class OutputBuilder {
  readonly outbox = new Map<number, KeygenMessage[]>();
  readonly txs: KeygenTx[] = [];
  readonly rejected: Rejection[] = [];
  readonly events: EngineEvent[] = [];

  add(to: number, message: KeygenMessage): void {
    let list = this.outbox.get(to);
    if (list === undefined) {
      list = [];
      this.outbox.set(to, list);
    }
    list.push(message);
  }

  finish(): Output {
    const outbox = [...this.outbox.entries()].sort(([a], [b]) => a - b).map(([to, messages]) => ({ to, messages }));
    return { outbox, txs: this.txs, rejected: this.rejected, events: this.events };
  }
}

function validHash(hash: unknown): hash is Uint8Array {
  return hash instanceof Uint8Array && hash.length === COMMITMENT_HASH_BYTES;
}

function validPair(pair: PointPair | undefined): boolean {
  return (
    typeof pair === 'object' &&
    pair !== null &&
    isScalar(pair.alpha) &&
    isScalar(pair.alphaPrime) &&
    isScalar(pair.beta) &&
    isScalar(pair.betaPrime)
  );
}

function validPolynomial(poly: Polynomial, k: number): 'ok' | 'bad-dimensions' | 'bad-value' {
  if (!Array.isArray(poly) || poly.length !== k) return 'bad-dimensions';
  for (const c of poly) if (!isScalar(c)) return 'bad-value';
  return 'ok';
}

function validMatrix(C: CommitmentMatrix, k: number): 'ok' | 'bad-dimensions' | 'bad-point' {
  if (!Array.isArray(C) || C.length !== k) return 'bad-dimensions';
  for (const row of C) if (!Array.isArray(row) || row.length !== k) return 'bad-dimensions';
  try {
    assertCommitmentMatrix(C, k);
  } catch {
    return 'bad-point';
  }
  return 'ok';
}

function reshareSession(source: SourceEpoch, target: EpochBinding): ReshareSession {
  const broken = thresholdError(source);
  if (broken !== undefined) throw new Error(`invalid source epoch thresholds: ${broken}`);
  if (typeof source.chainId !== 'string' || source.chainId.length === 0) throw new Error('the source epoch needs its chain id');
  if (typeof source.epoch !== 'bigint' || source.epoch >= target.epoch) throw new Error(`source epoch ${String(source.epoch)} must precede epoch ${target.epoch}`);
  if (source.members.size !== source.n) throw new Error(`source members must list exactly n=${source.n} nodes, got ${source.members.size}`);
  for (let i = 1; i <= source.n; i++) {
    const key = source.members.get(i);
    if (key === undefined) throw new Error(`source members has no node ${i}`);
    parsePublicKey(key);
  }
  return { source: { chainId: source.chainId, epoch: source.epoch, n: source.n, k: source.k, t: source.t }, target };
}

export class KeygenEngine {
  readonly #cfg: EngineConfig;
  readonly #th: KeygenThresholds;
  readonly #self: number;
  readonly #keys = new Map<bigint, KeyState>();
  /** Keys whose state was dropped after they finished here (share saved and key fixed by the BFT). */
  readonly #finished = new Set<bigint>();
  /** Messages to handle before the current call returns: to self, and released early messages. */
  readonly #queue: Array<{ readonly from: number; readonly message: KeygenMessage }> = [];
  /** Per peer, messages for keys not known yet (see `earlyMessagesPerPeer`). */
  readonly #early = new Map<number, KeygenMessage[]>();
  #out = new OutputBuilder();
  readonly #session: ReshareSession | undefined;

  constructor(cfg: EngineConfig) {
    this.#th = keygenThresholds({ n: cfg.n, k: cfg.k, t: cfg.t });
    if (typeof cfg.chainId !== 'string' || cfg.chainId.length === 0) throw new Error('chainId is required');
    if (typeof cfg.epoch !== 'bigint' || cfg.epoch < 0n) throw new Error('epoch must be a non-negative bigint');
    if (cfg.members.size !== cfg.n) throw new Error(`members must list exactly n=${cfg.n} nodes, got ${cfg.members.size}`);
    for (let i = 1; i <= cfg.n; i++) {
      const key = cfg.members.get(i);
      if (key === undefined) throw new Error(`members has no node ${i}`);
      parsePublicKey(key);
    }
    if (!Number.isSafeInteger(cfg.self) || !cfg.members.has(cfg.self)) throw new Error(`self ${cfg.self} is not a member`);
    if (!equalBytes(parsePublicKey(cfg.members.get(cfg.self) as Uint8Array), cfg.signer.publicKey)) {
      throw new Error(`the signer's public key is not member ${cfg.self}'s`);
    }
    this.#cfg = cfg;
    this.#self = cfg.self;
    this.#session = cfg.source === undefined ? undefined : reshareSession(cfg.source, { chainId: cfg.chainId, epoch: cfg.epoch, n: cfg.n, k: cfg.k, t: cfg.t });
  }

  get thresholds(): KeygenThresholds {
    return this.#th;
  }

  // ---------------------------------------------------------------------------------------------------------
  // Inputs

  /**
   * Works on key κ from now on (accepts its messages) without dealing yet. Idempotent. The output is empty
   * unless messages for κ were held (`earlyMessagesPerPeer`).
   */
  expectKey(keyIndex: bigint): Output {
    return this.#run(() => {
      this.#ensureKey(keyIndex);
    });
  }

  /**
   * Deals this node's dealing for key κ: saves (F, F') to the store first (or reuses the saved pair after a
   * restart), then sends every node its row and column. Idempotent.
   */
  startKey(keyIndex: bigint): Output {
    return this.#run(() => {
      const key = this.#ensureKey(keyIndex);
      // After the decision a new dealing could not be used any more.
      // After the decision a new dealing could not be used any more; a handed-over key is dealt by the source.
      if (key === undefined || key.dealt || key.aborted !== undefined || key.decided !== undefined || key.reshare !== undefined) return;
      this.#deal(key);
    });
  }

  /**
   * Works on the hand-over of key κ from the source epoch, whose combined commitment to the key is
   * `sourceCommitments` (k_source points, from the agreed mapping state). Idempotent. This node only
   * receives here: the re-dealings come from the source nodes through `receiveFromSource`.
   */
  expectReshare(keyIndex: bigint, sourceCommitments: readonly Point[]): Output {
    const source = this.#cfg.source;
    if (source === undefined) throw new Error('this engine has no source epoch to take keys over from');
    if (sourceCommitments.length !== source.k || sourceCommitments.some((p) => !(p instanceof Point) || p.is0())) {
      throw new Error(`a source commitment must be k_source=${source.k} points, none the identity`);
    }
    return this.#run(() => {
      if (this.#finished.has(keyIndex) || this.#keys.has(keyIndex)) return;
      this.#ensureKey(keyIndex, { sourceCommitments: [...sourceCommitments] });
    });
  }

  receive(from: number, message: KeygenMessage): Output {
    return this.#run(() => this.#dispatch(from, message));
  }

  /** Re-dealings (`send` messages) from source-epoch node `dealer`, authenticated as that node by the transport. */
  receiveFromSource(dealer: number, messages: readonly KeygenMessage[]): Output {
    return this.#run(() => {
      for (const message of messages) this.#dispatch(sourceSender(dealer), message);
    });
  }

  /** Several messages from one peer (one transport frame), handled in order, with one combined output. */
  receiveBatch(from: number, messages: readonly KeygenMessage[]): Output {
    return this.#run(() => {
      for (const message of messages) this.#dispatch(from, message);
    });
  }

  /**
   * The BFT decided key κ (its first valid KeygenPropose). Pass the proposal to let the node use the decided
   * matrices at once (it then needs no commitment request for them); a dealer list works too. The node
   * derives its share once every decided dealing has completed locally.
   */
  onDecided(keyIndex: bigint, decision: Decision): Output {
    return this.#run(() => {
      const key = this.#ensureKey(keyIndex);
      if (key === undefined || key.decided !== undefined || key.aborted !== undefined) return;
      this.#decide(key, decision);
    });
  }

  /**
   * The BFT fixed key κ's public key. The node stops proposing or publishing; its working state is dropped
   * once its own share is saved (a lagging node keeps working until then).
   */
  onKeyReady(keyIndex: bigint): void {
    const key = this.#keys.get(keyIndex);
    if (key === undefined) return;
    key.keyReady = true;
    this.#maybeForget(key);
  }

  status(keyIndex: bigint): KeyStatus {
    if (this.#finished.has(keyIndex)) {
      return { phase: 'finished', dealt: true, completedDealers: [], proposed: false, validProofs: 0, published: true };
    }
    const key = this.#keys.get(keyIndex);
    if (key === undefined) return { phase: 'unknown', dealt: false, completedDealers: [], proposed: false, validProofs: 0, published: false };
    const phase: KeyPhase =
      key.aborted !== undefined ? 'aborted' : key.shareSaved ? 'share-ready' : key.decided !== undefined ? 'decided' : 'active';
    return {
      phase,
      dealt: key.dealt,
      completedDealers: [...key.completedOrder],
      proposed: key.proposed,
      ...(key.decided !== undefined ? { decidedDealers: [...key.decided] } : {}),
      validProofs: key.proofs.size,
      published: key.published,
      ...(key.aborted !== undefined ? { abortReason: key.aborted } : {}),
    };
  }

  /** Key indexes with working state (for metrics and leak checks). */
  activeKeys(): bigint[] {
    return [...this.#keys.keys()];
  }

  /** Messages held for keys not known yet (see `earlyMessagesPerPeer`). */
  heldMessages(): number {
    let count = 0;
    for (const held of this.#early.values()) count += held.length;
    return count;
  }

  // ---------------------------------------------------------------------------------------------------------
  // Plumbing

  #run(body: () => void): Output {
    this.#out = new OutputBuilder();
    body();
    // Messages to self, FIFO, until none are left.
    for (let i = 0; i < this.#queue.length; i++) {
      const { from, message } = this.#queue[i] as { from: number; message: KeygenMessage };
      this.#dispatch(from, message);
    }
    this.#queue.length = 0;
    return this.#out.finish();
  }

  #emit(to: number, message: KeygenMessage): void {
    if (to === this.#self) this.#queue.push({ from: this.#self, message });
    else this.#out.add(to, message);
  }

  #reject(from: number, message: KeygenMessage, reason: RejectReason): void {
    const dealer = message.type === 'share-proof' ? undefined : message.dealer;
    this.#out.rejected.push({ from, type: message.type, keyIndex: message.keyIndex, ...(dealer !== undefined ? { dealer } : {}), reason });
  }

  #event(event: EngineEvent): void {
    this.#out.events.push(event);
  }

  #ensureKey(keyIndex: bigint, reshare?: KeyState['reshare']): KeyState | undefined {
    if (typeof keyIndex !== 'bigint' || keyIndex < 0n || keyIndex > 0xffffffffffffffffn) throw new Error(`bad key index ${String(keyIndex)}`);
    if (this.#finished.has(keyIndex)) return undefined;
    let key = this.#keys.get(keyIndex);
    if (key === undefined) {
      key = {
        keyIndex,
        ...(reshare !== undefined ? { reshare } : {}),
        dealt: false,
        dealings: new Map(),
        completedOrder: [],
        proposed: false,
        shareSaved: false,
        proofs: new Map(),
        proofFrom: new Set(),
        pendingProofs: new Map(),
        published: false,
        keyReady: false,
      };
      this.#keys.set(keyIndex, key);
      this.#releaseEarly(keyIndex);
    }
    return key;
  }

  /** Holds a message for a key not known yet; false if holding is off. */
  #holdEarly(from: number, message: KeygenMessage): boolean {
    const quota = this.#cfg.earlyMessagesPerPeer ?? 0;
    if (!(quota > 0)) return false;
    let held = this.#early.get(from);
    if (held === undefined) {
      held = [];
      this.#early.set(from, held);
    }
    if (held.length >= quota) this.#reject(from, held.shift() as KeygenMessage, 'unknown-key');
    held.push(message);
    return true;
  }

  /** Queues the held messages of a key that just became known, in arrival order per peer. */
  #releaseEarly(keyIndex: bigint): void {
    for (const [from, held] of this.#early) {
      if (!held.some((m) => m.keyIndex === keyIndex)) continue;
      const keep: KeygenMessage[] = [];
      for (const message of held) {
        if (message.keyIndex === keyIndex) this.#queue.push({ from, message });
        else keep.push(message);
      }
      if (keep.length === 0) this.#early.delete(from);
      else this.#early.set(from, keep);
    }
  }

  #dealing(key: KeyState, dealer: number): Dealing {
    let dealing = key.dealings.get(dealer);
    if (dealing === undefined) {
      dealing = {
        id: { epoch: this.#cfg.epoch, keyIndex: key.keyIndex, dealer },
        sendSeen: false,
        echoFrom: new Set(),
        readyFrom: new Set(),
        buckets: new Map(),
      };
      key.dealings.set(dealer, dealing);
    }
    return dealing;
  }

  #bucket(dealing: Dealing, hash: Uint8Array): Bucket {
    const hashHex = bytesToHex(hash);
    let bucket = dealing.buckets.get(hashHex);
    if (bucket === undefined) {
      bucket = {
        hash: Uint8Array.from(hash),
        hashHex,
        echoes: new Map(),
        readies: new Map(),
        pendingEchoes: new Map(),
        pendingReadies: new Map(),
        requested: new Set(),
        answered: new Set(),
      };
      dealing.buckets.set(hashHex, bucket);
    }
    return bucket;
  }

  /** Common admission checks; returns the key state, or undefined after recording the rejection. */
  #admit(from: number, message: KeygenMessage): KeyState | undefined {
    if (message.epoch !== this.#cfg.epoch) return this.#drop(from, message, 'wrong-epoch');
    const member = from > 0 ? this.#cfg.members.has(from) : this.#cfg.source?.members.has(-from) === true;
    if (!member) return this.#drop(from, message, 'not-member');
    // A source node only deals; everything else comes from members of this epoch.
    if (from < 0 && message.type !== 'send') return this.#drop(from, message, 'wrong-sender');
    if (typeof message.keyIndex !== 'bigint') return this.#drop(from, message, 'bad-value');
    if (this.#finished.has(message.keyIndex)) return this.#drop(from, message, 'key-finished');
    const key = this.#keys.get(message.keyIndex);
    if (key === undefined) {
      if (this.#holdEarly(from, message)) return undefined;
      return this.#drop(from, message, 'unknown-key');
    }
    if (key.aborted !== undefined) return this.#drop(from, message, 'key-aborted');
    if (from < 0 && key.reshare === undefined) return this.#drop(from, message, 'wrong-sender');
    return key;
  }

  #drop(from: number, message: KeygenMessage, reason: RejectReason): undefined {
    this.#reject(from, message, reason);
    return undefined;
  }

  /** Dealing admission: the dealer is a member and, after the decision, in the decided set. */
  #admitDealing(from: number, key: KeyState, message: Exclude<KeygenMessage, ShareProofMessage>): Dealing | undefined {
    const dealer = message.dealer;
    const dealers = key.reshare === undefined ? this.#cfg.members : (this.#cfg.source as SourceEpoch).members;
    if (!Number.isSafeInteger(dealer) || !dealers.has(dealer)) return this.#drop(from, message, 'bad-index');
    if (key.decidedSet !== undefined && !key.decidedSet.has(dealer)) return this.#drop(from, message, 'not-decided');
    return this.#dealing(key, dealer);
  }

  #dispatch(from: number, message: KeygenMessage): void {
    const key = this.#admit(from, message);
    if (key === undefined) return;
    switch (message.type) {
      case 'send':
        return this.#onSend(from, key, message);
      case 'echo':
        return this.#onEcho(from, key, message);
      case 'ready':
        return this.#onReady(from, key, message);
      case 'commitment-request':
        return this.#onCommitmentRequest(from, key, message);
      case 'commitment':
        return this.#onCommitment(from, key, message);
      case 'share-proof':
        return this.#onShareProof(from, key, message);
      default: {
        const unknown: never = message;
        this.#reject(from, unknown as KeygenMessage, 'bad-value');
      }
    }
  }

  // ---------------------------------------------------------------------------------------------------------
  // Dealing

  #deal(key: KeyState): void {
    const { epoch, store, random } = this.#cfg;
    const k = this.#th.k;
    let stored = store.loadDealing(epoch, key.keyIndex);
    if (stored === undefined) {
      stored = sampleDealing(sampleScalar(random), sampleScalar(random), k, random);
      // Durable before anything derived from it leaves the node.
      store.saveDealing(epoch, key.keyIndex, stored);
    }
    key.dealt = true;
    for (const { to, message } of sendMessages(stored, k, this.#th.n, { epoch, keyIndex: key.keyIndex, dealer: this.#self })) this.#emit(to, message);
  }

  // ---------------------------------------------------------------------------------------------------------
  // What binds a dealing: key generation or a re-dealing

  #hashOf(key: KeyState, dealing: Dealing, C: CommitmentMatrix): Uint8Array {
    return key.reshare === undefined
      ? commitmentHash(this.#cfg.chainId, dealing.id, C)
      : reshareCommitmentHash(this.#session as ReshareSession, key.keyIndex, dealing.id.dealer, C);
  }

  #readySigned(key: KeyState, dealing: Dealing, hash: Uint8Array): { tag: string; parts: Uint8Array[] } {
    return key.reshare === undefined
      ? { tag: READY_TAG, parts: readyParts(this.#cfg.chainId, dealing.id, hash) }
      : { tag: RESHARE_READY_TAG, parts: reshareReadyParts(this.#session as ReshareSession, key.keyIndex, dealing.id.dealer, hash) };
  }

  /** A re-dealing must deal the dealer's real share: C_00 = g^{s_i} h^{s'_i} = D_old(i). */
  #constantTermOk(key: KeyState, dealer: number, C: CommitmentMatrix): boolean {
    if (key.reshare === undefined) return true;
    const source = this.#cfg.source as SourceEpoch;
    return (C[0]?.[0] as Point).equals(commitmentAt(key.reshare.sourceCommitments, source.k, dealer));
  }

  /** Dealings a proposal or decision must list: k+t or more for key generation, exactly k_source for a hand-over. */
  #decisionSizeOk(key: KeyState, dealers: readonly number[]): boolean {
    if (key.reshare === undefined) return dealers.length >= this.#th.proposal && dealers.every((d) => this.#cfg.members.has(d));
    const source = this.#cfg.source as SourceEpoch;
    return dealers.length === source.k && dealers.every((d) => source.members.has(d));
  }

  /**
   * The decided dealings' combined column-0 commitment D and the weight of each dealing's share in this
   * node's final share (dealers ascending): 1 each for key generation (the shares add up), the Lagrange
   * coefficients at 0 of the dealers for a hand-over (the combination's constant term is the old secret,
   * which the check against D_old(0) confirms).
   */
  #combination(key: KeyState, dealers: readonly number[], matrices: readonly CommitmentMatrix[]): { D: Point[]; weights: bigint[] } {
    const k = this.#th.k;
    if (key.reshare === undefined) return { D: combineColumnZero(matrices, k), weights: dealers.map(() => 1n) };
    const weights = lagrangeCoefficients(dealers);
    const D = combineColumnZeroWeighted(matrices, weights, k);
    if (!(D[0] as Point).equals(key.reshare.sourceCommitments[0] as Point)) throw new Error('the combined re-dealings do not commit to the old secret (E_0 != D_0)');
    return { D, weights };
  }

  // ---------------------------------------------------------------------------------------------------------
  // AVSS messages

  #onSend(from: number, key: KeyState, message: SendMessage): void {
    const dealing = this.#admitDealing(from, key, message);
    if (dealing === undefined) return;
    if (from !== (key.reshare === undefined ? message.dealer : sourceSender(message.dealer))) return this.#reject(from, message, 'not-dealer');
    if (dealing.sendSeen) return this.#reject(from, message, 'duplicate');
    dealing.sendSeen = true;
    // A node that already sent ready still echoes: other honest nodes may need its echo for their quorum.
    if (dealing.completed !== undefined) return this.#reject(from, message, 'late');
    const k = this.#th.k;
    const matrix = validMatrix(message.commitment, k);
    if (matrix !== 'ok') return this.#reject(from, message, matrix);
    for (const poly of [message.a, message.aPrime, message.b, message.bPrime]) {
      const check = validPolynomial(poly, k);
      if (check !== 'ok') return this.#reject(from, message, check);
    }
    if (!this.#constantTermOk(key, dealing.id.dealer, message.commitment)) return this.#reject(from, message, 'wrong-constant-term');
    const hash = this.#hashOf(key, dealing, message.commitment);
    const bucket = this.#bucket(dealing, hash);
    const polys: RowColumnPolynomials = { a: message.a, aPrime: message.aPrime, b: message.b, bPrime: message.bPrime };
    // The matrix is authenticated by its hash, so it is worth keeping even when the polynomials are bad.
    const valid = verifyPolynomials(message.commitment, k, this.#self, polys);
    const newMatrix = bucket.commitment === undefined;
    if (newMatrix) bucket.commitment = message.commitment;
    if (valid) {
      bucket.polys ??= polys;
      for (let j = 1; j <= this.#th.n; j++) {
        this.#emit(j, {
          type: 'echo',
          epoch: this.#cfg.epoch,
          keyIndex: key.keyIndex,
          dealer: dealing.id.dealer,
          commitmentHash: bucket.hash,
          pair: this.#pairFor(bucket.polys, j),
        });
      }
    } else {
      this.#reject(from, message, 'bad-polynomials');
    }
    if (newMatrix) this.#flushPending(key, dealing, bucket);
  }

  #onEcho(from: number, key: KeyState, message: EchoMessage): void {
    const dealing = this.#admitDealing(from, key, message);
    if (dealing === undefined) return;
    if (dealing.echoFrom.has(from)) return this.#reject(from, message, 'duplicate');
    dealing.echoFrom.add(from);
    if (dealing.readySent !== undefined || dealing.completed !== undefined) return this.#reject(from, message, 'late');
    if (!validHash(message.commitmentHash) || !validPair(message.pair)) return this.#reject(from, message, 'bad-value');
    const bucket = this.#bucket(dealing, message.commitmentHash);
    if (bucket.commitment === undefined) {
      bucket.pendingEchoes.set(from, message.pair);
      this.#maybeRequest(key, dealing, bucket);
      return;
    }
    this.#acceptEcho(key, dealing, bucket, from, message.pair);
  }

  #acceptEcho(key: KeyState, dealing: Dealing, bucket: Bucket, from: number, pair: PointPair): void {
    if (dealing.readySent !== undefined) return;
    if (!this.#checkPair(bucket, from, pair)) {
      this.#out.rejected.push({ from, type: 'echo', keyIndex: key.keyIndex, dealer: dealing.id.dealer, reason: 'bad-point-pair' });
      return;
    }
    bucket.echoes.set(from, pair);
    if (bucket.echoes.size >= this.#th.echo) this.#sendReady(key, dealing, bucket, bucket.echoes);
  }

  #onReady(from: number, key: KeyState, message: ReadyMessage): void {
    const dealing = this.#admitDealing(from, key, message);
    if (dealing === undefined) return;
    if (dealing.readyFrom.has(from)) return this.#reject(from, message, 'duplicate');
    dealing.readyFrom.add(from);
    if (dealing.completed !== undefined) return this.#reject(from, message, 'late');
    if (!validHash(message.commitmentHash) || !validPair(message.pair)) return this.#reject(from, message, 'bad-value');
    const signature = message.signature;
    if (!(signature instanceof Uint8Array) || signature.length !== SIGNATURE_BYTES) return this.#reject(from, message, 'bad-signature');
    const { tag, parts } = this.#readySigned(key, dealing, message.commitmentHash);
    if (!verifySignature(this.#cfg.members.get(from) as Uint8Array, tag, parts, signature)) {
      return this.#reject(from, message, 'bad-signature');
    }
    const bucket = this.#bucket(dealing, message.commitmentHash);
    const ready: Ready = { pair: message.pair, signature: Uint8Array.from(signature) };
    if (bucket.commitment === undefined) {
      bucket.pendingReadies.set(from, ready);
      this.#maybeRequest(key, dealing, bucket);
      return;
    }
    this.#acceptReady(key, dealing, bucket, from, ready);
  }

  #acceptReady(key: KeyState, dealing: Dealing, bucket: Bucket, from: number, ready: Ready): void {
    if (dealing.completed !== undefined) return;
    if (!this.#checkPair(bucket, from, ready.pair)) {
      this.#out.rejected.push({ from, type: 'ready', keyIndex: key.keyIndex, dealer: dealing.id.dealer, reason: 'bad-point-pair' });
      return;
    }
    bucket.readies.set(from, ready);
    const count = bucket.readies.size;
    if (count >= this.#th.readyAmplify && dealing.readySent === undefined) {
      const points = new Map<number, PointPair>();
      for (const [m, r] of bucket.readies) points.set(m, r.pair);
      this.#sendReady(key, dealing, bucket, points);
    }
    if (count >= this.#th.complete) this.#complete(key, dealing, bucket);
  }

  /** Asks for an unknown matrix once knowing it would let the node act (a threshold of pending messages). */
  #maybeRequest(key: KeyState, dealing: Dealing, bucket: Bucket): void {
    const enoughEchoes = dealing.readySent === undefined && bucket.pendingEchoes.size >= this.#th.echo;
    const enoughReadies = bucket.pendingReadies.size >= this.#th.readyAmplify;
    if (!enoughEchoes && !enoughReadies) return;
    // Ask every sender of a pending message once: at least one of any echo quorum or k readies is honest.
    for (const m of [...bucket.pendingEchoes.keys(), ...bucket.pendingReadies.keys()]) {
      if (bucket.requested.has(m)) continue;
      bucket.requested.add(m);
      this.#emit(m, {
        type: 'commitment-request',
        epoch: this.#cfg.epoch,
        keyIndex: key.keyIndex,
        dealer: dealing.id.dealer,
        commitmentHash: bucket.hash,
      });
    }
  }

  /** The bucket's matrix just became known: check what waited for it. */
  #flushPending(key: KeyState, dealing: Dealing, bucket: Bucket): void {
    const echoes = [...bucket.pendingEchoes];
    const readies = [...bucket.pendingReadies];
    bucket.pendingEchoes.clear();
    bucket.pendingReadies.clear();
    if (dealing.completed !== undefined) return;
    if (bucket.polys === undefined && this.#cfg.curveChecksOnly !== true) {
      // Only points that can still count: echoes matter until this node sends ready.
      const points = new Map<number, PointPair>(dealing.readySent === undefined ? echoes : []);
      for (const [m, r] of readies) if (!points.has(m)) points.set(m, r.pair);
      this.#batchPolys(bucket, points);
    }
    for (const [m, pair] of echoes) this.#acceptEcho(key, dealing, bucket, m, pair);
    for (const [m, ready] of readies) this.#acceptReady(key, dealing, bucket, m, ready);
  }

  #onCommitmentRequest(from: number, key: KeyState, message: CommitmentRequestMessage): void {
    const dealing = this.#admitDealing(from, key, message);
    if (dealing === undefined) return;
    if (!validHash(message.commitmentHash)) return this.#reject(from, message, 'bad-value');
    const bucket = dealing.buckets.get(bytesToHex(message.commitmentHash));
    if (bucket === undefined || bucket.commitment === undefined) return this.#reject(from, message, 'unknown-commitment');
    if (bucket.answered.has(from)) return this.#reject(from, message, 'duplicate');
    bucket.answered.add(from);
    this.#emit(from, { type: 'commitment', epoch: this.#cfg.epoch, keyIndex: key.keyIndex, dealer: dealing.id.dealer, commitment: bucket.commitment });
  }

  #onCommitment(from: number, key: KeyState, message: CommitmentMessage): void {
    const dealing = this.#admitDealing(from, key, message);
    if (dealing === undefined) return;
    // Only hash what was asked for: an unsolicited matrix costs the sender nothing and us k² encodings.
    const asked = [...dealing.buckets.values()].filter((b) => b.requested.has(from));
    const outstanding = asked.filter((b) => b.commitment === undefined);
    if (outstanding.length === 0) return this.#reject(from, message, asked.length > 0 ? 'late' : 'unsolicited');
    const matrix = validMatrix(message.commitment, this.#th.k);
    if (matrix !== 'ok') return this.#reject(from, message, matrix);
    const hashHex = bytesToHex(this.#hashOf(key, dealing, message.commitment));
    const bucket = outstanding.find((b) => b.hashHex === hashHex);
    if (bucket === undefined) return this.#reject(from, message, 'commitment-mismatch');
    // Echoed and readied by others, but not the dealer's real share: never let it complete here.
    if (!this.#constantTermOk(key, dealing.id.dealer, message.commitment)) return this.#reject(from, message, 'wrong-constant-term');
    bucket.commitment = message.commitment;
    this.#flushPending(key, dealing, bucket);
  }

  /** α = F(self, j) = a(j), β = F(j, self) = b(j): what this node sends node j. */
  #pairFor(polys: RowColumnPolynomials, j: number): PointPair {
    const x = BigInt(j);
    return {
      alpha: evaluatePolynomial(polys.a, x),
      alphaPrime: evaluatePolynomial(polys.aPrime, x),
      beta: evaluatePolynomial(polys.b, x),
      betaPrime: evaluatePolynomial(polys.bPrime, x),
    };
  }

  /** Both halves: α must be F(m, self) = b(m) and β must be F(self, m) = a(m), with their twins. */
  #checkPair(bucket: Bucket, from: number, pair: PointPair): boolean {
    const polys = bucket.polys;
    if (polys !== undefined && this.#cfg.curveChecksOnly !== true) {
      const m = BigInt(from);
      const alphaOk = pair.alpha === evaluatePolynomial(polys.b, m) && pair.alphaPrime === evaluatePolynomial(polys.bPrime, m);
      const betaOk = pair.beta === evaluatePolynomial(polys.a, m) && pair.betaPrime === evaluatePolynomial(polys.aPrime, m);
      return alphaOk && betaOk;
    }
    return verifyPointPair(bucket.commitment as CommitmentMatrix, this.#th.k, from, this.#self, pair);
  }

  /**
   * Batch check of many pending points at once: interpolate this node's row and column from k of them and
   * check those polynomials against the matrix (one verify-poly, 2k openings) instead of k point-pair checks
   * (2 openings and two k²-point MSMs each). If they verify, the k points were right (a point off the
   * committed polynomial would make the interpolated one fail), and every other point is then checked by the
   * scalar comparison. If not, nothing is kept and each point gets its own curve check.
   */
  #batchPolys(bucket: Bucket, points: ReadonlyMap<number, PointPair>): void {
    const k = this.#th.k;
    if (points.size < k) return;
    const polys = this.#interpolate(points);
    if (verifyPolynomials(bucket.commitment as CommitmentMatrix, k, this.#self, polys)) bucket.polys = polys;
  }

  #interpolate(points: ReadonlyMap<number, PointPair>): RowColumnPolynomials {
    const senders = [...points.keys()].sort((x, y) => x - y).slice(0, this.#th.k);
    const take = (field: keyof PointPair) =>
      interpolatePolynomial(senders.map((m) => ({ index: BigInt(m), value: (points.get(m) as PointPair)[field] })));
    return { a: take('beta'), aPrime: take('betaPrime'), b: take('alpha'), bPrime: take('alphaPrime') };
  }

  /**
   * This node's row and column for the bucket's matrix, interpolated from exactly k verified points when it
   * has no valid send for that matrix: a_i(m) = β_m, b_i(m) = α_m.
   */
  #ensurePolys(key: KeyState, dealing: Dealing, bucket: Bucket, points: ReadonlyMap<number, PointPair>): RowColumnPolynomials | undefined {
    if (bucket.polys !== undefined) return bucket.polys;
    const k = this.#th.k;
    if (points.size < k) return undefined;
    const polys = this.#interpolate(points);
    // Implied by the k verified points; a failure here is a bug, so check rather than trust.
    if (!verifyPolynomials(bucket.commitment as CommitmentMatrix, k, this.#self, polys)) {
      this.#event({ type: 'dealing-error', keyIndex: key.keyIndex, dealer: dealing.id.dealer, reason: 'interpolated polynomials do not match the commitment' });
      return undefined;
    }
    bucket.polys = polys;
    return polys;
  }

  #sendReady(key: KeyState, dealing: Dealing, bucket: Bucket, points: ReadonlyMap<number, PointPair>): void {
    if (dealing.readySent !== undefined || dealing.readyRefused === true) return;
    const polys = this.#ensurePolys(key, dealing, bucket, points);
    if (polys === undefined) return;
    const { epoch, store } = this.#cfg;
    const earlier = store.loadReady(epoch, key.keyIndex, dealing.id.dealer);
    if (earlier !== undefined && !equalBytes(earlier, bucket.hash)) {
      // Only reachable after a restart with more than t faults: never sign a second commitment.
      dealing.readyRefused = true;
      this.#event({ type: 'dealing-error', keyIndex: key.keyIndex, dealer: dealing.id.dealer, reason: 'ready already sent for another commitment' });
      return;
    }
    if (earlier === undefined) store.saveReady(epoch, key.keyIndex, dealing.id.dealer, bucket.hash);
    dealing.readySent = bucket;
    const { tag, parts } = this.#readySigned(key, dealing, bucket.hash);
    const signature = this.#cfg.signer.sign(tag, parts);
    for (let j = 1; j <= this.#th.n; j++) {
      this.#emit(j, {
        type: 'ready',
        epoch,
        keyIndex: key.keyIndex,
        dealer: dealing.id.dealer,
        commitmentHash: bucket.hash,
        pair: this.#pairFor(polys, j),
        signature,
      });
    }
  }

  #complete(key: KeyState, dealing: Dealing, bucket: Bucket): void {
    if (dealing.completed !== undefined) return;
    const points = new Map<number, PointPair>();
    for (const [m, r] of bucket.readies) points.set(m, r.pair);
    const polys = this.#ensurePolys(key, dealing, bucket, points);
    if (polys === undefined) return;
    const C = bucket.commitment as CommitmentMatrix;
    const k = this.#th.k;
    const share = polys.a[0] as bigint;
    const blinding = polys.aPrime[0] as bigint;
    if (!verifyShare(columnZero(C, k), k, this.#self, share, blinding)) {
      this.#event({ type: 'dealing-error', keyIndex: key.keyIndex, dealer: dealing.id.dealer, reason: 'share does not match the commitment' });
      return;
    }
    const decidedHash = key.decidedHashes?.get(dealing.id.dealer);
    if (decidedHash !== undefined && decidedHash !== bucket.hashHex) {
      return this.#abort(key, `dealing ${dealing.id.dealer} completed with a commitment other than the decided one`);
    }
    const readies = [...bucket.readies.entries()]
      .sort(([a], [b]) => a - b)
      .map(([nodeIndex, r]) => ({ nodeIndex, signature: r.signature }));
    dealing.completed = { bucket, commitment: C, share, blinding, readies };
    // Pending and verified points of this dealing are no longer needed.
    for (const b of dealing.buckets.values()) {
      b.pendingEchoes.clear();
      b.pendingReadies.clear();
      b.echoes.clear();
    }
    key.completedOrder.push(dealing.id.dealer);
    this.#event({ type: 'dealing-complete', keyIndex: key.keyIndex, dealer: dealing.id.dealer, commitmentHash: bucket.hash });
    if (key.decided === undefined) this.#maybePropose(key);
    else this.#tryFinish(key);
  }

  #maybePropose(key: KeyState): void {
    // Any k_source re-dealings determine the old secret; key generation takes every dealing completed by then.
    const needed = key.reshare === undefined ? this.#th.proposal : (this.#cfg.source as SourceEpoch).k;
    if (key.proposed || key.decided !== undefined || key.keyReady || key.completedOrder.length < needed) return;
    key.proposed = true;
    const chosen = key.reshare === undefined ? key.completedOrder : key.completedOrder.slice(0, needed);
    const dealers = [...chosen].sort((a, b) => a - b);
    const dealings: ProposedDealing[] = dealers.map((dealer) => {
      const completed = (key.dealings.get(dealer) as Dealing).completed as Completed;
      return { dealer, commitment: encodeCommitmentMatrix(completed.commitment).flat(), readies: completed.readies };
    });
    this.#out.txs.push({ type: key.reshare === undefined ? 'keygen_propose' : 'reshare_propose', keyIndex: key.keyIndex, dealings });
  }

  // ---------------------------------------------------------------------------------------------------------
  // Decision, share, share proofs

  #decide(key: KeyState, decision: Decision): void {
    const k = this.#th.k;
    const proposal = Array.isArray(decision) ? undefined : (decision as Pick<KeygenProposeBody | ReshareProposeBody, 'keyIndex' | 'dealings'>);
    const dealers = proposal === undefined ? [...(decision as readonly number[])] : proposal.dealings.map((d) => d.dealer);
    if (proposal !== undefined && proposal.keyIndex !== key.keyIndex) return this.#abort(key, 'decision is for another key index');
    const set = new Set(dealers);
    if (set.size !== dealers.length || !this.#decisionSizeOk(key, dealers)) {
      return this.#abort(key, `decision lists an invalid dealer set [${dealers.join(',')}]`);
    }
    const sorted = [...dealers].sort((a, b) => a - b);
    // With the proposal: parse and hash the decided matrices first, so that D is known before anything completes.
    const installs: Array<{ dealing: Dealing; bucket: Bucket; C: CommitmentMatrix }> = [];
    if (proposal !== undefined) {
      const hashes = new Map<number, string>();
      const byDealer = new Map<number, CommitmentMatrix>();
      for (const d of proposal.dealings) {
        const dealing = this.#dealing(key, d.dealer);
        let C: CommitmentMatrix;
        try {
          if (d.commitment.length !== k * k) throw new Error('wrong size');
          C = this.#knownMatrix(dealing, d.commitment) ?? this.#parseMatrix(d.commitment);
        } catch {
          return this.#abort(key, `decided commitment of dealer ${d.dealer} is malformed`);
        }
        if (!this.#constantTermOk(key, d.dealer, C)) return this.#abort(key, `decided re-dealing of dealer ${d.dealer} does not deal its share`);
        const bucket = this.#bucket(dealing, this.#hashOf(key, dealing, C));
        if (dealing.completed !== undefined && dealing.completed.bucket !== bucket) {
          return this.#abort(key, `dealing ${d.dealer} completed here with a commitment other than the decided one`);
        }
        hashes.set(d.dealer, bucket.hashHex);
        byDealer.set(d.dealer, C);
        installs.push({ dealing, bucket, C });
      }
      try {
        key.D = this.#combination(key, sorted, sorted.map((dealer) => byDealer.get(dealer) as CommitmentMatrix)).D;
      } catch (err) {
        return this.#abort(key, `decided commitments do not combine: ${err instanceof Error ? err.message : String(err)}`);
      }
      key.decidedHashes = hashes;
    }
    key.decided = sorted;
    key.decidedSet = set;
    // Working state of dealings outside the decided set is no longer needed.
    for (const dealer of [...key.dealings.keys()]) if (!set.has(dealer)) key.dealings.delete(dealer);
    for (const { dealing, bucket, C } of installs) {
      if (bucket.commitment !== undefined) continue;
      bucket.commitment = C;
      this.#flushPending(key, dealing, bucket);
      if (key.aborted !== undefined || key.shareSaved) return;
    }
    this.#flushProofs(key);
    this.#tryFinish(key);
  }

  /** The matrix this node already holds for a dealing if its encoding is `encoded` (saves k² decompressions). */
  #knownMatrix(dealing: Dealing, encoded: readonly Uint8Array[]): CommitmentMatrix | undefined {
    const candidate = dealing.completed?.commitment ?? dealing.readySent?.commitment;
    if (candidate === undefined) return undefined;
    const mine = encodeCommitmentMatrix(candidate).flat();
    return mine.every((bytes, i) => equalBytes(bytes, encoded[i] as Uint8Array)) ? candidate : undefined;
  }

  #parseMatrix(encoded: readonly Uint8Array[]): Point[][] {
    const k = this.#th.k;
    const points = encoded.map((bytes) => parsePoint(bytes));
    return Array.from({ length: k }, (_, j) => points.slice(j * k, (j + 1) * k));
  }

  #tryFinish(key: KeyState): void {
    const decided = key.decided;
    if (decided === undefined || key.shareSaved || key.aborted !== undefined) return;
    const completed: Completed[] = [];
    for (const dealer of decided) {
      const c = key.dealings.get(dealer)?.completed;
      if (c === undefined) return;
      completed.push(c);
    }
    const k = this.#th.k;
    let combination: { D: Point[]; weights: bigint[] };
    try {
      combination = this.#combination(key, decided, completed.map((c) => c.commitment));
    } catch (err) {
      return this.#abort(key, `completed commitments do not combine: ${err instanceof Error ? err.message : String(err)}`);
    }
    let s = 0n;
    let sPrime = 0n;
    completed.forEach((c, i) => {
      const weight = combination.weights[i] as bigint;
      s = Fn.add(s, Fn.mul(weight, c.share));
      sPrime = Fn.add(sPrime, Fn.mul(weight, c.blinding));
    });
    key.D ??= combination.D;
    const D = key.D;
    if (!verifyShare(D, k, this.#self, s, sPrime)) {
      return this.#abort(key, 'the summed share does not match the combined commitment (bug)');
    }
    let proved: ReturnType<typeof proveShareKnowledge>;
    try {
      proved = proveShareKnowledge(shareProofContext(this.#cfg.chainId, this.#cfg.epoch, key.keyIndex, this.#self), s, sPrime);
    } catch (err) {
      return this.#abort(key, `cannot prove the share: ${err instanceof Error ? err.message : String(err)}`);
    }
    this.#cfg.store.saveShare(this.#cfg.epoch, key.keyIndex, { s, sPrime, D, dealers: decided });
    key.shareSaved = true;
    const sharePublic = proved.statement.gs;
    this.#event({ type: 'share-ready', keyIndex: key.keyIndex, sharePublic: encodePoint(sharePublic) });
    // Own proof counts without re-verifying it; everyone else gets it.
    key.proofFrom.add(this.#self);
    key.proofs.set(this.#self, { gs: sharePublic, proof: proved.proof });
    for (let j = 1; j <= this.#th.n; j++) {
      if (j === this.#self) continue;
      this.#emit(j, { type: 'share-proof', epoch: this.#cfg.epoch, keyIndex: key.keyIndex, node: this.#self, sharePublic, proof: proved.proof });
    }
    this.#flushProofs(key);
    this.#maybePublish(key);
    this.#maybeForget(key);
  }

  #onShareProof(from: number, key: KeyState, message: ShareProofMessage): void {
    if (message.node !== from) return this.#reject(from, message, 'wrong-sender');
    if (key.proofFrom.has(from)) return this.#reject(from, message, 'duplicate');
    key.proofFrom.add(from);
    if (key.published || key.keyReady) return this.#reject(from, message, 'late');
    if (!(message.sharePublic instanceof Point) || message.sharePublic.is0()) return this.#reject(from, message, 'bad-point');
    const p = message.proof;
    if (typeof p !== 'object' || p === null || !isScalar(p.challenge) || !isScalar(p.response) || !isScalar(p.responsePrime)) {
      return this.#reject(from, message, 'bad-value');
    }
    if (key.D === undefined) {
      key.pendingProofs.set(from, message);
      return;
    }
    this.#acceptProof(key, from, message);
  }

  #acceptProof(key: KeyState, from: number, message: ShareProofMessage): void {
    if (key.published || key.keyReady) return;
    const D = key.D as Point[];
    const statement = { gs: message.sharePublic, commitment: commitmentAt(D, this.#th.k, from) };
    const context = shareProofContext(this.#cfg.chainId, this.#cfg.epoch, key.keyIndex, from);
    if (!verifyShareKnowledge(context, statement, message.proof)) return this.#reject(from, message, 'bad-proof');
    key.proofs.set(from, { gs: message.sharePublic, proof: message.proof });
    this.#maybePublish(key);
  }

  #flushProofs(key: KeyState): void {
    if (key.D === undefined) return;
    const pending = [...key.pendingProofs.entries()];
    key.pendingProofs.clear();
    for (const [from, message] of pending) this.#acceptProof(key, from, message);
  }

  #maybePublish(key: KeyState): void {
    if (key.published || key.keyReady || key.proofs.size < this.#th.k) return;
    key.published = true;
    const chosen = [...key.proofs.entries()].sort(([a], [b]) => a - b).slice(0, this.#th.k);
    const proofs: ShareProof[] = chosen.map(([nodeIndex, p]) => ({ nodeIndex, sharePublic: encodePoint(p.gs), proof: encodeProof(p.proof) }));
    const body: KeyPublishBody = { type: 'key_publish', keyIndex: key.keyIndex, proofs };
    this.#out.txs.push(body);
    key.pendingProofs.clear();
  }

  #abort(key: KeyState, reason: string): void {
    if (key.aborted !== undefined) return;
    key.aborted = reason;
    key.dealings.clear();
    key.pendingProofs.clear();
    this.#event({ type: 'key-aborted', keyIndex: key.keyIndex, reason });
    this.#maybeForget(key);
  }

  #maybeForget(key: KeyState): void {
    if (!key.keyReady || !(key.shareSaved || key.aborted !== undefined)) return;
    this.#keys.delete(key.keyIndex);
    this.#finished.add(key.keyIndex);
  }
}
