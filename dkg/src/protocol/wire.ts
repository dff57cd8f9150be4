/**
 * Binary encoding of a batch of key-generation messages: the edge where untrusted bytes become typed values.
 * One frame carries any number of messages (for any key indexes) from one node to one peer.
 *
 * Layout (big-endian, fixed widths, no optional fields, so every value has exactly one encoding):
 *
 *   frame      = version u8 (=1) ‖ epoch u64 ‖ count u16 (≥ 1) ‖ message × count        (no trailing bytes)
 *   message    = type u8 ‖ keyIndex u64 ‖ body
 *   send       (1) = dealer u16 ‖ k u8 ‖ C (k·k × 65, row-major C[j][l]) ‖ a ‖ a' ‖ b ‖ b' (each k × 32)
 *   echo       (2) = dealer u16 ‖ hash 32 ‖ α ‖ α' ‖ β ‖ β' (each 32)
 *   ready      (3) = echo body ‖ signature 64
 *   commitment-request (4) = dealer u16 ‖ hash 32
 *   commitment (5) = dealer u16 ‖ k u8 ‖ C (k·k × 65)
 *   share-proof (6) = node u16 ‖ g^{s_i} 33 ‖ proof 96 (core/crypto/nizk.ts encodeProof)
 *
 * The decoder checks every field: node indexes in [1, n] (n ≤ 64), 1 ≤ k ≤ 64 (and = the epoch's k when
 * given), scalars canonical (< group order), points on the curve and not the identity, proofs canonical,
 * exact lengths. It never throws on bad bytes; it returns the first error found. Signatures are only
 * length-checked here; the engine verifies them.
 *
 * Matrix points travel uncompressed (04 ‖ X ‖ Y): parsing one costs ~4 µs against ~80 µs for a compressed
 * point (a square root, crypto.md §4.1), which at n = 9 saved 20-30 ms of CPU per key per node in the test
 * loop, for ~800 more bytes per send. The uncompressed form is as canonical as the compressed one (Y is checked on the curve).
 * The single point of a share proof stays compressed.
 */
import { decodeProof, encodeProof } from '../../../core/crypto/nizk.js';
import { encodePoint, encodePointUncompressed, parsePoint, type Point } from '../../../core/crypto/point.js';
import { isScalar, scalarFromBytes, scalarToBytes } from '../../../core/crypto/scalar.js';
import type { CommitmentMatrix, PointPair } from '../../../core/crypto/pedersen.js';
import type { Polynomial } from '../../../core/crypto/polynomial.js';
import type { KeygenMessage, MessageType } from './messages.js';

export const WIRE_VERSION = 1;
/** Largest k (and polynomial length) the wire accepts. */
export const MAX_WIRE_THRESHOLD = 64;
/** Largest node index the wire accepts when the epoch's n is not given (the mapping's limit on n, 64). */
export const MAX_WIRE_NODES = 64;
export const MAX_BATCH_MESSAGES = 0xffff;
/** Frames above this are refused before decoding (a send at k = 64 is about 275 KB). */
export const MAX_FRAME_BYTES = 16 * 1024 * 1024;

const HASH_BYTES = 32;
const SCALAR = 32;
const POINT = 33;
const MATRIX_POINT = 65;
const SIG_BYTES = 64;
const PROOF_LEN = 96;
const HEADER_BYTES = 1 + 8 + 2;
const MESSAGE_HEADER_BYTES = 1 + 8;

const TYPE_CODES: Readonly<Record<MessageType, number>> = {
  send: 1,
  echo: 2,
  ready: 3,
  'commitment-request': 4,
  commitment: 5,
  'share-proof': 6,
};

export class WireError extends Error {
  override name = 'WireError';
}

export interface DecodeOptions {
  /** The epoch's node count: indexes above it are refused. Default: accept up to MAX_WIRE_NODES. */
  readonly n?: number;
  /** The epoch's k: matrices and polynomials of another size are refused. */
  readonly k?: number;
}

