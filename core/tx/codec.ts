/**
 * Encoding, decoding and validation of mapping transactions. `decodeSignedTx` is the only way bytes from
 * the wire become a `SignedTx`; it checks structure and encodings but not signatures or state.
 */
import protobuf from 'protobufjs';
import { isCompressedPoint } from '../crypto/signature.js';
import { u32be, u64be, utf8 } from '../encoding/bytes.js';
import { SignedTxType, TxPayloadType } from './schema.js';
import {
  LIMITS, TX_VERSION, type KeyAttestation, type MappingTransferBody, type ProposedDealing, type SignedTx, type TxBody, type TxPayload,
} from './types.js';
import { CHUNK_SIZE, type MappingItem } from '../handoff/mapping.js';

export class TxDecodeError extends Error {
  override name = 'TxDecodeError';
  constructor(readonly reason: 'malformed' | 'version' | 'too_large', message: string, options?: ErrorOptions) {
    super(message, options);
  }
}

const U64_MAX = 0xffffffffffffffffn;
const TO_OBJECT: protobuf.IConversionOptions = { longs: String };

/** 64-bit fields are read as decimal strings (`longs: String`) so no precision is lost. */
function toBigint(value: unknown, field: string): bigint {
  if (value === undefined || value === null) return 0n;
  if (typeof value === 'string' && /^[0-9]{1,20}$/.test(value)) {
    const v = BigInt(value);
    if (v <= U64_MAX) return v;
  }
  throw new TxDecodeError('malformed', `${field} is not an unsigned 64-bit integer`);
}

function bytesField(value: unknown, field: string): Uint8Array {
  if (value === undefined || value === null) return new Uint8Array(0);
  if (value instanceof Uint8Array) return value;
  throw new TxDecodeError('malformed', `${field} is not bytes`);
}

function stringField(value: unknown, field: string, maxBytes: number): string {
  if (typeof value !== 'string' || value.length === 0) throw new TxDecodeError('malformed', `${field} is empty`);
  if (utf8(value).length > maxBytes) throw new TxDecodeError('malformed', `${field} is longer than ${maxBytes} bytes`);
  if (value.trim() !== value) throw new TxDecodeError('malformed', `${field} has leading or trailing white space`);
  return value;
}


function decodeBody(raw: Record<string, unknown>): TxBody {
  const assign = raw['assign_key'] as Record<string, unknown> | undefined;
  const register = raw['register_key'] as Record<string, unknown> | undefined;
  if (assign !== undefined) {
    return {
      type: 'assign_key',
      verifier: stringField(assign['verifier'], 'verifier', LIMITS.maxVerifierBytes),
      verifierId: stringField(assign['verifier_id'], 'verifier_id', LIMITS.maxVerifierIdBytes),
    };
  }
  if (register !== undefined) {
    const publicKey = bytesField(register['public_key'], 'public_key');
    if (!isCompressedPoint(publicKey)) throw new TxDecodeError('malformed', 'public_key is not a valid compressed point');
    const rawCommitments = (register['commitments'] ?? []) as unknown[];
    if (rawCommitments.length === 0 || rawCommitments.length > LIMITS.maxCommitments) {
      throw new TxDecodeError('malformed', `commitments has ${rawCommitments.length} entries`);
    }
    const commitments = rawCommitments.map((c, i) => {
      const point = bytesField(c, `commitments[${i}]`);
      if (!isCompressedPoint(point)) throw new TxDecodeError('malformed', `commitments[${i}] is not a valid compressed point`);
      return point;
    });
    const attestations = attestationList(register['attestations'], LIMITS.maxAttestations);
    return { type: 'register_key', keyIndex: toBigint(register['key_index'], 'key_index'), publicKey, commitments, attestations };
  }
  for (const type of ['keygen_propose', 'reshare_propose'] as const) {
    const propose = raw[type] as Record<string, unknown> | undefined;
    if (propose !== undefined) return { type, keyIndex: toBigint(propose['key_index'], 'key_index'), dealings: proposedDealings(type, propose['dealings']) };
  }
  const publish = raw['key_publish'] as Record<string, unknown> | undefined;
  if (publish !== undefined) {
    const rawProofs = (publish['proofs'] ?? []) as Record<string, unknown>[];
    if (rawProofs.length === 0 || rawProofs.length > LIMITS.maxNodes) throw new TxDecodeError('malformed', `key_publish has ${rawProofs.length} proofs`);
    const proofs = rawProofs.map((p, i) => ({
      nodeIndex: indexField(p['node_index'], `proofs[${i}].node_index`),
      sharePublic: pointField(p['share_public'], `proofs[${i}].share_public`),
      proof: fixedBytes(p['proof'], 96, `proofs[${i}].proof`),
    }));
    return { type: 'key_publish', keyIndex: toBigint(publish['key_index'], 'key_index'), proofs };
  }
  const freeze = raw['freeze_vote'] as Record<string, unknown> | undefined;
  if (freeze !== undefined) return { type: 'freeze_vote', nextEpoch: toBigint(freeze['next_epoch'], 'next_epoch') };
  const transfer = raw['mapping_transfer'] as Record<string, unknown> | undefined;
  if (transfer !== undefined) return decodeMappingTransfer(transfer);
  throw new TxDecodeError('malformed', 'transaction has no body');
}

