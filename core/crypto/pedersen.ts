/**
 * Pedersen commitments g^a h^b and the AVSS (Cachin–Kursawe–Lysyanskaya–Strobl) checks built on them.
 *
 * The dealer of a k×k bivariate pair (F, F') publishes C[j][l] = g^{F[j][l]} h^{F'[j][l]}. Then:
 * - "send" check (`verifyPolynomials`): node i's row F(i,y) and column F(x,i), with their blinding twins,
 *   are consistent with C coefficient by coefficient.
 * - "echo/ready" check (`verifyPointPair`): values exchanged between nodes m and i are F(m,i) and F(i,m)
 *   under C. BOTH halves are checked; the Go node checked only α and interpolated shares from the unchecked β.
 * - share check (`verifyShare`): a final share against the column-0 vector C[j][0] (the commitment to F(x,0)),
 *   possibly summed over several dealings.
 *
 * Cost choices (numbers from crypto.md §4, noble 2.4.0, Node 20):
 * - The g^a h^b side of every check uses two separate variable-time multiplications so that G's and H's
 *   precomputed tables are used (~0.4 ms); `mulAddUnsafe(G, a, H, b)` ignores tables and costs ~1.2 ms.
 * - The Π C^{e} side is one Strauss MSM (`msmPublic`) with small exponents (index powers, a few dozen bits),
 *   which is far cheaper than k² separate multiplications.
 * - `verifyPolynomials` is the plain 2k-equation check. A random-linear-combination batch measured 2.4 vs 2.8 ms
 *   at k = 3 but slower at k = 5 and 7 (crypto.md §4.2), so the simpler deterministic form is kept.
 *
 * Verification functions return false for anything invalid (wrong dimensions, index 0, identity points,
 * non-canonical scalars, wrong values) and never throw on such input; `assert*`/`parse*` throw with the reason.
 */
import { u32be } from '../encoding/bytes.js';
import { domainHash } from './hash.js';
import { assertPoint, encodePoint, G, H, msmPublic, mulPublic, mulSecret, normalizePoints, parsePoint, PointError, type Point } from './point.js';
import { assertBivariate, assertPolynomial, PolynomialError, type BivariatePolynomial, type Polynomial } from './polynomial.js';
import { assertScalar, Fn, ScalarError, toIndex, type Index } from './scalar.js';

export class PedersenError extends Error {
  override name = 'PedersenError';
}

/** C[j][l] commits to the coefficient of x^j y^l. */
export type CommitmentMatrix = readonly (readonly Point[])[];
/** D[j] commits to the coefficient of x^j of a univariate polynomial. */
export type CommitmentVector = readonly Point[];

/** Tag of `hashCommitmentMatrix`; AVSS echo/ready messages refer to C by this hash. */
export const COMMITMENT_MATRIX_TAG = 'torus-node-ts/avss/commitment-matrix/v1';

/** g^value · h^blinding, constant-time in both scalars. */
export function commit(value: bigint, blinding: bigint): Point {
  const c = mulSecret(G, assertScalar(value, 'value')).add(mulSecret(H, assertScalar(blinding, 'blinding')));
  // Only reachable if value = -blinding·log_G(H), i.e. never without breaking the discrete log of H.
  if (c.is0()) throw new PedersenError('commitment is the identity');
  return c;
}

// Variable-time g^a h^b for verification: public scalars, tabled generators.
function openPublic(a: bigint, b: bigint): Point {
  return mulPublic(G, assertScalar(a)).add(mulPublic(H, assertScalar(b)));
}

/** Malformed input is a normal "no" for a verifier: turn this module's validation errors into false. */
function verifying(check: () => boolean): boolean {
  try {
    return check();
  } catch (err) {
    if (err instanceof PedersenError || err instanceof PointError || err instanceof ScalarError || err instanceof PolynomialError) {
      return false;
    }
    throw err;
  }
}

/** Whether `commitment` opens to (value, blinding). */
export function verifyCommitment(commitment: Point, value: bigint, blinding: bigint): boolean {
  return verifying(() => assertPoint(commitment, 'commitment').equals(openPublic(value, blinding)));
}

/** Commitment matrix of a k×k pair (F, F'); entries are normalised to affine so they encode cheaply. */
export function commitMatrix(F: BivariatePolynomial, Fprime: BivariatePolynomial, threshold: number): Point[][] {
  assertBivariate(F, threshold, 'F');
  assertBivariate(Fprime, threshold, "F'");
  const flat: Point[] = [];
  F.forEach((row, j) => row.forEach((f, l) => flat.push(commit(f, (Fprime[j] as readonly bigint[])[l] as bigint))));
  const normalised = normalizePoints(flat);
  const C: Point[][] = [];
  for (let j = 0; j < threshold; j++) C.push(normalised.slice(j * threshold, (j + 1) * threshold));
  return C;
}

