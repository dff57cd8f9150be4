/**
 * Prometheus metrics, liveness and readiness for the node's processes (torus-abci, torus-dkg,
 * torus-retrieval). Each process makes one ProcessMetrics (its own registry, with Node.js's default process
 * metrics prefixed `torus_`, and its own metrics named `torus_<process>_...`) and, when configured with a
 * listen address, serves it with startProbeServer:
 *
 *   GET /metrics   the registry in the Prometheus text exposition format
 *   GET /healthz   200 {"ok": true}: the process is alive and its event loop answers; nothing else is asked
 *   GET /readyz    200 when every readiness check of the process passes, else 503 naming the failed checks
 *   anything else  404
 *
 * The server only reads: it exposes counters, never state, keys or user data, and label values are bounded
 * sets (message types, result codes, node indexes), never user ids or key indexes.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { z } from 'zod';
import type { Logger } from './log.js';

export type ProcessName = 'abci' | 'dkg' | 'retrieval';

/** `HOST:PORT` (an IPv4 address or a name; port 0 picks a free one, for tests). */
export const HostPortSchema = z.string()
  .regex(/^[^\s:/]+:\d{1,5}$/, 'must be HOST:PORT, e.g. 127.0.0.1:9100')
  .refine((value) => Number(value.slice(value.lastIndexOf(':') + 1)) <= 65535, 'port must be at most 65535');

export function parseHostPort(value: string): { host: string; port: number } {
  const colon = value.lastIndexOf(':');
  return { host: value.slice(0, colon), port: Number(value.slice(colon + 1)) };
}

/** Latency buckets (seconds) for requests that take from about a millisecond to a few seconds. */
export const LATENCY_BUCKETS_SECONDS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

/** One process's registry; the metric factories add the `torus_<process>_` prefix so names cannot drift. */
export class ProcessMetrics {
  readonly registry = new Registry();
  readonly prefix: string;

  constructor(readonly process: ProcessName) {
    this.prefix = `torus_${process}_`;
    // Every process gets the same default families (CPU, memory, event-loop lag, GC); the scrape target's
    // job/instance labels tell the processes apart.
    collectDefaultMetrics({ register: this.registry, prefix: 'torus_' });
  }

  counter<L extends string = never>(name: string, help: string, labelNames: readonly L[] = []): Counter<L> {
    return new Counter<L>({ name: this.prefix + name, help, labelNames, registers: [this.registry] });
  }

  /** A gauge; with `read`, its value is read at every scrape instead of being set by the process. */
  gauge<L extends string = never>(name: string, help: string, labelNames: readonly L[] = [], read?: (gauge: Gauge<L>) => void | Promise<void>): Gauge<L> {
    return new Gauge<L>({
      name: this.prefix + name, help, labelNames, registers: [this.registry],
      ...(read !== undefined ? { collect(this: Gauge<L>) { return read(this); } } : {}),
    });
  }

  histogram<L extends string = never>(name: string, help: string, labelNames: readonly L[], buckets: number[]): Histogram<L> {
    return new Histogram<L>({ name: this.prefix + name, help, labelNames, buckets, registers: [this.registry] });
  }
}

export interface CheckResult {
  readonly ok: boolean;
  /** What was seen, for an operator: a height, a count, an error message. Never secrets. */
  readonly detail?: unknown;
}

/** One readiness condition. A check that throws or does not answer in time counts as failed. */
export type ReadinessCheck = () => CheckResult | Promise<CheckResult>;

export interface Readiness {
  readonly ready: boolean;
  /** Names of the checks that failed, in the order they were declared. */
  readonly failed: readonly string[];
  readonly checks: Readonly<Record<string, CheckResult>>;
}

const CHECK_TIMEOUT_MS = 3000;

/** Runs every check at once and reports them all, so one answer names every failing condition. */
export async function evaluateReadiness(checks: Readonly<Record<string, ReadinessCheck>>, timeoutMs = CHECK_TIMEOUT_MS): Promise<Readiness> {
  const entries = await Promise.all(Object.entries(checks).map(async ([name, check]): Promise<[string, CheckResult]> => {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<CheckResult>((resolve) => {
      timer = setTimeout(() => resolve({ ok: false, detail: `no answer within ${timeoutMs} ms` }), timeoutMs);
    });
    try {
      return [name, await Promise.race([Promise.resolve().then(check), timeout])];
    } catch (err) {
      return [name, { ok: false, detail: err instanceof Error ? err.message : String(err) }];
    } finally {
      clearTimeout(timer);
    }
  }));
  const failed = entries.filter(([, result]) => !result.ok).map(([name]) => name);
  return { ready: failed.length === 0, failed, checks: Object.fromEntries(entries) };
}

/** The HTTP status of a readiness answer: 503 tells load balancers and orchestrators to keep away. */
export function readinessStatus(readiness: Readiness): 200 | 503 {
  return readiness.ready ? 200 : 503;
}

export interface ProbeServerOptions {
  /** HOST:PORT (see HostPortSchema). */
  readonly listen: string;
  readonly metrics: ProcessMetrics;
  readonly readiness: Readonly<Record<string, ReadinessCheck>>;
  readonly log: Logger;
}

export interface ProbeServer {
  readonly address: AddressInfo;
  close(): Promise<void>;
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
  res.end(JSON.stringify(body));
}

async function answerProbe(req: IncomingMessage, res: ServerResponse, options: ProbeServerOptions): Promise<void> {
  const path = (req.url ?? '/').split('?')[0];
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.writeHead(405, { allow: 'GET, HEAD' }).end();
    return;
  }
  switch (path) {
    case '/metrics': {
      const text = await options.metrics.registry.metrics();
      res.writeHead(200, { 'content-type': options.metrics.registry.contentType, 'cache-control': 'no-store' });
      res.end(text);
      return;
    }
    case '/healthz':
      sendJson(res, 200, { ok: true });
      return;
    case '/readyz': {
      const readiness = await evaluateReadiness(options.readiness);
      sendJson(res, readinessStatus(readiness), readiness);
      return;
    }
    default:
      sendJson(res, 404, { error: 'not found; this server answers GET /metrics, /healthz and /readyz' });
  }
}

/** Serves /metrics, /healthz and /readyz on `options.listen` (plain HTTP; bind it to a private address). */
export async function startProbeServer(options: ProbeServerOptions): Promise<ProbeServer> {
  const { host, port } = parseHostPort(options.listen);
  const server: Server = createServer((req, res) => {
    answerProbe(req, res, options).catch((err: unknown) => {
      options.log.warn({ err: err instanceof Error ? err.message : String(err), url: req.url }, 'metrics request failed');
      if (!res.headersSent) sendJson(res, 500, { error: 'internal error' });
      else res.end();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  options.log.info({ listen: `${address.address}:${address.port}` }, 'metrics, /healthz and /readyz served');
  return {
    address,
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}
