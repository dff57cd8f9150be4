/**
 * The mapping state machine: which key belongs to which (verifier, verifier_id), and the buffer of
 * distributed keys. Pure and deterministic: no clock, randomness or I/O. The same genesis and the same
 * blocks give the same records and the same app hash on every validator.
 *
 * Block life cycle: finalizeBlock(height, txs) executes a decided block and returns per-tx results and the
 * new app hash; drainWrites() hands the block's writes to the store, which persists them at Commit.
 *
 * Epoch hand-off: on the old chain, k+t FreezeVotes for the same next epoch freeze the epoch (no new
 * assignments, no new keys; the assigned keys form the frozen mapping). A chain whose genesis names a
 * previous epoch starts receiving: it takes the frozen mapping chunk by chunk (MappingTransfer), and
 * generates and assigns nothing until every chunk is in and every transferred key is reshared.
 */
import { bytesToHex, hexToBytes, utf8 } from '../../../core/encoding/bytes.js';
import { sha256 } from '../../../core/crypto/hash.js';
import { checksumAddress, ethereumAddress } from '../../../core/crypto/keys.js';
import { verifySignature } from '../../../core/crypto/signature.js';
import { decodeSignedTx, keyAttestationParts, TxDecodeError, txSignatureParts } from '../../../core/tx/codec.js';
import {
  KEY_ATTESTATION_TAG, TX_SIGNATURE_TAG, type AssignKeyBody, type FreezeVoteBody, type KeygenProposeBody, type KeyPublishBody,
  type MappingTransferBody, type RegisterKeyBody, type ReshareProposeBody, type SignedTx,
} from '../../../core/tx/types.js';
import { checkProposal, checkPublication, fail, isFailure, type Decision, type EpochContext, type Publication, type RuleFailure } from './keygen-rules.js';
import { checkMappingChunk, type TransferContext } from './handoff-rules.js';
import { checkReshareProposal } from './reshare-rules.js';
import { TxCode, type TxCodeValue } from './codes.js';
import { parseGenesisAppState } from './genesis.js';
import { MinHeap } from './min-heap.js';
import {
  KEY_PREFIX, KEYS, type ChainRecord, type CountersRecord, type EpochRecord, type HandoffInRecord,
  type HandoffOutRecord, type HandoffVotesRecord, type KeyRecord, type ParamsRecord, type PreviousEpochRecord,
  type PubkeyRecord, type SeenRecord, type StateRecord, type UserRecord,
} from './records.js';
import { nextAppHash, StateTable, type Write } from './table.js';

export interface EventAttribute {
  readonly key: string;
  readonly value: string;
  readonly index: boolean;
}

export interface AbciEvent {
  readonly type: string;
  readonly attributes: readonly EventAttribute[];
}

export interface ExecResult {
  readonly code: TxCodeValue;
  readonly log: string;
  readonly data?: Uint8Array;
  readonly events: readonly AbciEvent[];
}

export interface BlockWrites {
  readonly height: number;
  readonly writes: readonly Write[];
  readonly appHash: Uint8Array;
}

export interface BlockResult {
  readonly results: readonly ExecResult[];
  readonly appHash: Uint8Array;
}

/** A decoded transaction whose epoch, signer and signature have been checked. */
interface VerifiedTx {
  readonly tx: SignedTx;
  readonly payloadHash: Uint8Array;
}

/** A verified transaction that also passed the expiry and replay checks at a given height. */
interface AdmittedTx {
  readonly tx: SignedTx;
  readonly payloadHash: Uint8Array;
  /** Hash of the tx bytes, the key of the signature memos. */
  readonly txHash: string;
}

function reject(code: TxCodeValue, log: string): ExecResult {
  return { code, log, events: [] };
}


function ok(log: string, data: unknown, events: AbciEvent[]): ExecResult {
  return { code: TxCode.OK, log, data: utf8(JSON.stringify(data)), events };
}

/**
 * Decoding and signature checks are pure functions of a transaction's bytes (members and chain id are
 * fixed for the chain), so their results are memoised by tx hash: a validator checks each tx in CheckTx,
 * in rechecks and again in FinalizeBlock, and verification is the most expensive step of all of them.
 * The bound keeps memory flat; clearing it only costs recomputation.
 */
const MEMO_LIMIT = 50_000;

function memoize<T>(memo: Map<string, T>, key: string, compute: () => T): T {
  if (memo.has(key)) return memo.get(key) as T;
  const value = compute();
  if (memo.size >= MEMO_LIMIT) memo.clear();
  memo.set(key, value);
  return value;
}

