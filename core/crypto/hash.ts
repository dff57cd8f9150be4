/**
 * Hashing. Every hash of structured data goes through `domainMessage` / `DomainHasher`, which bind a
 * purpose tag and length-prefix each part, so no two (tag, parts) tuples share an encoding. SHA-256 runs
 * in node:crypto (native); Keccak-256 (Ethereum addresses, legacy token commitments) in @noble/hashes.
 */
import { createHash, type Hash } from 'node:crypto';
import { keccak_256 } from '@noble/hashes/sha3.js';
import { u32be } from '../encoding/bytes.js';

const utf8Encoder = new TextEncoder();

export function keccak256(data: Uint8Array): Uint8Array {
  return keccak_256(data);
}

export function sha256(data: Uint8Array): Uint8Array {
  return createHash('sha256').update(data).digest();
}

/**
 * Unambiguous encoding of a purpose tag and its parts: u32(len(tag)) ‖ tag ‖ (u32(len(part)) ‖ part)*.
 * Tags name the protocol, message and version, e.g. `torus/mapping/tx/v1`.
 */
export function domainMessage(tag: string, parts: readonly Uint8Array[]): Uint8Array {
  const tagBytes = utf8Encoder.encode(tag);
  let length = 4 + tagBytes.length;
  for (const part of parts) length += 4 + part.length;
  const out = new Uint8Array(length);
  let offset = 0;
  for (const piece of [tagBytes, ...parts]) {
    out.set(u32be(piece.length), offset);
    out.set(piece, offset + 4);
    offset += 4 + piece.length;
  }
  return out;
}

/** SHA-256 of `domainMessage(tag, parts)`. */
export function domainHash(tag: string, parts: readonly Uint8Array[]): Uint8Array {
  const hasher = new DomainHasher(tag);
  for (const part of parts) hasher.add(part);
  return hasher.digest();
}

/** Incremental `domainHash`, for hashing many parts (a block's writes) without concatenating them. */
export class DomainHasher {
  readonly #hash: Hash = createHash('sha256');

  constructor(tag: string) {
    this.add(utf8Encoder.encode(tag));
  }

  add(part: Uint8Array): this {
    this.#hash.update(u32be(part.length)).update(part);
    return this;
  }

  /** Adds a string part as UTF-8. */
  addText(text: string): this {
    return this.add(utf8Encoder.encode(text));
  }

  digest(): Uint8Array {
    return this.#hash.digest();
  }
}
