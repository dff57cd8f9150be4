import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { secp256k1_hasher } from '@noble/curves/secp256k1.js';
import { bytesToHex, u32be, u64be, utf8 } from '../encoding/bytes.js';
import { domainMessage } from '../crypto/hash.js';
import { commit, commitmentAt, combineColumnZero, commitMatrix } from '../crypto/pedersen.js';
import { encodePoint, G, H, mulPublic, mulSecret, type Point } from '../crypto/point.js';
import {
  __TEST,
  decodeProof,
  encodeProof,
  NIZK_TAG,
  NizkError,
  proveShareKnowledge,
  PROOF_BYTES,
  verifyShareKnowledge,
  type ShareKnowledgeProof,
} from '../crypto/nizk.js';
import { evaluateBivariate, randomBivariate } from '../crypto/polynomial.js';
import { Fn, ORDER, randomScalar, scalarInv, scalarToBytes } from '../crypto/scalar.js';

/** How a caller might build the context; the module only requires non-empty bytes. */
function context(epoch: number, keyIndex: number, nodeIndex: number): Uint8Array {
  return domainMessage('test/nizk-context', [u64be(epoch), u64be(keyIndex), u32be(nodeIndex)]);
}

const plusOne = (x: bigint): bigint => Fn.add(x, 1n);

