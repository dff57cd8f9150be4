/**
 * Node signatures: ECDSA over secp256k1 with SHA-256 of a domain-separated message (see `domainMessage`).
 *
 * Every validator verifies every transaction, so verification speed bounds the mapping throughput. We use
 * libsecp256k1 (bitcoin-core's library, through the `secp256k1` package's prebuilt N-API binding): about
 * 50 µs per verify against about 400 µs in OpenSSL and 1.3 ms in pure JS on the reference machine. Signing
 * is deterministic (RFC 6979) and constant-time. Signatures are 64-byte r‖s with low s; a high-s signature
 * does not verify, so each message has exactly one valid encoding per key and nonce.
 */
import { createHash } from 'node:crypto';
import secp256k1 from 'secp256k1';
import { domainMessage, keccak256 } from './hash.js';
import { checksumAddress, ethereumAddress, publicKeyOf } from './keys.js';

function digest(tag: string, parts: readonly Uint8Array[]): Uint8Array {
  return createHash('sha256').update(domainMessage(tag, parts)).digest();
}

/** A node's signing identity. The secret never leaves this object. */
export class NodeSigner {
  readonly publicKey: Uint8Array;
  readonly address: Uint8Array;
  readonly #secretKey: Uint8Array;

  constructor(secretKey: Uint8Array) {
    this.publicKey = publicKeyOf(secretKey);
    this.address = ethereumAddress(this.publicKey);
    this.#secretKey = Uint8Array.from(secretKey);
  }

  get checksumAddress(): string {
    return checksumAddress(this.address);
  }

  /** Signs `domainMessage(tag, parts)`; returns r‖s (64 bytes) with low s. */
  sign(tag: string, parts: readonly Uint8Array[]): Uint8Array {
    return secp256k1.ecdsaSign(digest(tag, parts), this.#secretKey).signature;
  }

  /**
   * A legacy Torus node signature (torus-node.md §0): ECDSA over keccak256(message), 65 bytes r‖s‖v with
   * v = 27 + recovery id. Only for what the legacy API fixes byte for byte (the commitment signature over
   * "mug00␜…"); it cannot be confused with `sign`, which hashes a tagged message with SHA-256.
   */
  signLegacy(message: Uint8Array): Uint8Array {
    const { signature, recid } = secp256k1.ecdsaSign(keccak256(message), this.#secretKey);
    const out = new Uint8Array(65);
    out.set(signature);
    out[64] = 27 + recid;
    return out;
  }

  /** Keeps the key out of logs and JSON. */
  toJSON(): { address: string } {
    return { address: this.checksumAddress };
  }
}

/** Verifies a 64-byte low-s signature over `domainMessage(tag, parts)`. Never throws on bad input. */
export function verifySignature(publicKey: Uint8Array, tag: string, parts: readonly Uint8Array[], signature: Uint8Array): boolean {
  if (signature.length !== 64 || (publicKey.length !== 33 && publicKey.length !== 65)) return false;
  try {
    return secp256k1.ecdsaVerify(signature, digest(tag, parts), publicKey);
  } catch {
    // Unparseable signature (r or s out of range) or public key.
    return false;
  }
}

/**
 * Verifies a legacy signature (see `NodeSigner.signLegacy`) from r‖s, ignoring v as the Go node did. A
 * high-s signature is accepted, also as the Go node did (Go's ecdsa.Verify takes either form), so that
 * signatures by other implementations of the legacy node count. Never throws on bad input.
 */
export function verifyLegacySignature(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
  if (signature.length !== 64 && signature.length !== 65) return false;
  try {
    const rs = secp256k1.signatureNormalize(Uint8Array.from(signature.subarray(0, 64)));
    return secp256k1.ecdsaVerify(rs, keccak256(message), publicKey);
  } catch {
    return false;
  }
}

/** True for a 33-byte compressed encoding of a point on the curve (the identity has no such encoding). */
export function isCompressedPoint(bytes: Uint8Array): boolean {
  return bytes.length === 33 && (bytes[0] === 2 || bytes[0] === 3) && secp256k1.publicKeyVerify(bytes);
}

export { signatureBackend } from './native.js';

