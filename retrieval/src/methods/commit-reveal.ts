/**
 * Commit–reveal login (torus-node.md §2.6–2.7, torus-client.md §2.4).
 *
 * CommitmentRequest: the user sends keccak256(id token) and a temporary public key. The node binds that
 * token hash to that key (first come, first bound; kept across restarts) and signs the legacy string
 * "mug00␜commitment␜tempX␜tempY␜verifier␜unix-seconds" with its node key.
 *
 * ShareRequest: the user reveals the token with the signatures it collected. The node answers its share of
 * each of the user's keys, encrypted to the temporary key it bound at commit time, only if
 *   - at least k signatures by distinct members of this epoch, each valid and recent, cover the same
 *     (prefix, commitment, verifier, temporary key) — the Go node grouped without the key and effectively
 *     picked an arbitrary group; we group properly and need the group to match this token and this node's
 *     own commitment record;
 *   - keccak256 of the trimmed token equals that commitment, and the token was not revealed here before;
 *   - the token verifies with the named verifier and names the claimed verifier_id.
 * Nothing on this path talks to other nodes. The used-token record is durable before the share leaves.
 */
import { z } from 'zod';
import { bytesToHex, hexToBytes, utf8 } from '../../../core/encoding/bytes.js';
import { keccak256 } from '../../../core/crypto/hash.js';
import { encodePoint, G, mulSecret, parsePoint, type Point } from '../../../core/crypto/point.js';
import { interpolateInExponent } from '../../../core/crypto/polynomial.js';
import { verifyLegacySignature } from '../../../core/crypto/signature.js';
import { encrypt } from '../../../core/crypto/ecies.js';
import { define, inputError, internalError } from '../jsonrpc.js';
import type { Member, RetrievalContext, SignatureRejection } from '../context.js';
import type { UserKey } from '../mapping.js';
import { ShareHandedOverError, ShareUnavailableError } from '../share-source.js';
import { TokenRejectedError } from '../verifiers/types.js';
import { bigHex, legacyPoint } from './format.js';
import { HexCoordinate, VerifierId, VerifierName } from './params.js';
import { checkVerifier, NOT_ASSIGNED, VERIFIER_NOT_SUPPORTED } from './resolver.js';

export const MESSAGE_PREFIX = 'mug00';
const DELIMITER = '\x1c';

const Commitment = z.string().regex(/^[0-9a-fA-F]{64}$/, 'tokencommitment must be 64 hex digits (keccak256) without 0x');

const CommitmentParams = z.object({
  messageprefix: z.string().max(32),
  tokencommitment: Commitment,
  temppubx: HexCoordinate,
  temppuby: HexCoordinate,
  verifieridentifier: VerifierName,
});

const NodeSignature = z.object({
  signature: z.string().regex(/^[0-9a-fA-F]{128}([0-9a-fA-F]{2})?$/, 'signature must be r‖s‖v as 130 hex digits'),
  data: z.string().max(1024),
  nodepubx: HexCoordinate,
  nodepuby: HexCoordinate,
});

const ShareItem = z.object({
  idtoken: z.string().min(1).max(16 * 1024),
  verifieridentifier: VerifierName,
  verifier_id: VerifierId,
  // torus.js puts null where a node answered its commitment with an error (torus-client.md §4.3 #4).
  nodesignatures: z.array(NodeSignature.nullable()).max(256),
});

const ShareParams = z.object({
  encrypted: z.string().max(16).optional(),
  item: z.array(ShareItem).min(1).max(1, 'one item per ShareRequest: each key needs one verifier (Threshold 1)'),
});

/** The legacy string a commitment signature covers, with the values exactly as the client sent them. */
export function commitmentData(commitment: string, x: string, y: string, verifier: string, signedAt: number): string {
  return [MESSAGE_PREFIX, commitment, x, y, verifier, String(signedAt)].join(DELIMITER);
}

interface SignedCommitment {
  readonly commitment: string;
  readonly verifier: string;
  readonly x: bigint;
  readonly y: bigint;
  readonly signedAt: number;
}

function parseData(data: string): SignedCommitment | undefined {
  const parts = data.split(DELIMITER);
  if (parts.length !== 6) return undefined;
  const [prefix, commitment, x, y, verifier, signedAt] = parts as [string, string, string, string, string, string];
  if (prefix !== MESSAGE_PREFIX || !/^[0-9a-fA-F]{64}$/.test(commitment) || !/^[0-9a-fA-F]{1,64}$/.test(x) || !/^[0-9a-fA-F]{1,64}$/.test(y)) return undefined;
  if (!/^\d{1,12}$/.test(signedAt)) return undefined;
  return { commitment: commitment.toLowerCase(), verifier, x: BigInt(`0x${x}`), y: BigInt(`0x${y}`), signedAt: Number(signedAt) };
}