/** Checks that C is exactly k×k and that no entry is the identity or a foreign object. */
export function assertCommitmentMatrix(C: CommitmentMatrix, threshold: number): CommitmentMatrix {
  if (!Number.isSafeInteger(threshold) || threshold < 1) throw new PedersenError(`bad threshold ${threshold}`);
  if (!Array.isArray(C) || C.length !== threshold) {
    throw new PedersenError(`commitment matrix must have ${threshold} rows, got ${Array.isArray(C) ? C.length : typeof C}`);
  }
  C.forEach((row, j) => {
    if (!Array.isArray(row) || row.length !== threshold) {
      throw new PedersenError(`commitment matrix row ${j} must have ${threshold} entries`);
    }
    row.forEach((point, l) => {
      try {
        assertPoint(point);
      } catch (cause) {
        throw new PedersenError(`commitment matrix entry (${j},${l}) is invalid`, { cause });
      }
    });
  });
  return C;
}

/** Parses a k×k matrix of SEC1 encodings (33 or 65 bytes, or hex), validating every entry. */
export function parseCommitmentMatrix(encoded: readonly (readonly (Uint8Array | string)[])[], threshold: number): Point[][] {
  if (!Array.isArray(encoded) || encoded.length !== threshold) {
    throw new PedersenError(`commitment matrix must have ${threshold} rows`);
  }
  const C = encoded.map((row, j) => {
    if (!Array.isArray(row) || row.length !== threshold) {
      throw new PedersenError(`commitment matrix row ${j} must have ${threshold} entries`);
    }
    return row.map((entry, l) => {
      try {
        return parsePoint(entry, `C[${j}][${l}]`);
      } catch (cause) {
        throw new PedersenError(`commitment matrix entry (${j},${l}) is invalid`, { cause });
      }
    });
  });
  return assertCommitmentMatrix(C, threshold) as Point[][];
}

/** Compressed encodings, row by row. */
export function encodeCommitmentMatrix(C: CommitmentMatrix): Uint8Array[][] {
  return C.map((row) => row.map((point) => encodePoint(point)));
}

/**
 * SHA-256 over the tag, a caller-supplied context (e.g. epoch, key index, dealer index), k and every entry's
 * full 33-byte compressed encoding. Binding the context means an identical matrix in another session hashes
 * differently, so echo/ready messages cannot be replayed across dealings.
 */
export function hashCommitmentMatrix(C: CommitmentMatrix, context: Uint8Array): Uint8Array {
  if (!(context instanceof Uint8Array) || context.length === 0) throw new PedersenError('a non-empty context is required');
  assertCommitmentMatrix(C, C.length);
  const parts: Uint8Array[] = [context, u32be(C.length)];
  for (const row of C) for (const point of row) parts.push(encodePoint(point));
  return domainHash(COMMITMENT_MATRIX_TAG, parts);
}

/** [1, x, x², …, x^(k-1)] mod n. */
function powers(x: bigint, k: number): bigint[] {
  const out = [1n];
  for (let j = 1; j < k; j++) out.push(Fn.mul(out[j - 1] as bigint, x));
  return out;
}

/** What the dealer sends node i: row a = F(i,y), column b = F(x,i), and the same for F'. */
export interface RowColumnPolynomials {
  readonly a: Polynomial;
  readonly aPrime: Polynomial;
  readonly b: Polynomial;
  readonly bPrime: Polynomial;
}

/**
 * AVSS "send" check for node `index`:
 *   for every l: g^{a_l} h^{a'_l} = Π_j C[j][l]^{i^j}   and   for every j: g^{b_j} h^{b'_j} = Π_l C[j][l]^{i^l}.
 */
export function verifyPolynomials(C: CommitmentMatrix, threshold: number, index: Index, polys: RowColumnPolynomials): boolean {
  return verifying(() => {
    assertCommitmentMatrix(C, threshold);
    const i = toIndex(index);
    const { a, aPrime, b, bPrime } = polys;
    assertPolynomial(a, threshold, 'a');
    assertPolynomial(aPrime, threshold, "a'");
    assertPolynomial(b, threshold, 'b');
    assertPolynomial(bPrime, threshold, "b'");
    const iPowers = powers(i, threshold);
    for (let l = 0; l < threshold; l++) {
      const column = C.map((row) => row[l] as Point);
      if (!openPublic(a[l] as bigint, aPrime[l] as bigint).equals(msmPublic(column, iPowers))) return false;
    }
    for (let j = 0; j < threshold; j++) {
      if (!openPublic(b[j] as bigint, bPrime[j] as bigint).equals(msmPublic(C[j] as readonly Point[], iPowers))) return false;
    }
    return true;
  });
}

/** What node m sends node i in echo/ready: α = F(m,i) = a_m(i), β = F(i,m) = b_m(i), and the F' twins. */
export interface PointPair {
  readonly alpha: bigint;
  readonly alphaPrime: bigint;
  readonly beta: bigint;
  readonly betaPrime: bigint;
}

