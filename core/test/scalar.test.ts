import { describe, it, mock } from 'node:test';
import assert from 'node:assert/strict';
import {
  assertNonZeroScalar,
  assertScalar,
  ORDER,
  randomScalar,
  scalarAdd,
  scalarFromBytes,
  scalarFromHex,
  scalarInv,
  scalarMul,
  scalarNeg,
  scalarSub,
  scalarToBytes,
  scalarToHex,
  ScalarError,
  toIndex,
} from '../crypto/scalar.js';

const N_HEX = 'fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141';

describe('scalar', () => {
  it('has the secp256k1 group order', () => {
    assert.equal(ORDER, BigInt('0x' + N_HEX));
  });

  it('parses canonical 32-byte encodings and round-trips', () => {
    const x = 0x1234567890abcdefn;
    const bytes = scalarToBytes(x);
    assert.equal(bytes.length, 32);
    assert.equal(scalarFromBytes(bytes), x);
    assert.equal(scalarFromHex(scalarToHex(x)), x);
    assert.equal(scalarFromHex('0x' + scalarToHex(ORDER - 1n)), ORDER - 1n);
    assert.equal(scalarFromHex('00'.repeat(32)), 0n);
  });

  it('rejects non-canonical values and wrong lengths', () => {
    assert.throws(() => scalarFromHex(N_HEX), ScalarError);
    assert.throws(() => scalarFromHex('ff'.repeat(32)), ScalarError);
    assert.throws(() => scalarFromBytes(new Uint8Array(31)), ScalarError);
    assert.throws(() => scalarFromBytes(new Uint8Array(33)), ScalarError);
    assert.throws(() => scalarFromHex('00'.repeat(31)), ScalarError);
    assert.throws(() => scalarFromHex('zz'.repeat(32)), ScalarError);
    assert.throws(() => scalarToBytes(ORDER), ScalarError);
    assert.throws(() => scalarToBytes(-1n), ScalarError);
    assert.throws(() => assertScalar(ORDER), ScalarError);
    assert.throws(() => assertNonZeroScalar(0n), ScalarError);
    assert.equal(assertNonZeroScalar(1n), 1n);
  });

  it('validates node indexes', () => {
    assert.equal(toIndex(1), 1n);
    assert.equal(toIndex(9n), 9n);
    for (const bad of [0, 0n, -1, -1n, 1.5, Number.NaN, 2 ** 60, ORDER, ORDER + 1n]) {
      assert.throws(() => toIndex(bad), ScalarError, String(bad));
    }
  });

  it('does arithmetic mod n', () => {
    assert.equal(scalarAdd(ORDER - 1n, 2n), 1n);
    assert.equal(scalarSub(1n, 2n), ORDER - 1n);
    assert.equal(scalarNeg(1n), ORDER - 1n);
    assert.equal(scalarNeg(0n), 0n);
    assert.equal(scalarMul(ORDER - 1n, ORDER - 1n), 1n);
    const a = randomScalar();
    assert.equal(scalarMul(a, scalarInv(a)), 1n);
    assert.equal(scalarInv(2n), (ORDER + 1n) / 2n);
    assert.throws(() => scalarInv(0n), ScalarError);
    assert.throws(() => scalarInv(ORDER), ScalarError);
  });

  it('draws distinct random scalars in [1, n)', () => {
    const seen = new Set<bigint>();
    for (let i = 0; i < 200; i++) {
      const s = randomScalar();
      assert.ok(s > 0n && s < ORDER);
      seen.add(s);
    }
    assert.equal(seen.size, 200);
  });

  it('rejection-samples instead of reducing out-of-range draws', () => {
    const draws = [new Uint8Array(32).fill(0xff), Uint8Array.from(Buffer.from(N_HEX, 'hex')), new Uint8Array(32), scalarToBytes(5n)];
    const rng = mock.method(globalThis.crypto, 'getRandomValues', <T extends ArrayBufferView | null>(buf: T): T => {
      const next = draws.shift();
      assert.ok(next !== undefined && buf instanceof Uint8Array);
      buf.set(next);
      return buf;
    });
    try {
      // 2^256-1 reduced mod n would be a valid nonzero scalar; n would reduce to 0. Both must be skipped.
      assert.equal(randomScalar(), 5n);
      assert.equal(rng.mock.callCount(), 4);
    } finally {
      rng.mock.restore();
    }
  });

  it('fails loudly on a stuck RNG', () => {
    const rng = mock.method(globalThis.crypto, 'getRandomValues', <T extends ArrayBufferView | null>(buf: T): T => {
      if (buf instanceof Uint8Array) buf.fill(0);
      return buf;
    });
    try {
      assert.throws(() => randomScalar(), ScalarError);
    } finally {
      rng.mock.restore();
    }
  });
});
