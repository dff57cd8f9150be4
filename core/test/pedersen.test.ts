import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { bytesToHex, utf8 } from '../encoding/bytes.js';
import {
  assertCommitmentMatrix,
  columnZero,
  combineColumnZero,
  commit,
  commitMatrix,
  commitmentAt,
  encodeCommitmentMatrix,
  hashCommitmentMatrix,
  parseCommitmentMatrix,
  PedersenError,
  verifyCommitment,
  verifyPointPair,
  verifyPolynomials,
  verifyShare,
  type CommitmentMatrix,
  type PointPair,
  type RowColumnPolynomials,
} from '../crypto/pedersen.js';
import { encodePointUncompressed, G, H, mulPublic, Point } from '../crypto/point.js';
import { columnPolynomial, evaluateBivariate, evaluatePolynomial, interpolate, randomBivariate, rowPolynomial } from '../crypto/polynomial.js';
import { Fn, ORDER, randomScalar } from '../crypto/scalar.js';

const K = 3;
const N = 5;

interface Dealing {
  F: bigint[][];
  Fp: bigint[][];
  C: Point[][];
}

function deal(k = K, secret = randomScalar()): Dealing {
  const F = randomBivariate(secret, k);
  const Fp = randomBivariate(randomScalar(), k);
  return { F, Fp, C: commitMatrix(F, Fp, k) };
}

function sendFor(d: Dealing, i: number): RowColumnPolynomials {
  return { a: rowPolynomial(d.F, i), aPrime: rowPolynomial(d.Fp, i), b: columnPolynomial(d.F, i), bPrime: columnPolynomial(d.Fp, i) };
}

/** What node m sends node i: α = F(m,i), β = F(i,m). */
function echoFrom(d: Dealing, m: number, i: number): PointPair {
  return {
    alpha: evaluateBivariate(d.F, m, i),
    alphaPrime: evaluateBivariate(d.Fp, m, i),
    beta: evaluateBivariate(d.F, i, m),
    betaPrime: evaluateBivariate(d.Fp, i, m),
  };
}

const plusOne = (x: bigint): bigint => Fn.add(x, 1n);
function bump(poly: readonly bigint[], at: number): bigint[] {
  return poly.map((c, j) => (j === at ? plusOne(c) : c));
}

describe('Pedersen commitments', () => {
  it('opens to the committed pair only', () => {
    const a = randomScalar();
    const b = randomScalar();
    const c = commit(a, b);
    assert.ok(c.equals(mulPublic(G, a).add(mulPublic(H, b))));
    assert.ok(verifyCommitment(c, a, b));
    assert.ok(!verifyCommitment(c, plusOne(a), b));
    assert.ok(!verifyCommitment(c, a, plusOne(b)));
    assert.ok(!verifyCommitment(c, b, a));
    assert.ok(!verifyCommitment(c, a, ORDER + b));
    assert.ok(!verifyCommitment(Point.ZERO, 0n, 0n));
    // Zero values are allowed (e.g. a refresh polynomial with constant term 0).
    assert.ok(verifyCommitment(commit(0n, b), 0n, b));
  });

  it('builds a k×k matrix g^F h^F\'', () => {
    const d = deal();
    assert.equal(d.C.length, K);
    for (let j = 0; j < K; j++) {
      assert.equal(d.C[j]?.length, K);
      for (let l = 0; l < K; l++) assert.ok(verifyCommitment(d.C[j]?.[l] as Point, d.F[j]?.[l] as bigint, d.Fp[j]?.[l] as bigint));
    }
    assert.throws(() => commitMatrix(d.F, randomBivariate(1n, K + 1), K));
    assert.throws(() => commitMatrix(d.F, d.Fp, K + 1));
  });
});

