/**
 * Everything a request handler may use, wired once at start (main.ts) and passed in: the node's identity,
 * the epoch it serves, its verifiers, its mapping state, its token store and its share source. Handlers hold
 * no other state, so tests wire the same handlers to real or in-memory parts.
 */
import { parsePoint } from '../../core/crypto/point.js';
import type { NodeSigner } from '../../core/crypto/signature.js';
import type { TxContext } from '../../core/tx/build.js';
import type { EpochRecord } from '../../abci/src/state/records.js';
import type { MappingClient } from './mapping.js';
import type { ShareSource } from './share-source.js';
import type { TokenStore } from './token-store.js';
import type { IdTokenVerifier } from './verifiers/types.js';

export interface Member {
  readonly index: number;
  /** Affine coordinates, to match the unpadded hex that signatures name nodes by. */
  readonly x: bigint;
  readonly y: bigint;
  readonly publicKey: Uint8Array;
}

export interface Verifiers {
  get(name: string): IdTokenVerifier | undefined;
}

export interface RetrievalLimits {
  /** How long a commitment signature counts (seconds since it was signed). */
  readonly signatureWindowSeconds: number;
  /** Tolerated clock difference between nodes, for signatures dated in the future. */
  readonly clockSkewSeconds: number;
  /** How long a commitment waits for its reveal. */
  readonly commitmentTtlSeconds: number;
  /** How long a reveal waits for an assignment this node has not committed yet (another node may have). */
  readonly assignmentWaitMs: number;
}

/** Why a commitment signature in a ShareRequest did not count (commit-reveal.ts): in its error message and metrics. */
export type SignatureRejection = 'malformed' | 'non-member' | 'invalid' | 'expired' | 'future' | 'other token';

/** What the login handlers report, for metrics (retrieval/src/metrics.ts); absent in most tests. */
export interface LoginMetrics {
  /** A "Duplicate token" answer: the token's commitment was bound already, or the token was revealed before. */
  tokenReplayRejected(method: 'CommitmentRequest' | 'ShareRequest'): void;
  /** Commitment signatures in a ShareRequest that did not count, by reason. */
  signaturesRejected(reason: SignatureRejection, count: number): void;
  /** Encrypted shares answered by a successful ShareRequest. */
  sharesServed(count: number): void;
}

export interface RetrievalContext {
  readonly signer: NodeSigner;
  readonly selfIndex: number;
  readonly epoch: EpochRecord;
  readonly members: readonly Member[];
  readonly tx: TxContext;
  readonly verifiers: Verifiers;
  readonly mapping: MappingClient;
  readonly tokens: TokenStore;
  readonly shares: ShareSource;
  readonly limits: RetrievalLimits;
  /** Unix seconds. */
  readonly now: () => number;
  readonly metrics?: LoginMetrics;
}

export function membersOf(epoch: EpochRecord): Member[] {
  return epoch.members.map((m) => {
    const point = parsePoint(m.public_key, `public key of member ${m.index}`);
    const { x, y } = point.toAffine();
    return { index: m.index, x, y, publicKey: point.toBytes(false) };
  });
}
