/**
 * ECIES as done by npm `eccrypto` / `@toruslabs/eccrypto` and the Go node's `go-eccrypto`, so that torus.js
 * clients can decrypt the shares this node returns:
 *
 *   ephemeral key e, E = g^e (65-byte uncompressed), Px = x(e · recipient) as 32 bytes, zero-padded
 *   SHA-512(Px) = encKey (first 32 bytes) ‖ macKey (last 32 bytes)
 *   ciphertext = AES-256-CBC(encKey, iv, PKCS#7(plaintext)), iv 16 random bytes
 *   mac = HMAC-SHA256(macKey, iv ‖ E ‖ ciphertext)
 *
 * Px is always padded to 32 bytes, as Go does; eccrypto >= 2 accepts that, while the old pure-JS eccrypto
 * fallback (unpadded) fails on about 1 in 256 messages (torus-client.md §2.5). ECDH runs in libsecp256k1
 * (constant-time, ~70 µs), or in noble's constant-time `multiply` without the native library; AES and HMAC run in OpenSSL through node:crypto. The MAC is checked, in constant
 * time, before any decryption, so there is no padding oracle.
 */
import { createCipheriv, createDecipheriv, createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { parsePublicKey, parseSecretKey, publicKeyOf, randomSecretKey } from './keys.js';
import { libsecp256k1 } from './native.js';

export class EciesError extends Error {
  override name = 'EciesError';
}

export interface EciesPayload {
  /** 16 bytes. */
  readonly iv: Uint8Array;
  /** 65 bytes, 04 ‖ X ‖ Y. */
  readonly ephemPublicKey: Uint8Array;
  readonly ciphertext: Uint8Array;
  /** 32 bytes. */
  readonly mac: Uint8Array;
}

const IV_BYTES = 16;
const MAC_BYTES = 32;
const AES_BLOCK = 16;

/** Px, the x-coordinate of secretKey · publicKey as 32 bytes (zero-padded), in constant time. */
function sharedX(secretKey: Uint8Array, publicKey: Uint8Array): Uint8Array {
  if (libsecp256k1 !== undefined) {
    // libsecp256k1's ECDH hands the coordinates to hashfn; returning x unhashed gives the eccrypto Px.
    return libsecp256k1.ecdh(publicKey, secretKey, { hashfn: (x) => x, xbuf: new Uint8Array(32), ybuf: new Uint8Array(32) }, new Uint8Array(32));
  }
  // Compressed output is 0x02/0x03 ‖ x with x already fixed at 32 bytes, i.e. the zero-padded Px.
  return secp256k1.getSharedSecret(secretKey, publicKey, true).subarray(1);
}

function deriveKeys(secretKey: Uint8Array, publicKey: Uint8Array): { encKey: Buffer; macKey: Buffer } {
  const px = sharedX(secretKey, publicKey);
  const digest = createHash('sha512').update(px).digest();
  return { encKey: digest.subarray(0, 32), macKey: digest.subarray(32, 64) };
}

function computeMac(macKey: Uint8Array, iv: Uint8Array, ephemPublicKey: Uint8Array, ciphertext: Uint8Array): Buffer {
  return createHmac('sha256', macKey).update(iv).update(ephemPublicKey).update(ciphertext).digest();
}

function encryptWith(recipientPublicKey: Uint8Array | string, plaintext: Uint8Array, ephemeralSecretKey: Uint8Array, iv: Uint8Array): EciesPayload {
  let recipient: Uint8Array;
  try {
    recipient = parsePublicKey(recipientPublicKey);
  } catch (cause) {
    throw new EciesError('ECIES recipient public key is invalid', { cause });
  }
  if (!(plaintext instanceof Uint8Array)) throw new EciesError('ECIES plaintext must be bytes');
  if (!(iv instanceof Uint8Array) || iv.length !== IV_BYTES) throw new EciesError(`ECIES iv must be ${IV_BYTES} bytes`);
  const ephemeral = parseSecretKey(ephemeralSecretKey);
  const ephemPublicKey = publicKeyOf(ephemeral);
  const { encKey, macKey } = deriveKeys(ephemeral, recipient);
  const cipher = createCipheriv('aes-256-cbc', encKey, iv);
  const ciphertext = new Uint8Array(Buffer.concat([cipher.update(plaintext), cipher.final()]));
  const mac = new Uint8Array(computeMac(macKey, iv, ephemPublicKey, ciphertext));
  return { iv: new Uint8Array(iv), ephemPublicKey, ciphertext, mac };
}

/** Encrypts to a secp256k1 public key (33 or 65 bytes, or hex) with a fresh ephemeral key and IV. */
export function encrypt(recipientPublicKey: Uint8Array | string, plaintext: Uint8Array): EciesPayload {
  const iv = new Uint8Array(IV_BYTES);
  globalThis.crypto.getRandomValues(iv);
  return encryptWith(recipientPublicKey, plaintext, randomSecretKey(), iv);
}

/**
 * Decrypts an eccrypto payload with the recipient's 32-byte secret key. Throws `EciesError` on malformed fields,
 * on a MAC mismatch (wrong key or tampered data) and on bad padding.
 */
export function decrypt(secretKey: Uint8Array, payload: EciesPayload): Uint8Array {
  let key: Uint8Array;
  try {
    key = parseSecretKey(secretKey);
  } catch (cause) {
    throw new EciesError('ECIES secret key is invalid', { cause });
  }
  const { iv, ephemPublicKey, ciphertext, mac } = payload;
  if (!(iv instanceof Uint8Array) || iv.length !== IV_BYTES) throw new EciesError(`ECIES iv must be ${IV_BYTES} bytes`);
  if (!(mac instanceof Uint8Array) || mac.length !== MAC_BYTES) throw new EciesError(`ECIES mac must be ${MAC_BYTES} bytes`);
  if (!(ciphertext instanceof Uint8Array) || ciphertext.length === 0 || ciphertext.length % AES_BLOCK !== 0) {
    throw new EciesError(`ECIES ciphertext must be a non-empty multiple of ${AES_BLOCK} bytes`);
  }
  // The MAC covers these exact bytes, and eccrypto always sends the uncompressed form.
  if (!(ephemPublicKey instanceof Uint8Array) || ephemPublicKey.length !== 65) {
    throw new EciesError('ECIES ephemeral public key must be 65 bytes (uncompressed)');
  }
  try {
    parsePublicKey(ephemPublicKey);
  } catch (cause) {
    throw new EciesError('ECIES ephemeral public key is not a point on secp256k1', { cause });
  }
  const { encKey, macKey } = deriveKeys(key, ephemPublicKey);
  const expected = computeMac(macKey, iv, ephemPublicKey, ciphertext);
  if (!timingSafeEqual(expected, mac)) throw new EciesError('ECIES MAC mismatch: wrong key or tampered payload');
  try {
    const decipher = createDecipheriv('aes-256-cbc', encKey, iv);
    return new Uint8Array(Buffer.concat([decipher.update(ciphertext), decipher.final()]));
  } catch (cause) {
    throw new EciesError('ECIES padding is invalid', { cause });
  }
}

/** Test hooks: deterministic encryption with a chosen ephemeral key and IV. Never use outside tests. */
export const __TEST = { encryptWith };
