/**
 * Non-interactive proof that the prover knows (s, s') with A = g^s and B = g^s h^{s'}: a node reveals g^{s_i}
 * from its Pedersen-committed share (B is then compared with the combined commitment at its index) without
 * revealing s_i or s'_i. It is a Schnorr proof for A = g^s and B − A = h^{s'} with one shared challenge
 * (Kate–Huang–Goldberg, "DKG in the Wild", as used by the Go node), made non-interactive by Fiat–Shamir.
 *
 * Fiat–Shamir hardening over the Go node, which hashed only x-coordinates and no session data:
 * - every point enters the transcript as its full 33-byte compressed encoding, so P and −P differ;
 * - the transcript is `domainMessage` (length-prefixed parts) under a versioned tag;
 * - a caller-supplied, non-empty context is mandatory. It must encode everything the proof is about that is not
 *   a point here (epoch, key index, prover index); a proof is then useless in any other session or for
 *   any other node.
 * The challenge is derived with RFC 9380 hash_to_field (48 bytes reduced mod n), which is unbiased to 2^-128.
 */
import { secp256k1_hasher } from '@noble/curves/secp256k1.js';
import { concatBytes } from '../encoding/bytes.js';
import { domainMessage } from './hash.js';
import { assertPoint, encodePoint, G, H, mulPublic, mulSecret, PointError, type Point } from './point.js';
import { assertNonZeroScalar, assertScalar, Fn, randomScalar, scalarFromBytes, scalarToBytes, ScalarError, SCALAR_BYTES } from './scalar.js';

export class NizkError extends Error {
  override name = 'NizkError';
}

export const NIZK_TAG = 'torus-node-ts/nizk/pedersen-dlog/v1';
export const PROOF_BYTES = 3 * SCALAR_BYTES;

/** A = g^s and B = g^s h^{s'}. */
export interface ShareStatement {
  readonly gs: Point;
  readonly commitment: Point;
}

export interface ShareKnowledgeProof {
  readonly challenge: bigint;
  readonly response: bigint;
  readonly responsePrime: bigint;
}

function assertContext(context: Uint8Array): Uint8Array {
  if (!(context instanceof Uint8Array) || context.length === 0) throw new NizkError('a non-empty context is required');
  return context;
}

function challengeFor(context: Uint8Array, statement: ShareStatement, t: Point, tPrime: Point): bigint {
  const transcript = domainMessage(NIZK_TAG, [
    context,
    encodePoint(G),
    encodePoint(H),
    encodePoint(statement.gs),
    encodePoint(statement.commitment),
    encodePoint(t),
    encodePoint(tPrime),
  ]);
  return secp256k1_hasher.hashToScalar(transcript, { DST: NIZK_TAG });
}

/**
 * Proves knowledge of (share, blinding) for A = g^share, B = g^share h^blinding, returning the statement too.
 * Both must be nonzero: a zero share would make A the identity, which has no encoding.
 */
export function proveShareKnowledge(
  context: Uint8Array,
  share: bigint,
  blinding: bigint,
): { statement: ShareStatement; proof: ShareKnowledgeProof } {
  assertContext(context);
  assertNonZeroScalar(share, 'share');
  assertNonZeroScalar(blinding, 'blinding');
  const gs = mulSecret(G, share);
  const statement: ShareStatement = { gs, commitment: gs.add(mulSecret(H, blinding)) };
  // Fresh uniform nonces: reusing one across two challenges would reveal the share.
  const nonce = randomScalar();
  const noncePrime = randomScalar();
  const challenge = challengeFor(context, statement, mulSecret(G, nonce), mulSecret(H, noncePrime));
  const proof: ShareKnowledgeProof = {
    challenge,
    response: Fn.add(nonce, Fn.mul(challenge, share)),
    responsePrime: Fn.add(noncePrime, Fn.mul(challenge, blinding)),
  };
  return { statement, proof };
}

/**
 * Recomputes T = g^z · A^{-c} and T' = h^{z'} · (B − A)^{-c} and checks that they hash to c. Returns false for
 * invalid proof data (identity points, B = A, non-canonical scalars). An empty context throws instead: that is
 * a bug in the caller, not bad data from a peer.
 */
export function verifyShareKnowledge(context: Uint8Array, statement: ShareStatement, proof: ShareKnowledgeProof): boolean {
  assertContext(context);
  try {
    const gs = assertPoint(statement.gs, 'g^s');
    const commitment = assertPoint(statement.commitment, 'commitment');
    const c = assertScalar(proof.challenge, 'challenge');
    const z = assertScalar(proof.response, 'response');
    const zPrime = assertScalar(proof.responsePrime, 'response');
    const hPart = commitment.subtract(gs);
    if (hPart.is0()) return false;
    const t = mulPublic(G, z).subtract(mulPublic(gs, c));
    const tPrime = mulPublic(H, zPrime).subtract(mulPublic(hPart, c));
    if (t.is0() || tPrime.is0()) return false;
    return challengeFor(context, { gs, commitment }, t, tPrime) === c;
  } catch (err) {
    if (err instanceof PointError || err instanceof ScalarError) return false;
    throw err;
  }
}

/** challenge ‖ response ‖ response', 32 bytes each. */
export function encodeProof(proof: ShareKnowledgeProof): Uint8Array {
  return concatBytes(scalarToBytes(proof.challenge), scalarToBytes(proof.response), scalarToBytes(proof.responsePrime));
}

/** Inverse of `encodeProof`; rejects wrong lengths and scalars >= n so that each proof has one encoding. */
export function decodeProof(bytes: Uint8Array): ShareKnowledgeProof {
  if (!(bytes instanceof Uint8Array) || bytes.length !== PROOF_BYTES) throw new NizkError(`proof must be ${PROOF_BYTES} bytes`);
  try {
    return {
      challenge: scalarFromBytes(bytes.subarray(0, 32), 'challenge'),
      response: scalarFromBytes(bytes.subarray(32, 64), 'response'),
      responsePrime: scalarFromBytes(bytes.subarray(64, 96), 'response'),
    };
  } catch (cause) {
    throw new NizkError('proof has a non-canonical scalar', { cause });
  }
}

/** Test hook: the Fiat–Shamir challenge, so tests can pin the transcript format. */
export const __TEST = { challengeFor };
