/**
 * Hashing. Every hash of structured data goes through `domainMessage`, which binds a purpose tag and
 * length-prefixes each part, so that no two (tag, parts) tuples share an encoding.
 */
import { keccak_256 } from '@noble/hashes/sha3.js';
import { sha256 as nobleSha256 } from '@noble/hashes/sha2.js';
import { concatBytes, u32be, utf8 } from '../encoding/bytes.js';

export function keccak256(data: Uint8Array): Uint8Array {
  return keccak_256(data);
}

export function sha256(data: Uint8Array): Uint8Array {
  return nobleSha256(data);
}

/**
 * Unambiguous encoding of a purpose tag and its parts: u32(len(tag)) ‖ tag ‖ (u32(len(part)) ‖ part)*.
 * Tags name the protocol, message and version, e.g. `torus/mapping/tx/v1`.
 */
export function domainMessage(tag: string, parts: readonly Uint8Array[]): Uint8Array {
  const tagBytes = utf8(tag);
  const pieces: Uint8Array[] = [u32be(tagBytes.length), tagBytes];
  for (const part of parts) pieces.push(u32be(part.length), part);
  return concatBytes(...pieces);
}

/** SHA-256 of `domainMessage(tag, parts)`. */
export function domainHash(tag: string, parts: readonly Uint8Array[]): Uint8Array {
  return sha256(domainMessage(tag, parts));
}
