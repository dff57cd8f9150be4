/**
 * `node:crypto` for the browser bundle: exactly what core/ uses on the client's path (core/crypto/hash.ts,
 * core/crypto/ecies.ts) — createHash sha256/sha512, createHmac sha256, createCipheriv/createDecipheriv
 * aes-256-cbc with PKCS#7 padding, timingSafeEqual — plus randomBytes, on @noble/hashes, @noble/ciphers and
 * crypto.getRandomValues. Anything else throws, naming what is missing, rather than half-working; the bundler
 * refuses imports of names this module does not export. dashboard/test/shims.test.ts checks every function
 * against node:crypto.
 *
 * The cipher objects keep Node's update/final contract (the concatenation of every output is the result), but
 * they buffer the input and produce everything in final(): core only ever encrypts a share (under 100 bytes)
 * in one update.
 */
import { cbc } from '@noble/ciphers/aes.js';
import { hmac } from '@noble/hashes/hmac.js';
import { sha256, sha512 } from '@noble/hashes/sha2.js';
import { concatBytes } from '../../core/encoding/bytes.js';

/** The part of node:crypto's Hash and Hmac that core uses. */
export interface Hash {
  update(data: Uint8Array): Hash;
  digest(): Uint8Array;
}

export interface Cipher {
  update(data: Uint8Array): Uint8Array;
  final(): Uint8Array;
}

/** The structural part of a noble hash instance that Hash wraps. */
interface NobleHash {
  update(data: Uint8Array): unknown;
  digest(): Uint8Array;
}

const HASHES = { sha256, sha512 } as const;

function notImplemented(what: string): never {
  throw new Error(`${what} is not available in the browser build (dashboard/shims/node-crypto.ts implements only what the client uses)`);
}

function bytes(data: unknown, what: string): Uint8Array {
  if (!(data instanceof Uint8Array)) throw new TypeError(`${what} must be a Uint8Array in the browser build`);
  return data;
}

function wrapHash(inner: NobleHash, what: string): Hash {
  let done = false;
  const hash: Hash = {
    update(data) {
      // Node refuses to update a digested hash too ("Digest already called").
      if (done) throw new Error(`${what}: digest already called`);
      inner.update(bytes(data, `${what} input`));
      return hash;
    },
    digest() {
      if (done) throw new Error(`${what}: digest already called`);
      done = true;
      return inner.digest();
    },
  };
  return hash;
}

export function createHash(algorithm: string): Hash {
  if (algorithm !== 'sha256' && algorithm !== 'sha512') return notImplemented(`createHash('${algorithm}')`);
  return wrapHash(HASHES[algorithm].create(), `createHash('${algorithm}')`);
}

export function createHmac(algorithm: string, key: Uint8Array): Hash {
  if (algorithm !== 'sha256') return notImplemented(`createHmac('${algorithm}')`);
  return wrapHash(hmac.create(sha256, bytes(key, 'HMAC key')), `createHmac('${algorithm}')`);
}

function bufferedCipher(algorithm: string, key: Uint8Array, iv: Uint8Array, direction: 'encrypt' | 'decrypt'): Cipher {
  if (algorithm !== 'aes-256-cbc') return notImplemented(`${direction === 'encrypt' ? 'createCipheriv' : 'createDecipheriv'}('${algorithm}')`);
  // Node's messages, so that callers' error handling sees the same failures.
  if (bytes(key, 'key').length !== 32) throw new RangeError('Invalid key length');
  if (bytes(iv, 'iv').length !== 16) throw new TypeError('Invalid initialization vector');
  const chunks: Uint8Array[] = [];
  let finished = false;
  return {
    update(data) {
      if (finished) throw new Error('Unsupported state');
      chunks.push(Uint8Array.from(bytes(data, 'cipher input')));
      return new Uint8Array(0);
    },
    final() {
      if (finished) throw new Error('Unsupported state');
      finished = true;
      const input = concatBytes(...chunks);
      const aes = cbc(key, iv);
      if (direction === 'encrypt') return aes.encrypt(input);
      try {
        return aes.decrypt(input);
      } catch (cause) {
        // Node: "bad decrypt" for wrong padding, "wrong final block length" for a partial block.
        throw new Error(input.length % 16 === 0 ? 'bad decrypt' : 'wrong final block length', { cause });
      }
    },
  };
}

export function createCipheriv(algorithm: string, key: Uint8Array, iv: Uint8Array): Cipher {
  return bufferedCipher(algorithm, key, iv, 'encrypt');
}

export function createDecipheriv(algorithm: string, key: Uint8Array, iv: Uint8Array): Cipher {
  return bufferedCipher(algorithm, key, iv, 'decrypt');
}

/** Constant-time comparison of two equally long byte strings; different lengths throw, as in Node. */
export function timingSafeEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (bytes(a, 'a').length !== bytes(b, 'b').length) throw new RangeError('Input buffers must have the same byte length');
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= (a[i] as number) ^ (b[i] as number);
  return diff === 0;
}

/** crypto.getRandomValues fills at most 65536 bytes per call. */
const MAX_RANDOM_CHUNK = 65536;

export function randomBytes(size: number): Uint8Array {
  if (!Number.isSafeInteger(size) || size < 0) throw new RangeError(`The value of "size" is out of range: ${size}`);
  const out = new Uint8Array(size);
  for (let offset = 0; offset < size; offset += MAX_RANDOM_CHUNK) {
    globalThis.crypto.getRandomValues(out.subarray(offset, Math.min(size, offset + MAX_RANDOM_CHUNK)));
  }
  return out;
}
