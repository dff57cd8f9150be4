/**
 * secp256k1 keys: validation of secret and public keys, canonical encodings and Ethereum addresses.
 * A node's identity is one secp256k1 key (its Ethereum key); the same key signs BFT transactions.
 */
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { libsecp256k1 } from './native.js';
import { bytesToHex, hexToBytes } from '../encoding/bytes.js';
import { parsePoint } from './point.js';
import { keccak256 } from './hash.js';

export class KeyError extends Error {
  override name = 'KeyError';
}

export const CURVE_ORDER: bigint = secp256k1.Point.Fn.ORDER;

/** Parses a 32-byte secret key (hex, optional 0x) and checks 0 < k < n. */
export function parseSecretKey(input: string | Uint8Array): Uint8Array {
  let bytes: Uint8Array;
  try {
    bytes = typeof input === 'string' ? hexToBytes(input, 32) : input;
  } catch (cause) {
    throw new KeyError('secret key must be 32 bytes of hex', { cause });
  }
  if (bytes.length !== 32 || !secp256k1.utils.isValidSecretKey(bytes)) {
    throw new KeyError('secret key is not a valid secp256k1 scalar');
  }
  return bytes;
}

export function randomSecretKey(): Uint8Array {
  return secp256k1.utils.randomSecretKey();
}

/**
 * Parses a public key given compressed (33 bytes) or uncompressed (65 bytes), as bytes or hex, and returns
 * the canonical uncompressed 65-byte form. Off-curve points and the identity are rejected.
 */
export function parsePublicKey(input: string | Uint8Array): Uint8Array {
  try {
    return parsePoint(input, 'public key').toBytes(false);
  } catch (cause) {
    throw new KeyError(cause instanceof Error ? cause.message : 'invalid public key', { cause });
  }
}

/** The uncompressed public key of a secret key, in constant time (libsecp256k1 when loaded, else noble). */
export function publicKeyOf(secretKey: Uint8Array): Uint8Array {
  return libsecp256k1?.publicKeyCreate(secretKey, false) ?? secp256k1.getPublicKey(secretKey, false);
}

export function compressPublicKey(publicKey: Uint8Array): Uint8Array {
  return secp256k1.Point.fromBytes(publicKey).toBytes(true);
}

/** The 20-byte Ethereum address of an uncompressed public key. */
export function ethereumAddress(publicKey: Uint8Array): Uint8Array {
  const uncompressed = publicKey.length === 65 ? publicKey : parsePublicKey(publicKey);
  return keccak256(uncompressed.subarray(1)).subarray(12);
}

/** EIP-55 mixed-case checksum encoding of a 20-byte address. */
export function checksumAddress(address: Uint8Array): string {
  if (address.length !== 20) throw new KeyError(`address must be 20 bytes, got ${address.length}`);
  const lower = bytesToHex(address);
  const hash = bytesToHex(keccak256(new TextEncoder().encode(lower)));
  let out = '0x';
  for (let i = 0; i < lower.length; i++) {
    const c = lower[i] as string;
    out += parseInt(hash[i] as string, 16) >= 8 ? c.toUpperCase() : c;
  }
  return out;
}

/** Parses a 0x-prefixed address; a mixed-case input must carry a valid EIP-55 checksum. */
export function parseAddress(text: string): Uint8Array {
  if (!/^0x[0-9a-fA-F]{40}$/.test(text)) throw new KeyError(`not an address: ${JSON.stringify(text)}`);
  const bytes = hexToBytes(text);
  const body = text.slice(2);
  const mixed = body !== body.toLowerCase() && body !== body.toUpperCase();
  if (mixed && checksumAddress(bytes) !== text) throw new KeyError(`bad EIP-55 checksum: ${text}`);
  return bytes;
}