function decodeMappingTransfer(raw: Record<string, unknown>): MappingTransferBody {
  const chunkCount = indexField(raw['chunk_count'], 'chunk_count');
  const chunkIndex = uint32Field(raw['chunk_index'], 'chunk_index');
  if (chunkIndex >= chunkCount) throw new TxDecodeError('malformed', `chunk_index ${chunkIndex} is not below chunk_count ${chunkCount}`);
  const rawItems = (raw['items'] ?? []) as Record<string, unknown>[];
  if (rawItems.length > CHUNK_SIZE) throw new TxDecodeError('malformed', `mapping_transfer has ${rawItems.length} items, at most ${CHUNK_SIZE}`);
  const items: MappingItem[] = rawItems.map((item, i) => {
    const rawCommitments = (item['commitments'] ?? []) as unknown[];
    if (rawCommitments.length === 0 || rawCommitments.length > LIMITS.maxNodes) {
      throw new TxDecodeError('malformed', `items[${i}].commitments has ${rawCommitments.length} entries`);
    }
    return {
      keyIndex: toBigint(item['key_index'], `items[${i}].key_index`),
      publicKey: pointField(item['public_key'], `items[${i}].public_key`),
      commitments: rawCommitments.map((c, j) => pointField(c, `items[${i}].commitments[${j}]`)),
      verifier: stringField(item['verifier'], `items[${i}].verifier`, LIMITS.maxVerifierBytes),
      verifierId: stringField(item['verifier_id'], `items[${i}].verifier_id`, LIMITS.maxVerifierIdBytes),
    };
  });
  return {
    type: 'mapping_transfer',
    chunkIndex,
    chunkCount,
    endIndex: toBigint(raw['end_index'], 'end_index'),
    items,
    attestations: attestationList(raw['attestations'], LIMITS.maxNodes),
  };
}

/** The dealings of a KeygenPropose or ResharePropose: the same shape, checked the same way. */
function proposedDealings(type: string, value: unknown): ProposedDealing[] {
  const rawDealings = (value ?? []) as Record<string, unknown>[];
  if (rawDealings.length === 0 || rawDealings.length > LIMITS.maxNodes) throw new TxDecodeError('malformed', `${type} has ${rawDealings.length} dealings`);
  return rawDealings.map((d, i) => {
    const dealer = indexField(d['dealer'], `dealings[${i}].dealer`);
    const rawCommitment = (d['commitment'] ?? []) as unknown[];
    if (rawCommitment.length === 0 || rawCommitment.length > LIMITS.maxNodes * LIMITS.maxNodes) {
      throw new TxDecodeError('malformed', `dealings[${i}].commitment has ${rawCommitment.length} points`);
    }
    const commitment = rawCommitment.map((c, j) => pointField(c, `dealings[${i}].commitment[${j}]`));
    const rawReadies = (d['readies'] ?? []) as Record<string, unknown>[];
    if (rawReadies.length > LIMITS.maxNodes) throw new TxDecodeError('malformed', `dealings[${i}] has too many readies`);
    const readies = rawReadies.map((r, j) => ({
      nodeIndex: indexField(r['node_index'], `dealings[${i}].readies[${j}].node_index`),
      signature: fixedBytes(r['signature'], 64, `dealings[${i}].readies[${j}].signature`),
    }));
    return { dealer, commitment, readies };
  });
}

