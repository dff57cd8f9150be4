/**
 * Validation of a hand-over's agreement (crypto.md §2.3), a pure function of the transaction, the two
 * epochs and the transferred key's old commitment, like the key-generation rules.
 *
 * ResharePropose for a transferred key: exactly k_source dealings by distinct source-epoch nodes; each
 * re-dealing's commitment is k'×k' (the target's k) with ready signatures by at least k'+t' distinct target
 * members over (both epochs with their thresholds, key index, dealer, commitment hash); its C_00 equals
 * D_old(dealer), the Pedersen commitment to the dealer's old share, so it re-deals the real share; and the
 * Lagrange combination of the dealings' column-0 commitments keeps the old secret's commitment (E_0 = D_0).
 * The decision records E, against which the target nodes' new shares are proven (KeyPublish).
 */
import { bytesToHex, hexToBytes } from '../../../core/encoding/bytes.js';
import { combineColumnZeroWeighted, commitmentAt, type CommitmentMatrix } from '../../../core/crypto/pedersen.js';
import { lagrangeCoefficients } from '../../../core/crypto/polynomial.js';
import { encodePoint, parsePoint, type Point } from '../../../core/crypto/point.js';
import { RESHARE_READY_TAG, reshareCommitmentHash, reshareReadyParts, type ReshareSession } from '../../../core/keygen/session.js';
import type { ReshareProposeBody } from '../../../core/tx/types.js';
import { TxCode } from './codes.js';
import { checkProposedDealing, fail, isFailure, type Decision, type DealingRules, type EpochContext, type RuleFailure } from './keygen-rules.js';
import type { EpochRecord } from './records.js';

/** The epoch whose keys this chain takes over, as its genesis names it. */
export interface SourceContext {
  readonly chainId: string;
  readonly epoch: Pick<EpochRecord, 'id' | 'n' | 'k' | 't'>;
  readonly memberKeys: ReadonlyMap<number, Uint8Array>;
}

function reshareSessionOf(target: EpochContext, source: SourceContext): ReshareSession {
  const binding = (chainId: string, e: Pick<EpochRecord, 'id' | 'n' | 'k' | 't'>) => ({ chainId, epoch: BigInt(e.id), n: e.n, k: e.k, t: e.t });
  return { source: binding(source.chainId, source.epoch), target: binding(target.chainId, target.epoch) };
}

export function checkReshareProposal(target: EpochContext, source: SourceContext, sourceCommitmentsHex: readonly string[], body: ReshareProposeBody): Decision | RuleFailure {
  const { k, t } = target.epoch;
  const kSource = source.epoch.k;
  const session = reshareSessionOf(target, source);
  const dealers = body.dealings.map((d) => d.dealer);
  if (new Set(dealers).size !== dealers.length) return fail(TxCode.INVALID_PROPOSAL, 'a dealer appears twice');
  if (dealers.length !== kSource) return fail(TxCode.INVALID_PROPOSAL, `a hand-over combines exactly k=${kSource} re-dealings of epoch ${source.epoch.id}, got ${dealers.length}`);
  if (sourceCommitmentsHex.length !== kSource) return fail(TxCode.INVALID_PROPOSAL, `the transferred key has ${sourceCommitmentsHex.length} commitments, expected ${kSource}`);
  const D = sourceCommitmentsHex.map((hex) => parsePoint(hexToBytes(hex)));
  const rules: DealingRules = {
    k, readers: target.memberKeys, readiesNeeded: k + t, readyTag: RESHARE_READY_TAG,
    readyParts: (dealer, matrix) => reshareReadyParts(session, body.keyIndex, dealer, reshareCommitmentHash(session, body.keyIndex, dealer, matrix)),
  };
  const sorted = [...body.dealings].sort((a, b) => a.dealer - b.dealer);
  const matrices: CommitmentMatrix[] = [];
  for (const dealing of sorted) {
    if (!source.memberKeys.has(dealing.dealer)) return fail(TxCode.INVALID_PROPOSAL, `dealer ${dealing.dealer} is not a node of epoch ${source.epoch.id}`);
    const matrix = checkProposedDealing(rules, dealing);
    if (isFailure(matrix)) return matrix;
    if (!(matrix[0]?.[0] as Point).equals(commitmentAt(D, kSource, dealing.dealer))) {
      return fail(TxCode.INVALID_PROPOSAL, `dealer ${dealing.dealer}: the re-dealing does not deal its share of the key (C00 != D(${dealing.dealer}))`);
    }
    matrices.push(matrix);
  }
  const sortedDealers = sorted.map((d) => d.dealer);
  let combined: Point[];
  try {
    combined = combineColumnZeroWeighted(matrices, lagrangeCoefficients(sortedDealers), k);
  } catch (err) {
    return fail(TxCode.INVALID_PROPOSAL, `combined commitment is invalid: ${err instanceof Error ? err.message : String(err)}`);
  }
  // Implied by the C00 checks; cheap, and it would catch a bug in them.
  if (!(combined[0] as Point).equals(D[0] as Point)) return fail(TxCode.INVALID_PROPOSAL, 'the combined re-dealings do not commit to the old secret (E0 != D0)');
  return { dealers: sortedDealers, commitments: combined.map((p) => bytesToHex(encodePoint(p))) };
}
