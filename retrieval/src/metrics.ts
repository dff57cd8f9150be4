/**
 * torus-retrieval's Prometheus metrics (names torus_retrieval_*): JSON-RPC requests by method and outcome
 * with their latency (from JsonRpcDispatcher's onRequest), and the login paths' refusals and answers (from
 * the handlers, through LoginMetrics). Labels are bounded: method names this server defines, JSON-RPC error
 * codes, fixed reasons — never verifiers, user ids, tokens or key indexes.
 */
import type { Counter, Histogram } from 'prom-client';
import { LATENCY_BUCKETS_SECONDS, type ProcessMetrics } from '../../core/metrics.js';
import type { LoginMetrics, SignatureRejection } from './context.js';

export class RetrievalMetrics implements LoginMetrics {
  readonly #requests: Counter<'method' | 'outcome'>;
  readonly #latency: Histogram<'method'>;
  readonly #replays: Counter<'method'>;
  readonly #badSignatures: Counter<'reason'>;
  readonly #sharesServed: Counter;

  constructor(metrics: ProcessMetrics) {
    this.#requests = metrics.counter('requests_total', 'JSON-RPC requests by method (unknown: not a method of this server; invalid: not JSON-RPC) and outcome (ok, or the JSON-RPC error code).', ['method', 'outcome']);
    this.#latency = metrics.histogram('request_duration_seconds', 'Time to answer a JSON-RPC request, by method.', ['method'], LATENCY_BUCKETS_SECONDS);
    this.#replays = metrics.counter('replayed_tokens_total', 'Requests refused with "Duplicate token found": a token commitment bound before (CommitmentRequest) or a token revealed before (ShareRequest).', ['method']);
    this.#badSignatures = metrics.counter('bad_signatures_total', 'Commitment signatures in ShareRequests that did not count, by reason (invalid = does not verify).', ['reason']);
    this.#sharesServed = metrics.counter('shares_served_total', 'Encrypted shares answered by successful ShareRequests.');
    for (const method of ['CommitmentRequest', 'ShareRequest']) this.#replays.inc({ method }, 0);
  }

  /** For JsonRpcDispatcher's onRequest. */
  request(method: string, outcome: string, seconds: number): void {
    this.#requests.inc({ method, outcome });
    this.#latency.observe({ method }, seconds);
  }

  tokenReplayRejected(method: 'CommitmentRequest' | 'ShareRequest'): void {
    this.#replays.inc({ method });
  }

  signaturesRejected(reason: SignatureRejection, count: number): void {
    this.#badSignatures.inc({ reason: reason.replaceAll(' ', '-') }, count);
  }

  sharesServed(count: number): void {
    this.#sharesServed.inc(count);
  }
}
