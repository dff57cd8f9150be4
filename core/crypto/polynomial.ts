/**
 * Polynomials over Fn (the scalar field of secp256k1), Lagrange interpolation and Shamir sharing.
 *
 * Conventions used by every AVSS module:
 * - A univariate polynomial with threshold k is its k coefficients, constant term first (degree k-1).
 * - A bivariate polynomial with threshold k is a k×k matrix F with F[j][l] the coefficient of x^j y^l.
 *   Node i's "row" is F(i, y) (CKLS a_i) and its "column" is F(x, i) (CKLS b_i); its share is F(i, 0).
 * Lengths are always checked against the expected threshold: a polynomial one coefficient too long silently
 * raises the threshold (the "threshold raise" class of DKG bugs), so nothing here infers k from its input
 * when the caller can say what k must be.
 */
import { assertPoint, msmPublic, type Point } from './point.js';
import { assertScalar, Fn, randomScalar, toIndex, type Index } from './scalar.js';

export class PolynomialError extends Error {
  override name = 'PolynomialError';
}

export type Polynomial = readonly bigint[];
export type BivariatePolynomial = readonly (readonly bigint[])[];

/** A value at a node index: a share (T = bigint) or a share in the exponent (T = Point). */
export interface Evaluation<T> {
  readonly index: Index;
  readonly value: T;
}

function assertThreshold(threshold: number): number {
  if (!Number.isSafeInteger(threshold) || threshold < 1) {
    throw new PolynomialError(`threshold must be a positive integer, got ${threshold}`);
  }
  return threshold;
}

/** Checks that `poly` has exactly `threshold` canonical coefficients (any length >= 1 if threshold is omitted). */
export function assertPolynomial(poly: Polynomial, threshold?: number, what = 'polynomial'): Polynomial {
  if (!Array.isArray(poly) || poly.length === 0) throw new PolynomialError(`${what} has no coefficients`);
  if (threshold !== undefined && poly.length !== assertThreshold(threshold)) {
    throw new PolynomialError(`${what} has ${poly.length} coefficients, expected ${threshold}`);
  }
  for (const c of poly) assertScalar(c, `${what} coefficient`);
  return poly;
}

/** Random polynomial of degree threshold-1 with the given constant term. */
export function randomPolynomial(constant: bigint, threshold: number): bigint[] {
  assertScalar(constant, 'constant term');
  const out = [constant];
  for (let j = 1; j < assertThreshold(threshold); j++) out.push(randomScalar());
  return out;
}

/** p(x) by Horner's rule. */
export function evaluatePolynomial(poly: Polynomial, x: bigint): bigint {
  assertPolynomial(poly);
  assertScalar(x, 'x');
  let acc = 0n;
  for (let j = poly.length - 1; j >= 0; j--) acc = Fn.add(Fn.mul(acc, x), poly[j] as bigint);
  return acc;
}

/** Checks that F is a k×k matrix of canonical scalars (k = `threshold`, or F's own size if omitted). */
export function assertBivariate(F: BivariatePolynomial, threshold?: number, what = 'bivariate polynomial'): BivariatePolynomial {
  if (!Array.isArray(F) || F.length === 0) throw new PolynomialError(`${what} has no rows`);
  const k = threshold === undefined ? F.length : assertThreshold(threshold);
  if (F.length !== k) throw new PolynomialError(`${what} has ${F.length} rows, expected ${k}`);
  for (const row of F) assertPolynomial(row, k, `${what} row`);
  return F;
}

/**
 * Random k×k bivariate polynomial with F(0,0) = secret. `symmetric` gives F(x,y) = F(y,x), for which a node's
 * row and column coincide; CKLS AVSS uses the general (asymmetric) form, which is the default.
 */
export function randomBivariate(secret: bigint, threshold: number, options: { symmetric?: boolean } = {}): bigint[][] {
  assertScalar(secret, 'secret');
  const k = assertThreshold(threshold);
  const F: bigint[][] = [];
  for (let j = 0; j < k; j++) {
    const row: bigint[] = [];
    for (let l = 0; l < k; l++) {
      if (j === 0 && l === 0) row.push(secret);
      else if (options.symmetric === true && l < j) row.push((F[l] as bigint[])[j] as bigint);
      else row.push(randomScalar());
    }
    F.push(row);
  }
  return F;
}

// Restrictions accept 0 besides node indexes: F(x, 0) is the dealer's share polynomial.
function indexOrZero(index: Index): bigint {
  return index === 0 || index === 0n ? 0n : toIndex(index);
}

export function evaluateBivariate(F: BivariatePolynomial, x: Index, y: Index): bigint {
  return evaluatePolynomial(columnPolynomial(F, y), indexOrZero(x));
}

/** F(i, y) as a polynomial in y: coefficient l is Σ_j F[j][l]·i^j. This is node i's CKLS a_i. */
export function rowPolynomial(F: BivariatePolynomial, index: Index): bigint[] {
  assertBivariate(F);
  const i = indexOrZero(index);
  const k = F.length;
  const out: bigint[] = [];
  for (let l = 0; l < k; l++) {
    let acc = 0n;
    for (let j = k - 1; j >= 0; j--) acc = Fn.add(Fn.mul(acc, i), (F[j] as readonly bigint[])[l] as bigint);
    out.push(acc);
  }
  return out;
}