export class MappingStateMachine {
  readonly #table: StateTable;
  readonly #chainId: string;
  readonly #epoch: EpochRecord;
  readonly #params: ParamsRecord;
  readonly #memberKeys: Map<number, Uint8Array>;
  /** The epoch this chain takes over from, with its members' keys; undefined on a chain without hand-off in. */
  readonly #previous: { readonly record: PreviousEpochRecord; readonly memberKeys: Map<number, Uint8Array> } | undefined;
  readonly #ready = new MinHeap();
  readonly #expiry = new Map<number, string[]>();
  readonly #verifiedMemo = new Map<string, VerifiedTx | ExecResult>();
  readonly #ruleMemo = new Map<string, RuleFailure | Decision | { publicKey: Uint8Array } | { verified: true }>();
  readonly #pending: BlockWrites[] = [];
  #counters: CountersRecord;
  #height: number;
  #appHash: Uint8Array;

  private constructor(table: StateTable, height: number, appHash: Uint8Array) {
    this.#table = table;
    const chain = table.get<ChainRecord>(KEYS.chain);
    const epoch = table.get<EpochRecord>(KEYS.epoch);
    const params = table.get<ParamsRecord>(KEYS.params);
    const counters = table.get<CountersRecord>(KEYS.counters);
    if (!chain || !epoch || !params || !counters) throw new Error('state is missing its chain, epoch, params or counters record');
    this.#chainId = chain.chain_id;
    this.#epoch = epoch;
    this.#params = params;
    this.#counters = counters;
    this.#memberKeys = memberKeyMap(epoch);
    const previous = table.get<PreviousEpochRecord>(KEYS.previousEpoch);
    this.#previous = previous && { record: previous, memberKeys: memberKeyMap(previous.epoch) };
    this.#height = height;
    this.#appHash = appHash;
  }

  /** InitChain: the state at height initialHeight-1, from the genesis app_state. */
  static genesis(chainId: string, appState: Uint8Array, initialHeight: number): MappingStateMachine {
    if (chainId.length === 0) throw new Error('chain id is empty');
    const { epoch, params, previous } = parseGenesisAppState(appState);
    const table = new StateTable();
    table.put(KEYS.chain, { chain_id: chainId });
    table.put(KEYS.epoch, epoch);
    table.put(KEYS.params, params);
    table.put(KEYS.counters, { next_index: 0, generating: 0, ready: 0, assigned: 0 });
    if (previous !== undefined) {
      table.put(KEYS.previousEpoch, previous);
      table.put(KEYS.handoffIn, {
        previous_epoch: previous.epoch.id, chunk_count: null, end_index: null,
        chunks_received: 0, keys_transferred: 0, keys_resharing: 0, complete: false,
      } satisfies HandoffInRecord);
    }
    const machine = new MappingStateMachine(table, initialHeight - 1, new Uint8Array(0));
    machine.#scheduleGeneration();
    machine.#closeBlock(initialHeight - 1);
    return machine;
  }

  /** Rebuilds the machine from committed records (after a restart). */
  static restore(records: Iterable<readonly [string, StateRecord]>, height: number, appHash: Uint8Array): MappingStateMachine {
    const table = new StateTable();
    for (const [key, record] of records) table.restore(key, record);
    const machine = new MappingStateMachine(table, height, appHash);
    for (const [key, record] of table.entries()) {
      if (key.startsWith(KEY_PREFIX.key) && (record as KeyRecord).status === 'ready') machine.#ready.push((record as KeyRecord).index);
      if (key.startsWith(KEY_PREFIX.seen)) machine.#trackExpiry(key, (record as SeenRecord).expires_at_height);
    }
    return machine;
  }

  get height(): number {
    return this.#height;
  }

  get appHash(): Uint8Array {
    return this.#appHash;
  }

  get chainId(): string {
    return this.#chainId;
  }

  get epoch(): EpochRecord {
    return this.#epoch;
  }

  get counters(): CountersRecord {
    return this.#counters;
  }

  get table(): StateTable {
    return this.#table;
  }

  /** The writes of every block (and of the genesis) finalized since the last call, oldest first, for the store. */
  takePendingWrites(): BlockWrites[] {
    return this.#pending.splice(0, this.#pending.length);
  }