export type DecodeResult =
  | { readonly ok: true; readonly epoch: bigint; readonly messages: KeygenMessage[] }
  | { readonly ok: false; readonly error: string };

// -------------------------------------------------------------------------------------------------------------
// Encoding

function bodySize(message: KeygenMessage): number {
  switch (message.type) {
    case 'send': {
      const k = message.commitment.length;
      return 2 + 1 + k * k * MATRIX_POINT + 4 * k * SCALAR;
    }
    case 'echo':
      return 2 + HASH_BYTES + 4 * SCALAR;
    case 'ready':
      return 2 + HASH_BYTES + 4 * SCALAR + SIG_BYTES;
    case 'commitment-request':
      return 2 + HASH_BYTES;
    case 'commitment': {
      const k = message.commitment.length;
      return 2 + 1 + k * k * MATRIX_POINT;
    }
    case 'share-proof':
      return 2 + POINT + PROOF_LEN;
  }
}

class Writer {
  readonly bytes: Uint8Array;
  readonly #view: DataView;
  offset = 0;

  constructor(size: number) {
    this.bytes = new Uint8Array(size);
    this.#view = new DataView(this.bytes.buffer);
  }

  u8(value: number): void {
    this.#view.setUint8(this.offset, value);
    this.offset += 1;
  }

  u16(value: number): void {
    this.#view.setUint16(this.offset, value);
    this.offset += 2;
  }

  u64(value: bigint): void {
    this.#view.setBigUint64(this.offset, value);
    this.offset += 8;
  }

  raw(bytes: Uint8Array, length: number, what: string): void {
    if (bytes.length !== length) throw new WireError(`${what} must be ${length} bytes, got ${bytes.length}`);
    this.bytes.set(bytes, this.offset);
    this.offset += length;
  }
}

function checkIndex(value: number, what: string): number {
  if (!Number.isSafeInteger(value) || value < 1 || value > MAX_WIRE_NODES) throw new WireError(`${what} ${value} is out of range`);
  return value;
}

function checkU64(value: bigint, what: string): bigint {
  if (typeof value !== 'bigint' || value < 0n || value > 0xffffffffffffffffn) throw new WireError(`${what} is not a u64`);
  return value;
}

function writeMatrix(w: Writer, C: CommitmentMatrix): number {
  const k = C.length;
  if (k < 1 || k > MAX_WIRE_THRESHOLD) throw new WireError(`commitment matrix size ${k} is out of range`);
  w.u8(k);
  for (const row of C) {
    if (row.length !== k) throw new WireError('commitment matrix is not square');
    for (const point of row) w.raw(encodePointUncompressed(point), MATRIX_POINT, 'point');
  }
  return k;
}

function writeScalar(w: Writer, value: bigint): void {
  if (!isScalar(value)) throw new WireError('scalar out of range');
  w.raw(scalarToBytes(value), SCALAR, 'scalar');
}

function writePoly(w: Writer, poly: Polynomial, k: number, what: string): void {
  if (poly.length !== k) throw new WireError(`${what} has ${poly.length} coefficients, expected ${k}`);
  for (const c of poly) writeScalar(w, c);
}

function writePair(w: Writer, pair: PointPair): void {
  writeScalar(w, pair.alpha);
  writeScalar(w, pair.alphaPrime);
  writeScalar(w, pair.beta);
  writeScalar(w, pair.betaPrime);
}

/**
 * Encodes one frame. All messages must share one epoch. Throws WireError on values that cannot be encoded
 * (a bug in the caller, never peer input).
 */
