/**
 * Test fixtures built with the real cryptography: a user key Shamir-split among n members, the public values
 * honest nodes would send (public key, g^{s_i} for every member), ShareRequest answers encrypted with the real
 * ECIES, and unsigned JWT-shaped tokens. Shared by the pure tests and the fake HTTP nodes.
 */
import { bytesToHex, hexToBytes } from '../../core/encoding/bytes.js';
import { encrypt } from '../../core/crypto/ecies.js';
import { checksumAddress, ethereumAddress, publicKeyOf, randomSecretKey } from '../../core/crypto/keys.js';
import { encodePoint, G, mulSecret } from '../../core/crypto/point.js';
import { shamirSplit } from '../../core/crypto/polynomial.js';
import { randomScalar, scalarToBytes } from '../../core/crypto/scalar.js';
import type { Network } from '../src/network.js';
import type { LookupResult, ShareKey, ShareResult } from '../src/protocol.js';

export interface TestKey {
  readonly keyIndex: bigint;
  readonly secret: bigint;
  readonly privateKey: Uint8Array;
  /** 65 bytes. */
  readonly publicKey: Uint8Array;
  readonly address: string;
  /** s_i by member index. */
  readonly shares: ReadonlyMap<number, bigint>;
  /** Compressed g^{s_i} hex by member index, as ShareCommitments carries them. */
  readonly commitments: Readonly<Record<string, string>>;
}

/** A fresh key shared with threshold k among members 1..n. */
export function makeKey(n: number, k: number, keyIndex = 0x1fn): TestKey {
  const secret = randomScalar();
  const privateKey = scalarToBytes(secret);
  const publicKey = publicKeyOf(privateKey);
  const shares = new Map<number, bigint>();
  const commitments: Record<string, string> = {};
  for (const { index, value } of shamirSplit(secret, k, n)) {
    shares.set(Number(index), value);
    commitments[String(index)] = bytesToHex(encodePoint(mulSecret(G, value)));
  }
  return { keyIndex, secret, privateKey, publicKey, address: checksumAddress(ethereumAddress(publicKey)), shares, commitments };
}

/** Go's big.Int Text(16): lowercase, no padding. */
export function unpaddedHex(bytes: Uint8Array): string {
  return BigInt(`0x${bytesToHex(bytes)}`).toString(16);
}

/** Minimal big-endian bytes of a share, as the Go node's `si.Bytes()`. */
export function minimalBytes(value: bigint): Uint8Array {
  const hex = value.toString(16);
  return hexToBytes(hex.length % 2 === 0 ? hex : `0${hex}`);
}

export function lookupResult(key: TestKey): LookupResult {
  return {
    keys: [
      {
        key_index: key.keyIndex.toString(16),
        pub_key_X: unpaddedHex(key.publicKey.subarray(1, 33)),
        pub_key_Y: unpaddedHex(key.publicKey.subarray(33, 65)),
        address: key.address,
      },
    ],
  };
}

export interface ShareAnswerOptions {
  /** Encrypt this value instead of the node's share. */
  readonly shareValue?: bigint;
  readonly nodeIndex?: number;
  readonly commitments?: Record<string, string>;
}

/** The key entry an honest node `index` returns, encrypted to `tempPublicKey` (65 bytes or hex). */
export function shareKey(key: TestKey, index: number, tempPublicKey: Uint8Array | string, options: ShareAnswerOptions = {}): ShareKey {
  const value = options.shareValue ?? (key.shares.get(index) as bigint);
  const payload = encrypt(tempPublicKey, minimalBytes(value));
  return {
    Index: key.keyIndex.toString(16),
    PublicKey: { X: unpaddedHex(key.publicKey.subarray(1, 33)), Y: unpaddedHex(key.publicKey.subarray(33, 65)) },
    Share: Buffer.from(bytesToHex(payload.ciphertext), 'latin1').toString('base64'),
    Metadata: { iv: bytesToHex(payload.iv), ephemPublicKey: bytesToHex(payload.ephemPublicKey), mac: bytesToHex(payload.mac) },
    NodeIndex: options.nodeIndex ?? index,
    ShareCommitments: options.commitments ?? { ...key.commitments },
  };
}

export function shareResult(key: TestKey, index: number, tempPublicKey: Uint8Array | string, options: ShareAnswerOptions = {}): ShareResult {
  return { keys: [shareKey(key, index, tempPublicKey, options)] };
}

/** A network description for members 1..n at the given endpoints. */
export function makeNetwork(endpoints: readonly string[], extra: Partial<Network> = {}): Network {
  const n = endpoints.length;
  return {
    chain_id: 'torus-test',
    epoch: 1,
    n,
    k: Math.floor(n / 2) + 1,
    nodes: endpoints.map((endpoint, i) => ({ index: i + 1, endpoint, public_key: bytesToHex(publicKeyOf(randomSecretKey())) })),
    ...extra,
  };
}

const base64url = (text: string): string => Buffer.from(text, 'utf8').toString('base64url');

/** An unsigned JWT-shaped token; the client only decodes it. */
export function fakeIdToken(claims: Record<string, unknown>): string {
  return `${base64url(JSON.stringify({ alg: 'RS256', typ: 'JWT' }))}.${base64url(JSON.stringify({ iss: 'test', ...claims }))}.c2ln`;
}