  #closeBlock(height: number): void {
    const writes = this.#table.drainWrites();
    this.#appHash = nextAppHash(this.#appHash, height, writes);
    this.#height = height;
    this.#pending.push({ height, writes, appHash: this.#appHash });
  }

  /**
   * Mempool admission: structure, epoch, signer, signatures, expiry and replay, against the latest state.
   * State rules that depend on block order (the buffer) are left to FinalizeBlock.
   */
  checkTx(bytes: Uint8Array): ExecResult {
    const admitted = this.#admit(bytes, this.#height + 1);
    if ('code' in admitted) return admitted;
    const checked = this.#check(admitted, this.#height + 1);
    return isFailure(checked) ? reject(checked.code as TxCodeValue, checked.log) : { code: TxCode.OK, log: 'ok', events: [] };
  }

  finalizeBlock(height: number, txs: readonly Uint8Array[]): BlockResult {
    if (height !== this.#height + 1) throw new Error(`finalizeBlock for height ${height}, but the state is at height ${this.#height}`);
    const results = txs.map((bytes) => this.#deliver(bytes, height));
    this.#pruneExpired(height);
    this.#settleHandoffIn();
    this.#scheduleGeneration();
    this.#closeBlock(height);
    return { results, appHash: this.#appHash };
  }

  #deliver(bytes: Uint8Array, height: number): ExecResult {
    const admitted = this.#admit(bytes, height);
    if ('code' in admitted) return admitted;
    const checked = this.#check(admitted, height);
    const result = isFailure(checked) ? reject(checked.code as TxCodeValue, checked.log) : checked.apply();
    if (result.code === TxCode.OK) {
      const seenKey = KEYS.seen(admitted.payloadHash);
      const expiresAt = Number(admitted.tx.payload.expiresAtHeight);
      this.#table.put(seenKey, { expires_at_height: expiresAt });
      this.#trackExpiry(seenKey, expiresAt);
    }
    return result;
  }

  #admit(bytes: Uint8Array, height: number): AdmittedTx | ExecResult {
    const txHash = bytesToHex(sha256(bytes));
    const verified = memoize(this.#verifiedMemo, txHash, () => this.#verify(bytes));
    if ('code' in verified) return verified;
    const { tx, payloadHash } = verified;
    const { payload } = tx;
    if (payload.expiresAtHeight < BigInt(height)) return reject(TxCode.EXPIRED, `transaction expired at height ${payload.expiresAtHeight}, block height is ${height}`);
    const latest = BigInt(height + this.#params.max_tx_lifetime_blocks);
    if (payload.expiresAtHeight > latest) return reject(TxCode.EXPIRY_TOO_FAR, `expires_at_height ${payload.expiresAtHeight} is beyond ${latest} (max lifetime ${this.#params.max_tx_lifetime_blocks} blocks)`);
    if (this.#table.has(KEYS.seen(payloadHash))) return reject(TxCode.REPLAY, 'transaction payload was already committed');
    return { tx, payloadHash, txHash };
  }

  /** The state-independent checks of a tx's bytes: decoding, epoch, signer and envelope signature. */
  #verify(bytes: Uint8Array): VerifiedTx | ExecResult {
    let tx: SignedTx;
    try {
      tx = decodeSignedTx(bytes);
    } catch (err) {
      if (err instanceof TxDecodeError) {
        const code = err.reason === 'version' ? TxCode.UNSUPPORTED_VERSION : err.reason === 'too_large' ? TxCode.TX_TOO_LARGE : TxCode.MALFORMED;
        return reject(code, err.message);
      }
      throw err;
    }
    const { payload } = tx;
    if (payload.epoch !== BigInt(this.#epoch.id)) return reject(TxCode.WRONG_EPOCH, `transaction is for epoch ${payload.epoch}, the chain is in epoch ${this.#epoch.id}`);
    const signerKey = this.#memberKeys.get(payload.signerIndex);
    if (signerKey === undefined) return reject(TxCode.UNKNOWN_SIGNER, `signer index ${payload.signerIndex} is not a member of epoch ${this.#epoch.id}`);
    if (!verifySignature(signerKey, TX_SIGNATURE_TAG, txSignatureParts(this.#chainId, tx.payloadBytes), tx.signature)) {
      return reject(TxCode.BAD_SIGNATURE, `signature does not verify for signer ${payload.signerIndex}`);
    }
    return { tx, payloadHash: sha256(tx.payloadBytes) };
  }

  /**
   * Why a new user cannot be assigned a key in this state (users that have a key keep getting it): the
   * epoch is frozen, or the chain is still taking over the previous epoch.
   */
  #assignmentClosed(body: AssignKeyBody): RuleFailure | undefined {
    if (this.#table.has(KEYS.user(body.verifier, body.verifierId))) return undefined;
    const out = this.#handoffOut();
    if (out !== undefined) {
      return fail(TxCode.EPOCH_FROZEN, `epoch ${this.#epoch.id} is frozen and hands its keys to epoch ${out.next_epoch}; ask epoch ${out.next_epoch}'s nodes`);
    }
    const handoff = this.#handoffIn();
    if (handoff !== undefined && !handoff.complete) {
      return fail(TxCode.HANDOFF_IN_PROGRESS, `epoch ${this.#epoch.id} is still taking over the mapping and keys of epoch ${handoff.previous_epoch}; new users get keys once the hand-off is complete`);
    }
    return undefined;
  }

  #assignKey(body: AssignKeyBody): ExecResult {
    const userKey = KEYS.user(body.verifier, body.verifierId);
    const existing = this.#table.get<UserRecord>(userKey);
    if (existing !== undefined) {
      const keyIndex = existing.key_indexes[0] as number;
      return ok('already assigned', this.#assignmentData(keyIndex, false), [assignEvent(keyIndex, body.verifier, false)]);
    }
    const keyIndex = this.#ready.pop();
    if (keyIndex === undefined) return reject(TxCode.BUFFER_EMPTY, 'no ready key is available; the key buffer is empty');
    const record = this.#table.get<KeyRecord>(KEYS.key(keyIndex)) as KeyRecord;
    this.#table.put(KEYS.key(keyIndex), { ...record, status: 'assigned', assigned_to: { verifier: body.verifier, verifier_id: body.verifierId } });
    this.#table.put(userKey, { verifier: body.verifier, verifier_id: body.verifierId, key_indexes: [keyIndex] });
    this.#setCounters({ ...this.#counters, ready: this.#counters.ready - 1, assigned: this.#counters.assigned + 1 });
    return ok('assigned', this.#assignmentData(keyIndex, true), [assignEvent(keyIndex, body.verifier, true)]);
  }

  #assignmentData(keyIndex: number, created: boolean) {
    const record = this.#table.get<KeyRecord>(KEYS.key(keyIndex)) as KeyRecord;
    return { key_index: keyIndex, public_key: record.public_key, address: record.address, created };
  }

  /**
   * The state-dependent checks of a transaction body (with the expensive, state-independent parts memoised
   * per tx hash). Returns a failure, or the way to apply the body, which FinalizeBlock calls and CheckTx
   * does not.
   */
  #check(admitted: AdmittedTx, height: number): RuleFailure | { apply: () => ExecResult } {
    const { txHash } = admitted;
    const { body, signerIndex } = admitted.tx.payload;
    switch (body.type) {
      case 'assign_key':
        return this.#assignmentClosed(body) ?? { apply: () => this.#assignKey(body) };
      case 'register_key':
        return this.#checkRegisterKey(body, txHash);
      case 'keygen_propose':
        return this.#checkProposal(body, txHash);
      case 'key_publish':
        return this.#checkPublication(body, txHash);
      case 'freeze_vote':
        return this.#checkFreezeVote(body, signerIndex, height);
      case 'mapping_transfer':
        return this.#checkTransfer(body, txHash);
      case 'reshare_propose':
        return this.#checkReshareProposal(body, txHash);
    }
  }

  #keyRecord(keyIndex: bigint): KeyRecord | undefined {
    return keyIndex > BigInt(Number.MAX_SAFE_INTEGER) ? undefined : this.#table.get<KeyRecord>(KEYS.key(Number(keyIndex)));
  }

  /** The key's record if it is scheduled and not yet decided; otherwise why a proposal or registration is refused. */
  #generatingRecord(keyIndex: bigint): KeyRecord | RuleFailure {
    const record = this.#keyRecord(keyIndex);
    if (record === undefined || record.status !== 'generating') {
      return fail(TxCode.KEY_NOT_GENERATING, `key index ${keyIndex} is ${record ? `already ${record.status}` : 'not scheduled for generation'}`);
    }
    return record;
  }

  #checkProposal(body: KeygenProposeBody, txHash: string): RuleFailure | { apply: () => ExecResult } {
    const record = this.#generatingRecord(body.keyIndex);
    if (isFailure(record)) return record;
    const decision = memoize(this.#ruleMemo, txHash, () => checkProposal(this.#epochContext(), body));
    if (isFailure(decision)) return decision;
    const { dealers, commitments } = decision as Decision;
    return {
      apply: () => {
        this.#table.put(KEYS.key(record.index), { ...record, status: 'decided', dealers, commitments });
        return ok('dealings decided', { key_index: record.index, dealers }, [
          { type: 'torus.keygen_decided', attributes: [{ key: 'key_index', value: String(record.index), index: true }] },
        ]);
      },
    };
  }

  /** A transferred key's agreed re-dealings (reshare-rules.ts); thresholds from the genesis, never from the tx. */
  #checkReshareProposal(body: ReshareProposeBody, txHash: string): RuleFailure | { apply: () => ExecResult } {
    const record = this.#keyRecord(body.keyIndex);
    const previous = this.#previous;
    if (previous === undefined) return fail(TxCode.NO_PREVIOUS_EPOCH, `epoch ${this.#epoch.id} takes over from no previous epoch`);
    if (record === undefined || record.status !== 'transferred' || record.source_commitments === undefined) {
      return fail(TxCode.KEY_NOT_TRANSFERRED, `key index ${body.keyIndex} is ${record ? record.status : 'not transferred'}, not waiting for its re-dealings`);
    }
    const sourceCommitments = record.source_commitments;
    const source = { chainId: previous.record.chain_id, epoch: previous.record.epoch, memberKeys: previous.memberKeys };
    const decision = memoize(this.#ruleMemo, txHash, () => checkReshareProposal(this.#epochContext(), source, sourceCommitments, body));
    if (isFailure(decision)) return decision;
    const { dealers, commitments } = decision as Decision;
    return {
      apply: () => {
        this.#table.put(KEYS.key(record.index), { ...record, status: 'reshare-decided', dealers, commitments });
        return ok('re-dealings decided', { key_index: record.index, dealers }, [
          { type: 'torus.reshare_decided', attributes: [{ key: 'key_index', value: String(record.index), index: true }] },
        ]);
      },
    };
  }

  #checkPublication(body: KeyPublishBody, txHash: string): RuleFailure | { apply: () => ExecResult } {
    const record = this.#keyRecord(body.keyIndex);
    if (record?.status === 'reshare-decided') return this.#checkResharedPublication(record, body, txHash);
    if (record === undefined || record.status !== 'decided' || record.commitments === undefined) {
      return fail(TxCode.KEY_NOT_DECIDED, `key index ${body.keyIndex} is ${record ? record.status : 'not scheduled for generation'}, not decided`);
    }
    const commitments = record.commitments;
    const published = memoize(this.#ruleMemo, txHash, () => checkPublication(this.#epochContext(), commitments, body));
    if (isFailure(published)) return published;
    const { publicKey, sharePublics } = published as Publication;
    if (this.#table.has(KEYS.pubkey(publicKey))) return fail(TxCode.DUPLICATE_PUBLIC_KEY, 'public key is already registered for another key index');
    return { apply: () => this.#markReady(record, publicKey, commitments, sharePublics) };
  }

  /**
   * The new shares of a handed-over key are proven against the combined re-dealings E; the k proven g^{s_j}
   * must interpolate to the key's unchanged public key. The user keeps the key: it is assigned again, now
   * with this epoch's share commitments.
   */
  #checkResharedPublication(record: KeyRecord, body: KeyPublishBody, txHash: string): RuleFailure | { apply: () => ExecResult } {
    const commitments = record.commitments as string[];
    const published = memoize(this.#ruleMemo, txHash, () => checkPublication(this.#epochContext(), commitments, body));
    if (isFailure(published)) return published;
    const { publicKey, sharePublics } = published as Publication;
    if (bytesToHex(publicKey) !== record.public_key) {
      return fail(TxCode.INVALID_SHARE_PROOF, `the new shares of key ${record.index} interpolate to another public key than the transferred one`);
    }
    return {
      apply: () => {
        const { source_commitments: _old, ...rest } = record;
        this.#table.put(KEYS.key(record.index), { ...rest, status: 'assigned', share_publics: sharePublics });
        // The only way out of the awaiting statuses: the hand-off's count of keys to reshare goes down.
        const handoff = this.#handoffIn() as HandoffInRecord;
        this.#table.put(KEYS.handoffIn, { ...handoff, keys_resharing: handoff.keys_resharing - 1 } satisfies HandoffInRecord);
        return ok('key handed over', { key_index: record.index, public_key: record.public_key, address: record.address }, [
          { type: 'torus.key_handed_over', attributes: [{ key: 'key_index', value: String(record.index), index: true }] },
        ]);
      },
    };
  }

  #checkRegisterKey(body: RegisterKeyBody, txHash: string): RuleFailure | { apply: () => ExecResult } {
    if (!this.#params.dev_attested_keys) {
      return fail(TxCode.ATTESTED_KEYS_DISABLED, 'RegisterKey (attested keys) is disabled on this chain; keys come from key generation');
    }
    const record = this.#generatingRecord(body.keyIndex);
    if (isFailure(record)) return record;
    if (body.commitments.length !== this.#epoch.k) {
      return fail(TxCode.INVALID_KEY, `expected k=${this.#epoch.k} commitments, got ${body.commitments.length}`);
    }
    if (this.#table.has(KEYS.pubkey(body.publicKey))) return fail(TxCode.DUPLICATE_PUBLIC_KEY, 'public key is already registered for another key index');
    const attesters = new Set<number>();
    for (const attestation of body.attestations) {
      const memberKey = this.#memberKeys.get(attestation.nodeIndex);
      if (memberKey === undefined) return fail(TxCode.INVALID_ATTESTATION, `attestation by non-member index ${attestation.nodeIndex}`);
      if (attesters.has(attestation.nodeIndex)) return fail(TxCode.INVALID_ATTESTATION, `two attestations by node ${attestation.nodeIndex}`);
      attesters.add(attestation.nodeIndex);
    }
    if (attesters.size < this.#epoch.k) {
      return fail(TxCode.INSUFFICIENT_ATTESTATIONS, `key needs attestations by k=${this.#epoch.k} members, got ${attesters.size}`);
    }
    const verified = memoize(this.#ruleMemo, txHash, () => this.#verifyAttestations(body) ?? { verified: true as const });
    if (isFailure(verified)) return verified;
    return { apply: () => this.#markReady(record, body.publicKey, body.commitments.map(bytesToHex)) };
  }

  #verifyAttestations(body: RegisterKeyBody): RuleFailure | undefined {
    const parts = keyAttestationParts(this.#chainId, BigInt(this.#epoch.id), body.keyIndex, body.publicKey, body.commitments);
    for (const attestation of body.attestations) {
      const memberKey = this.#memberKeys.get(attestation.nodeIndex) as Uint8Array;
      if (!verifySignature(memberKey, KEY_ATTESTATION_TAG, parts, attestation.signature)) {
        return fail(TxCode.INVALID_ATTESTATION, `attestation by node ${attestation.nodeIndex} does not verify`);
      }
    }
    return undefined;
  }

  #epochContext(): EpochContext {
    return { chainId: this.#chainId, epoch: this.#epoch, memberKeys: this.#memberKeys };
  }

  /** A key's public key is fixed: it joins the ready buffer. */
  #markReady(record: KeyRecord, publicKey: Uint8Array, commitments: string[], sharePublics?: KeyRecord['share_publics']): ExecResult {
    // Derived once here, so assignments and lookups never decompress the key again.
    const address = checksumAddress(ethereumAddress(publicKey));
    const ready: KeyRecord = { ...record, status: 'ready', public_key: bytesToHex(publicKey), address, commitments };
    if (sharePublics !== undefined) ready.share_publics = sharePublics;
    this.#table.put(KEYS.key(record.index), ready);
    this.#table.put(KEYS.pubkey(publicKey), { key_index: record.index } satisfies PubkeyRecord);
    this.#ready.push(record.index);
    this.#setCounters({ ...this.#counters, generating: this.#counters.generating - 1, ready: this.#counters.ready + 1 });
    return ok('key ready', { key_index: record.index, public_key: bytesToHex(publicKey), address }, [
      { type: 'torus.key_ready', attributes: [{ key: 'key_index', value: String(record.index), index: true }] },
    ]);
  }

  #handoffOut(): HandoffOutRecord | undefined {
    return this.#table.get<HandoffOutRecord>(KEYS.handoffOut);
  }

  #handoffIn(): HandoffInRecord | undefined {
    return this.#table.get<HandoffInRecord>(KEYS.handoffIn);
  }

  /** True while the chain takes over the previous epoch's mapping and keys. */
  #receiving(): boolean {
    const handoff = this.#handoffIn();
    return handoff !== undefined && !handoff.complete;
  }

  /**
   * A member's vote to hand this epoch to `nextEpoch`. A member has one vote (a later vote for another
   * epoch replaces it); k+t votes for the same next epoch freeze the epoch in this block.
   */
  #checkFreezeVote(body: FreezeVoteBody, signer: number, height: number): RuleFailure | { apply: () => ExecResult } {
    const epochId = this.#epoch.id;
    if (this.#receiving()) return fail(TxCode.HANDOFF_IN_PROGRESS, `epoch ${epochId} is still taking over from the previous epoch; it cannot be frozen before that is complete`);
    if (body.nextEpoch <= BigInt(epochId) || body.nextEpoch > BigInt(Number.MAX_SAFE_INTEGER)) {
      return fail(TxCode.INVALID_FREEZE_VOTE, `next_epoch ${body.nextEpoch} must be greater than this chain's epoch ${epochId}`);
    }
    const nextEpoch = Number(body.nextEpoch);
    const out = this.#handoffOut();
    if (out !== undefined && out.next_epoch !== nextEpoch) {
      return fail(TxCode.EPOCH_FROZEN, `epoch ${epochId} is frozen and hands its keys to epoch ${out.next_epoch}; a vote for epoch ${nextEpoch} comes too late`);
    }
    const votes = this.#table.get<HandoffVotesRecord>(KEYS.handoffVotes)?.votes ?? [];
    if (votes.some((v) => v.node_index === signer && v.next_epoch === nextEpoch)) {
      return fail(TxCode.DUPLICATE_VOTE, `node ${signer} already voted to hand epoch ${epochId} to epoch ${nextEpoch}`);
    }
    return {
      apply: () => {
        const updated = [...votes.filter((v) => v.node_index !== signer), { node_index: signer, next_epoch: nextEpoch }]
          .sort((a, b) => a.node_index - b.node_index);
        this.#table.put(KEYS.handoffVotes, { votes: updated } satisfies HandoffVotesRecord);
        const count = updated.filter((v) => v.next_epoch === nextEpoch).length;
        const frozen = out === undefined && count >= this.#epoch.k + this.#epoch.t;
        if (frozen) this.#freeze(nextEpoch, height);
        const events: AbciEvent[] = [{ type: 'torus.freeze_vote', attributes: [
          { key: 'next_epoch', value: String(nextEpoch), index: true },
          { key: 'node_index', value: String(signer), index: false },
        ] }];
        if (frozen) events.push({ type: 'torus.epoch_frozen', attributes: [{ key: 'next_epoch', value: String(nextEpoch), index: true }] });
        return ok(frozen ? 'epoch frozen' : 'vote recorded', { next_epoch: nextEpoch, votes: count, frozen: frozen || out !== undefined }, events);
      },
    };
  }

  /** Fixes the frozen mapping: every key below the next index that is assigned now. */
  #freeze(nextEpoch: number, height: number): void {
    const endIndex = this.#counters.next_index;
    const unassigned: number[] = [];
    for (let i = 0; i < endIndex; i++) {
      if (this.#table.get<KeyRecord>(KEYS.key(i))?.status !== 'assigned') unassigned.push(i);
    }
    this.#table.put(KEYS.handoffOut, {
      next_epoch: nextEpoch, end_index: endIndex, frozen_at_height: height, items: endIndex - unassigned.length, unassigned,
    } satisfies HandoffOutRecord);
  }

  #transferContext(previous: PreviousEpochRecord, memberKeys: ReadonlyMap<number, Uint8Array>): TransferContext {
    return {
      source: { chainId: previous.chain_id, epoch: BigInt(previous.epoch.id) },
      sourceK: previous.epoch.k,
      sourceMembers: memberKeys,
      nextEpoch: BigInt(this.#epoch.id),
    };
  }

  #checkTransfer(body: MappingTransferBody, txHash: string): RuleFailure | { apply: () => ExecResult } {
    const handoff = this.#handoffIn();
    if (this.#previous === undefined || handoff === undefined) {
      return fail(TxCode.NO_PREVIOUS_EPOCH, `epoch ${this.#epoch.id} takes over from no previous epoch: its genesis names none`);
    }
    const { record: previous, memberKeys } = this.#previous;
    if (handoff.chunk_count !== null) {
      if (body.chunkCount !== handoff.chunk_count || body.endIndex !== BigInt(handoff.end_index ?? 0)) {
        return fail(TxCode.INVALID_MAPPING_CHUNK, `the mapping of epoch ${previous.epoch.id} has ${handoff.chunk_count} chunks below end index ${handoff.end_index} (fixed by its first accepted chunk); this chunk says ${body.chunkCount} below ${body.endIndex}`);
      }
      if (this.#table.has(KEYS.handoffInChunk(body.chunkIndex))) {
        return fail(TxCode.DUPLICATE_CHUNK, `chunk ${body.chunkIndex} of epoch ${previous.epoch.id}'s mapping was already accepted`);
      }
    }
    const checked = memoize(this.#ruleMemo, txHash, () => checkMappingChunk(this.#transferContext(previous, memberKeys), body) ?? { verified: true as const });
    if (isFailure(checked)) return checked;
    for (const item of body.items) {
      if (this.#table.has(KEYS.key(Number(item.keyIndex)))) return fail(TxCode.MAPPING_CONFLICT, `key index ${item.keyIndex} is already in the mapping`);
      if (this.#table.has(KEYS.user(item.verifier, item.verifierId))) return fail(TxCode.MAPPING_CONFLICT, `the user of key ${item.keyIndex} already has a key`);
      if (this.#table.has(KEYS.pubkey(item.publicKey))) return fail(TxCode.DUPLICATE_PUBLIC_KEY, `the public key of key ${item.keyIndex} is already registered`);
    }
    return { apply: () => this.#applyTransfer(body, handoff) };
  }

  /** Takes a chunk's keys over as `transferred` (the user has the key; this epoch has no shares of it yet). */
  #applyTransfer(body: MappingTransferBody, handoff: HandoffInRecord): ExecResult {
    for (const item of body.items) {
      const index = Number(item.keyIndex);
      const assignee = { verifier: item.verifier, verifier_id: item.verifierId };
      this.#table.put(KEYS.key(index), {
        index, epoch: this.#epoch.id, status: 'transferred',
        public_key: bytesToHex(item.publicKey), address: checksumAddress(ethereumAddress(item.publicKey)),
        source_commitments: item.commitments.map(bytesToHex), assigned_to: assignee,
      } satisfies KeyRecord);
      this.#table.put(KEYS.user(item.verifier, item.verifierId), { ...assignee, key_indexes: [index] } satisfies UserRecord);
      this.#table.put(KEYS.pubkey(item.publicKey), { key_index: index } satisfies PubkeyRecord);
    }
    const endIndex = Number(body.endIndex);
    const keys = body.items.length;
    this.#table.put(KEYS.handoffInChunk(body.chunkIndex), { keys });
    const updated: HandoffInRecord = {
      ...handoff, chunk_count: body.chunkCount, end_index: endIndex, chunks_received: handoff.chunks_received + 1,
      keys_transferred: handoff.keys_transferred + keys, keys_resharing: handoff.keys_resharing + keys,
    };
    this.#table.put(KEYS.handoffIn, updated);
    this.#setCounters({ ...this.#counters, next_index: Math.max(this.#counters.next_index, endIndex), assigned: this.#counters.assigned + keys });
    return ok('mapping chunk accepted', { chunk_index: body.chunkIndex, chunk_count: body.chunkCount, chunks_received: updated.chunks_received, keys }, [
      { type: 'torus.mapping_chunk', attributes: [
        { key: 'chunk_index', value: String(body.chunkIndex), index: true },
        { key: 'keys', value: String(keys), index: false },
      ] },
    ]);
  }

  /**
   * End of every block on a receiving chain: completes the hand-off once every chunk is in and no key
   * awaits resharing. From then on the chain schedules and assigns keys as usual.
   */
  #settleHandoffIn(): void {
    const handoff = this.#handoffIn();
    if (handoff === undefined || handoff.complete) return;
    if (handoff.chunk_count !== null && handoff.chunks_received === handoff.chunk_count && handoff.keys_resharing === 0) {
      this.#table.put(KEYS.handoffIn, { ...handoff, complete: true } satisfies HandoffInRecord);
    }
  }

  /**
   * Keeps generating + ready at the buffer target by scheduling the next indexes for generation; nothing
   * once the epoch is frozen or while it takes over the previous one.
   */
  #scheduleGeneration(): void {
    if (this.#handoffOut() !== undefined || this.#receiving()) return;
    const { key_buffer_target: target } = this.#params;
    let counters = this.#counters;
    if (counters.generating + counters.ready >= target) return;
    let next = counters.next_index;
    let generating = counters.generating;
    while (generating + counters.ready < target) {
      this.#table.put(KEYS.key(next), { index: next, epoch: this.#epoch.id, status: 'generating' });
      next++;
      generating++;
    }
    counters = { ...counters, next_index: next, generating };
    this.#setCounters(counters);
  }

  #setCounters(counters: CountersRecord): void {
    this.#counters = counters;
    this.#table.put(KEYS.counters, counters);
  }

  #trackExpiry(seenKey: string, expiresAt: number): void {
    const bucket = this.#expiry.get(expiresAt);
    if (bucket) bucket.push(seenKey);
    else this.#expiry.set(expiresAt, [seenKey]);
  }

  /** After height h no block can include a tx that expired at or before h, so its replay record can go. */
  #pruneExpired(height: number): void {
    for (const [expiresAt, keys] of this.#expiry) {
      if (expiresAt > height) continue;
      for (const key of keys) this.#table.delete(key);
      this.#expiry.delete(expiresAt);
    }
  }
}

function memberKeyMap(epoch: EpochRecord): Map<number, Uint8Array> {
  return new Map(epoch.members.map((m) => [m.index, hexToBytes(m.public_key)]));
}

function assignEvent(keyIndex: number, verifier: string, created: boolean): AbciEvent {
  return {
    type: 'torus.assign',
    attributes: [
      { key: 'key_index', value: String(keyIndex), index: true },
      { key: 'verifier', value: verifier, index: true },
      { key: 'created', value: String(created), index: false },
    ],
  };
}
