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
 */
import { z } from 'zod';
import { fromUtf8, utf8 } from '../../core/encoding/bytes.js';
import { compressPublicKey, parsePublicKey } from '../../core/crypto/keys.js';
import { QueryCode } from './state/codes.js';
import {
  KEYS, type CountersRecord, type EpochRecord, type KeyRecord, type ParamsRecord, type PubkeyRecord, type StateRecord,
  type UserRecord,
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

export const QUERY_PATHS = ['/epoch', '/buffer', '/key', '/keys/generating', '/lookup/verifier', '/lookup/public-key'] as const;

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
    default:
      return failure(QueryCode.UNKNOWN_PATH, `unknown query path ${JSON.stringify(path)}; known paths: ${QUERY_PATHS.join(', ')}`);
  }
}
