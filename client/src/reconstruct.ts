/**
 * Checking the nodes' ShareRequest answers and interpolating the user's private key, as pure functions (no I/O)
 * so that every rule can be tested with real cryptography and hand-corrupted answers.
 *
 * Trust model. Each answer carries the node's encrypted share s_i and two public values from consensus state:
 * the key's public key and `ShareCommitments` (g^{s_j} for every member j). Honest nodes send identical public
 * values, so the client trusts the values that at least k nodes sent identically (k = floor(n/2)+1, so no two
 * such groups exist), and only after checking them: they must be a degree-(k−1) polynomial in the exponent whose
 * value at 0 is the looked-up public key. Each decrypted share is then checked against its own commitment
 * (s_i·G = g^{s_i}) before use, so a node that sends a wrong share is named instead of silently breaking the
 * interpolation (torus.js instead tries every k-subset until one matches, and cannot say who lied).
 */
import { bytesToBigint, bytesToHex, hexToBytes } from '../../core/encoding/bytes.js';
import { decrypt } from '../../core/crypto/ecies.js';
import { publicKeyOf } from '../../core/crypto/keys.js';
import { encodePoint, G, mulSecret, parsePoint, type Point } from '../../core/crypto/point.js';
import { interpolate, interpolateInExponent } from '../../core/crypto/polynomial.js';
import { isScalar, scalarToBytes } from '../../core/crypto/scalar.js';
import type { ShareKey, ShareResult } from './protocol.js';

/** One node's validated ShareRequest result; `index` is the node's index from the network file. */
export interface NodeShareAnswer {
  readonly index: number;
  readonly result: ShareResult;
}

export interface BadNode {
  readonly index: number;
  readonly reason: string;
}

export interface ReconstructInput {
  readonly answers: readonly NodeShareAnswer[];
  /** The temporary secret key the shares were encrypted to. */
  readonly tempSecretKey: Uint8Array;
  /**
   * A key the caller already knows (e.g. from a lookup); the agreed public values must then be about it.
   * Without it the key is the one k nodes agree on in their answers — the same threshold a lookup has.
   */
  readonly expected?: { readonly keyIndex: bigint; readonly publicKey: Uint8Array };
  /** Reconstruction threshold, floor(n/2)+1. */
  readonly k: number;
  /** Every member's index (the network file's node indexes). */
  readonly memberIndexes: readonly number[];
}

export interface Reconstructed {
  readonly privateKey: Uint8Array;
  /** 65 bytes, uncompressed; the agreed public key (equal to `expected.publicKey` when given). */
  readonly publicKey: Uint8Array;
  readonly keyIndex: bigint;
  /** Nodes whose share was verified, ascending. */
  readonly goodNodes: number[];
  /** The k good nodes the key was interpolated from. */
  readonly usedNodes: number[];
  readonly badNodes: BadNode[];
}

/** Not enough verified shares, or the nodes' public values cannot be trusted. `badNodes` says who and why. */
export class ReconstructionError extends Error {
  override name = 'ReconstructionError';
  readonly badNodes: readonly BadNode[];

  constructor(message: string, badNodes: readonly BadNode[]) {
    super(badNodes.length === 0 ? message : `${message}\n${badNodes.map((b) => `  node ${b.index}: ${b.reason}`).join('\n')}`);
    this.badNodes = badNodes;
  }
}

export class ShareDecryptError extends Error {
  override name = 'ShareDecryptError';
}

/** Public values of one answer, parsed; `id` is their canonical form, equal exactly when the values are. */
interface PublicValues {
  readonly keyIndex: bigint;
  readonly publicKey: Point;
  readonly commitments: ReadonlyMap<number, Point>;
  readonly id: string;
}

interface Candidate {
  readonly index: number;
  readonly key: ShareKey;
  readonly values: PublicValues;
}

/** The key to use from an answer: the lowest key index, as torus.js does (keys sorted by Index as an integer). */
export function selectShareKey(result: ShareResult): ShareKey {
  let best: ShareKey | undefined;
  for (const key of result.keys) if (best === undefined || BigInt(`0x${key.Index}`) < BigInt(`0x${best.Index}`)) best = key;
  if (best === undefined) throw new ShareDecryptError('answer has no keys');
  return best;
}