/** F(x, i) as a polynomial in x: coefficient j is Σ_l F[j][l]·i^l. This is node i's CKLS b_i. */
export function columnPolynomial(F: BivariatePolynomial, index: Index): bigint[] {
  assertBivariate(F);
  const i = indexOrZero(index);
  return F.map((row) => evaluatePolynomial(row, i));
}

/** Validates a set of Shamir x-coordinates: non-empty, each in [1, n), pairwise distinct. */
export function assertIndexes(indexes: readonly Index[]): bigint[] {
  if (!Array.isArray(indexes) || indexes.length === 0) throw new PolynomialError('no indexes');
  const out = indexes.map((i) => toIndex(i));
  const seen = new Set<bigint>();
  for (const i of out) {
    if (seen.has(i)) throw new PolynomialError(`duplicate index ${i}`);
    seen.add(i);
  }
  return out;
}

/**
 * Lagrange coefficients λ_m = Π_{j≠m} (at − x_j) / (x_m − x_j) for the given distinct nonzero indexes, so that
 * p(at) = Σ λ_m · p(x_m) for every polynomial of degree < indexes.length. All denominators are inverted in one
 * batch inversion.
 */
export function lagrangeCoefficients(indexes: readonly Index[], at = 0n): bigint[] {
  const xs = assertIndexes(indexes);
  assertScalar(at, 'evaluation point');
  const numerators: bigint[] = [];
  const denominators: bigint[] = [];
  for (let m = 0; m < xs.length; m++) {
    const xm = xs[m] as bigint;
    let num = 1n;
    let den = 1n;
    for (let j = 0; j < xs.length; j++) {
      if (j === m) continue;
      const xj = xs[j] as bigint;
      num = Fn.mul(num, Fn.sub(at, xj));
      den = Fn.mul(den, Fn.sub(xm, xj));
    }
    numerators.push(num);
    denominators.push(den);
  }
  const inverses = Fn.invertBatch(denominators);
  return numerators.map((num, m) => Fn.mul(num, inverses[m] as bigint));
}

/** p(at) (default p(0), the secret) from evaluations at distinct nonzero indexes. */
export function interpolate(points: readonly Evaluation<bigint>[], at = 0n): bigint {
  const lambdas = lagrangeCoefficients(points.map((p) => p.index), at);
  let acc = 0n;
  points.forEach((p, m) => {
    acc = Fn.add(acc, Fn.mul(lambdas[m] as bigint, assertScalar(p.value, 'share')));
  });
  return acc;
}

/**
 * Σ λ_m · P_m: interpolation in the exponent, e.g. the public key g^s from k values g^{s_i}. Uses a variable-time
 * MSM since the points and the Lagrange coefficients are public. The result can be the identity (secret 0);
 * callers that need a public key must reject that themselves.
 */
export function interpolateInExponent(points: readonly Evaluation<Point>[], at = 0n): Point {
  const lambdas = lagrangeCoefficients(points.map((p) => p.index), at);
  return msmPublic(points.map((p) => assertPoint(p.value, 'point to interpolate')), lambdas);
}

/**
 * The coefficients of the unique polynomial of degree < m through m points (m = points.length). AVSS uses this
 * to rebuild a node's row or column from k verified echo/ready points; pass exactly k points, since more would
 * let one bad point raise the degree.
 */
export function interpolatePolynomial(points: readonly Evaluation<bigint>[]): bigint[] {
  const xs = assertIndexes(points.map((p) => p.index));
  const m = xs.length;
  // full(X) = Π_j (X − x_j), coefficients low first, degree m.
  let full: bigint[] = [1n];
  for (const xj of xs) {
    const next = new Array<bigint>(full.length + 1).fill(0n);
    full.forEach((c, t) => {
      next[t + 1] = Fn.add(next[t + 1] as bigint, c);
      next[t] = Fn.sub(next[t] as bigint, Fn.mul(c, xj));
    });
    full = next;
  }
  const out = new Array<bigint>(m).fill(0n);
  const quotients: bigint[][] = [];
  const denominators: bigint[] = [];
  for (let i = 0; i < m; i++) {
    const xi = xs[i] as bigint;
    // full(X) / (X − x_i) by synthetic division; its value at x_i is Π_{j≠i}(x_i − x_j).
    const q = new Array<bigint>(m).fill(0n);
    q[m - 1] = full[m] as bigint;
    for (let t = m - 1; t > 0; t--) q[t - 1] = Fn.add(full[t] as bigint, Fn.mul(xi, q[t] as bigint));
    quotients.push(q);
    denominators.push(evaluatePolynomial(q, xi));
  }
  const inverses = Fn.invertBatch(denominators);
  for (let i = 0; i < m; i++) {
    const scale = Fn.mul(assertScalar((points[i] as Evaluation<bigint>).value, 'point value'), inverses[i] as bigint);
    (quotients[i] as bigint[]).forEach((c, t) => {
      out[t] = Fn.add(out[t] as bigint, Fn.mul(scale, c));
    });
  }
  return out;
}

/** Shamir-shares `secret` with threshold k among nodes 1..count. */
export function shamirSplit(secret: bigint, threshold: number, count: number): Evaluation<bigint>[] {
  const k = assertThreshold(threshold);
  if (!Number.isSafeInteger(count) || count < k) throw new PolynomialError(`need at least ${k} shares, got ${count}`);
  const poly = randomPolynomial(secret, k);
  const shares: Evaluation<bigint>[] = [];
  for (let i = 1; i <= count; i++) shares.push({ index: BigInt(i), value: evaluatePolynomial(poly, BigInt(i)) });
  return shares;
}
