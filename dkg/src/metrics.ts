/**
 * torus-dkg's Prometheus metrics (names torus_dkg_*). The worker and the hand-over report through the small
 * WorkerMetrics and HandoverMetrics interfaces; the engine itself stays free of I/O and of this library.
 * Labels are bounded: node indexes (n ≤ 64), message types, reject reasons and transaction types — never key
 * indexes.
 */
import type { Counter, Gauge } from 'prom-client';
import type { ProcessMetrics } from '../../core/metrics.js';
import type { HandoverMetrics } from './handover.js';
import type { KeygenTx, MessageType, RejectReason } from './protocol/messages.js';
import type { WorkerMetrics } from './worker.js';

/** A member's index, or `source-<d>` for dealer d of the previous epoch (a hand-over's re-dealings). */
function peerLabel(peer: number): string {
  return peer > 0 ? String(peer) : `source-${-peer}`;
}

type HandoverRole = 'source' | 'target';

export class KeygenMetrics implements WorkerMetrics, HandoverMetrics {
  readonly #keysStarted: Counter;
  readonly #keysFinished: Counter;
  readonly #dealingsCompleted: Counter;
  readonly #rejected: Counter<'type' | 'reason'>;
  readonly #received: Counter<'peer'>;
  readonly #sent: Counter<'peer'>;
  readonly #sendFailures: Counter<'peer'>;
  readonly #txsSubmitted: Counter<'type'>;
  readonly #txsRejected: Counter<'type' | 'code'>;
  readonly #bufferReady: Gauge;
  readonly #bufferTarget: Gauge;
  readonly #keysRedealt: Counter;
  readonly #handoverDone = new Map<HandoverRole, () => boolean>();
  #connectedPeers: () => Promise<number> = async () => 0;

  constructor(metrics: ProcessMetrics) {
    this.#keysStarted = metrics.counter('keys_started_total', 'Keys this node started to deal for (or, in a hand-over, to receive).');
    this.#keysFinished = metrics.counter('keys_finished_total', 'Keys this node worked on that the mapping now shows ready (or assigned again after resharing).');
    this.#dealingsCompleted = metrics.counter('dealings_completed_total', 'Dealings completed at this node: its verified share and k+t ready signatures.');
    this.#rejected = metrics.counter('messages_rejected_total', 'Peer messages the engine did not use, by message type and reason (key-finished, late and not-decided are benign).', ['type', 'reason']);
    this.#received = metrics.counter('messages_received_total', 'Key-generation messages received, by sending node index (source-<d>: a previous-epoch dealer).', ['peer']);
    this.#sent = metrics.counter('messages_sent_total', 'Key-generation messages delivered, by receiving node index.', ['peer']);
    this.#sendFailures = metrics.counter('send_failures_total', 'Failed sends (the peer was unreachable; its messages go again later), by node index.', ['peer']);
    this.#txsSubmitted = metrics.counter('txs_submitted_total', 'Key-generation transactions submitted to CometBFT, by type.', ['type']);
    this.#txsRejected = metrics.counter('txs_rejected_total', 'Submitted key-generation transactions that CheckTx refused, by type and code (usually another node\'s won the race).', ['type', 'code']);
    this.#bufferReady = metrics.gauge('buffer_ready_keys', 'Ready, unassigned keys in the mapping state (/buffer), as last read.');
    this.#bufferTarget = metrics.gauge('buffer_target_keys', 'The key buffer target of the mapping state (/buffer).');
    this.#keysRedealt = metrics.counter('handover_keys_redealt_total', 'Frozen keys whose share this node re-dealt to the next epoch (hand-over, source role).');
    metrics.gauge('handover_complete', 'Hand-over state by role: source = this epoch handed its keys over and deleted its shares; target = this chain took the previous epoch over. 1 when done.', ['role'], (gauge) => {
      for (const [role, done] of this.#handoverDone) gauge.set({ role }, done() ? 1 : 0);
    });
    metrics.gauge('peers_connected', 'Members of this epoch with an open libp2p connection to this node.', [], async (gauge) => {
      gauge.set(await this.#connectedPeers());
    });
  }

  /** Reports a hand-over role's completion at each scrape. */
  watchHandover(role: HandoverRole, done: () => boolean): void {
    this.#handoverDone.set(role, done);
  }

  /** How to count connected members at a scrape (the transport). */
  watchPeers(count: () => Promise<number>): void {
    this.#connectedPeers = count;
  }

  setBuffer(buffer: { ready: number; target: number }): void {
    this.#bufferReady.set(buffer.ready);
    this.#bufferTarget.set(buffer.target);
  }

  keyStarted(): void {
    this.#keysStarted.inc();
  }

  keyFinished(): void {
    this.#keysFinished.inc();
  }

  dealingCompleted(): void {
    this.#dealingsCompleted.inc();
  }

  messageRejected(type: MessageType, reason: RejectReason): void {
    this.#rejected.inc({ type, reason });
  }

  messagesReceived(peer: number, count: number): void {
    this.#received.inc({ peer: peerLabel(peer) }, count);
  }

  messagesSent(peer: number, count: number): void {
    this.#sent.inc({ peer: peerLabel(peer) }, count);
  }

  sendFailed(peer: number): void {
    this.#sendFailures.inc({ peer: peerLabel(peer) });
  }

  txSubmitted(type: KeygenTx['type'], code: number): void {
    this.#txsSubmitted.inc({ type });
    if (code !== 0) this.#txsRejected.inc({ type, code: String(code) });
  }

  keyRedealt(): void {
    this.#keysRedealt.inc();
  }
}