function parsePublicValues(key: ShareKey): PublicValues {
  const keyIndex = BigInt(`0x${key.Index}`);
  const publicKey = parsePoint(`04${key.PublicKey.X.padStart(64, '0')}${key.PublicKey.Y.padStart(64, '0')}`, 'PublicKey');
  const commitments = new Map<number, Point>();
  for (const [index, hex] of Object.entries(key.ShareCommitments)) commitments.set(Number(index), parsePoint(hex, `ShareCommitments[${index}]`));
  const entries = [...commitments.entries()].sort(([a], [b]) => a - b).map(([i, p]) => `${i}=${bytesToHex(encodePoint(p))}`);
  return { keyIndex, publicKey, commitments, id: `${keyIndex.toString(16)}|${bytesToHex(encodePoint(publicKey))}|${entries.join(',')}` };
}

/**
 * Decrypts a share: `Share` is base64 of the ASCII hex of the ciphertext; the plaintext is s_i as minimal
 * big-endian bytes. Throws `ShareDecryptError` with the reason.
 */
export function decryptShare(tempSecretKey: Uint8Array, key: ShareKey): bigint {
  const asciiHex = Buffer.from(key.Share, 'base64').toString('latin1');
  if (!/^(?:[0-9a-fA-F]{2})+$/.test(asciiHex)) throw new ShareDecryptError('Share is not base64 of a hex string');
  let plaintext: Uint8Array;
  try {
    plaintext = decrypt(tempSecretKey, {
      ciphertext: hexToBytes(asciiHex),
      iv: hexToBytes(key.Metadata.iv),
      ephemPublicKey: hexToBytes(key.Metadata.ephemPublicKey),
      mac: hexToBytes(key.Metadata.mac),
    });
  } catch (cause) {
    throw new ShareDecryptError(`cannot decrypt the share: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
  }
  if (plaintext.length === 0 || plaintext.length > 32) throw new ShareDecryptError(`decrypted share is ${plaintext.length} bytes, expected 1 to 32`);
  const share = bytesToBigint(plaintext);
  if (!isScalar(share)) throw new ShareDecryptError('decrypted share is not below the group order');
  return share;
}

/**
 * Checks that the commitments are exactly one per member, lie on one polynomial of degree < k (interpolated in
 * the exponent from the k lowest indexes) and that its value at 0 is `publicKey`. Returns the first problem, or
 * undefined when they are consistent.
 */
export function commitmentsProblem(commitments: ReadonlyMap<number, Point>, publicKey: Point, k: number, memberIndexes: readonly number[]): string | undefined {
  const members = [...memberIndexes].sort((a, b) => a - b);
  const have = [...commitments.keys()].sort((a, b) => a - b);
  if (have.join(',') !== members.join(',')) return `share commitments are for nodes [${have.join(', ')}], the network's members are [${members.join(', ')}]`;
  if (members.length < k) return `only ${members.length} members for threshold ${k}`;
  const basis = members.slice(0, k).map((i) => ({ index: i, value: commitments.get(i) as Point }));
  for (const i of members.slice(k)) {
    if (!interpolateInExponent(basis, BigInt(i)).equals(commitments.get(i) as Point)) {
      return `share commitment of node ${i} is not on the degree-${k - 1} polynomial through nodes ${members.slice(0, k).join(', ')}`;
    }
  }
  if (!interpolateInExponent(basis, 0n).equals(publicKey)) return 'share commitments interpolate to a different public key';
  return undefined;
}

function describeDifference(mine: PublicValues, agreed: PublicValues): string {
  if (mine.keyIndex !== agreed.keyIndex) return `sent key index ${mine.keyIndex.toString(16)}, the agreed one is ${agreed.keyIndex.toString(16)}`;
  if (!mine.publicKey.equals(agreed.publicKey)) return 'sent a public key that differs from the one the other nodes agree on';
  const differing = [...new Set([...mine.commitments.keys(), ...agreed.commitments.keys()])]
    .filter((i) => {
      const a = mine.commitments.get(i);
      const b = agreed.commitments.get(i);
      return a === undefined || b === undefined || !a.equals(b);
    })
    .sort((a, b) => a - b);
  return `sent share commitments that differ from the agreed ones (for nodes ${differing.join(', ')})`;
}

/**
 * Verifies every answer, names the bad nodes and interpolates the private key from k verified shares.
 * Throws `ReconstructionError` when the public values are not agreed by k nodes or fail their checks, or when
 * fewer than k shares verify.
 */
export function reconstructKey(input: ReconstructInput): Reconstructed {
  const { k, memberIndexes, tempSecretKey } = input;
  if (!Number.isSafeInteger(k) || k < 1) throw new RangeError(`bad threshold ${k}`);
  const expected = input.expected === undefined ? undefined : { keyIndex: input.expected.keyIndex, publicKey: parsePoint(input.expected.publicKey, 'expected public key') };
  const bad = new Map<number, string>();
  const candidates: Candidate[] = [];

  for (const answer of [...input.answers].sort((a, b) => a.index - b.index)) {
    if (bad.has(answer.index) || candidates.some((c) => c.index === answer.index)) throw new RangeError(`two answers for node ${answer.index}`);
    try {
      const key = selectShareKey(answer.result);
      candidates.push({ index: answer.index, key, values: parsePublicValues(key) });
    } catch (err) {
      bad.set(answer.index, `invalid answer: ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  // The public values at least k nodes sent identically. Votes count even from nodes whose own share turns out
  // bad: the values come from consensus state, not from the node's share.
  const groups = new Map<string, Candidate[]>();
  for (const c of candidates) groups.set(c.values.id, [...(groups.get(c.values.id) ?? []), c]);
  const agreedGroup = [...groups.values()].find((group) => group.length >= k);
  if (agreedGroup === undefined) {
    const sizes = [...groups.values()].map((g) => `[${g.map((c) => c.index).join(', ')}]`).join(' ');
    throw new ReconstructionError(
      `fewer than ${k} nodes sent identical public key and share commitments (groups of identical answers: ${sizes || 'none'})`,
      [...bad.entries()].map(([index, reason]) => ({ index, reason })),
    );
  }
  const agreed = (agreedGroup[0] as Candidate).values;
  const agreeing = agreedGroup.map((c) => c.index).join(', ');
  if (expected !== undefined && agreed.keyIndex !== expected.keyIndex) {
    throw new ReconstructionError(`nodes ${agreeing} sent shares of key index ${agreed.keyIndex.toString(16)}, but the lookup returned ${expected.keyIndex.toString(16)}`, []);
  }
  if (expected !== undefined && !agreed.publicKey.equals(expected.publicKey)) {
    throw new ReconstructionError(`nodes ${agreeing} sent a public key that is not the looked-up key ${bytesToHex(expected.publicKey.toBytes(false))}`, []);
  }
  const problem = commitmentsProblem(agreed.commitments, agreed.publicKey, k, memberIndexes);
  if (problem !== undefined) throw new ReconstructionError(`the share commitments sent by nodes ${agreeing} are inconsistent: ${problem}`, []);

  const good: Array<{ index: bigint; value: bigint }> = [];
  for (const c of candidates) {
    if (c.values.id !== agreed.id) {
      bad.set(c.index, describeDifference(c.values, agreed));
      continue;
    }
    if (c.key.NodeIndex !== c.index) {
      bad.set(c.index, `answered with NodeIndex ${c.key.NodeIndex}, but it is node ${c.index} in the network file`);
      continue;
    }
    let share: bigint;
    try {
      share = decryptShare(tempSecretKey, c.key);
    } catch (err) {
      bad.set(c.index, err instanceof Error ? err.message : String(err));
      continue;
    }
    // The share is secret: constant-time multiplication.
    if (!mulSecret(G, share).equals(agreed.commitments.get(c.index) as Point)) {
      bad.set(c.index, 'share does not match its commitment (s_i·G ≠ ShareCommitments[i])');
      continue;
    }
    good.push({ index: BigInt(c.index), value: share });
  }

  const badNodes = [...bad.entries()].sort(([a], [b]) => a - b).map(([index, reason]) => ({ index, reason }));
  if (good.length < k) {
    throw new ReconstructionError(`only ${good.length} verified share(s), ${k} needed`, badNodes);
  }
  const used = good.slice(0, k);
  const secret = interpolate(used);
  // Cannot fail after the checks above (k points on the committed polynomial); kept so that a bug here cannot
  // hand out a wrong key.
  if (secret === 0n || !mulSecret(G, secret).equals(agreed.publicKey)) {
    throw new ReconstructionError('the interpolated key does not match the agreed public key', badNodes);
  }
  const privateKey = scalarToBytes(secret);
  return {
    privateKey,
    publicKey: publicKeyOf(privateKey),
    keyIndex: agreed.keyIndex,
    goodNodes: good.map((g) => Number(g.index)),
    usedNodes: used.map((g) => Number(g.index)),
    badNodes,
  };
}
