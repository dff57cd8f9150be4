import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { domainMessage, domainHash, keccak256, sha256 } from '../crypto/hash.js';
import { NodeSigner, isCompressedPoint, signatureBackend, verifyLegacySignature, verifySignature } from '../crypto/signature.js';
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

test('legacy signatures: keccak256, r‖s‖v with v = 27 + recid, high s accepted, anything else refused', () => {
  const legacySigner = new NodeSigner(new Uint8Array(32).fill(7));
  const message = utf8('mug00\x1cabc\x1c01\x1c02\x1ctest\x1c1700000000');
  const sig = legacySigner.signLegacy(message);
  assert.equal(sig.length, 65);
  assert.ok(sig[64] === 27 || sig[64] === 28);
  // Cross-check with an independent implementation: noble recovers our public key from (r, s, recid).
  const recovered = secp256k1.Signature.fromBytes(sig.subarray(0, 64), 'compact').addRecoveryBit((sig[64] as number) - 27)
    .recoverPublicKey(keccak256(message)).toBytes(false);
  assert.deepEqual(recovered, legacySigner.publicKey);
  assert.ok(verifyLegacySignature(legacySigner.publicKey, message, sig));
  assert.ok(verifyLegacySignature(legacySigner.publicKey, message, sig.subarray(0, 64)), 'v is not needed');
  const n = secp256k1.Point.Fn.ORDER;
  const s = BigInt(`0x${Buffer.from(sig.subarray(32, 64)).toString('hex')}`);
  const highS = Uint8Array.from(sig);
  highS.set(Buffer.from((n - s).toString(16).padStart(64, '0'), 'hex'), 32);
  assert.ok(verifyLegacySignature(legacySigner.publicKey, message, highS), 'the Go node accepted high s');
  const tampered = Uint8Array.from(message);
  tampered[0] = (tampered[0] as number) ^ 1;
  assert.equal(verifyLegacySignature(legacySigner.publicKey, tampered, sig), false);
  assert.equal(verifyLegacySignature(new NodeSigner(new Uint8Array(32).fill(8)).publicKey, message, sig), false);
  assert.equal(verifyLegacySignature(legacySigner.publicKey, message, sig.subarray(0, 63)), false);
  assert.equal(verifyLegacySignature(legacySigner.publicKey, message, new Uint8Array(64).fill(0xff)), false);
});
