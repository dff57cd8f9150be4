/**
 * secp256k1 group elements: strict parsing, canonical encoding, scalar multiplication and the Pedersen generators.
 *
 * Two multiplication entry points, on purpose:
 * - `mulSecret` is constant-time; use it whenever the scalar is secret (shares, polynomial coefficients, NIZK
 *   nonces, ECDH keys). It runs in libsecp256k1 (`secp256k1_ec_pubkey_tweak_mul` / `_create`, constant-time
 *   by design, ~50 µs) when the native binding is loaded, else in noble's constant-time `multiply` (~550 µs).
 * - `mulPublic` / `msmPublic` are variable-time (`multiplyUnsafe`, Strauss MSM): about 2x faster for full-size
 *   scalars and over 10x for the small index powers of AVSS checks (crypto.md §4.1). Use them only when every
 *   scalar is public (verification, Lagrange coefficients, index powers). Sums of a few full-size products
 *   (interpolation in the exponent) go through libsecp256k1 as well, which is ~5x faster there.
 * The names make a wrong choice visible in review.
 */
import { secp256k1, secp256k1_hasher } from '@noble/curves/secp256k1.js';
import nativeSecp256k1 from 'secp256k1';
import { mulAddUnsafe, normalizeZ } from '@noble/curves/abstract/curve.js';
import type { WeierstrassPoint } from '@noble/curves/abstract/weierstrass.js';
import { bigintToBytes, bytesToBigint, hexToBytes } from '../encoding/bytes.js';
import { keccak256 } from './hash.js';
import { isScalar } from './scalar.js';
import { libsecp256k1 } from './native.js';

export class PointError extends Error {
  override name = 'PointError';
}

export type Point = WeierstrassPoint<bigint>;
export const Point = secp256k1.Point;
/** The standard generator G (noble keeps a precomputed table for it). */
export const G: Point = Point.BASE;

export const COMPRESSED_BYTES = 33;
export const UNCOMPRESSED_BYTES = 65;

/**
 * Parses a SEC1 point, compressed (33 bytes) or uncompressed (65 bytes), given as bytes or hex. Off-curve
 * points, the identity, hybrid (0x06/0x07) and other lengths are rejected. secp256k1 has cofactor 1, so an
 * on-curve point is in the prime-order group and no subgroup check is needed.
 */
export function parsePoint(input: Uint8Array | string, what = 'point'): Point {
  let bytes: Uint8Array;
  try {
    bytes = typeof input === 'string' ? hexToBytes(input) : input;
  } catch (cause) {
    throw new PointError(`${what} is not valid hex`, { cause });
  }
  if (!(bytes instanceof Uint8Array) || (bytes.length !== COMPRESSED_BYTES && bytes.length !== UNCOMPRESSED_BYTES)) {
    throw new PointError(`${what} must be ${COMPRESSED_BYTES} or ${UNCOMPRESSED_BYTES} bytes`);
  }
  let point: Point;
  try {
    // Decompression is a square root: ~80 µs in JS, ~10 µs through libsecp256k1 (which also rejects x
    // values with no point). Messages and proposals carry k² compressed points, so this is a hot path.
    point = Point.fromBytes(bytes.length === COMPRESSED_BYTES ? nativeSecp256k1.publicKeyConvert(bytes, false) : bytes);
    point.assertValidity();
  } catch (cause) {
    throw new PointError(`${what} is not a point on secp256k1`, { cause });
  }
  if (point.is0()) throw new PointError(`${what} is the identity`);
  return point;
}

/**
 * Checks a point built in memory (not parsed): right class and not the identity. Points can only leave noble's
 * arithmetic on the curve, so the on-curve check is skipped here; wire input must go through `parsePoint`.
 */
export function assertPoint(point: Point, what = 'point'): Point {
  if (!(point instanceof Point)) throw new PointError(`${what} is not a secp256k1 point`);
  if (point.is0()) throw new PointError(`${what} is the identity`);
  return point;
}

/** Canonical 33-byte compressed encoding. The identity has no encoding and throws. */
export function encodePoint(point: Point): Uint8Array {
  assertPoint(point);
  return point.toBytes(true);
}

/** 65-byte uncompressed encoding (04 ‖ X ‖ Y), the form legacy Torus and eccrypto use on the wire. */
export function encodePointUncompressed(point: Point): Uint8Array {
  assertPoint(point);
  return point.toBytes(false);
}

export function pointToHex(point: Point): string {
  return Buffer.from(encodePoint(point)).toString('hex');
}

/**
 * Constant-time `point · scalar` for secret scalars. 0 is allowed and gives the identity (noble's `multiply`
 * rejects 0); that branch reveals only whether the scalar is zero, which for a uniform secret happens with
 * probability 1/n.
 */