// Π_{j,l} C[j][l]^{x^j y^l}: a commitment to F(x, y).
function commitmentToEvaluation(C: CommitmentMatrix, threshold: number, x: bigint, y: bigint): Point {
  const xPowers = powers(x, threshold);
  const yPowers = powers(y, threshold);
  const points: Point[] = [];
  const scalars: bigint[] = [];
  for (let j = 0; j < threshold; j++) {
    for (let l = 0; l < threshold; l++) {
      points.push((C[j] as readonly Point[])[l] as Point);
      scalars.push(Fn.mul(xPowers[j] as bigint, yPowers[l] as bigint));
    }
  }
  return msmPublic(points, scalars);
}

/**
 * AVSS "echo/ready" check of values from node `from` (m) received by node `to` (i):
 *   g^α h^{α'} = Π C[j][l]^{m^j i^l}  (F(m,i))   and   g^β h^{β'} = Π C[j][l]^{i^j m^l}  (F(i,m)).
 * m = i is allowed (a node echoes to itself).
 */
export function verifyPointPair(C: CommitmentMatrix, threshold: number, from: Index, to: Index, values: PointPair): boolean {
  return verifying(() => {
    assertCommitmentMatrix(C, threshold);
    const m = toIndex(from, 'sender index');
    const i = toIndex(to, 'receiver index');
    const alphaOk = openPublic(values.alpha, values.alphaPrime).equals(commitmentToEvaluation(C, threshold, m, i));
    // Evaluate both halves before deciding, so the result never depends on only one of them.
    const betaOk = openPublic(values.beta, values.betaPrime).equals(commitmentToEvaluation(C, threshold, i, m));
    return alphaOk && betaOk;
  });
}

/** C[j][0] for j = 0..k-1: the commitment vector of the share polynomial F(x, 0). */
export function columnZero(C: CommitmentMatrix, threshold: number): Point[] {
  assertCommitmentMatrix(C, threshold);
  return C.map((row) => row[0] as Point);
}

/**
 * Σ_d C^{(d)}[j][0] over the agreed dealings: the commitment vector of the summed share polynomial, against
 * which each node checks its combined share. All matrices must be k×k for the same k.
 */
export function combineColumnZero(matrices: readonly CommitmentMatrix[], threshold: number): Point[] {
  if (!Array.isArray(matrices) || matrices.length === 0) throw new PedersenError('no commitment matrices to combine');
  const sums = columnZero(matrices[0] as CommitmentMatrix, threshold);
  for (let d = 1; d < matrices.length; d++) {
    columnZero(matrices[d] as CommitmentMatrix, threshold).forEach((point, j) => {
      sums[j] = (sums[j] as Point).add(point);
    });
  }
  sums.forEach((point, j) => {
    if (point.is0()) throw new PedersenError(`combined commitment ${j} is the identity`);
  });
  return normalizePoints(sums);
}

/**
 * Σ_d λ_d · C^{(d)}[j][0]: the commitment vector of a weighted combination of share polynomials. Resharing
 * combines re-dealings with the Lagrange coefficients of their dealers, so the combined polynomial's
 * constant term is the old secret. Weights are public.
 */
export function combineColumnZeroWeighted(matrices: readonly CommitmentMatrix[], weights: readonly bigint[], threshold: number): Point[] {
  if (!Array.isArray(matrices) || matrices.length === 0) throw new PedersenError('no commitment matrices to combine');
  if (weights.length !== matrices.length) throw new PedersenError(`${matrices.length} matrices but ${weights.length} weights`);
  const columns = matrices.map((C) => columnZero(C, threshold));
  const sums = Array.from({ length: threshold }, (_, j) => msmPublic(columns.map((column) => column[j] as Point), weights));
  sums.forEach((point, j) => {
    if (point.is0()) throw new PedersenError(`combined commitment ${j} is the identity`);
  });
  return normalizePoints(sums);
}

function assertCommitmentVector(D: CommitmentVector, threshold: number): CommitmentVector {
  if (!Array.isArray(D) || D.length !== threshold) throw new PedersenError(`commitment vector must have ${threshold} entries`);
  D.forEach((point, j) => {
    try {
      assertPoint(point);
    } catch (cause) {
      throw new PedersenError(`commitment vector entry ${j} is invalid`, { cause });
    }
  });
  return D;
}

/** Π_j D_j^{i^j}: the Pedersen commitment g^{s_i} h^{s'_i} to node i's share, without knowing the share. */
export function commitmentAt(D: CommitmentVector, threshold: number, index: Index): Point {
  assertCommitmentVector(D, threshold);
  return msmPublic(D, powers(toIndex(index), threshold));
}

/** Whether (share, blinding) is node `index`'s point on the polynomial committed to by D. */
export function verifyShare(D: CommitmentVector, threshold: number, index: Index, share: bigint, blinding: bigint): boolean {
  return verifying(() => openPublic(share, blinding).equals(commitmentAt(D, threshold, index)));
}