function countSignatures(ctx: RetrievalContext, signatures: ReadonlyArray<z.infer<typeof NodeSignature> | null>, commitment: string, verifier: string) {
  const now = ctx.now();
  const groups = new Map<string, { x: bigint; y: bigint; signers: Set<number> }>();
  const rejected = new Map<SignatureRejection, number>();
  const reject = (why: SignatureRejection) => rejected.set(why, (rejected.get(why) ?? 0) + 1);
  for (const entry of signatures) {
    if (entry === null) continue;
    const signed = parseData(entry.data);
    if (signed === undefined) { reject('malformed'); continue; }
    const member = findMember(ctx.members, BigInt(`0x${entry.nodepubx}`), BigInt(`0x${entry.nodepuby}`));
    if (member === undefined) { reject('non-member'); continue; }
    if (!verifyLegacySignature(member.publicKey, utf8(entry.data), hexToBytes(entry.signature))) { reject('invalid'); continue; }
    if (signed.signedAt > now + ctx.limits.clockSkewSeconds) { reject('future'); continue; }
    if (now - signed.signedAt > ctx.limits.signatureWindowSeconds) { reject('expired'); continue; }
    if (signed.commitment !== commitment || signed.verifier !== verifier) { reject('other token'); continue; }
    const group = `${signed.x.toString(16)}|${signed.y.toString(16)}`;
    const entryGroup = groups.get(group) ?? { x: signed.x, y: signed.y, signers: new Set<number>() };
    entryGroup.signers.add(member.index);
    groups.set(group, entryGroup);
  }
  let best: { x: bigint; y: bigint; signers: Set<number> } | undefined;
  for (const group of groups.values()) if (best === undefined || group.signers.size > best.signers.size) best = group;
  return { best, rejected };
}

function findMember(members: readonly Member[], x: bigint, y: bigint): Member | undefined {
  return members.find((m) => m.x === x && m.y === y);
}

function describe(rejected: Map<SignatureRejection, number>): string {
  return rejected.size === 0 ? '' : ` (not counted: ${[...rejected].map(([why, count]) => `${count} ${why}`).join(', ')})`;
}

/** g^{s_j} for every member j, from the k published points that fix the key's share polynomial. */
export function shareCommitments(key: UserKey, members: readonly Member[]): Map<number, Point> {
  const points = (key.share_publics ?? []).map((p) => ({ index: BigInt(p.index), value: parsePoint(p.point) }));
  const out = new Map<number, Point>();
  if (points.length === 0) return out;
  for (const member of members) out.set(member.index, interpolateInExponent(points, BigInt(member.index)));
  return out;
}

function shareBytes(share: bigint): Uint8Array {
  // The Go node sent big.Int.Bytes(): big-endian without leading zeros (torus-client.md §2.5).
  const hex = share.toString(16);
  return hexToBytes(hex.length % 2 === 0 ? hex : `0${hex}`);
}