describe('commitment matrix validation, encoding and hashing', () => {
  it('rejects wrong dimensions and identity entries', () => {
    const { C } = deal();
    assert.doesNotThrow(() => assertCommitmentMatrix(C, K));
    assert.throws(() => assertCommitmentMatrix(C, K + 1), PedersenError);
    assert.throws(() => assertCommitmentMatrix(C, K - 1), PedersenError);
    // Row count is checked on its own, not only through the row lengths.
    assert.throws(() => assertCommitmentMatrix([...C, C[0] as Point[]], K), /must have 3 rows/);
    assert.throws(() => assertCommitmentMatrix(C.slice(0, K - 1), K), /must have 3 rows/);
    assert.throws(() => assertCommitmentMatrix([...C.slice(0, 2), (C[2] as Point[]).slice(0, 2)], K), PedersenError);
    const withIdentity = C.map((row) => [...row]);
    (withIdentity[1] as Point[])[2] = Point.ZERO;
    assert.throws(() => assertCommitmentMatrix(withIdentity, K), /entry \(1,2\)/);
  });

  it('round-trips through encodings and rejects bad entries', () => {
    const { C } = deal();
    const encoded = encodeCommitmentMatrix(C);
    assert.equal(encoded[0]?.[0]?.length, 33);
    const parsed = parseCommitmentMatrix(encoded, K);
    parsed.forEach((row, j) => row.forEach((p, l) => assert.ok(p.equals(C[j]?.[l] as Point))));
    const uncompressed = C.map((row) => row.map((p) => encodePointUncompressed(p)));
    assert.ok(parseCommitmentMatrix(uncompressed, K)[2]?.[2]?.equals(C[2]?.[2] as Point));
    assert.throws(() => parseCommitmentMatrix(encoded, K + 1), PedersenError);
    assert.throws(() => parseCommitmentMatrix(encoded.slice(0, 2), K), PedersenError);
    const bad = encoded.map((row) => row.map((e) => Uint8Array.from(e)));
    const target = bad[2]?.[1] as Uint8Array;
    target.set(new Uint8Array(32).fill(0xff), 1); // x >= p
    assert.throws(() => parseCommitmentMatrix(bad, K), /entry \(2,1\)/);
    const zeros = encoded.map((row) => row.map((e) => Uint8Array.from(e)));
    (zeros[0] as Uint8Array[])[0] = new Uint8Array(33);
    assert.throws(() => parseCommitmentMatrix(zeros, K), PedersenError);
  });

  it('hashes full encodings bound to a context', () => {
    const { C } = deal();
    const ctx = utf8('epoch=1;key=7;dealer=2');
    const h = hashCommitmentMatrix(C, ctx);
    assert.equal(h.length, 32);
    assert.equal(bytesToHex(hashCommitmentMatrix(C, ctx)), bytesToHex(h));
    assert.notEqual(bytesToHex(hashCommitmentMatrix(C, utf8('epoch=1;key=7;dealer=3'))), bytesToHex(h));
    // Negating one entry keeps its x-coordinate but must change the hash.
    const negated = C.map((row) => [...row]);
    (negated[1] as Point[])[1] = (C[1]?.[1] as Point).negate();
    assert.notEqual(bytesToHex(hashCommitmentMatrix(negated, ctx)), bytesToHex(h));
    // Same entries in a different shape must not collide.
    const other = deal(2);
    assert.notEqual(bytesToHex(hashCommitmentMatrix(other.C, ctx)), bytesToHex(h));
    assert.throws(() => hashCommitmentMatrix(C, new Uint8Array(0)), PedersenError);
  });
});

