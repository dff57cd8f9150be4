/**
 * Read API through CometBFT's `abci_query`. `data` is a JSON object (UTF-8 bytes; hex in CometBFT's GET
 * form), the answer `value` is JSON. `height` 0 means the latest committed state; an earlier height answers
 * from the versioned records. Paths:
 *
 *   /epoch                 -> {id, n, k, t, members}
 *   /buffer                -> {target, next_index, generating, ready, assigned}
 *   /key                   {key_index}              -> key record
 *   /keys/generating       {from?, limit?}          -> {key_indexes, decided: [{key_index, dealers}], next_index}
 *                          (keys still being generated; the decided ones with their agreed dealers)
 *   /lookup/verifier       {verifier, verifier_id}  -> {keys: [{key_index, epoch, public_key, address, share_publics?}]}
 *   /lookup/public-key     {public_key}             -> key record with its assignee
 *
 * Epoch hand-off:
 *   /handoff/out           -> {frozen: false, votes: [{node_index, next_epoch}]}
 *                             or {frozen: true, next_epoch, end_index, frozen_at_height, items, chunk_size, chunks}
 *   /handoff/out/chunk     {chunk}                  -> {chain_id, epoch, next_epoch, chunk, chunks, end_index,
 *                                                      items: [{key_index, public_key, commitments, verifier, verifier_id}]}
 *   /handoff/in            -> {previous_epoch, chunks_received, chunk_count, end_index, keys_transferred,
 *                              keys_resharing, complete, chunks_missing}
 *   /keys/resharing        {from?, limit?}          -> {keys: [{key_index, status, public_key, source_commitments, dealers?}]}
 *                          (transferred keys not reshared yet; `dealers` once their re-dealings are decided)
 */
import { z } from 'zod';
import { fromUtf8, utf8 } from '../../core/encoding/bytes.js';
import { compressPublicKey, parsePublicKey } from '../../core/crypto/keys.js';
import { CHUNK_SIZE, mappingChunkCount, type MappingItemJson } from '../../core/handoff/mapping.js';
import { QueryCode } from './state/codes.js';
import { frozenKeyIndexes } from './state/handoff-rules.js';
import {
  AWAITING_RESHARE, KEYS, type ChainRecord, type CountersRecord, type EpochRecord, type HandoffInRecord, type HandoffOutRecord,
  type HandoffVotesRecord, type KeyRecord, type ParamsRecord, type PubkeyRecord, type StateRecord, type UserRecord,
} from './state/records.js';

export interface StateReader {
  read(key: string): Promise<StateRecord | undefined>;
}

export interface QueryAnswer {
  readonly code: number;
  readonly log: string;
  readonly value?: Uint8Array;
}

const answer = (value: unknown): QueryAnswer => ({ code: QueryCode.OK, log: 'ok', value: utf8(JSON.stringify(value)) });
const failure = (code: number, log: string): QueryAnswer => ({ code, log });

const KeyIndexQuery = z.object({ key_index: z.number().int().nonnegative() }).strict();
const GeneratingQuery = z.object({ from: z.number().int().nonnegative().default(0), limit: z.number().int().positive().max(1000).default(1000) }).strict();
const VerifierQuery = z.object({ verifier: z.string().min(1).max(128), verifier_id: z.string().min(1).max(1024) }).strict();
const PublicKeyQuery = z.object({ public_key: z.string().min(1).max(200) }).strict();
const ChunkQuery = z.object({ chunk: z.number().int().nonnegative() }).strict();
/** Missing chunks listed by /handoff/in at most. */
const MISSING_CHUNKS_LISTED = 100;

function parseData<T>(schema: z.ZodType<T>, data: Uint8Array): T | QueryAnswer {
  let json: unknown = {};
  if (data.length > 0) {
    try {
      json = JSON.parse(fromUtf8(data));
    } catch {
      return failure(QueryCode.BAD_REQUEST, 'query data is not JSON');
    }
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) return failure(QueryCode.BAD_REQUEST, `bad query data: ${z.prettifyError(parsed.error)}`);
  return parsed.data;
}

