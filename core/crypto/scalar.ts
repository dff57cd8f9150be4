/**
 * Scalars: integers mod the secp256k1 group order n, as plain bigints in [0, n).
 *
 * Every value that crosses a trust boundary (wire, disk, another module) is checked with `assertScalar` or parsed
 * with `scalarFromBytes`/`scalarFromHex`, which reject anything >= n instead of reducing it: a reduced encoding
 * would give one scalar two encodings, and hashes or signatures over it would stop being unique.
 * Arithmetic goes through noble's `Fn` so that there is one implementation of the field.
 * JS bigints are not constant-time; that residual risk applies to all secret arithmetic here and is accepted.
 */
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { bigintToBytes, bytesToBigint, hexToBytes } from '../encoding/bytes.js';

export class ScalarError extends Error {
  override name = 'ScalarError';
}

export const Fn = secp256k1.Point.Fn;
/** The group order n. */
export const ORDER: bigint = Fn.ORDER;
export const SCALAR_BYTES = 32;

/** A node index (Shamir x-coordinate): a positive integer below n. JS numbers are accepted for convenience. */
export type Index = number | bigint;

export function isScalar(value: bigint): boolean {
  return typeof value === 'bigint' && value >= 0n && value < ORDER;
}

/** Returns `value` if 0 <= value < n, throws otherwise. `what` names the value in the error. */
export function assertScalar(value: bigint, what = 'scalar'): bigint {
  if (!isScalar(value)) throw new ScalarError(`${what} is not in [0, n)`);
  return value;
}

/** Returns `value` if 0 < value < n: for secret keys, nonces and anything that must not be zero. */
export function assertNonZeroScalar(value: bigint, what = 'scalar'): bigint {
  if (!isScalar(value) || value === 0n) throw new ScalarError(`${what} is not in [1, n)`);
  return value;
}

/**
 * Normalises a node index to a bigint, rejecting 0, negatives, non-integers and values >= n. Index 0 must be
 * refused everywhere: a share at x = 0 would be the secret itself.
 */
export function toIndex(index: Index, what = 'index'): bigint {
  if (typeof index === 'number') {
    if (!Number.isSafeInteger(index)) throw new ScalarError(`${what} is not a safe integer: ${index}`);
    index = BigInt(index);
  }
  if (typeof index !== 'bigint' || index <= 0n || index >= ORDER) {
    throw new ScalarError(`${what} must be in [1, n), got ${String(index)}`);
  }
  return index;
}

/** Parses exactly 32 big-endian bytes, rejecting values >= n (canonical encoding). */
export function scalarFromBytes(bytes: Uint8Array, what = 'scalar'): bigint {
  if (!(bytes instanceof Uint8Array) || bytes.length !== SCALAR_BYTES) {
    throw new ScalarError(`${what} must be ${SCALAR_BYTES} bytes`);
  }
  return assertScalar(bytesToBigint(bytes), what);
}

/** Parses exactly 64 hex characters (optional 0x), rejecting values >= n. */
export function scalarFromHex(hex: string, what = 'scalar'): bigint {
  let bytes: Uint8Array;
  try {
    bytes = hexToBytes(hex, SCALAR_BYTES);
  } catch (cause) {
    throw new ScalarError(`${what} must be ${SCALAR_BYTES * 2} hex characters`, { cause });
  }
  return scalarFromBytes(bytes, what);
}

/** The canonical 32-byte big-endian encoding. */
export function scalarToBytes(value: bigint): Uint8Array {
  return bigintToBytes(assertScalar(value), SCALAR_BYTES);
}

export function scalarToHex(value: bigint): string {
  return assertScalar(value).toString(16).padStart(SCALAR_BYTES * 2, '0');
}

// Inputs are assumed canonical (callers validate at the boundary); Fn reduces the result.
export function scalarAdd(a: bigint, b: bigint): bigint {
  return Fn.add(a, b);
}

export function scalarSub(a: bigint, b: bigint): bigint {
  return Fn.sub(a, b);
}

export function scalarMul(a: bigint, b: bigint): bigint {
  return Fn.mul(a, b);
}

export function scalarNeg(a: bigint): bigint {
  return Fn.neg(a);
}

/** Modular inverse; throws on 0 rather than returning garbage. */
export function scalarInv(a: bigint): bigint {
  if (Fn.create(a) === 0n) throw new ScalarError('cannot invert zero');
  return Fn.inv(a);
}

/** a^e mod n for a small public exponent e (used for index powers i^j). */
export function scalarPow(a: bigint, e: bigint): bigint {
  return Fn.pow(a, e);
}

/**
 * A uniformly random scalar in [1, n) by rejection sampling 32 random bytes. n is within 2^-128 of 2^256, so a
 * retry almost never happens; rejection keeps the distribution exactly uniform, unlike reducing mod n.
 */
export function randomScalar(): bigint {
  const buf = new Uint8Array(SCALAR_BYTES);
  for (let attempt = 0; attempt < 1024; attempt++) {
    globalThis.crypto.getRandomValues(buf);
    const value = bytesToBigint(buf);
    if (value > 0n && value < ORDER) return value;
  }
  // Reaching this means the RNG is broken; failing is safer than continuing with a biased or constant value.
  throw new ScalarError('random number generator returned out-of-range values 1024 times');
}