describe('AVSS send check (verify-poly)', () => {
  it('accepts the honest row and column of every node', () => {
    const d = deal();
    for (let i = 1; i <= N; i++) assert.ok(verifyPolynomials(d.C, K, i, sendFor(d, i)), `node ${i}`);
  });

  it('rejects a single flipped coefficient in any of the four polynomials', () => {
    const d = deal();
    const honest = sendFor(d, 2);
    for (const field of ['a', 'aPrime', 'b', 'bPrime'] as const) {
      for (let at = 0; at < K; at++) {
        const tampered = { ...honest, [field]: bump(honest[field], at) };
        assert.ok(!verifyPolynomials(d.C, K, 2, tampered), `${field}[${at}]`);
      }
    }
  });

  it('rejects polynomials for another index, index 0 and row/column swaps', () => {
    const d = deal();
    assert.ok(!verifyPolynomials(d.C, K, 3, sendFor(d, 2)));
    // F(0,y), F(x,0) satisfy the equations at i = 0, so only the index check stops them.
    assert.ok(!verifyPolynomials(d.C, K, 0, sendFor(d, 0)));
    const honest = sendFor(d, 2);
    assert.ok(!verifyPolynomials(d.C, K, 2, { a: honest.b, aPrime: honest.bPrime, b: honest.a, bPrime: honest.aPrime }));
  });

  it('rejects wrong dimensions even when the extra data is consistent', () => {
    const d = deal();
    const honest = sendFor(d, 1);
    assert.ok(!verifyPolynomials(d.C, K, 1, { ...honest, a: [...honest.a, 0n] }));
    assert.ok(!verifyPolynomials(d.C, K, 1, { ...honest, b: honest.b.slice(0, K - 1) }));
    assert.ok(!verifyPolynomials(d.C, K + 1, 1, honest));
    // A (k+1)×(k+1) dealing checked with the agreed k: a threshold raise attempt.
    const big = deal(K + 1);
    assert.ok(verifyPolynomials(big.C, K + 1, 1, sendFor(big, 1)));
    assert.ok(!verifyPolynomials(big.C, K, 1, sendFor(big, 1)));
    assert.ok(!verifyPolynomials(d.C.slice(0, K - 1), K, 1, honest));
  });

  it('rejects an identity entry and non-canonical scalars', () => {
    const d = deal();
    const C = d.C.map((row) => [...row]);
    (C[0] as Point[])[1] = Point.ZERO;
    assert.ok(!verifyPolynomials(C, K, 1, sendFor(d, 1)));
    const honest = sendFor(d, 1);
    const shifted = honest.a.map((c, j) => (j === 0 ? c + ORDER : c));
    assert.ok(!verifyPolynomials(d.C, K, 1, { ...honest, a: shifted }));
  });
});

describe('AVSS echo/ready check (verify-point)', () => {
  it('accepts honest pairs between every two nodes, including self', () => {
    const d = deal();
    for (let m = 1; m <= N; m++) for (let i = 1; i <= N; i++) assert.ok(verifyPointPair(d.C, K, m, i, echoFrom(d, m, i)), `${m}->${i}`);
  });

  it('matches the sender\'s row and column evaluated at the receiver', () => {
    const d = deal();
    const send = sendFor(d, 4);
    const pair = echoFrom(d, 4, 2);
    assert.equal(pair.alpha, evaluatePolynomial(send.a, 2n));
    assert.equal(pair.beta, evaluatePolynomial(send.b, 2n));
  });

  it('rejects a flip in either half, including a bad β with a good α', () => {
    const d = deal();
    const honest = echoFrom(d, 2, 5);
    for (const field of ['alpha', 'alphaPrime', 'beta', 'betaPrime'] as const) {
      assert.ok(!verifyPointPair(d.C, K, 2, 5, { ...honest, [field]: plusOne(honest[field]) }), field);
    }
    // Consistent but swapped halves (α, β exchanged) fail for an asymmetric F.
    assert.ok(!verifyPointPair(d.C, K, 2, 5, { alpha: honest.beta, alphaPrime: honest.betaPrime, beta: honest.alpha, betaPrime: honest.alphaPrime }));
  });

  it('rejects swapped roles, index 0, wrong dimensions and identity entries', () => {
    const d = deal();
    assert.ok(!verifyPointPair(d.C, K, 5, 2, echoFrom(d, 2, 5)));
    assert.ok(!verifyPointPair(d.C, K, 0, 2, echoFrom(d, 0, 2)));
    assert.ok(!verifyPointPair(d.C, K, 2, 0, echoFrom(d, 2, 0)));
    assert.ok(!verifyPointPair(d.C, K + 1, 2, 5, echoFrom(d, 2, 5)));
    const C = d.C.map((row) => [...row]);
    (C[2] as Point[])[2] = Point.ZERO;
    assert.ok(!verifyPointPair(C, K, 2, 5, echoFrom(d, 2, 5)));
    assert.ok(!verifyPointPair(d.C, K, 2, 5, { ...echoFrom(d, 2, 5), alpha: ORDER }));
  });
});