function isAnswer(value: unknown): value is QueryAnswer {
  return typeof value === 'object' && value !== null && 'code' in value && 'log' in value;
}

export const QUERY_PATHS = [
  '/epoch', '/buffer', '/key', '/keys/generating', '/lookup/verifier', '/lookup/public-key',
  '/handoff/out', '/handoff/out/chunk', '/handoff/in', '/keys/resharing',
] as const;

export async function runQuery(path: string, data: Uint8Array, state: StateReader): Promise<QueryAnswer> {
  switch (path) {
    case '/epoch':
      return answer(await state.read(KEYS.epoch) as EpochRecord);
    case '/buffer': {
      const counters = await state.read(KEYS.counters) as CountersRecord;
      const params = await state.read(KEYS.params) as ParamsRecord;
      return answer({ target: params.key_buffer_target, ...counters });
    }
    case '/key': {
      const q = parseData(KeyIndexQuery, data);
      if (isAnswer(q)) return q;
      const record = await state.read(KEYS.key(q.key_index)) as KeyRecord | undefined;
      return record ? answer(record) : failure(QueryCode.NOT_FOUND, `no key with index ${q.key_index}`);
    }
    case '/keys/generating': {
      const q = parseData(GeneratingQuery, data);
      if (isAnswer(q)) return q;
      const counters = await state.read(KEYS.counters) as CountersRecord;
      const keyIndexes: number[] = [];
      const decided: Array<{ key_index: number; dealers: number[] }> = [];
      for (let i = q.from; i < counters.next_index && keyIndexes.length + decided.length < q.limit; i++) {
        const record = await state.read(KEYS.key(i)) as KeyRecord | undefined;
        if (record?.status === 'generating') keyIndexes.push(i);
        if (record?.status === 'decided') decided.push({ key_index: i, dealers: record.dealers ?? [] });
      }
      return answer({ key_indexes: keyIndexes, decided, next_index: counters.next_index });
    }
    case '/lookup/verifier': {
      const q = parseData(VerifierQuery, data);
      if (isAnswer(q)) return q;
      const user = await state.read(KEYS.user(q.verifier, q.verifier_id)) as UserRecord | undefined;
      if (!user) return failure(QueryCode.NOT_FOUND, 'verifier and verifier_id have not been assigned a key');
      const keys = [];
      for (const keyIndex of user.key_indexes) {
        const record = await state.read(KEYS.key(keyIndex)) as KeyRecord;
        // share_publics lets the retrieval server answer a login from this one query.
        keys.push({ key_index: keyIndex, epoch: record.epoch, public_key: record.public_key, address: record.address, share_publics: record.share_publics });
      }
      return answer({ keys });
    }
    case '/lookup/public-key': {
      const q = parseData(PublicKeyQuery, data);
      if (isAnswer(q)) return q;
      let compressed: Uint8Array;
      try {
        compressed = compressPublicKey(parsePublicKey(q.public_key));
      } catch (err) {
        return failure(QueryCode.BAD_REQUEST, `bad public_key: ${err instanceof Error ? err.message : String(err)}`);
      }
      const pointer = await state.read(KEYS.pubkey(compressed)) as PubkeyRecord | undefined;
      if (!pointer) return failure(QueryCode.NOT_FOUND, 'no key with this public key');
      return answer(await state.read(KEYS.key(pointer.key_index)) as KeyRecord);
    }
    case '/handoff/out': {
      const out = await state.read(KEYS.handoffOut) as HandoffOutRecord | undefined;
      if (!out) {
        const votes = await state.read(KEYS.handoffVotes) as HandoffVotesRecord | undefined;
        return answer({ frozen: false, votes: votes?.votes ?? [] });
      }
      const { next_epoch, end_index, frozen_at_height, items } = out;
      return answer({ frozen: true, next_epoch, end_index, frozen_at_height, items, chunk_size: CHUNK_SIZE, chunks: mappingChunkCount(items) });
    }
    case '/handoff/out/chunk': {
      const q = parseData(ChunkQuery, data);
      if (isAnswer(q)) return q;
      return frozenChunk(q.chunk, state);
    }
    case '/handoff/in': {
      const handoff = await state.read(KEYS.handoffIn) as HandoffInRecord | undefined;
      if (!handoff) return failure(QueryCode.NOT_FOUND, 'this chain takes over from no previous epoch');
      const missing: number[] = [];
      // Once every chunk is in, nothing is missing: no need to read the chunk records.
      const allIn = handoff.chunk_count !== null && handoff.chunks_received === handoff.chunk_count;
      for (let c = 0; !allIn && handoff.chunk_count !== null && c < handoff.chunk_count && missing.length < MISSING_CHUNKS_LISTED; c++) {
        if (await state.read(KEYS.handoffInChunk(c)) === undefined) missing.push(c);
      }
      const { previous_epoch, chunks_received, chunk_count, end_index, keys_transferred, keys_resharing, complete } = handoff;
      return answer({ previous_epoch, chunks_received, chunk_count, end_index, keys_transferred, keys_resharing, complete, chunks_missing: missing });
    }
    case '/keys/resharing': {
      const q = parseData(GeneratingQuery, data);
      if (isAnswer(q)) return q;
      const handoff = await state.read(KEYS.handoffIn) as HandoffInRecord | undefined;
      // A complete hand-off has no key waiting, and none can start waiting again: skip the scan.
      if (handoff === undefined || handoff.complete) return answer({ keys: [] });
      const keys: Array<{ key_index: number; status: string; public_key: string | undefined; source_commitments: string[] | undefined; dealers?: number[] }> = [];
      for (let i = q.from; i < (handoff.end_index ?? 0) && keys.length < q.limit; i++) {
        const record = await state.read(KEYS.key(i)) as KeyRecord | undefined;
        if (record === undefined || !AWAITING_RESHARE.has(record.status)) continue;
        keys.push({
          key_index: i, status: record.status, public_key: record.public_key, source_commitments: record.source_commitments,
          ...(record.status === 'reshare-decided' ? { dealers: record.dealers ?? [] } : {}),
        });
      }
      return answer({ keys });
    }
    default:
      return failure(QueryCode.UNKNOWN_PATH, `unknown query path ${JSON.stringify(path)}; known paths: ${QUERY_PATHS.join(', ')}`);
  }
}