export function encodeBatch(messages: readonly KeygenMessage[]): Uint8Array {
  if (messages.length === 0 || messages.length > MAX_BATCH_MESSAGES) throw new WireError(`a frame carries 1..${MAX_BATCH_MESSAGES} messages, got ${messages.length}`);
  const epoch = checkU64((messages[0] as KeygenMessage).epoch, 'epoch');
  let size = HEADER_BYTES;
  for (const m of messages) {
    if (m.epoch !== epoch) throw new WireError('all messages of a frame must have the same epoch');
    size += MESSAGE_HEADER_BYTES + bodySize(m);
  }
  if (size > MAX_FRAME_BYTES) throw new WireError(`frame of ${size} bytes exceeds ${MAX_FRAME_BYTES}`);
  const w = new Writer(size);
  w.u8(WIRE_VERSION);
  w.u64(epoch);
  w.u16(messages.length);
  for (const m of messages) {
    w.u8(TYPE_CODES[m.type]);
    w.u64(checkU64(m.keyIndex, 'key index'));
    switch (m.type) {
      case 'send': {
        w.u16(checkIndex(m.dealer, 'dealer'));
        const k = writeMatrix(w, m.commitment);
        writePoly(w, m.a, k, 'a');
        writePoly(w, m.aPrime, k, "a'");
        writePoly(w, m.b, k, 'b');
        writePoly(w, m.bPrime, k, "b'");
        break;
      }
      case 'echo':
      case 'ready':
        w.u16(checkIndex(m.dealer, 'dealer'));
        w.raw(m.commitmentHash, HASH_BYTES, 'commitment hash');
        writePair(w, m.pair);
        if (m.type === 'ready') w.raw(m.signature, SIG_BYTES, 'signature');
        break;
      case 'commitment-request':
        w.u16(checkIndex(m.dealer, 'dealer'));
        w.raw(m.commitmentHash, HASH_BYTES, 'commitment hash');
        break;
      case 'commitment':
        w.u16(checkIndex(m.dealer, 'dealer'));
        writeMatrix(w, m.commitment);
        break;
      case 'share-proof':
        w.u16(checkIndex(m.node, 'node'));
        w.raw(encodePoint(m.sharePublic), POINT, 'share public');
        w.raw(encodeProof(m.proof), PROOF_LEN, 'proof');
        break;
    }
  }
  if (w.offset !== size) throw new WireError(`internal: wrote ${w.offset} of ${size} bytes`);
  return w.bytes;
}

/**
 * Splits messages into as few frames as the limits allow (each at most `maxFrameBytes` and
 * MAX_BATCH_MESSAGES messages), keeping their order. Throws WireError if one message alone is too large.
 */
export function encodeFrames(messages: readonly KeygenMessage[], maxFrameBytes = MAX_FRAME_BYTES): Uint8Array[] {
  const limit = Math.min(maxFrameBytes, MAX_FRAME_BYTES);
  const frames: Uint8Array[] = [];
  let start = 0;
  let size = HEADER_BYTES;
  for (let i = 0; i < messages.length; i++) {
    const add = MESSAGE_HEADER_BYTES + bodySize(messages[i] as KeygenMessage);
    if (HEADER_BYTES + add > limit) throw new WireError(`a ${(messages[i] as KeygenMessage).type} message of ${HEADER_BYTES + add} bytes exceeds the frame limit ${limit}`);
    if (size + add > limit || i - start >= MAX_BATCH_MESSAGES) {
      frames.push(encodeBatch(messages.slice(start, i)));
      start = i;
      size = HEADER_BYTES;
    }
    size += add;
  }
  if (start < messages.length) frames.push(encodeBatch(messages.slice(start)));
  return frames;
}

// -------------------------------------------------------------------------------------------------------------
// Decoding

class Reader {
  readonly #bytes: Uint8Array;
  readonly #view: DataView;
  offset = 0;
  context = 'frame';

  constructor(bytes: Uint8Array) {
    this.#bytes = bytes;
    this.#view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  get remaining(): number {
    return this.#bytes.length - this.offset;
  }

  fail(what: string): never {
    throw new WireError(`${this.context}: ${what} (at byte ${this.offset})`);
  }