/** Signatures by node index: at most `max`, indexes >= 1, signatures 64 bytes. */
function attestationList(value: unknown, max: number): KeyAttestation[] {
  const raw = (value ?? []) as Record<string, unknown>[];
  if (raw.length > max) throw new TxDecodeError('malformed', 'too many attestations');
  return raw.map((a, i) => ({
    nodeIndex: indexField(a['node_index'], `attestations[${i}].node_index`),
    signature: fixedBytes(a['signature'], 64, `attestations[${i}].signature`),
  }));
}

/** A uint32 field, where 0 (absent on the wire) is a valid value. */
function uint32Field(value: unknown, field: string): number {
  if (value === undefined || value === null) return 0;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) throw new TxDecodeError('malformed', `${field} is not an unsigned integer`);
  return value;
}

function indexField(value: unknown, field: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) throw new TxDecodeError('malformed', `${field} must be >= 1`);
  return value;
}

function fixedBytes(value: unknown, length: number, field: string): Uint8Array {
  const bytes = bytesField(value, field);
  if (bytes.length !== length) throw new TxDecodeError('malformed', `${field} must be ${length} bytes`);
  return bytes;
}

function pointField(value: unknown, field: string): Uint8Array {
  const bytes = bytesField(value, field);
  if (!isCompressedPoint(bytes)) throw new TxDecodeError('malformed', `${field} is not a valid compressed point`);
  return bytes;
}

export function decodeSignedTx(bytes: Uint8Array): SignedTx {
  if (bytes.length > LIMITS.maxTxBytes) throw new TxDecodeError('too_large', `transaction of ${bytes.length} bytes exceeds ${LIMITS.maxTxBytes}`);
  let outer: Record<string, unknown>;
  let inner: Record<string, unknown>;
  try {
    outer = SignedTxType.toObject(SignedTxType.decode(bytes), TO_OBJECT) as Record<string, unknown>;
  } catch (cause) {
    throw new TxDecodeError('malformed', 'transaction is not a SignedTx protobuf', { cause });
  }
  const version = outer['version'];
  if (version !== TX_VERSION) throw new TxDecodeError('version', `unsupported transaction version ${String(version ?? 0)}`);
  const payloadBytes = bytesField(outer['payload'], 'payload');
  const signature = bytesField(outer['signature'], 'signature');
  if (signature.length !== 64) throw new TxDecodeError('malformed', 'signature must be 64 bytes');
  try {
    inner = TxPayloadType.toObject(TxPayloadType.decode(payloadBytes), TO_OBJECT) as Record<string, unknown>;
  } catch (cause) {
    throw new TxDecodeError('malformed', 'payload is not a TxPayload protobuf', { cause });
  }
  const signerIndex = inner['signer_index'];
  if (typeof signerIndex !== 'number' || signerIndex < 1) throw new TxDecodeError('malformed', 'signer_index must be >= 1');
  const payload: TxPayload = {
    epoch: toBigint(inner['epoch'], 'epoch'),
    signerIndex,
    nonce: toBigint(inner['nonce'], 'nonce'),
    expiresAtHeight: toBigint(inner['expires_at_height'], 'expires_at_height'),
    body: decodeBody(inner),
  };
  return { version, payloadBytes, payload, signature };
}

/** protobufjs `fromObject` accepts decimal strings for 64-bit fields. */
function longOf(value: bigint): string {
  if (value < 0n || value > U64_MAX) throw new RangeError(`not a u64: ${value}`);
  return value.toString();
}

