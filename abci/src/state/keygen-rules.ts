/**
 * Validation of the key-generation transactions against the epoch (n, k, t) — pure functions of the
 * transaction and the epoch, so their results can be memoised per transaction like signatures.
 *
 * KeygenPropose: at least k+t distinct member dealers; each dealing's commitment is k×k points and carries
 *   ready signatures by at least k+t distinct members over (chain, epoch, key index, dealer, commitment
 *   hash). k+t readies mean at least k honest nodes are ready, so every honest node completes the dealing.
 * KeyPublish: exactly k share proofs by distinct members, each a NIZK that the node knows the share
 *   committed at D(i), where D is the decided set's combined column-0 commitment; the public key is the
 *   Lagrange interpolation of the k values g^{s_i} at 0.
 */
import { bytesToHex, hexToBytes } from '../../../core/encoding/bytes.js';
import { verifySignature } from '../../../core/crypto/signature.js';
import { combineColumnZero, commitmentAt, type CommitmentMatrix } from '../../../core/crypto/pedersen.js';
import { decodeProof, verifyShareKnowledge } from '../../../core/crypto/nizk.js';
import { interpolateInExponent } from '../../../core/crypto/polynomial.js';
import { encodePoint, parsePoint, type Point } from '../../../core/crypto/point.js';
import { commitmentHash, readyParts, READY_TAG, shareProofContext } from '../../../core/keygen/session.js';
import type { KeygenProposeBody, KeyPublishBody, ProposedDealing } from '../../../core/tx/types.js';
import { TxCode } from './codes.js';
import type { EpochRecord } from './records.js';

export interface RuleFailure {
  readonly code: number;
  readonly log: string;
}

export interface EpochContext {
  readonly chainId: string;
  readonly epoch: EpochRecord;
  readonly memberKeys: ReadonlyMap<number, Uint8Array>;
}

export interface Decision {
  readonly dealers: number[];
  /** D as 33-byte compressed hex points. */
  readonly commitments: string[];
}

export const fail = (code: number, log: string): RuleFailure => ({ code, log });

/** How one proposed dealing is checked: its matrix size, who signs its readies, and what they sign. */
export interface DealingRules {
  /** The AVSS threshold of the receiving committee: matrices are k×k. */
  readonly k: number;
  /** Ready signers: the receiving committee's members. */
  readonly readers: ReadonlyMap<number, Uint8Array>;
  /** Distinct ready signatures a dealing needs (k+t of the receiving committee). */
  readonly readiesNeeded: number;
  readonly readyTag: string;
  /** The parts a ready for `dealer`'s matrix signs. */
  readyParts(dealer: number, matrix: CommitmentMatrix): Uint8Array[];
}

/**
 * A proposed dealing's matrix (exactly k×k valid points) if it carries enough valid ready signatures by
 * distinct receiving members over that matrix, or why not.
 */
export function checkProposedDealing(rules: DealingRules, dealing: ProposedDealing): CommitmentMatrix | RuleFailure {
  const { k } = rules;
  if (dealing.commitment.length !== k * k) {
    return fail(TxCode.INVALID_PROPOSAL, `dealer ${dealing.dealer}: commitment has ${dealing.commitment.length} points, expected k*k=${k * k}`);
  }
  const points = dealing.commitment.map((bytes) => parsePoint(bytes));
  const matrix = Array.from({ length: k }, (_, j) => points.slice(j * k, (j + 1) * k));
  const parts = rules.readyParts(dealing.dealer, matrix);
  const readers = new Set<number>();
  for (const ready of dealing.readies) {
    const key = rules.readers.get(ready.nodeIndex);
    if (key === undefined) return fail(TxCode.INVALID_PROPOSAL, `dealer ${dealing.dealer}: ready by non-member ${ready.nodeIndex}`);
    if (readers.has(ready.nodeIndex)) return fail(TxCode.INVALID_PROPOSAL, `dealer ${dealing.dealer}: two readies by node ${ready.nodeIndex}`);
    if (!verifySignature(key, rules.readyTag, parts, ready.signature)) {
      return fail(TxCode.INVALID_PROPOSAL, `dealer ${dealing.dealer}: ready signature by node ${ready.nodeIndex} does not verify`);
    }
    readers.add(ready.nodeIndex);
  }
  if (readers.size < rules.readiesNeeded) {
    return fail(TxCode.INVALID_PROPOSAL, `dealer ${dealing.dealer}: needs k+t=${rules.readiesNeeded} readies, got ${readers.size}`);
  }
  return matrix;
}