describe('NIZK of a Pedersen-committed share', () => {
  it('proves and verifies; the statement is g^s and g^s h^s\'', () => {
    const s = randomScalar();
    const sp = randomScalar();
    const ctx = context(1, 42, 3);
    const { statement, proof } = proveShareKnowledge(ctx, s, sp);
    assert.ok(statement.gs.equals(mulSecret(G, s)));
    assert.ok(statement.commitment.equals(commit(s, sp)));
    assert.ok(verifyShareKnowledge(ctx, statement, proof));
    // Two proofs of the same statement use fresh nonces.
    const again = proveShareKnowledge(ctx, s, sp).proof;
    assert.notEqual(again.challenge, proof.challenge);
    assert.ok(verifyShareKnowledge(ctx, statement, again));
  });

  it('binds the statement to the combined AVSS commitment at the prover\'s index', () => {
    const k = 3;
    const dealings = [0, 1, 2].map(() => {
      const F = randomBivariate(randomScalar(), k);
      const Fp = randomBivariate(randomScalar(), k);
      return { F, Fp, C: commitMatrix(F, Fp, k) };
    });
    const D = combineColumnZero(
      dealings.map((d) => d.C),
      k,
    );
    const i = 4;
    const s = dealings.reduce((acc, d) => Fn.add(acc, evaluateBivariate(d.F, i, 0)), 0n);
    const sp = dealings.reduce((acc, d) => Fn.add(acc, evaluateBivariate(d.Fp, i, 0)), 0n);
    const ctx = context(1, 42, i);
    const { statement, proof } = proveShareKnowledge(ctx, s, sp);
    assert.ok(statement.commitment.equals(commitmentAt(D, k, i)));
    assert.ok(verifyShareKnowledge(ctx, statement, proof));
    assert.ok(!statement.commitment.equals(commitmentAt(D, k, i + 1)));
  });

  it('fails for another epoch, key index or node index', () => {
    const { statement, proof } = proveShareKnowledge(context(1, 42, 3), randomScalar(), randomScalar());
    assert.ok(verifyShareKnowledge(context(1, 42, 3), statement, proof));
    assert.ok(!verifyShareKnowledge(context(2, 42, 3), statement, proof));
    assert.ok(!verifyShareKnowledge(context(1, 43, 3), statement, proof));
    assert.ok(!verifyShareKnowledge(context(1, 42, 4), statement, proof));
  });

  it('fails for tampered points, including −g^s with the same x-coordinate', () => {
    const ctx = context(1, 42, 3);
    const { statement, proof } = proveShareKnowledge(ctx, randomScalar(), randomScalar());
    assert.ok(!verifyShareKnowledge(ctx, { ...statement, gs: statement.gs.add(G) }, proof));
    assert.ok(!verifyShareKnowledge(ctx, { ...statement, gs: statement.gs.negate() }, proof));
    assert.ok(!verifyShareKnowledge(ctx, { ...statement, commitment: statement.commitment.add(H) }, proof));
    assert.ok(!verifyShareKnowledge(ctx, { ...statement, commitment: statement.commitment.negate() }, proof));
    assert.ok(!verifyShareKnowledge(ctx, { gs: statement.commitment, commitment: statement.gs }, proof));
    assert.ok(!verifyShareKnowledge(ctx, { ...statement, gs: G.subtract(G) }, proof));
    assert.ok(!verifyShareKnowledge(ctx, { ...statement, commitment: statement.gs }, proof));
  });

  it('fails for tampered or non-canonical responses and challenge', () => {
    const ctx = context(1, 42, 3);
    const { statement, proof } = proveShareKnowledge(ctx, randomScalar(), randomScalar());
    const variants: Array<[string, ShareKnowledgeProof]> = [
      ['challenge+1', { ...proof, challenge: plusOne(proof.challenge) }],
      ['response+1', { ...proof, response: plusOne(proof.response) }],
      ['responsePrime+1', { ...proof, responsePrime: plusOne(proof.responsePrime) }],
      ['responses swapped', { ...proof, response: proof.responsePrime, responsePrime: proof.response }],
      ['response+n', { ...proof, response: proof.response + ORDER }],
      ['responsePrime+n', { ...proof, responsePrime: proof.responsePrime + ORDER }],
      ['challenge+n', { ...proof, challenge: proof.challenge + ORDER }],
      ['zero proof', { challenge: 0n, response: 0n, responsePrime: 0n }],
    ];
    for (const [name, bad] of variants) assert.ok(!verifyShareKnowledge(ctx, statement, bad), name);
  });

  it('fails for a proof made with a different secret', () => {
    const ctx = context(1, 42, 3);
    const honest = proveShareKnowledge(ctx, randomScalar(), randomScalar());
    const other = proveShareKnowledge(ctx, randomScalar(), randomScalar());
    assert.ok(!verifyShareKnowledge(ctx, honest.statement, other.proof));
  });

  it('requires a non-empty context and nonzero secrets', () => {
    assert.throws(() => proveShareKnowledge(new Uint8Array(0), 1n, 2n), NizkError);
    const { statement, proof } = proveShareKnowledge(context(0, 0, 1), 1n, 2n);
    assert.throws(() => verifyShareKnowledge(new Uint8Array(0), statement, proof), NizkError);
    assert.throws(() => proveShareKnowledge(context(0, 0, 1), 0n, 2n));
    assert.throws(() => proveShareKnowledge(context(0, 0, 1), 1n, 0n));
    assert.throws(() => proveShareKnowledge(context(0, 0, 1), ORDER, 2n));
  });

  it('encodes to 96 bytes and decodes canonically', () => {
    const ctx = context(1, 42, 3);
    const { statement, proof } = proveShareKnowledge(ctx, randomScalar(), randomScalar());
    const bytes = encodeProof(proof);
    assert.equal(bytes.length, PROOF_BYTES);
    assert.equal(PROOF_BYTES, 96);
    assert.deepEqual(decodeProof(bytes), proof);
    assert.ok(verifyShareKnowledge(ctx, statement, decodeProof(bytes)));
    assert.throws(() => decodeProof(bytes.subarray(0, 95)), NizkError);
    assert.throws(() => decodeProof(new Uint8Array([...bytes, 0])), NizkError);
    const nonCanonical = Uint8Array.from(bytes);
    nonCanonical.set(new Uint8Array(32).fill(0xff), 32);
    assert.throws(() => decodeProof(nonCanonical), NizkError);
    const flipped = Uint8Array.from(bytes);
    flipped[95] = (flipped[95] as number) ^ 1;
    assert.ok(!verifyShareKnowledge(ctx, statement, decodeProof(flipped)));
    assert.deepEqual(encodeProof({ challenge: 1n, response: 2n, responsePrime: 3n }).subarray(64), scalarToBytes(3n));
  });

  it('hashes the pinned transcript: tag, context, G, H, A, B, T, T\' as full compressed points', () => {
    assert.equal(NIZK_TAG, 'torus-node-ts/nizk/pedersen-dlog/v1');
    const [A, B, T, Tp] = [2n, 3n, 5n, 7n].map((k) => mulSecret(G, k)) as [Point, Point, Point, Point];
    const ctx = utf8('ctx');
    const c = __TEST.challengeFor(ctx, { gs: A, commitment: B }, T, Tp);
    // Written out here independently of the module, to pin the format.
    const expected = secp256k1_hasher.hashToScalar(
      domainMessage('torus-node-ts/nizk/pedersen-dlog/v1', [ctx, ...[G, H, A, B, T, Tp].map((p) => p.toBytes(true))]),
      { DST: 'torus-node-ts/nizk/pedersen-dlog/v1' },
    );
    assert.equal(c, expected);
    assert.equal(bytesToHex(scalarToBytes(c)), bytesToHex(scalarToBytes(expected)));
    // Each point, negated (same x-coordinate), changes the challenge.
    assert.notEqual(__TEST.challengeFor(ctx, { gs: A.negate(), commitment: B }, T, Tp), c);
    assert.notEqual(__TEST.challengeFor(ctx, { gs: A, commitment: B.negate() }, T, Tp), c);
    assert.notEqual(__TEST.challengeFor(ctx, { gs: A, commitment: B }, T.negate(), Tp), c);
    assert.notEqual(__TEST.challengeFor(ctx, { gs: A, commitment: B }, T, Tp.negate()), c);
    assert.equal(encodePoint(A).length, 33);
  });

  it('rejects a statement chosen after the proof (weak Fiat–Shamir without B)', () => {
    // Forger knows s but not the blinding: it picks T' freely, derives c from a transcript that omits B, then
    // solves for a B that makes the h-equation hold. This works only if B is missing from the hash.
    const ctx = context(1, 42, 3);
    const s = randomScalar();
    const A = mulSecret(G, s);
    const v = randomScalar();
    const T = mulSecret(G, v);
    const Tp = secp256k1_hasher.hashToCurve(utf8('a point nobody knows the log of'));
    const weak = secp256k1_hasher.hashToScalar(
      domainMessage(NIZK_TAG, [ctx, ...[G, H, A, T, Tp].map((p) => p.toBytes(true))]),
      { DST: NIZK_TAG },
    );
    const zp = randomScalar();
    const B = A.add(mulPublic(H, zp).subtract(Tp).multiply(scalarInv(weak)));
    const forged: ShareKnowledgeProof = { challenge: weak, response: Fn.add(v, Fn.mul(weak, s)), responsePrime: zp };
    assert.ok(!verifyShareKnowledge(ctx, { gs: A, commitment: B }, forged));
  });
});