  #need(length: number, what: string): void {
    if (this.remaining < length) this.fail(`truncated ${what}`);
  }

  u8(what: string): number {
    this.#need(1, what);
    const v = this.#view.getUint8(this.offset);
    this.offset += 1;
    return v;
  }

  u16(what: string): number {
    this.#need(2, what);
    const v = this.#view.getUint16(this.offset);
    this.offset += 2;
    return v;
  }

  u64(what: string): bigint {
    this.#need(8, what);
    const v = this.#view.getBigUint64(this.offset);
    this.offset += 8;
    return v;
  }

  /** A view into the frame; callers copy what they keep. */
  view(length: number, what: string): Uint8Array {
    this.#need(length, what);
    const out = this.#bytes.subarray(this.offset, this.offset + length);
    this.offset += length;
    return out;
  }

  copy(length: number, what: string): Uint8Array {
    return Uint8Array.from(this.view(length, what));
  }
}

function readIndex(r: Reader, what: string, maxIndex: number): number {
  const value = r.u16(what);
  if (value < 1 || value > maxIndex) r.fail(`${what} ${value} is not in [1, ${maxIndex}]`);
  return value;
}

function readScalar(r: Reader, what: string): bigint {
  const bytes = r.view(SCALAR, what);
  try {
    return scalarFromBytes(bytes, what);
  } catch {
    return r.fail(`${what} is not a canonical scalar`);
  }
}

function readPoint(r: Reader, what: string): Point {
  const bytes = r.view(POINT, what);
  if (bytes[0] !== 0x02 && bytes[0] !== 0x03) r.fail(`${what} is not a compressed point`);
  try {
    return parsePoint(bytes, what);
  } catch {
    return r.fail(`${what} is not a point on secp256k1`);
  }
}

function readMatrixPoint(r: Reader, what: string): Point {
  const bytes = r.view(MATRIX_POINT, what);
  if (bytes[0] !== 0x04) r.fail(`${what} is not an uncompressed point`);
  try {
    return parsePoint(bytes, what);
  } catch {
    return r.fail(`${what} is not a point on secp256k1`);
  }
}

function readThreshold(r: Reader, expected: number | undefined): number {
  const k = r.u8('k');
  if (k < 1 || k > MAX_WIRE_THRESHOLD) r.fail(`k ${k} is not in [1, ${MAX_WIRE_THRESHOLD}]`);
  if (expected !== undefined && k !== expected) r.fail(`k ${k} is not the epoch's k ${expected}`);
  // Refuse before parsing k² points when the frame cannot hold them.
  if (r.remaining < k * k * MATRIX_POINT) r.fail('truncated commitment matrix');
  return k;
}

function readMatrix(r: Reader, k: number): Point[][] {
  const C: Point[][] = [];
  for (let j = 0; j < k; j++) {
    const row: Point[] = [];
    for (let l = 0; l < k; l++) row.push(readMatrixPoint(r, `C[${j}][${l}]`));
    C.push(row);
  }
  return C;
}

function readPoly(r: Reader, k: number, what: string): bigint[] {
  const out: bigint[] = [];
  for (let i = 0; i < k; i++) out.push(readScalar(r, `${what}[${i}]`));
  return out;
}

function readPair(r: Reader): PointPair {
  return { alpha: readScalar(r, 'alpha'), alphaPrime: readScalar(r, "alpha'"), beta: readScalar(r, 'beta'), betaPrime: readScalar(r, "beta'") };
}