describe('share commitments (column 0)', () => {
  it('verifies each node\'s share F(i,0) against C[j][0]', () => {
    const d = deal();
    const D = columnZero(d.C, K);
    assert.equal(D.length, K);
    for (let i = 1; i <= N; i++) {
      const s = evaluateBivariate(d.F, i, 0);
      const sp = evaluateBivariate(d.Fp, i, 0);
      assert.ok(verifyShare(D, K, i, s, sp));
      assert.ok(commitmentAt(D, K, i).equals(commit(s, sp)));
      assert.ok(!verifyShare(D, K, i, plusOne(s), sp));
      assert.ok(!verifyShare(D, K, i, s, plusOne(sp)));
      assert.ok(!verifyShare(D, K, i === N ? 1 : i + 1, s, sp));
    }
    assert.ok(!verifyShare(D, K, 0, d.F[0]?.[0] as bigint, d.Fp[0]?.[0] as bigint));
    assert.ok(!verifyShare(D.slice(0, K - 1), K, 1, 0n, 0n));
    assert.ok(!verifyShare([D[0] as Point, Point.ZERO, D[2] as Point], K, 1, evaluateBivariate(d.F, 1, 0), evaluateBivariate(d.Fp, 1, 0)));
  });

  it('combines several dealings into the commitment of the summed shares', () => {
    const secrets = [randomScalar(), randomScalar(), randomScalar(), randomScalar()];
    const dealings = secrets.map((s) => deal(K, s));
    const D = combineColumnZero(
      dealings.map((d) => d.C),
      K,
    );
    const combined: { index: number; value: bigint }[] = [];
    for (let i = 1; i <= N; i++) {
      const s = dealings.reduce((acc, d) => Fn.add(acc, evaluateBivariate(d.F, i, 0)), 0n);
      const sp = dealings.reduce((acc, d) => Fn.add(acc, evaluateBivariate(d.Fp, i, 0)), 0n);
      assert.ok(verifyShare(D, K, i, s, sp), `node ${i}`);
      assert.ok(!verifyShare(D, K, i, plusOne(s), sp));
      // A share from only some of the dealings must not pass.
      assert.ok(!verifyShare(D, K, i, evaluateBivariate((dealings[0] as Dealing).F, i, 0), sp));
      combined.push({ index: i, value: s });
    }
    const total = secrets.reduce((a, b) => Fn.add(a, b), 0n);
    assert.equal(interpolate(combined.slice(1, 1 + K)), total);
  });

  it('refuses to combine mismatched or empty input', () => {
    const a = deal(K);
    const b = deal(K + 1);
    assert.throws(() => combineColumnZero([a.C, b.C], K), PedersenError);
    assert.throws(() => combineColumnZero([], K), PedersenError);
    const withIdentity: CommitmentMatrix = a.C.map((row, j) => (j === 1 ? [Point.ZERO, ...row.slice(1)] : row));
    assert.throws(() => combineColumnZero([withIdentity], K), PedersenError);
    // Two dealings that cancel in column 0 give an identity the module refuses to return.
    const negated: CommitmentMatrix = a.C.map((row) => row.map((p) => p.negate()));
    assert.throws(() => combineColumnZero([a.C, negated], K), /identity/);
  });
});
