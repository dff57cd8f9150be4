/**
 * The records of the mapping state, their keys and their stored form. The state is a flat map from these
 * keys to canonical JSON; everything the app hash commits to is in it, and nothing else is.
 *
 *   chain                 {chain_id}
 *   epoch                 {id, n, k, t, members: [{index, address, public_key}]}
 *   params                {key_buffer_target, max_tx_lifetime_blocks, dev_attested_keys}
 *   counters              {next_index, generating, ready, assigned}
 *   key/<index:16 hex>    {index, epoch, status, public_key?, address?, dealers?, commitments?, share_publics?,
 *                          source_commitments?, assigned_to?}
 *   user/<sha256:64 hex>  {verifier, verifier_id, key_indexes}
 *   pubkey/<33B hex>      {key_index}
 *   seen/<sha256:64 hex>  {expires_at_height}   replay protection, pruned after expiry
 *
 * Epoch hand-off (only on chains that take part in one):
 *   handoff_votes         {votes: [{node_index, next_epoch}]}        old chain: the members' freeze votes
 *   handoff_out           {next_epoch, end_index, frozen_at_height, items, unassigned}   old chain: frozen
 *   previous_epoch        {chain_id, epoch}                          new chain: from the genesis
 *   handoff_in            {previous_epoch, chunk_count, end_index, chunks_received, keys_transferred,
 *                          keys_resharing, complete}                 new chain
 *   handoff_in_chunk/<index:8 hex>  {keys}                           new chain: an accepted mapping chunk
 */
import { z } from 'zod';
import { bytesToHex, utf8 } from '../../../core/encoding/bytes.js';
import { domainHash } from '../../../core/crypto/hash.js';
import { canonicalJson, type JsonValue } from './canonical-json.js';

const hex = (bytes: number) => z.string().regex(new RegExp(`^[0-9a-f]{${bytes * 2}}$`));
const index = z.number().int().nonnegative();

export const ChainRecord = z.object({ chain_id: z.string().min(1) }).strict();
export type ChainRecord = z.infer<typeof ChainRecord>;

export const MemberRecord = z.object({
  index: z.number().int().positive(),
  address: z.string().regex(/^0x[0-9a-fA-F]{40}$/),
  public_key: hex(65),
}).strict();
export type MemberRecord = z.infer<typeof MemberRecord>;

export const EpochRecord = z.object({
  id: z.number().int().positive(),
  n: z.number().int().positive(),
  k: z.number().int().positive(),
  t: z.number().int().nonnegative(),
  members: z.array(MemberRecord),
}).strict();
export type EpochRecord = z.infer<typeof EpochRecord>;

export const ParamsRecord = z.object({
  key_buffer_target: index,
  max_tx_lifetime_blocks: z.number().int().positive(),
  /** Accept RegisterKey (keys attested by k members) instead of generated keys: tests and benchmarks only. */
  dev_attested_keys: z.boolean(),
}).strict();
export type ParamsRecord = z.infer<typeof ParamsRecord>;

export const CountersRecord = z.object({
  next_index: index,
  generating: index,
  ready: index,
  assigned: index,
}).strict();
export type CountersRecord = z.infer<typeof CountersRecord>;

/**
 * generating: scheduled for key generation; decided: its set of dealings is agreed; ready: public key fixed;
 * assigned: a user's key. transferred: an assigned key of the previous epoch taken over by a hand-off, whose
 * shares this epoch does not hold yet (resharing makes it assigned again).
 */
export const KeyStatus = z.enum(['generating', 'decided', 'ready', 'assigned', 'transferred', 'reshare-decided']);
export type KeyStatus = z.infer<typeof KeyStatus>;

/**
 * The statuses of a transferred key that this epoch cannot use yet: `transferred` (mapped, waiting for its
 * re-dealings) and `reshare-decided` (the re-dealings to combine are agreed, the new shares not yet proven).
 * The hand-off is complete when no key is in one of them.
 */
export const AWAITING_RESHARE: ReadonlySet<KeyStatus> = new Set<KeyStatus>(['transferred', 'reshare-decided']);

export const Assignee = z.object({ verifier: z.string(), verifier_id: z.string() }).strict();
export type Assignee = z.infer<typeof Assignee>;

export const KeyRecord = z.object({
  index,
  epoch: z.number().int().positive(),
  status: KeyStatus,
  public_key: hex(33).optional(),
  address: z.string().regex(/^0x[0-9a-fA-F]{40}$/).optional(),
  /** The dealers of the decided set of dealings. */
  dealers: z.array(z.number().int().positive()).optional(),
  /** D: the combined Pedersen commitment polynomial (k points); share i is committed by D(i). */
  commitments: z.array(hex(33)).optional(),
  /**
   * g^{s_i} of the k nodes whose share proofs fixed the key, ascending by node index. They determine the
   * share polynomial in the exponent, so g^{s_j} of every member j follows by interpolation: what a client
   * checks each returned share against. Absent for attested (development) keys.
   */
  share_publics: z.array(z.object({ index: z.number().int().positive(), point: hex(33) }).strict()).optional(),
  /** A transferred key's commitment D in the previous epoch (k_previous points): what resharing starts from. */
  source_commitments: z.array(hex(33)).optional(),
  assigned_to: Assignee.optional(),
}).strict();
export type KeyRecord = z.infer<typeof KeyRecord>;

export const UserRecord = z.object({
  verifier: z.string(),
  verifier_id: z.string(),
  key_indexes: z.array(index),
}).strict();
export type UserRecord = z.infer<typeof UserRecord>;

