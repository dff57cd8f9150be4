/**
 * Typed key-generation messages and the engine's output. Values of these types are what `wire.ts` decodes
 * untrusted bytes into; the engine still re-checks everything it relies on, so a caller that builds them in
 * memory cannot bypass a check.
 *
 * Every message names its epoch and key index; dealing messages also name their dealer. Echo and ready carry
 * the hash of the dealer's commitment matrix (core/keygen/session.ts `commitmentHash`), never the matrix.
 */
import type { CommitmentMatrix, PointPair } from '../../../core/crypto/pedersen.js';
import type { Point } from '../../../core/crypto/point.js';
import type { Polynomial } from '../../../core/crypto/polynomial.js';
import type { ShareKnowledgeProof } from '../../../core/crypto/nizk.js';
import type { KeygenProposeBody, KeyPublishBody, ReshareProposeBody } from '../../../core/tx/types.js';

/** Dealer d → node i: the commitment matrix and i's row a = F(i,y), column b = F(x,i) and their F' twins. */
export interface SendMessage {
  readonly type: 'send';
  readonly epoch: bigint;
  readonly keyIndex: bigint;
  readonly dealer: number;
  readonly commitment: CommitmentMatrix;
  readonly a: Polynomial;
  readonly aPrime: Polynomial;
  readonly b: Polynomial;
  readonly bPrime: Polynomial;
}

/** Node m → node i: α = F(m,i), β = F(i,m) (and twins) for the commitment with hash `commitmentHash`. */
export interface EchoMessage {
  readonly type: 'echo';
  readonly epoch: bigint;
  readonly keyIndex: bigint;
  readonly dealer: number;
  readonly commitmentHash: Uint8Array;
  readonly pair: PointPair;
}

/** As echo, plus m's signature over `readyParts(chainId, dealing, commitmentHash)` under READY_TAG. */
export interface ReadyMessage {
  readonly type: 'ready';
  readonly epoch: bigint;
  readonly keyIndex: bigint;
  readonly dealer: number;
  readonly commitmentHash: Uint8Array;
  readonly pair: PointPair;
  readonly signature: Uint8Array;
}

/** "Send me the commitment matrix with this hash": from a node that got echoes/readies before any matrix. */
export interface CommitmentRequestMessage {
  readonly type: 'commitment-request';
  readonly epoch: bigint;
  readonly keyIndex: bigint;
  readonly dealer: number;
  readonly commitmentHash: Uint8Array;
}

/** The answer to a commitment request; accepted only if its hash is the one requested. */
export interface CommitmentMessage {
  readonly type: 'commitment';
  readonly epoch: bigint;
  readonly keyIndex: bigint;
  readonly dealer: number;
  readonly commitment: CommitmentMatrix;
}

/** After the decision: node `node` reveals g^{s_i} with a NIZK that it knows the share committed at D(i). */
export interface ShareProofMessage {
  readonly type: 'share-proof';
  readonly epoch: bigint;
  readonly keyIndex: bigint;
  readonly node: number;
  readonly sharePublic: Point;
  readonly proof: ShareKnowledgeProof;
}

export type KeygenMessage =
  | SendMessage
  | EchoMessage
  | ReadyMessage
  | CommitmentRequestMessage
  | CommitmentMessage
  | ShareProofMessage;

export type MessageType = KeygenMessage['type'];

/**
 * Why an input was not used. The first group means the sender (or a relay) misbehaved or is out of sync;
 * `BENIGN_REASONS` are the normal late or redundant arrivals of an asynchronous protocol.
 */
export type RejectReason =
  | 'wrong-epoch'
  | 'unknown-key'
  | 'not-member'
  | 'bad-index'
  | 'not-dealer'
  | 'wrong-sender'
  | 'duplicate'
  | 'bad-dimensions'
  | 'bad-value'
  | 'bad-point'
  | 'bad-polynomials'
  | 'bad-point-pair'
  | 'bad-signature'
  | 'bad-proof'
  | 'commitment-mismatch'
  /** A re-dealing whose C_00 is not the dealer's committed old share: it does not re-deal the real share. */
  | 'wrong-constant-term'
  | 'unsolicited'
  | 'unknown-commitment'
  | 'key-aborted'
  // Benign: the message came after this node stopped needing it.
  | 'key-finished'
  | 'late'
  | 'not-decided';

export const BENIGN_REASONS: ReadonlySet<RejectReason> = new Set<RejectReason>(['key-finished', 'late', 'not-decided']);

export interface Rejection {
  /** The sender: a member's index, or minus a source-epoch dealer's index (a hand-over's re-dealing). */
  readonly from: number;
  readonly type: MessageType;
  readonly keyIndex: bigint;
  readonly dealer?: number;
  readonly reason: RejectReason;
}

export type EngineEvent =
  /** This node completed a dealing: it holds its verified share of it and k+t ready signatures. */
  | { readonly type: 'dealing-complete'; readonly keyIndex: bigint; readonly dealer: number; readonly commitmentHash: Uint8Array }
  /** This node derived, checked and saved its share of the decided key, and broadcast its share proof. */
  | { readonly type: 'share-ready'; readonly keyIndex: bigint; readonly sharePublic: Uint8Array }
  /**
   * The key cannot finish at this node: a check that only a bug or a broken assumption (more than t faults,
   * a forged decision) can fail. The node sends nothing more for this key.
   */
  | { readonly type: 'key-aborted'; readonly keyIndex: bigint; readonly reason: string }
  /** A dealing-level failure of the same kind; the key may still finish. */
  | { readonly type: 'dealing-error'; readonly keyIndex: bigint; readonly dealer: number; readonly reason: string };

/** One peer's share of an output: everything to send it, in order. The transport frames this as one batch. */
export interface Outgoing {
  readonly to: number;
  readonly messages: readonly KeygenMessage[];
}

export type KeygenTx = KeygenProposeBody | ReshareProposeBody | KeyPublishBody;

export interface Output {
  /** Grouped per destination, sorted by node index; never contains this node (its own messages are handled inside). */
  readonly outbox: readonly Outgoing[];
  /** Transactions for the BFT, in the order they became ready. */
  readonly txs: readonly KeygenTx[];
  readonly rejected: readonly Rejection[];
  readonly events: readonly EngineEvent[];
}
