/**
 * The torus-abci application: connects the pure mapping state machine to ABCI and to its LevelDB store.
 * All effects live here: loading at start, persisting at Commit, reading for queries.
 */
import type {
  RequestCheckTx, RequestFinalizeBlock, RequestInitChain, RequestPrepareProposal, RequestQuery,
} from 'cosmjs-types/tendermint/abci/types';
import {
  CheckTxType, ResponseApplySnapshotChunk_Result, ResponseOfferSnapshot_Result, ResponseProcessProposal_ProposalStatus,
  ResponseVerifyVoteExtension_VerifyStatus,
} from 'cosmjs-types/tendermint/abci/types';
import type { Logger } from '../../core/log.js';
import type { AbciApplication } from './transport/application.js';
import { CODESPACE, QueryCode, TxCode } from './state/codes.js';
import { MappingStateMachine, type ExecResult } from './state/machine.js';
import { StateStore } from './state/store.js';
import type { CountersRecord } from './state/records.js';
import { runQuery, type StateReader } from './query.js';
import { bytesToHex } from '../../core/encoding/bytes.js';

export const APP_NAME = 'torus-abci';
export const APP_VERSION = 1n;

function toAbciResult(result: ExecResult) {
  return {
    code: result.code,
    log: result.log,
    data: result.data ?? new Uint8Array(0),
    codespace: result.code === TxCode.OK ? '' : CODESPACE,
    events: result.events.map((e) => ({ type: e.type, attributes: e.attributes.map((a) => ({ ...a })) })),
  };
}

/**
 * What the app reports as it runs, for metrics (abci/src/metrics.ts). It sees only what the app already has
 * in hand — a transaction's bytes and its result, a committed height and the counters — so the state
 * machine stays pure and knows nothing of it.
 */
export interface MappingAppObserver {
  /** A CheckTx answer (a new transaction, or a recheck of one still in the mempool after a block). */
  txChecked(stage: 'check' | 'recheck', code: number): void;
  /** A transaction's result in FinalizeBlock. */
  txDelivered(tx: Uint8Array, result: ExecResult): void;
  /** The state at a committed height (also at load and after InitChain). */
  committed(height: number, counters: CountersRecord): void;
}

/** Whether the app can serve (its /readyz): it has a state, and CometBFT has asked for its height. */
export interface MappingAppReadiness {
  /** InitChain ran or a committed state was loaded. */
  readonly initialised: boolean;
  /** CometBFT's handshake has asked Info (so it knows the app's last block height) since this process started. */
  readonly cometConnected: boolean;
  readonly height: number;
  /** Writing committed state failed: the app refuses every request from here on. */
  readonly writeFailed: boolean;
}

/**
 * Commit is write-behind: the in-memory state is committed when Commit returns, and its LevelDB batch is
 * written in the background, in order. If the process dies before a batch lands, it restarts at an
 * earlier height and CometBFT's handshake replays the missing blocks from its block store, so nothing
 * committed is lost; meanwhile the next block does not wait for the disk. A query first waits for the
 * writes in flight, so it sees every block committed before it. A failed write is fatal: every later
 * request fails and CometBFT stops.
 */
export class MappingApp implements AbciApplication {
  readonly #store: StateStore;
  readonly #log: Logger;
  readonly #observer: MappingAppObserver | undefined;
  #infoAnswered = false;
  #machine: MappingStateMachine | undefined;
  #committedHeight: number;
  #committedAppHash: Uint8Array;
  #durableHeight: number;
  #writes: Promise<void> = Promise.resolve();
  #writeError: Error | undefined;

  private constructor(store: StateStore, log: Logger, machine: MappingStateMachine | undefined, observer: MappingAppObserver | undefined) {
    this.#store = store;
    this.#log = log;
    this.#observer = observer;
    this.#machine = machine;
    this.#committedHeight = machine?.height ?? 0;
    this.#committedAppHash = machine?.appHash ?? new Uint8Array(0);
    this.#durableHeight = this.#committedHeight;
    if (machine !== undefined) observer?.committed(machine.height, machine.counters);
  }

  static async open(stateDirectory: string, log: Logger, observer?: MappingAppObserver): Promise<MappingApp> {
    const store = await StateStore.open(stateDirectory);
    const meta = await store.meta();
    let machine: MappingStateMachine | undefined;
    if (meta !== undefined) {
      machine = MappingStateMachine.restore(await store.latestRecords(), meta.height, meta.appHash);
      log.info({ height: meta.height, appHash: bytesToHex(meta.appHash), records: machine.table.size }, 'state loaded');
    } else {
      log.info({}, 'no committed state yet; waiting for InitChain');
    }
    return new MappingApp(store, log, machine, observer);
  }

  async close(): Promise<void> {
    await this.#writes;
    await this.#store.close();
  }

  /** Resolves when every committed block is on disk. */
  flushed(): Promise<void> {
    return this.#writes;
  }