export const PubkeyRecord = z.object({ key_index: index }).strict();
export type PubkeyRecord = z.infer<typeof PubkeyRecord>;

export const SeenRecord = z.object({ expires_at_height: index }).strict();
export type SeenRecord = z.infer<typeof SeenRecord>;

/** The members' freeze votes, ascending by node index; a member's later vote replaces its earlier one. */
export const HandoffVotesRecord = z.object({
  votes: z.array(z.object({ node_index: z.number().int().positive(), next_epoch: z.number().int().positive() }).strict()),
}).strict();
export type HandoffVotesRecord = z.infer<typeof HandoffVotesRecord>;

/**
 * The freeze of this epoch. The frozen mapping is every key below end_index that is assigned; `unassigned`
 * lists, ascending, the indexes below end_index that are not (generating, decided or ready at the freeze),
 * so a chunk's key indexes follow without a scan. items = end_index − unassigned.length.
 */
export const HandoffOutRecord = z.object({
  next_epoch: z.number().int().positive(),
  end_index: index,
  frozen_at_height: index,
  items: index,
  unassigned: z.array(index),
}).strict();
export type HandoffOutRecord = z.infer<typeof HandoffOutRecord>;

/** The epoch this chain takes the mapping and keys over from (genesis `previous`). */
export const PreviousEpochRecord = z.object({ chain_id: z.string().min(1), epoch: EpochRecord }).strict();
export type PreviousEpochRecord = z.infer<typeof PreviousEpochRecord>;

/**
 * Progress of taking over the previous epoch's mapping. chunk_count and end_index are fixed by the first
 * accepted chunk (null before). keys_resharing counts the transferred keys not yet reshared; the chain
 * leaves its receiving state (complete) once every chunk is in and that count is 0.
 */
export const HandoffInRecord = z.object({
  previous_epoch: z.number().int().positive(),
  chunk_count: z.number().int().positive().nullable(),
  end_index: index.nullable(),
  chunks_received: index,
  keys_transferred: index,
  keys_resharing: index,
  complete: z.boolean(),
}).strict();
export type HandoffInRecord = z.infer<typeof HandoffInRecord>;

/** An accepted chunk of the previous epoch's mapping and how many keys it carried. */
export const HandoffChunkRecord = z.object({ keys: index }).strict();
export type HandoffChunkRecord = z.infer<typeof HandoffChunkRecord>;

export const KEYS = {
  chain: 'chain',
  epoch: 'epoch',
  params: 'params',
  counters: 'counters',
  key: (keyIndex: number) => `key/${keyIndex.toString(16).padStart(16, '0')}`,
  user: (verifier: string, verifierId: string) => `user/${bytesToHex(domainHash('torus/mapping/user/v1', [utf8(verifier), utf8(verifierId)]))}`,
  pubkey: (compressed: Uint8Array) => `pubkey/${bytesToHex(compressed)}`,
  seen: (payloadHash: Uint8Array) => `seen/${bytesToHex(payloadHash)}`,
  handoffVotes: 'handoff_votes',
  handoffOut: 'handoff_out',
  previousEpoch: 'previous_epoch',
  handoffIn: 'handoff_in',
  handoffInChunk: (chunkIndex: number) => `handoff_in_chunk/${chunkIndex.toString(16).padStart(8, '0')}`,
} as const;

export const KEY_PREFIX = { key: 'key/', user: 'user/', pubkey: 'pubkey/', seen: 'seen/', handoffInChunk: 'handoff_in_chunk/' } as const;

export type StateRecord =
  | ChainRecord | EpochRecord | ParamsRecord | CountersRecord | KeyRecord | UserRecord | PubkeyRecord | SeenRecord
  | HandoffVotesRecord | HandoffOutRecord | PreviousEpochRecord | HandoffInRecord | HandoffChunkRecord;

/** The schema that a stored key's value must satisfy. */
export function schemaForKey(key: string): z.ZodType<StateRecord> {
  if (key === KEYS.chain) return ChainRecord;
  if (key === KEYS.epoch) return EpochRecord;
  if (key === KEYS.params) return ParamsRecord;
  if (key === KEYS.counters) return CountersRecord;
  if (key.startsWith(KEY_PREFIX.key)) return KeyRecord;
  if (key.startsWith(KEY_PREFIX.user)) return UserRecord;
  if (key.startsWith(KEY_PREFIX.pubkey)) return PubkeyRecord;
  if (key.startsWith(KEY_PREFIX.seen)) return SeenRecord;
  if (key === KEYS.handoffVotes) return HandoffVotesRecord;
  if (key === KEYS.handoffOut) return HandoffOutRecord;
  if (key === KEYS.previousEpoch) return PreviousEpochRecord;
  if (key === KEYS.handoffIn) return HandoffInRecord;
  if (key.startsWith(KEY_PREFIX.handoffInChunk)) return HandoffChunkRecord;
  throw new Error(`unknown state key ${JSON.stringify(key)}`);
}

export function encodeRecord(record: StateRecord): string {
  return canonicalJson(record as unknown as JsonValue);
}

/** Parses a stored value; a record that fails its schema means the database is corrupt. */
export function decodeRecord(key: string, value: string): StateRecord {
  const parsed = schemaForKey(key).safeParse(JSON.parse(value));
  if (!parsed.success) throw new Error(`corrupt state record ${key}: ${parsed.error.message}`);
  return parsed.data;
}