export function encodePayload(payload: TxPayload): Uint8Array {
  const body = payload.body;
  const message: Record<string, unknown> = {
    epoch: longOf(payload.epoch),
    signer_index: payload.signerIndex,
    nonce: longOf(payload.nonce),
    expires_at_height: longOf(payload.expiresAtHeight),
  };
  switch (body.type) {
    case 'assign_key':
      message['assign_key'] = { verifier: body.verifier, verifier_id: body.verifierId };
      break;
    case 'register_key':
      message['register_key'] = {
        key_index: longOf(body.keyIndex),
        public_key: body.publicKey,
        commitments: [...body.commitments],
        attestations: body.attestations.map((a) => ({ node_index: a.nodeIndex, signature: a.signature })),
      };
      break;
    case 'keygen_propose':
    case 'reshare_propose':
      message[body.type] = {
        key_index: longOf(body.keyIndex),
        dealings: body.dealings.map((d) => ({
          dealer: d.dealer,
          commitment: [...d.commitment],
          readies: d.readies.map((r) => ({ node_index: r.nodeIndex, signature: r.signature })),
        })),
      };
      break;
    case 'key_publish':
      message['key_publish'] = {
        key_index: longOf(body.keyIndex),
        proofs: body.proofs.map((p) => ({ node_index: p.nodeIndex, share_public: p.sharePublic, proof: p.proof })),
      };
      break;
    case 'freeze_vote':
      message['freeze_vote'] = { next_epoch: longOf(body.nextEpoch) };
      break;
    case 'mapping_transfer':
      message['mapping_transfer'] = {
        chunk_index: body.chunkIndex,
        chunk_count: body.chunkCount,
        end_index: longOf(body.endIndex),
        items: body.items.map((item) => ({
          key_index: longOf(item.keyIndex),
          public_key: item.publicKey,
          commitments: [...item.commitments],
          verifier: item.verifier,
          verifier_id: item.verifierId,
        })),
        attestations: body.attestations.map((a) => ({ node_index: a.nodeIndex, signature: a.signature })),
      };
      break;
  }
  return TxPayloadType.encode(TxPayloadType.fromObject(message)).finish();
}

export function encodeSignedTx(payloadBytes: Uint8Array, signature: Uint8Array): Uint8Array {
  return SignedTxType.encode(SignedTxType.fromObject({ version: TX_VERSION, payload: payloadBytes, signature })).finish();
}

/** The parts signed by the envelope signature (under TX_SIGNATURE_TAG). */
export function txSignatureParts(chainId: string, payloadBytes: Uint8Array): Uint8Array[] {
  return [utf8(chainId), payloadBytes];
}

/** The parts a member signs to attest a finished key (under KEY_ATTESTATION_TAG). */
export function keyAttestationParts(
  chainId: string, epoch: bigint, keyIndex: bigint, publicKey: Uint8Array, commitments: readonly Uint8Array[],
): Uint8Array[] {
  return [utf8(chainId), u64be(epoch), u64be(keyIndex), publicKey, u32be(commitments.length), ...commitments];
}

const BODY_TYPE_NAMES: ReadonlySet<string> = new Set<TxBody['type']>([
  'assign_key', 'register_key', 'keygen_propose', 'key_publish', 'freeze_vote', 'mapping_transfer', 'reshare_propose',
]);

/**
 * The body type that a transaction's bytes name, read from the protobuf framing alone: nothing is decoded
 * into points or checked, so it is cheap enough to label every transaction in metrics. Undefined when the
 * bytes are not a SignedTx with a known body; whether the body is valid is decodeSignedTx's question.
 */
export function peekTxBodyType(bytes: Uint8Array): TxBody['type'] | undefined {
  if (bytes.length > LIMITS.maxTxBytes) return undefined;
  try {
    const outer = protobuf.Reader.create(bytes);
    let payload: Uint8Array | undefined;
    while (outer.pos < outer.len) {
      const tag = outer.uint32();
      if (tag === ((2 << 3) | 2)) payload = outer.bytes();
      else outer.skipType(tag & 7);
    }
    if (payload === undefined) return undefined;
    const inner = protobuf.Reader.create(payload);
    let type: TxBody['type'] | undefined;
    while (inner.pos < inner.len) {
      const tag = inner.uint32();
      const name = TxPayloadType.fieldsById[tag >>> 3]?.name;
      // In a oneof the last field on the wire wins, as in decoding.
      if (name !== undefined && BODY_TYPE_NAMES.has(name)) type = name as TxBody['type'];
      inner.skipType(tag & 7);
    }
    return type;
  } catch {
    return undefined;
  }
}