export function checkProposal(ctx: EpochContext, body: KeygenProposeBody): Decision | RuleFailure {
  const { k, t, id: epochId } = ctx.epoch;
  const need = k + t;
  const dealers = body.dealings.map((d) => d.dealer);
  if (new Set(dealers).size !== dealers.length) return fail(TxCode.INVALID_PROPOSAL, 'a dealer appears twice');
  if (dealers.length < need) return fail(TxCode.INVALID_PROPOSAL, `a proposal needs k+t=${need} dealings, got ${dealers.length}`);
  const rules: DealingRules = {
    k, readers: ctx.memberKeys, readiesNeeded: need, readyTag: READY_TAG,
    readyParts: (dealer, matrix) => {
      const id = { epoch: BigInt(epochId), keyIndex: body.keyIndex, dealer };
      return readyParts(ctx.chainId, id, commitmentHash(ctx.chainId, id, matrix));
    },
  };
  const matrices: CommitmentMatrix[] = [];
  for (const dealing of body.dealings) {
    if (!ctx.memberKeys.has(dealing.dealer)) return fail(TxCode.INVALID_PROPOSAL, `dealer ${dealing.dealer} is not a member`);
    const matrix = checkProposedDealing(rules, dealing);
    if (isFailure(matrix)) return matrix;
    matrices.push(matrix);
  }
  let combined: Point[];
  try {
    combined = combineColumnZero(matrices, k);
  } catch (err) {
    return fail(TxCode.INVALID_PROPOSAL, `combined commitment is invalid: ${err instanceof Error ? err.message : String(err)}`);
  }
  return { dealers: [...dealers].sort((a, b) => a - b), commitments: combined.map((p) => bytesToHex(encodePoint(p))) };
}

export interface Publication {
  readonly publicKey: Uint8Array;
  /** The proven g^{s_i}, ascending by node index, as 33-byte compressed hex. */
  readonly sharePublics: Array<{ index: number; point: string }>;
}

export function checkPublication(ctx: EpochContext, commitmentsHex: readonly string[], body: KeyPublishBody): Publication | RuleFailure {
  const { k, id: epochId } = ctx.epoch;
  if (body.proofs.length !== k) return fail(TxCode.INVALID_SHARE_PROOF, `a publication needs exactly k=${k} share proofs, got ${body.proofs.length}`);
  const D = commitmentsHex.map((hex) => parsePoint(hexToBytes(hex)));
  const seen = new Set<number>();
  const points: Array<{ index: bigint; value: Point }> = [];
  for (const entry of body.proofs) {
    if (!ctx.memberKeys.has(entry.nodeIndex)) return fail(TxCode.INVALID_SHARE_PROOF, `share proof by non-member ${entry.nodeIndex}`);
    if (seen.has(entry.nodeIndex)) return fail(TxCode.INVALID_SHARE_PROOF, `two share proofs by node ${entry.nodeIndex}`);
    seen.add(entry.nodeIndex);
    const gs = parsePoint(entry.sharePublic);
    let valid = false;
    try {
      valid = verifyShareKnowledge(
        shareProofContext(ctx.chainId, BigInt(epochId), body.keyIndex, entry.nodeIndex),
        { gs, commitment: commitmentAt(D, k, entry.nodeIndex) },
        decodeProof(entry.proof),
      );
    } catch {
      valid = false;
    }
    if (!valid) return fail(TxCode.INVALID_SHARE_PROOF, `share proof by node ${entry.nodeIndex} does not verify`);
    points.push({ index: BigInt(entry.nodeIndex), value: gs });
  }
  const publicKey = interpolateInExponent(points);
  if (publicKey.is0()) return fail(TxCode.INVALID_SHARE_PROOF, 'the shares interpolate to the identity');
  const sharePublics = points
    .map((p) => ({ index: Number(p.index), point: bytesToHex(encodePoint(p.value)) }))
    .sort((a, b) => a.index - b.index);
  return { publicKey: encodePoint(publicKey), sharePublics };
}

export function isFailure(value: object): value is RuleFailure {
  return 'code' in value && 'log' in value;
}