  readiness(): MappingAppReadiness {
    return { initialised: this.#machine !== undefined, cometConnected: this.#infoAnswered, height: this.#committedHeight, writeFailed: this.#writeError !== undefined };
  }

  info() {
    this.#infoAnswered = true;
    return {
      data: APP_NAME,
      version: process.env['npm_package_version'] ?? '0.1.0',
      appVersion: APP_VERSION,
      lastBlockHeight: BigInt(this.#committedHeight),
      lastBlockAppHash: this.#committedAppHash,
    };
  }

  initChain(request: RequestInitChain) {
    if (this.#machine !== undefined && this.#committedHeight > 0) {
      throw new Error(`InitChain received, but the state is already at height ${this.#committedHeight}`);
    }
    const initialHeight = Number(request.initialHeight) || 1;
    this.#machine = MappingStateMachine.genesis(request.chainId, request.appStateBytes, initialHeight);
    const epoch = this.#machine.epoch;
    this.#log.info({ chainId: request.chainId, epoch: epoch.id, n: epoch.n, k: epoch.k, t: epoch.t }, 'chain initialised');
    this.#observer?.committed(this.#machine.height, this.#machine.counters);
    return { appHash: this.#machine.appHash };
  }

  checkTx(request: RequestCheckTx) {
    const response = this.#machine === undefined
      ? { code: TxCode.NOT_INITIALISED, log: 'chain not initialised yet', codespace: CODESPACE }
      : toAbciResult(this.#machine.checkTx(request.tx));
    this.#observer?.txChecked(request.type === CheckTxType.RECHECK ? 'recheck' : 'check', response.code);
    return response;
  }

  /** Keeps mempool order and drops what does not fit; validity is decided per tx in FinalizeBlock. */
  prepareProposal(request: RequestPrepareProposal) {
    const txs: Uint8Array[] = [];
    let total = 0n;
    for (const tx of request.txs) {
      if (total + BigInt(tx.length) > request.maxTxBytes) break;
      total += BigInt(tx.length);
      txs.push(tx);
    }
    return { txs };
  }

  /** Invalid txs in a block are rejected one by one with their code; the block itself is always acceptable. */
  processProposal() {
    return { status: ResponseProcessProposal_ProposalStatus.ACCEPT };
  }

  finalizeBlock(request: RequestFinalizeBlock) {
    const machine = this.#requireMachine();
    const started = performance.now();
    const { results, appHash } = machine.finalizeBlock(Number(request.height), request.txs);
    const txResults = results.map(toAbciResult);
    if (this.#observer !== undefined) {
      for (const [i, result] of results.entries()) this.#observer.txDelivered(request.txs[i] as Uint8Array, result);
    }
    this.#log.debug({ height: machine.height, txs: request.txs.length, ms: Math.round(performance.now() - started) }, 'block finalized');
    return { txResults, appHash };
  }

  commit() {
    const machine = this.#requireMachine();
    const pending = machine.takePendingWrites();
    const height = machine.height;
    this.#committedHeight = height;
    this.#committedAppHash = machine.appHash;
    this.#observer?.committed(height, machine.counters);
    this.#writes = this.#writes.then(async () => {
      if (this.#writeError) return;
      const started = performance.now();
      try {
        await this.#store.commit(pending);
        this.#durableHeight = height;
        this.#log.debug({ height, writes: pending.reduce((n, b) => n + b.writes.length, 0), ms: Math.round(performance.now() - started) }, 'state written');
      } catch (err) {
        this.#writeError = err instanceof Error ? err : new Error(String(err));
        this.#log.fatal({ height, err: this.#writeError.message }, 'writing committed state failed; stopping');
      }
    });
    return { retainHeight: 0n };
  }

  async query(request: RequestQuery) {
    // Read-your-writes: a query sees every block committed before it.
    await this.#writes;
    this.#throwIfWriteFailed();
    const height = Number(request.height);
    if (this.#machine === undefined || this.#durableHeight === 0) return { code: QueryCode.HEIGHT_UNAVAILABLE, log: 'chain not initialised yet', codespace: CODESPACE };
    if (height > this.#durableHeight) {
      return { code: QueryCode.HEIGHT_UNAVAILABLE, log: `height ${height} is not committed yet (latest ${this.#durableHeight})`, codespace: CODESPACE };
    }
    const answerHeight = height === 0 ? this.#durableHeight : height;
    const reader: StateReader = height === 0
      ? { read: (key) => this.#store.readLatest(key) }
      : { read: (key) => this.#store.readAt(key, answerHeight) };
    const result = await runQuery(request.path, request.data, reader);
    return {
      code: result.code,
      log: result.log,
      value: result.value ?? new Uint8Array(0),
      height: BigInt(answerHeight),
      codespace: result.code === QueryCode.OK ? '' : CODESPACE,
    };
  }

  extendVote() {
    return { voteExtension: new Uint8Array(0) };
  }

  verifyVoteExtension() {
    return { status: ResponseVerifyVoteExtension_VerifyStatus.ACCEPT };
  }

  listSnapshots() {
    return { snapshots: [] };
  }

  /** State sync is not offered: the mapping is small and replays quickly from blocks. */
  offerSnapshot() {
    return { result: ResponseOfferSnapshot_Result.REJECT };
  }

  loadSnapshotChunk() {
    return { chunk: new Uint8Array(0) };
  }

  applySnapshotChunk() {
    return { result: ResponseApplySnapshotChunk_Result.ABORT };
  }

  #requireMachine(): MappingStateMachine {
    this.#throwIfWriteFailed();
    if (this.#machine === undefined) throw new Error('block received before InitChain');
    return this.#machine;
  }

  #throwIfWriteFailed(): void {
    if (this.#writeError) throw new Error(`committed state could not be written: ${this.#writeError.message}`);
  }
}
