import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { secp256k1_hasher } from '@noble/curves/secp256k1.js';
import { bytesToHex, hexToBytes } from '../encoding/bytes.js';
import {
  derivePedersenH,
  encodePoint,
  encodePointUncompressed,
  G,
  H,
  legacyTorusH,
  msmPublic,
  mulPublic,
  mulSecret,
  parsePoint,
  PEDERSEN_H_DST,
  Point,
  PointError,
  pointToHex,
} from '../crypto/point.js';
import { ORDER, randomScalar } from '../crypto/scalar.js';

// hash_to_curve(compressed(G), DST = PEDERSEN_H_DST), suite secp256k1_XMD:SHA-256_SSWU_RO_ (RFC 9380).
const H_COMPRESSED = '037243a25d38b1ded2734b239bed4405d4ddfd6e53bd82c398a1ae1cbeb8c4f00f';
// torus-common HashToPoint(keccak256(Gx)), values from crypto.md §1.5.
const LEGACY_H_X = 'bd48405ed3251dbb9f783c5a51cbf46016252921b268ebd47d0a0389f7b93cc1';
const LEGACY_H_Y = '8d8aca53b562a88df1b823928ff9ec96ea4daf03346e935544f104fe77898f45';
const G_COMPRESSED = '0279be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798';
const P_HEX = 'fffffffffffffffffffffffffffffffffffffffffffffffffffffffefffffc2f';

describe('Pedersen generator H', () => {
  it('matches the pinned test vector', () => {
    assert.equal(PEDERSEN_H_DST, 'torus-node-ts/pedersen-H/v1/secp256k1_XMD:SHA-256_SSWU_RO_');
    assert.equal(pointToHex(H), H_COMPRESSED);
  });

  it('is recomputed from its definition', () => {
    assert.equal(pointToHex(derivePedersenH()), H_COMPRESSED);
    const direct = secp256k1_hasher.hashToCurve(hexToBytes(G_COMPRESSED), { DST: 'torus-node-ts/pedersen-H/v1/secp256k1_XMD:SHA-256_SSWU_RO_' });
    assert.ok(direct.equals(H));
  });

  it('is neither G, −G nor the identity', () => {
    assert.ok(!H.is0());
    assert.ok(!H.equals(G));
    assert.ok(!H.equals(G.negate()));
  });

  it('multiplies the same with and without its precomputed table', () => {
    const k = randomScalar();
    const untabled = derivePedersenH();
    assert.ok(mulSecret(H, k).equals(mulSecret(untabled, k)));
    assert.ok(mulPublic(H, k).equals(untabled.multiplyUnsafe(k)));
  });

  it('reproduces the legacy torus-common H', () => {
    const legacy = legacyTorusH();
    assert.equal(bytesToHex(encodePointUncompressed(legacy)), '04' + LEGACY_H_X + LEGACY_H_Y);
    assert.ok(!legacy.equals(H));
  });
});

describe('point parsing and encoding', () => {
  it('accepts compressed and uncompressed encodings of the same point', () => {
    const p = mulSecret(G, randomScalar());
    const a = parsePoint(encodePoint(p));
    const b = parsePoint(encodePointUncompressed(p));
    const c = parsePoint('0x' + bytesToHex(encodePoint(p)));
    assert.ok(a.equals(p) && b.equals(p) && c.equals(p));
    assert.equal(encodePoint(b).length, 33);
    assert.equal(bytesToHex(encodePoint(parsePoint(G_COMPRESSED))), G_COMPRESSED);
  });

  it('rejects wrong lengths, bad prefixes, off-curve points and the identity', () => {
    const g = hexToBytes(G_COMPRESSED);
    const gu = encodePointUncompressed(G);
    const offCurve = Uint8Array.from(gu);
    offCurve[64] = (offCurve[64] as number) ^ 1;
    const badPrefix = Uint8Array.from(g);
    badPrefix[0] = 0x05;
    const hybrid = Uint8Array.from(gu);
    hybrid[0] = 0x06;
    const xTooBig = hexToBytes('02' + P_HEX); // x = p is not a field element
    const cases: Array<[string, Uint8Array | string]> = [
      ['empty', new Uint8Array(0)],
      ['single zero byte (SEC1 identity)', new Uint8Array(1)],
      ['32 bytes', g.subarray(1)],
      ['34 bytes', new Uint8Array([...g, 0])],
      ['64 bytes', gu.subarray(1)],
      ['33 zero bytes', new Uint8Array(33)],
      ['65 zero bytes', new Uint8Array(65)],
      ['prefix 05', badPrefix],
      ['hybrid 06', hybrid],
      ['off-curve y', offCurve],
      ['x = p', xTooBig],
      ['non-hex', 'zz'],
    ];
    for (const [name, input] of cases) assert.throws(() => parsePoint(input), PointError, name);
  });

  it('rejects a compressed x with no curve point', () => {
    // Find the first x for which x³ + 7 is not a square; its compressed encoding names no point.
    let rejected = 0;
    for (let x = 1n; x < 20n; x++) {
      const enc = hexToBytes('02' + x.toString(16).padStart(64, '0'));
      try {
        parsePoint(enc);
      } catch (err) {
        assert.ok(err instanceof PointError);
        rejected++;
      }
    }
    assert.ok(rejected > 0);
  });

  it('refuses to encode the identity', () => {
    assert.throws(() => encodePoint(Point.ZERO), PointError);
    assert.throws(() => encodePointUncompressed(G.subtract(G)), PointError);
  });
});

describe('scalar multiplication', () => {
  it('agrees between the constant-time and variable-time paths', () => {
    for (let i = 0; i < 5; i++) {
      const k = randomScalar();
      const P = mulSecret(G, randomScalar());
      assert.ok(mulSecret(P, k).equals(mulPublic(P, k)));
    }
    assert.ok(mulSecret(G, 1n).equals(G));
    assert.ok(mulSecret(G, ORDER - 1n).equals(G.negate()));
  });

  it('maps 0 to the identity and rejects out-of-range scalars', () => {
    assert.ok(mulSecret(G, 0n).is0());
    assert.ok(mulPublic(G, 0n).is0());
    for (const bad of [ORDER, ORDER + 5n, -1n]) {
      assert.throws(() => mulSecret(G, bad), PointError);
      assert.throws(() => mulPublic(G, bad), PointError);
    }
  });

  it('computes multi-scalar multiplications', () => {
    const points = [G, H, mulSecret(G, 7n)];
    const scalars = [randomScalar(), randomScalar(), 3n];
    const expected = mulPublic(G, scalars[0] as bigint).add(mulPublic(H, scalars[1] as bigint)).add(mulPublic(G, 21n));
    assert.ok(msmPublic(points, scalars).equals(expected));
    assert.ok(msmPublic([], []).is0());
    assert.throws(() => msmPublic([G], []), PointError);
    assert.throws(() => msmPublic([G], [ORDER]), PointError);
  });
});
