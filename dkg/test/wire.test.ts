/** The binary frame codec: round trips, and strict refusal of malformed input without throwing. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { bytesToHex } from '../../core/encoding/bytes.js';
import { commitMatrix, type CommitmentMatrix } from '../../core/crypto/pedersen.js';
import { encodePoint, G, H, mulSecret, parsePoint } from '../../core/crypto/point.js';
import { proveShareKnowledge } from '../../core/crypto/nizk.js';
import { columnPolynomial, randomBivariate, rowPolynomial } from '../../core/crypto/polynomial.js';
import { ORDER, randomScalar, scalarToBytes } from '../../core/crypto/scalar.js';
import type { EchoMessage, KeygenMessage, SendMessage } from '../src/protocol/messages.js';
import { decodeBatch, encodeBatch, encodeFrames, MAX_FRAME_BYTES, WireError } from '../src/protocol/wire.js';
import { Prng } from './harness.js';

const EPOCH = 7n;

function isCurveX(x: bigint): boolean {
  try {
    parsePoint(Uint8Array.of(2, ...scalarToBytes(x)));
    return true;
  } catch {
    return false;
  }
}
const K = 3;

function sampleMessages(k = K): KeygenMessage[] {
  const F = randomBivariate(randomScalar(), k);
  const Fp = randomBivariate(randomScalar(), k);
  const C = commitMatrix(F, Fp, k);
  const hash = new Uint8Array(32).map((_, i) => i + 1);
  const pair = { alpha: randomScalar(), alphaPrime: randomScalar(), beta: randomScalar(), betaPrime: ORDER - 1n };
  const { statement, proof } = proveShareKnowledge(new Uint8Array([1, 2, 3]), randomScalar(), randomScalar());
  return [
    { type: 'send', epoch: EPOCH, keyIndex: 0n, dealer: 1, commitment: C, a: rowPolynomial(F, 2), aPrime: rowPolynomial(Fp, 2), b: columnPolynomial(F, 2), bPrime: columnPolynomial(Fp, 2) },
    { type: 'echo', epoch: EPOCH, keyIndex: 0xffffffffffffffffn, dealer: 5, commitmentHash: hash, pair },
    { type: 'ready', epoch: EPOCH, keyIndex: 12n, dealer: 2, commitmentHash: hash, pair: { ...pair, alpha: 0n }, signature: new Uint8Array(64).fill(9) },
    { type: 'commitment-request', epoch: EPOCH, keyIndex: 3n, dealer: 4, commitmentHash: hash },
    { type: 'commitment', epoch: EPOCH, keyIndex: 3n, dealer: 4, commitment: C },
    { type: 'share-proof', epoch: EPOCH, keyIndex: 12n, node: 5, sharePublic: statement.gs, proof },
  ];
}

/** A canonical, comparable rendering of a message (points as compressed hex, bigints as strings). */
function render(message: KeygenMessage): string {
  return JSON.stringify(message, (_key, value: unknown) => {
    if (typeof value === 'bigint') return `n${value.toString(16)}`;
    if (value instanceof Uint8Array) return bytesToHex(value);
    if (value !== null && typeof value === 'object' && 'toBytes' in value && typeof (value as { toBytes: unknown }).toBytes === 'function') {
      return bytesToHex(encodePoint(value as Parameters<typeof encodePoint>[0]));
    }
    return value;
  });
}

function mustDecode(bytes: Uint8Array, options = {}) {
  const result = decodeBatch(bytes, options);
  if (!result.ok) assert.fail(result.error);
  return result;
}

function mustFail(bytes: Uint8Array, pattern: RegExp, options = {}): void {
  const result = decodeBatch(bytes, options);
  assert.equal(result.ok, false, 'decoded malformed input');
  if (!result.ok) assert.match(result.error, pattern);
}