/**
 * Chunk `chunk` of the frozen mapping: the assigned keys at positions [chunk·CHUNK_SIZE, +CHUNK_SIZE) in
 * ascending key order. A function of the committed records only, so every honest node of the frozen epoch
 * answers the same chunk byte for byte, and its members can attest it.
 */
async function frozenChunk(chunk: number, state: StateReader): Promise<QueryAnswer> {
  const out = await state.read(KEYS.handoffOut) as HandoffOutRecord | undefined;
  if (!out) return failure(QueryCode.NOT_FOUND, 'the epoch is not frozen');
  const chunks = mappingChunkCount(out.items);
  if (chunk >= chunks) return failure(QueryCode.NOT_FOUND, `the frozen mapping has ${chunks} chunks; there is no chunk ${chunk}`);
  const from = chunk * CHUNK_SIZE;
  const items: MappingItemJson[] = [];
  for (const keyIndex of frozenKeyIndexes(out.unassigned, from, Math.min(CHUNK_SIZE, out.items - from))) {
    const record = await state.read(KEYS.key(keyIndex)) as KeyRecord | undefined;
    if (record?.status !== 'assigned' || !record.public_key || !record.commitments || !record.assigned_to) {
      throw new Error(`state is inconsistent: key ${keyIndex} is in the frozen mapping but is not an assigned key`);
    }
    items.push({
      key_index: keyIndex, public_key: record.public_key, commitments: record.commitments,
      verifier: record.assigned_to.verifier, verifier_id: record.assigned_to.verifier_id,
    });
  }
  const chain = await state.read(KEYS.chain) as ChainRecord;
  const epoch = await state.read(KEYS.epoch) as EpochRecord;
  return answer({ chain_id: chain.chain_id, epoch: epoch.id, next_epoch: out.next_epoch, chunk, chunks, end_index: out.end_index, items });
}
