/**
 * torus-abci's Prometheus metrics (names torus_abci_*), counted from what MappingApp already has in hand:
 * transaction bytes and results, committed heights and the key counters. Labels are bounded: transaction
 * body types and result codes (abci/src/state/codes.ts), never users or key indexes.
 */
import type { Counter, Gauge } from 'prom-client';
import type { ProcessMetrics } from '../../core/metrics.js';
import { peekTxBodyType } from '../../core/tx/codec.js';
import type { MappingAppObserver } from './app.js';
import { TxCode } from './state/codes.js';
import type { ExecResult } from './state/machine.js';
import type { CountersRecord } from './state/records.js';

export class MappingMetrics implements MappingAppObserver {
  readonly #height: Gauge;
  readonly #keys: Gauge<'status'>;
  readonly #txs: Counter<'type' | 'code'>;
  readonly #rejected: Counter<'stage' | 'code'>;
  readonly #assignments: Counter<'result'>;

  constructor(metrics: ProcessMetrics) {
    this.#height = metrics.gauge('block_height', 'Last block height committed by this application.');
    this.#keys = metrics.gauge('keys', 'Keys in the mapping state by status: generating (scheduled), ready (the buffer), assigned (to users).', ['status']);
    this.#txs = metrics.counter('txs_total', 'Transactions delivered in FinalizeBlock, by body type (unknown when undecodable) and result code (0 = applied).', ['type', 'code']);
    this.#rejected = metrics.counter('txs_rejected_total', 'Transactions rejected, by stage (check = new in CheckTx, recheck = mempool recheck after a block, finalize = in a block) and result code.', ['stage', 'code']);
    this.#assignments = metrics.counter('assignments_total', 'Applied AssignKey transactions: new (a ready key was assigned) or repeated (the user already had a key).', ['result']);
    // Both series exist from the start, so a rate over them is defined before the first login.
    for (const result of ['new', 'repeated']) this.#assignments.inc({ result }, 0);
  }

  txChecked(stage: 'check' | 'recheck', code: number): void {
    if (code !== TxCode.OK) this.#rejected.inc({ stage, code: String(code) });
  }

  txDelivered(tx: Uint8Array, result: ExecResult): void {
    const code = String(result.code);
    this.#txs.inc({ type: peekTxBodyType(tx) ?? 'unknown', code });
    if (result.code !== TxCode.OK) {
      this.#rejected.inc({ stage: 'finalize', code });
      return;
    }
    const assignment = result.events.find((event) => event.type === 'torus.assign');
    if (assignment !== undefined) {
      const created = assignment.attributes.find((attribute) => attribute.key === 'created')?.value === 'true';
      this.#assignments.inc({ result: created ? 'new' : 'repeated' });
    }
  }

  committed(height: number, counters: CountersRecord): void {
    this.#height.set(height);
    this.#keys.set({ status: 'generating' }, counters.generating);
    this.#keys.set({ status: 'ready' }, counters.ready);
    this.#keys.set({ status: 'assigned' }, counters.assigned);
  }
}
