import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { G, mulSecret, type Point } from '../crypto/point.js';
import {
  assertBivariate,
  assertPolynomial,
  columnPolynomial,
  evaluateBivariate,
  evaluatePolynomial,
  interpolate,
  interpolateInExponent,
  interpolatePolynomial,
  lagrangeCoefficients,
  PolynomialError,
  randomBivariate,
  randomPolynomial,
  rowPolynomial,
  shamirSplit,
  type Evaluation,
} from '../crypto/polynomial.js';
import { Fn, ORDER, randomScalar, ScalarError } from '../crypto/scalar.js';

/** All size-k subsets of items, in lexicographic order. */
function subsets<T>(items: readonly T[], k: number): T[][] {
  if (k === 0) return [[]];
  const out: T[][] = [];
  items.forEach((item, i) => {
    for (const rest of subsets(items.slice(i + 1), k - 1)) out.push([item, ...rest]);
  });
  return out;
}

function binomial(n: number, k: number): number {
  let r = 1;
  for (let i = 1; i <= k; i++) r = (r * (n - i + 1)) / i;
  return r;
}

describe('univariate polynomials', () => {
  it('evaluates by Horner', () => {
    assert.equal(evaluatePolynomial([1n, 2n, 3n], 2n), 17n);
    assert.equal(evaluatePolynomial([5n], 99n), 5n);
    assert.equal(evaluatePolynomial([0n, 1n], ORDER - 1n), ORDER - 1n);
    assert.equal(evaluatePolynomial([1n, 1n], ORDER - 1n), 0n);
  });

  it('builds random polynomials with a fixed constant term and k coefficients', () => {
    const poly = randomPolynomial(42n, 4);
    assert.equal(poly.length, 4);
    assert.equal(poly[0], 42n);
    assert.equal(evaluatePolynomial(poly, 0n), 42n);
    assert.throws(() => randomPolynomial(42n, 0), PolynomialError);
    assert.throws(() => randomPolynomial(ORDER, 3), ScalarError);
  });

  it('checks lengths and coefficients', () => {
    assert.throws(() => assertPolynomial([1n, 2n], 3), PolynomialError);
    assert.throws(() => assertPolynomial([1n, 2n, 3n, 4n], 3), PolynomialError);
    assert.throws(() => assertPolynomial([], undefined), PolynomialError);
    assert.throws(() => assertPolynomial([1n, ORDER], 2), ScalarError);
    assert.deepEqual(assertPolynomial([1n, 2n, 3n], 3), [1n, 2n, 3n]);
  });
});

describe('Shamir sharing and Lagrange interpolation', () => {
  for (const [n, k] of [
    [5, 3],
    [9, 5],
  ] as const) {
    it(`(${n},${k}): every ${k}-subset reconstructs, no ${k - 1}-subset does`, () => {
      const secret = randomScalar();
      const shares = shamirSplit(secret, k, n);
      assert.equal(shares.length, n);
      assert.deepEqual(
        shares.map((s) => s.index),
        Array.from({ length: n }, (_, i) => BigInt(i + 1)),
      );
      const full = subsets(shares, k);
      assert.equal(full.length, binomial(n, k));
      for (const subset of full) assert.equal(interpolate(subset), secret);
      // More than k shares also lie on the same degree k-1 polynomial.
      assert.equal(interpolate(shares), secret);
      for (const subset of subsets(shares, k - 1)) assert.notEqual(interpolate(subset), secret);
    });
  }

  it('gives the known coefficients for indexes 1, 2, 3 at 0', () => {
    assert.deepEqual(lagrangeCoefficients([1, 2, 3]), [3n, ORDER - 3n, 1n]);
    assert.deepEqual(lagrangeCoefficients([5]), [1n]);
  });

  it('interpolates at arbitrary points', () => {
    const poly = randomPolynomial(randomScalar(), 4);
    const points = [2, 5, 7, 11].map((i) => ({ index: i, value: evaluatePolynomial(poly, BigInt(i)) }));
    for (const x of [0n, 1n, 3n, 5n, 123456789n, ORDER - 1n]) assert.equal(interpolate(points, x), evaluatePolynomial(poly, x));
    // At one of the indexes the coefficients are a unit vector.
    assert.deepEqual(lagrangeCoefficients([2, 5, 7], 5n), [0n, 1n, 0n]);
  });

  it('rejects index 0, duplicates, out-of-range and empty index sets', () => {
    assert.throws(() => lagrangeCoefficients([]), PolynomialError);
    assert.throws(() => lagrangeCoefficients([0, 1, 2]), ScalarError);
    assert.throws(() => lagrangeCoefficients([1, 2, 2]), PolynomialError);
    assert.throws(() => lagrangeCoefficients([3, 3n]), PolynomialError);
    assert.throws(() => lagrangeCoefficients([1, ORDER]), ScalarError);
    assert.throws(() => lagrangeCoefficients([1, ORDER + 1n]), ScalarError);
    assert.throws(() => lagrangeCoefficients([1, -2]), ScalarError);
    assert.throws(() => lagrangeCoefficients([1, 2.5]), ScalarError);
    assert.throws(() => lagrangeCoefficients([1, 2], ORDER), ScalarError);
    assert.throws(() => interpolate([{ index: 1, value: ORDER }]), ScalarError);
    assert.throws(() => shamirSplit(1n, 3, 2), PolynomialError);
  });

  it('rebuilds a polynomial from exactly k points', () => {
    const poly = randomPolynomial(randomScalar(), 5);
    const points = [3, 1, 9, 4, 8].map((i) => ({ index: i, value: evaluatePolynomial(poly, BigInt(i)) }));
    assert.deepEqual(interpolatePolynomial(points), poly);
    assert.deepEqual(interpolatePolynomial([{ index: 4, value: 9n }]), [9n]);
    assert.throws(() => interpolatePolynomial([...points, { index: 3, value: 1n }]), PolynomialError);
  });

  it('interpolates in the exponent to g^secret', () => {
    const secret = randomScalar();
    const shares = shamirSplit(secret, 3, 5);
    const inExponent: Evaluation<Point>[] = shares.map((s) => ({ index: s.index, value: mulSecret(G, s.value) }));
    const expected = mulSecret(G, secret);
    for (const subset of subsets(inExponent, 3)) assert.ok(interpolateInExponent(subset).equals(expected));
    assert.ok(!interpolateInExponent(inExponent.slice(0, 2)).equals(expected));
    assert.throws(() => interpolateInExponent([inExponent[0] as Evaluation<Point>, { index: 0, value: G }]), ScalarError);
  });
});