describe('wire codec', () => {
  it('round-trips a batch of every message type', () => {
    const messages = sampleMessages();
    const bytes = encodeBatch(messages);
    const decoded = mustDecode(bytes, { n: 5, k: K });
    assert.equal(decoded.epoch, EPOCH);
    assert.deepEqual(decoded.messages.map(render), messages.map(render));
    // The encoding is canonical: re-encoding gives the same bytes.
    assert.deepEqual(encodeBatch(decoded.messages), bytes);
  });

  it('round-trips a large batch of many keys', () => {
    const base = sampleMessages();
    const messages: KeygenMessage[] = [];
    for (let i = 0; i < 300; i++) messages.push({ ...(base[i % base.length] as KeygenMessage), keyIndex: BigInt(i) });
    const decoded = mustDecode(encodeBatch(messages));
    assert.equal(decoded.messages.length, 300);
    assert.deepEqual(decoded.messages.map(render), messages.map(render));
  });

  it('checks k and n against the epoch when told them', () => {
    const bytes = encodeBatch(sampleMessages());
    mustFail(bytes, /k 3 is not the epoch's k 5/, { k: 5 });
    mustFail(bytes, /dealer 5 is not in \[1, 4\]/, { n: 4 });
    mustDecode(encodeBatch(sampleMessages(5)), { k: 5 });
  });

  it('refuses every truncation and any trailing byte', () => {
    const bytes = encodeBatch(sampleMessages());
    for (let length = 0; length < bytes.length; length++) {
      const result = decodeBatch(bytes.subarray(0, length));
      assert.equal(result.ok, false, `prefix of ${length} bytes decoded`);
    }
    mustFail(Uint8Array.of(...bytes, 0), /trailing/);
  });

  it('refuses malformed headers and fields', () => {
    const echo: KeygenMessage = { type: 'echo', epoch: EPOCH, keyIndex: 1n, dealer: 2, commitmentHash: new Uint8Array(32), pair: { alpha: 1n, alphaPrime: 2n, beta: 3n, betaPrime: 4n } };
    const good = encodeBatch([echo]);
    const patched = (offset: number, ...values: number[]) => {
      const copy = Uint8Array.from(good);
      copy.set(values, offset);
      return copy;
    };
    // Header: version(1) epoch(8) count(2); message: type(1) key(8) dealer(2) hash(32) α α' β β'.
    mustFail(patched(0, 2), /unsupported version 2/);
    mustFail(patched(9, 0, 0), /empty frame/);
    mustFail(patched(9, 0, 2), /frame too short|truncated/);
    mustFail(patched(11, 0), /unknown message type 0/);
    mustFail(patched(11, 7), /unknown message type 7/);
    mustFail(patched(20, 0, 0), /dealer 0 is not in/);
    mustFail(patched(20, 0, 65), /dealer 65 is not in/);
    const alphaAt = 11 + 1 + 8 + 2 + 32;
    mustFail(patched(alphaAt, ...scalarToBytes(ORDER - 1n).map((b, i) => (i === 31 ? b + 1 : b))), /alpha is not a canonical scalar/);
    mustFail(patched(alphaAt + 96, ...new Uint8Array(32).fill(0xff)), /beta' is not a canonical scalar/);
  });

  it('refuses bad matrix points and thresholds', () => {
    const messages = sampleMessages();
    const commitment = messages[4] as KeygenMessage;
    const good = encodeBatch([commitment]);
    // message: type(1) key(8) dealer(2) k(1), then 65-byte points.
    const kAt = 11 + 1 + 8 + 2;
    const firstPoint = kAt + 1;
    const patched = (offset: number, values: ArrayLike<number>) => {
      const copy = Uint8Array.from(good);
      copy.set(Array.from(values), offset);
      return copy;
    };
    mustFail(patched(kAt, [0]), /k 0 is not in/);
    mustFail(patched(kAt, [65]), /k 65 is not in/);
    mustFail(patched(kAt, [4]), /truncated commitment matrix/);
    mustFail(patched(kAt, [2]), /trailing/);
    mustFail(patched(firstPoint, [0x02]), /C\[0\]\[0\] is not an uncompressed point/);
    mustFail(patched(firstPoint, new Uint8Array(65)), /not an uncompressed point/);
    // Off the curve: flip the last bit of Y.
    const offCurve = patched(firstPoint + 64, [(good[firstPoint + 64] as number) ^ 1]);
    mustFail(offCurve, /C\[0\]\[0\] is not a point on secp256k1/);
    // The identity has no encoding; 04 ‖ 0…0 is not on the curve.
    mustFail(patched(firstPoint, Uint8Array.of(4, ...new Uint8Array(64))), /is not a point on secp256k1/);
  });

  it('refuses bad share proofs and share points', () => {
    const proofMessage = sampleMessages()[5] as KeygenMessage;
    const good = encodeBatch([proofMessage]);
    const pointAt = 11 + 1 + 8 + 2;
    const proofAt = pointAt + 33;
    const patched = (offset: number, values: ArrayLike<number>) => {
      const copy = Uint8Array.from(good);
      copy.set(Array.from(values), offset);
      return copy;
    };
    mustFail(patched(pointAt, encodePoint(G).map((b, i) => (i === 0 ? 0x04 : b))), /not a compressed point/);
    // A compressed x with no point on the curve (x³+7 not a square mod p).
    let x = 1n;
    while (isCurveX(x)) x++;
    mustFail(patched(pointAt, Uint8Array.of(2, ...scalarToBytes(x))), /share public is not a point/);
    mustFail(patched(proofAt, new Uint8Array(32).fill(0xff)), /proof is not canonical/);
  });

  it('the encoder refuses what it cannot encode', () => {
    const [send, echo] = sampleMessages() as [SendMessage, EchoMessage];
    assert.throws(() => encodeBatch([]), WireError);
    assert.throws(() => encodeBatch([send, { ...echo, epoch: EPOCH + 1n }]), /same epoch/);
    assert.throws(() => encodeBatch([{ ...echo, dealer: 0 }]), /out of range/);
    assert.throws(() => encodeBatch([{ ...echo, keyIndex: -1n }]), /u64/);
    assert.throws(() => encodeBatch([{ ...echo, commitmentHash: new Uint8Array(31) }]), /32 bytes/);
    assert.throws(() => encodeBatch([{ ...send, a: [...send.a, 1n] }]), /coefficients/);
    assert.throws(() => encodeBatch([{ ...echo, pair: { ...echo.pair, beta: ORDER } }]), /scalar/);
  });

  it('fuzz: random mutations and random bytes never throw and never yield invalid values', () => {
    const rng = new Prng(77);
    const good = encodeBatch(sampleMessages());
    let accepted = 0;
    for (let round = 0; round < 3000; round++) {
      const bytes = Uint8Array.from(good);
      const flips = 1 + rng.below(4);
      for (let f = 0; f < flips; f++) bytes[rng.below(bytes.length)] = rng.below(256);
      const result = decodeBatch(bytes);
      if (result.ok) {
        accepted++;
        // Whatever decodes re-encodes to exactly the same bytes: no value escaped validation.
        assert.deepEqual(encodeBatch(result.messages), bytes);
      } else {
        assert.doesNotMatch(result.error, /unexpected/);
      }
    }
    for (let round = 0; round < 500; round++) {
      const bytes = rng.bytes(rng.below(400));
      if (rng.below(2) === 0 && bytes.length > 11) bytes[0] = 1;
      const result = decodeBatch(bytes);
      if (!result.ok) assert.doesNotMatch(result.error, /unexpected/);
    }
    assert.ok(accepted > 0 && accepted < 3000, `accepted ${accepted} mutated frames`);
  });

  it('splits long message lists into frames within the size limit, in order', () => {
    const base = sampleMessages();
    const messages: KeygenMessage[] = [];
    for (let i = 0; i < 200; i++) messages.push({ ...(base[i % base.length] as KeygenMessage), keyIndex: BigInt(i) });
    const whole = encodeBatch(messages);
    assert.equal(encodeFrames(messages).length, 1);
    const limit = 4000;
    const frames = encodeFrames(messages, limit);
    assert.ok(frames.length > 1);
    for (const frame of frames) assert.ok(frame.length <= limit, `frame of ${frame.length} bytes`);
    const again = frames.flatMap((frame) => mustDecode(frame).messages);
    assert.deepEqual(again.map(render), messages.map(render));
    assert.ok(frames.reduce((sum, f) => sum + f.length, 0) > whole.length);
    assert.throws(() => encodeFrames(messages, 500), /exceeds the frame limit/);
    assert.deepEqual(encodeFrames([]), []);
  });

  it('refuses oversized frames before decoding', () => {
    mustFail(new Uint8Array(MAX_FRAME_BYTES + 1), /exceeds/);
  });

  it('commitment points are validated as points, not only as bytes (H and G are fine)', () => {
    const C: CommitmentMatrix = [[G, H], [mulSecret(G, 5n), mulSecret(H, 7n)]];
    const decoded = mustDecode(encodeBatch([{ type: 'commitment', epoch: 1n, keyIndex: 1n, dealer: 1, commitment: C }]), { k: 2 });
    const m = decoded.messages[0] as KeygenMessage;
    assert.equal(m.type, 'commitment');
    if (m.type === 'commitment') assert.ok((m.commitment[1] as CommitmentMatrix[number])[1]?.equals(mulSecret(H, 7n)));
  });
});