export function mulSecret(point: Point, scalar: bigint): Point {
  if (!isScalar(scalar)) throw new PointError('scalar is not in [0, n)');
  if (scalar === 0n || point.is0()) return Point.ZERO;
  if (NATIVE === undefined) return point.multiply(scalar);
  const tweak = bigintToBytes(scalar, 32);
  return Point.fromBytes(point === G ? NATIVE.publicKeyCreate(tweak, false) : NATIVE.publicKeyTweakMul(point.toBytes(false), tweak, false));
}

/** Without the native library (see native.ts), secret multiplications stay in noble. */
const NATIVE = libsecp256k1;

/** Below this many terms, Σ s_i·P_i is faster as separate libsecp256k1 products than as one JS MSM. */
const NATIVE_MSM_MAX_TERMS = 8;

/** Variable-time `point · scalar`. Public scalars only: timing depends on the scalar's bits. */
export function mulPublic(point: Point, scalar: bigint): Point {
  if (!isScalar(scalar)) throw new PointError('scalar is not in [0, n)');
  return point.multiplyUnsafe(scalar);
}

/**
 * Variable-time Σ scalars[i] · points[i] (Strauss–Shamir interleaved wNAF, noble `mulAddUnsafe`). Chosen over
 * `pippenger` because it measured 1.3-2x faster at 3-81 points (crypto.md §4.1) and AVSS matrices have
 * k² ≤ 49 points for n ≤ 13. Public scalars only. Empty input gives the identity.
 */
export function msmPublic(points: readonly Point[], scalars: readonly bigint[]): Point {
  if (points.length !== scalars.length) throw new PointError('msm: points and scalars differ in length');
  for (const s of scalars) if (!isScalar(s)) throw new PointError('msm: scalar is not in [0, n)');
  if (points.length === 0) return Point.ZERO;
  if (NATIVE !== undefined && points.length <= NATIVE_MSM_MAX_TERMS) {
    const native = NATIVE;
    const terms = points
      .map((point, i) => ({ point, scalar: scalars[i] as bigint }))
      .filter(({ point, scalar }) => scalar !== 0n && !point.is0())
      .map(({ point, scalar }) => native.publicKeyTweakMul(point.toBytes(false), bigintToBytes(scalar, 32), false));
    if (terms.length === 0) return Point.ZERO;
    try {
      return Point.fromBytes(native.publicKeyCombine(terms, false));
    } catch {
      // libsecp256k1 cannot encode a sum that is the identity; only that makes combine throw here.
      return Point.ZERO;
    }
  }
  return mulAddUnsafe(Point, [...points], [...scalars]);
}

/** Batch-normalises projective points to Z = 1 with one field inversion; later encodings then skip theirs. */
export function normalizePoints(points: readonly Point[]): Point[] {
  if (points.length === 0) return [];
  return normalizeZ(Point, [...points]);
}

/**
 * The Pedersen second generator H.
 *
 * H = hash_to_curve(msg = compressed(G), DST) with the RFC 9380 suite secp256k1_XMD:SHA-256_SSWU_RO_. Because H
 * is the output of a random oracle on a fixed public input, nobody knows log_G H, which is what makes
 * g^a h^b binding. The DST follows RFC 9380 §3.1's advice to name the application, purpose, version and suite.
 * Changing the DST changes H and invalidates every stored commitment: bump the version, never edit in place.
 */
export const PEDERSEN_H_DST = 'torus-node-ts/pedersen-H/v1/secp256k1_XMD:SHA-256_SSWU_RO_';

/** Recomputes H from its definition (no caching); `H` below is the value to use. */
export function derivePedersenH(): Point {
  return assertPoint(secp256k1_hasher.hashToCurve(G.toBytes(true), { DST: PEDERSEN_H_DST }), 'H');
}

/**
 * H with an 8-bit window table (~8x faster multiplications than an untabled point, measured). The table is
 * built lazily on first use and cached by noble per point object, so callers must use this exact instance
 * rather than re-deriving or re-parsing H.
 */
export const H: Point = derivePedersenH().precompute(8);

/**
 * The legacy torus-common generator, kept only for interoperability tests with the Go node: try-and-increment
 * from x = keccak256(Gx) until x³ + 7 is a square, y = (x³+7)^((p+1)/4). Its discrete log is also unknown
 * (keccak output), but it is not the project's H.
 */
export function legacyTorusH(): Point {
  const Fp = Point.Fp;
  const gx = G.toAffine().x;
  let x = bytesToBigint(keccak256(bigintToBytes(gx, 32)));
  const sqrtExp = (Fp.ORDER + 1n) / 4n;
  for (let i = 0; i < 1000; i++, x++) {
    if (x >= Fp.ORDER) break;
    const beta = Fp.add(Fp.pow(x, 3n), 7n);
    const y = Fp.pow(beta, sqrtExp);
    if (Fp.eql(Fp.sqr(y), beta)) {
      const point = Point.fromAffine({ x, y });
      point.assertValidity();
      return point;
    }
  }
  throw new PointError('legacy HashToPoint found no point');
}