describe('bivariate polynomials', () => {
  // Σ_j Σ_l F[j][l] x^j y^l, written out independently of the module.
  function direct(F: readonly (readonly bigint[])[], x: bigint, y: bigint): bigint {
    let acc = 0n;
    F.forEach((row, j) => row.forEach((c, l) => (acc = Fn.add(acc, Fn.mul(c, Fn.mul(Fn.pow(x, BigInt(j)), Fn.pow(y, BigInt(l))))))));
    return acc;
  }

  it('has F(0,0) = secret and consistent rows and columns', () => {
    const secret = randomScalar();
    const k = 4;
    const F = randomBivariate(secret, k);
    assert.equal(F.length, k);
    for (const row of F) assert.equal(row.length, k);
    assert.equal(evaluateBivariate(F, 0, 0), secret);
    for (let i = 1; i <= 6; i++) {
      const row = rowPolynomial(F, i); // F(i, y)
      const column = columnPolynomial(F, i); // F(x, i)
      assert.equal(row.length, k);
      assert.equal(column.length, k);
      for (let j = 1; j <= 6; j++) {
        const bi = BigInt(i);
        const bj = BigInt(j);
        assert.equal(evaluatePolynomial(row, bj), direct(F, bi, bj), `F(${i},${j}) via row`);
        assert.equal(evaluatePolynomial(column, bj), direct(F, bj, bi), `F(${j},${i}) via column`);
        // Node i's row at j equals node j's column at i: the cross-check AVSS echoes rely on.
        assert.equal(evaluatePolynomial(row, bj), evaluatePolynomial(columnPolynomial(F, j), bi));
      }
    }
    // The share polynomial F(x, 0) and the row at i agree on node i's share.
    const shares = columnPolynomial(F, 0);
    assert.equal(evaluatePolynomial(shares, 3n), evaluatePolynomial(rowPolynomial(F, 3), 0n));
    assert.equal(shares[0], secret);
  });

  it('is asymmetric by default and symmetric on request', () => {
    const F = randomBivariate(7n, 3);
    assert.notDeepEqual(rowPolynomial(F, 2), columnPolynomial(F, 2));
    const explicit = randomBivariate(7n, 3, { symmetric: false });
    assert.notDeepEqual(rowPolynomial(explicit, 2), columnPolynomial(explicit, 2));
    const S = randomBivariate(7n, 3, { symmetric: true });
    for (let j = 0; j < 3; j++) for (let l = 0; l < 3; l++) assert.equal(S[j]?.[l], S[l]?.[j]);
    assert.deepEqual(rowPolynomial(S, 2), columnPolynomial(S, 2));
    assert.equal(evaluateBivariate(S, 0, 0), 7n);
  });

  it('rejects non-square or wrongly sized matrices and index restrictions at bad indexes', () => {
    const F = randomBivariate(1n, 3);
    assert.throws(() => assertBivariate(F, 4), PolynomialError);
    assert.throws(() => assertBivariate([[1n, 2n], [3n]], 2), PolynomialError);
    assert.throws(() => assertBivariate([[1n, 2n, 3n], [1n, 2n, 3n]]), PolynomialError);
    assert.throws(() => assertBivariate([]), PolynomialError);
    assert.throws(() => rowPolynomial([[1n, 2n], [3n]], 1), PolynomialError);
    assert.throws(() => rowPolynomial(F, -1), ScalarError);
    assert.throws(() => columnPolynomial(F, ORDER), ScalarError);
    assert.throws(() => randomBivariate(1n, 0), PolynomialError);
  });
});
