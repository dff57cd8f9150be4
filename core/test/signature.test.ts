import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { domainMessage, domainHash, sha256 } from '../crypto/hash.js';
import { NodeSigner, isCompressedPoint, signatureBackend, verifySignature } from '../crypto/signature.js';
import { bytesToHex, utf8 } from '../encoding/bytes.js';

const secret = secp256k1.Point.Fn.toBytes(0x1234567890abcdefn);
const signer = new NodeSigner(secret);
const parts = [utf8('chain'), Uint8Array.of(1, 2, 3)];

test('the native libsecp256k1 backend is loaded (the JS fallback is ~20x slower)', () => {
  assert.equal(signatureBackend(), 'libsecp256k1');
});

test('domainMessage has a fixed, unambiguous encoding (test vector)', () => {
  assert.equal(bytesToHex(domainMessage('t', [Uint8Array.of(0xaa), new Uint8Array(0)])), '000000017400000001aa00000000');
  // Moving a byte between parts changes the hash.
  assert.notEqual(bytesToHex(domainHash('t', [utf8('ab'), utf8('c')])), bytesToHex(domainHash('t', [utf8('a'), utf8('bc')])));
  assert.equal(bytesToHex(domainHash('t', parts)), bytesToHex(sha256(domainMessage('t', parts))));
});

test('signatures are deterministic, low-s, and verify with an independent implementation (noble)', () => {
  const sig = signer.sign('torus/test/v1', parts);
  assert.equal(sig.length, 64);
  assert.deepEqual(signer.sign('torus/test/v1', parts), sig, 'RFC 6979');
  const digest = createHash('sha256').update(domainMessage('torus/test/v1', parts)).digest();
  assert.ok(secp256k1.verify(sig, digest, signer.publicKey, { prehash: false, lowS: true }));
  // And the other way: noble's signature verifies here.
  const nobleSig = secp256k1.sign(digest, secret, { prehash: false, lowS: true });
  assert.ok(verifySignature(signer.publicKey, 'torus/test/v1', parts, nobleSig));
  assert.ok(verifySignature(secp256k1.Point.fromBytes(signer.publicKey).toBytes(true), 'torus/test/v1', parts, sig), 'compressed key');
});

test('verification fails for another tag, message, key, high-s or malformed input, without throwing', () => {
  const sig = signer.sign('torus/test/v1', parts);
  assert.equal(verifySignature(signer.publicKey, 'torus/test/v2', parts, sig), false);
  assert.equal(verifySignature(signer.publicKey, 'torus/test/v1', [utf8('chain'), Uint8Array.of(1, 2, 4)], sig), false);
  const other = new NodeSigner(secp256k1.Point.Fn.toBytes(99n));
  assert.equal(verifySignature(other.publicKey, 'torus/test/v1', parts, sig), false);
  const s = BigInt('0x' + bytesToHex(sig.subarray(32)));
  const highS = Uint8Array.from([...sig.subarray(0, 32), ...secp256k1.Point.Fn.toBytes(secp256k1.Point.Fn.ORDER - s)]);
  assert.equal(verifySignature(signer.publicKey, 'torus/test/v1', parts, highS), false, 'the high-s twin is rejected');
  assert.equal(verifySignature(signer.publicKey, 'torus/test/v1', parts, new Uint8Array(64).fill(0xff)), false, 'r, s >= n');
  assert.equal(verifySignature(signer.publicKey, 'torus/test/v1', parts, sig.subarray(0, 63)), false);
  assert.equal(verifySignature(new Uint8Array(65).fill(4), 'torus/test/v1', parts, sig), false, 'off-curve key');
});

test('compressed point check', () => {
  assert.ok(isCompressedPoint(secp256k1.Point.BASE.toBytes(true)));
  assert.equal(isCompressedPoint(secp256k1.Point.BASE.toBytes(false)), false);
  assert.equal(isCompressedPoint(Uint8Array.from([2, ...new Uint8Array(32).fill(0xff)])), false);
  assert.equal(isCompressedPoint(Uint8Array.from([4, ...secp256k1.Point.BASE.toBytes(true).subarray(1)])), false);
});

test('a signer never serialises its secret', () => {
  assert.equal(JSON.stringify({ signer }).includes(bytesToHex(secret)), false);
});