export function commitRevealMethods(ctx: RetrievalContext) {
  return {
    CommitmentRequest: define({
      params: CommitmentParams,
      async handle(p) {
        if (p.messageprefix !== MESSAGE_PREFIX) throw internalError('Incorrect message prefix');
        if (ctx.verifiers.get(p.verifieridentifier) === undefined) throw inputError(VERIFIER_NOT_SUPPORTED);
        let tempKey: Point;
        try {
          tempKey = parsePoint(`04${p.temppubx.padStart(64, '0')}${p.temppuby.padStart(64, '0')}`, 'temporary public key');
        } catch {
          throw inputError('temppubx, temppuby is not a point on secp256k1');
        }
        const now = ctx.now();
        const { x, y } = tempKey.toAffine();
        const recorded = await ctx.tokens.recordCommitment(
          p.verifieridentifier, p.tokencommitment.toLowerCase(),
          { x: x.toString(16).padStart(64, '0'), y: y.toString(16).padStart(64, '0') }, now + ctx.limits.commitmentTtlSeconds, now,
        );
        if (recorded === 'duplicate') {
          ctx.metrics?.tokenReplayRejected('CommitmentRequest');
          throw internalError('Duplicate token found');
        }
        const data = commitmentData(p.tokencommitment, p.temppubx, p.temppuby, p.verifieridentifier, now);
        const signature = ctx.signer.signLegacy(utf8(data));
        const self = ctx.members.find((m) => m.index === ctx.selfIndex) as Member;
        return { signature: bytesToHex(signature), data, nodepubx: bigHex(self.x), nodepuby: bigHex(self.y) };
      },
    }),

    ShareRequest: define({
      params: ShareParams,
      async handle(p) {
        const item = p.item[0] as z.infer<typeof ShareItem>;
        const verifierName = item.verifieridentifier;
        const verifier = checkVerifier(ctx, verifierName, item.verifier_id);
        // Uniqueness and the commitment are checked on the trimmed token, so added whitespace changes nothing.
        const token = item.idtoken.trim();
        const tokenHash = bytesToHex(keccak256(utf8(token)));

        const { best, rejected } = countSignatures(ctx, item.nodesignatures, tokenHash, verifierName);
        for (const [reason, count] of rejected) ctx.metrics?.signaturesRejected(reason, count);
        const k = ctx.epoch.k;
        if (best === undefined && (rejected.get('other token') ?? 0) > 0) throw internalError('Token commitment and token are not compatible');
        const found = best?.signers.size ?? 0;
        if (best === undefined || found < k) {
          throw internalError(`Not enough valid signatures: need ${k} by distinct nodes of epoch ${ctx.epoch.id} over this token's commitment, found ${found}${describe(rejected)}`);
        }
        const now = ctx.now();
        const committed = ctx.tokens.committedKey(verifierName, tokenHash, now);
        if (committed === undefined) throw internalError('this node holds no commitment for this token; send CommitmentRequest first');
        if (BigInt(`0x${committed.x}`) !== best.x || BigInt(`0x${committed.y}`) !== best.y) {
          throw internalError('the signatures cover a different temporary key than the one committed at this node');
        }
        if (!ctx.tokens.claim(tokenHash, now)) {
          ctx.metrics?.tokenReplayRejected('ShareRequest');
          throw internalError('Duplicate token found: this id token was already used');
        }
        try {
          let verified;
          try {
            verified = await verifier.verify(token, item.verifier_id);
          } catch (err) {
            if (err instanceof TokenRejectedError) throw inputError(`Could not verify params: ${err.message}`);
            throw err;
          }
          const keys = await ctx.mapping.keysOfWithin(verifierName, verified.verifierId, ctx.limits.assignmentWaitMs);
          if (keys === undefined || keys.length === 0) throw inputError(NOT_ASSIGNED);
          const recipient = hexToBytes(`04${committed.x}${committed.y}`);
          const answered = [];
          for (const key of [...keys].sort((a, b) => a.key_index - b.key_index)) {
            answered.push(await encryptedShare(ctx, key, recipient, verifierName, verified.verifierId));
          }
          await ctx.tokens.markUsed(tokenHash, Math.max(verified.expiresAt, now) + ctx.limits.clockSkewSeconds);
          ctx.metrics?.sharesServed(answered.length);
          return { keys: answered };
        } finally {
          ctx.tokens.release(tokenHash);
        }
      },
    }),
  };
}

interface PublicShareData {
  readonly own: Point | undefined;
  /** The ShareCommitments field as sent. */
  readonly json: Record<string, string>;
}

/** Per key record (the mapping client reuses cached records): derived once, since they never change. */
const publicShareData = new WeakMap<UserKey, PublicShareData>();

function publicDataOf(ctx: RetrievalContext, key: UserKey): PublicShareData {
  let data = publicShareData.get(key);
  if (data === undefined) {
    const commitments = shareCommitments(key, ctx.members);
    data = {
      own: commitments.get(ctx.selfIndex),
      json: Object.fromEntries([...commitments].map(([index, point]) => [String(index), bytesToHex(encodePoint(point))])),
    };
    publicShareData.set(key, data);
  }
  return data;
}

async function encryptedShare(ctx: RetrievalContext, key: UserKey, recipient: Uint8Array, verifier: string, verifierId: string) {
  const { own, json: commitmentsJson } = publicDataOf(ctx, key);
  if (own === undefined) throw internalError(`key ${key.key_index} has no share commitments; it was not made by key generation`);
  let share: bigint;
  try {
    share = await ctx.shares.share(key.epoch, key.key_index);
  } catch (err) {
    // The hand-over text is the same at every old node (a fact of committed state), so the wallet sees one
    // reason naming where the key lives now, not a per-node failure.
    if (err instanceof ShareHandedOverError) throw internalError(err.message);
    if (err instanceof ShareUnavailableError) throw internalError(`this node cannot serve key ${key.key_index}: ${err.message}`);
    throw err;
  }
  // A share that does not match the consensus commitment would only make the client name this node as
  // faulty; refuse to send it. A plain Error is the node's own fault: logged, and the caller told so.
  if (!mulSecret(G, share).equals(own)) {
    throw new Error(`this node's share of key ${key.key_index} does not match its commitment`);
  }
  const payload = encrypt(recipient, shareBytes(share));
  return {
    Index: bigHex(key.key_index),
    PublicKey: legacyPoint(key.public_key),
    Threshold: 1,
    Verifiers: { [verifier]: [verifierId] },
    // base64 of the ASCII hex of the ciphertext, as the Go node's []byte(hex) marshalled (torus-client.md §2.5).
    Share: Buffer.from(bytesToHex(payload.ciphertext), 'ascii').toString('base64'),
    Metadata: { iv: bytesToHex(payload.iv), ephemPublicKey: bytesToHex(payload.ephemPublicKey), mac: bytesToHex(payload.mac), mode: 'AES256' },
    // Extensions (old clients ignore them): which share this is, and every member's g^{s_j} from consensus.
    NodeIndex: ctx.selfIndex,
    ShareCommitments: commitmentsJson,
  };
}