function decodeMessage(r: Reader, epoch: bigint, maxIndex: number, expectedK: number | undefined): KeygenMessage {
  const code = r.u8('message type');
  const keyIndex = r.u64('key index');
  switch (code) {
    case TYPE_CODES.send: {
      r.context += ' (send)';
      const dealer = readIndex(r, 'dealer', maxIndex);
      const k = readThreshold(r, expectedK);
      if (r.remaining < k * k * MATRIX_POINT + 4 * k * SCALAR) r.fail('truncated send');
      const commitment = readMatrix(r, k);
      const a = readPoly(r, k, 'a');
      const aPrime = readPoly(r, k, "a'");
      const b = readPoly(r, k, 'b');
      const bPrime = readPoly(r, k, "b'");
      return { type: 'send', epoch, keyIndex, dealer, commitment, a, aPrime, b, bPrime };
    }
    case TYPE_CODES.echo:
    case TYPE_CODES.ready: {
      const ready = code === TYPE_CODES.ready;
      r.context += ready ? ' (ready)' : ' (echo)';
      const dealer = readIndex(r, 'dealer', maxIndex);
      const commitmentHash = r.copy(HASH_BYTES, 'commitment hash');
      const pair = readPair(r);
      if (!ready) return { type: 'echo', epoch, keyIndex, dealer, commitmentHash, pair };
      const signature = r.copy(SIG_BYTES, 'signature');
      return { type: 'ready', epoch, keyIndex, dealer, commitmentHash, pair, signature };
    }
    case TYPE_CODES['commitment-request']: {
      r.context += ' (commitment-request)';
      const dealer = readIndex(r, 'dealer', maxIndex);
      const commitmentHash = r.copy(HASH_BYTES, 'commitment hash');
      return { type: 'commitment-request', epoch, keyIndex, dealer, commitmentHash };
    }
    case TYPE_CODES.commitment: {
      r.context += ' (commitment)';
      const dealer = readIndex(r, 'dealer', maxIndex);
      const k = readThreshold(r, expectedK);
      return { type: 'commitment', epoch, keyIndex, dealer, commitment: readMatrix(r, k) };
    }
    case TYPE_CODES['share-proof']: {
      r.context += ' (share-proof)';
      const node = readIndex(r, 'node', maxIndex);
      const sharePublic = readPoint(r, 'share public');
      const proofBytes = r.view(PROOF_LEN, 'proof');
      try {
        return { type: 'share-proof', epoch, keyIndex, node, sharePublic, proof: decodeProof(proofBytes) };
      } catch {
        return r.fail('proof is not canonical');
      }
    }
    default:
      return r.fail(`unknown message type ${code}`);
  }
}

/** Decodes one frame strictly; never throws on malformed input. */
export function decodeBatch(bytes: Uint8Array, options: DecodeOptions = {}): DecodeResult {
  try {
    if (!(bytes instanceof Uint8Array)) throw new WireError('frame is not bytes');
    if (bytes.length > MAX_FRAME_BYTES) throw new WireError(`frame of ${bytes.length} bytes exceeds ${MAX_FRAME_BYTES}`);
    const maxIndex = options.n ?? MAX_WIRE_NODES;
    if (!Number.isSafeInteger(maxIndex) || maxIndex < 1 || maxIndex > MAX_WIRE_NODES) throw new WireError(`bad option n ${options.n}`);
    if (options.k !== undefined && (!Number.isSafeInteger(options.k) || options.k < 1 || options.k > MAX_WIRE_THRESHOLD)) {
      throw new WireError(`bad option k ${options.k}`);
    }
    const r = new Reader(bytes);
    const version = r.u8('version');
    if (version !== WIRE_VERSION) r.fail(`unsupported version ${version}`);
    const epoch = r.u64('epoch');
    const count = r.u16('message count');
    if (count === 0) r.fail('empty frame');
    // Each message takes at least its header plus the smallest body; refuse impossible counts early.
    if (r.remaining < count * (MESSAGE_HEADER_BYTES + 2 + HASH_BYTES)) r.fail(`frame too short for ${count} messages`);
    const messages: KeygenMessage[] = [];
    for (let i = 0; i < count; i++) {
      r.context = `message ${i}`;
      messages.push(decodeMessage(r, epoch, maxIndex, options.k));
    }
    r.context = 'frame';
    if (r.remaining !== 0) r.fail(`${r.remaining} trailing bytes`);
    return { ok: true, epoch, messages };
  } catch (err) {
    if (err instanceof WireError) return { ok: false, error: err.message };
    return { ok: false, error: `unexpected decoder failure: ${err instanceof Error ? err.message : String(err)}` };
  }
}
