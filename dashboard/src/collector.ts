/**
 * Polls the network for the dashboard, server-side, so the page needs no CORS from CometBFT and a slow node
 * costs one request per refresh however many pages are open. Every refresh (2 s by default, the next one only
 * after the last finished):
 *
 * - each node: the retrieval server's `/healthz` (alive) and `/readyz` (ready; a server without the route
 *   answers 404, shown as unknown), and its CometBFT `status` (height, catching up, latest block time);
 * - from the CometBFT RPC with the highest height that answers: the epoch (`/epoch`) and the key buffer
 *   (`/buffer`) through abci_query; the buffer is kept as a bounded history (30 minutes by default) and the
 *   key-generation rate is the growth of ready + assigned keys over the last minute of it;
 * - when the number of assigned keys changed (and at least every 30 s): recent assignments, from the
 *   `torus.assign` events CometBFT indexed (`tx_search "torus.assign.key_index EXISTS"`, newest first; only
 *   `created=true`, as a repeated KeyAssign emits the event again), each with its commit time (`header`) and
 *   its user from the key record (`/key`), masked before it leaves this module.
 *
 * Every answer is validated with zod before use; every call has a short deadline, so one hung node delays a
 * refresh by that deadline at most.
 */
import { z } from 'zod';
import { fromUtf8 } from '../../core/encoding/bytes.js';
import { abciQuery, rpcCall, status, type CometStatus } from '../../core/comet/rpc.js';
import {
  EpochInfo, KeyBuffer, type Assignment, type AssignmentsAnswer, type BufferHistoryAnswer, type BufferSample,
  type KeygenRate, type NodeStatus, type StatusAnswer,
} from './api.js';
import { maskVerifierId } from './mask.js';
import type { NetworkSource, NetworkView, WatchedNode } from './network-source.js';

export interface CollectorOptions {
  /** Time between the end of one refresh and the start of the next; default 2000 ms. */
  readonly intervalMs?: number;
  /** How much buffer history is kept; default 30 minutes. */
  readonly historyMs?: number;
  /** Deadline of each call to a node; default 1500 ms. */
  readonly requestTimeoutMs?: number;
  /** The key-generation rate is measured over this much of the history; default 60 s. */
  readonly rateWindowMs?: number;
  /** Recent assignments shown; default 12. */
  readonly assignmentsShown?: number;
}

const DEFAULTS = { intervalMs: 2000, historyMs: 30 * 60_000, requestTimeoutMs: 1500, rateWindowMs: 60_000, assignmentsShown: 12 } as const;
/** Assignments are looked up again at least this often, also when the count did not change (a node was down). */
const ASSIGNMENTS_MAX_AGE_MS = 30_000;
/** Commit times and key users are cached (they never change); at most this many of each. */
const CACHE_LIMIT = 2000;

const TxSearchResult = z.object({
  txs: z.array(z.object({
    height: z.string().regex(/^\d+$/),
    tx_result: z.object({
      code: z.number().optional(),
      data: z.string().nullable().optional(),
      events: z.array(z.object({ type: z.string(), attributes: z.array(z.object({ key: z.string(), value: z.string().nullable().optional() })).nullable().optional() })).nullable().optional(),
    }),
  })),
});
const HeaderResult = z.object({ header: z.object({ time: z.string() }) });
/** What AssignKey's result data says (abci/src/state/machine.ts): the key and whether this tx created it. */
const AssignResultData = z.object({ key_index: z.number().int().nonnegative(), address: z.string(), created: z.boolean() });
const KeyUser = z.object({ assigned_to: z.object({ verifier: z.string(), verifier_id: z.string() }).optional() });
/**
 * A `/healthz` body (`{ok, detail}`) or a `/readyz` body (`{ready, failed, checks: {name: {ok, detail}}}`,
 * core/metrics.ts); anything else is shown as text.
 */
const ProbeBody = z.object({
  failed: z.array(z.string()).optional(),
  checks: z.record(z.string(), z.looseObject({ detail: z.unknown().optional() })).optional(),
  detail: z.unknown().optional(),
});

/** What a failing probe said: the failed checks with their details, else its detail. */
function probeDetail(text: string): string {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return clip(text);
  }
  const body = ProbeBody.safeParse(json);
  if (!body.success) return clip(text);
  const { failed, checks, detail } = body.data;
  if (failed !== undefined && failed.length > 0) {
    return clip(failed.map((name) => {
      const why = checks?.[name]?.detail;
      return why === undefined ? name : `${name}: ${typeof why === 'string' ? why : JSON.stringify(why)}`;
    }).join('; '));
  }
  if (detail !== undefined) return clip(typeof detail === 'string' ? detail : JSON.stringify(detail));
  return clip(text);
}

type Probe = { readonly status: number; readonly detail: string | null } | { readonly error: string };

const message = (err: unknown): string => (err instanceof Error ? err.message : String(err));

function clip(text: string, max = 240): string {
  const oneLine = text.replace(/\s+/g, ' ').trim();
  return oneLine.length > max ? `${oneLine.slice(0, max)}…` : oneLine;
}

/** Adds to a cache (a Map keeps insertion order) and forgets its oldest entry past CACHE_LIMIT. */
function remember<K, V>(cache: Map<K, V>, key: K, value: V): void {
  cache.set(key, value);
  if (cache.size > CACHE_LIMIT) cache.delete(cache.keys().next().value as K);
}

export class NetworkCollector {
  readonly #source: NetworkSource;
  readonly #options: Required<CollectorOptions>;
  #view: NetworkView;
  #problem: string | null = null;
  #status: StatusAnswer;
  #samples: BufferSample[] = [];
  #assignments: AssignmentsAnswer = { available: false, reason: 'not looked up yet', items: [] };
  #assignmentsCount: number | undefined;
  #assignmentsAt = 0;
  /** The chain the caches below are about. */
  #chainId: string | null | undefined;
  readonly #commitTimes = new Map<number, string>();
  readonly #keyUsers = new Map<number, string>();
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;
  #stopped = false;

  constructor(source: NetworkSource, options: CollectorOptions = {}) {
    this.#source = source;
    this.#options = {
      intervalMs: options.intervalMs ?? DEFAULTS.intervalMs,
      historyMs: options.historyMs ?? DEFAULTS.historyMs,
      requestTimeoutMs: options.requestTimeoutMs ?? DEFAULTS.requestTimeoutMs,
      rateWindowMs: options.rateWindowMs ?? DEFAULTS.rateWindowMs,
      assignmentsShown: options.assignmentsShown ?? DEFAULTS.assignmentsShown,
    };
    for (const [name, value] of Object.entries(this.#options)) {
      if (!Number.isSafeInteger(value) || value <= 0) throw new RangeError(`${name} must be a positive whole number, got ${value}`);
    }
    this.#view = source.current();
    this.#status = {
      updated_at: null,
      network: { source: this.#view.source, kind: this.#view.kind, chain_id: this.#view.chainId, problem: null },
      epoch: null, buffer: null, keygen_rate: null,
      nodes: this.#view.nodes.map((node) => this.#unknownNode(node)),
    };
  }

  /** The description as of the last refresh (the login demo's network comes from it). */
  get view(): NetworkView {
    return this.#view;
  }

  status(): StatusAnswer {
    return this.#status;
  }

  history(): BufferHistoryAnswer {
    return { interval_ms: this.#options.intervalMs, history_ms: this.#options.historyMs, samples: [...this.#samples] };
  }

  assignments(): AssignmentsAnswer {
    return this.#assignments;
  }

  /** Refreshes now and then every interval until `stop`. */
  start(): void {
    this.#stopped = false;
    this.#schedule(0);
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    await this.#running;
  }

  /** One refresh (start() runs them on its own; tests call it directly). */
  refresh(): Promise<void> {
    this.#running ??= this.#refresh().finally(() => {
      this.#running = undefined;
    });
    return this.#running;
  }

  #schedule(delayMs: number): void {
    this.#timer = setTimeout(() => {
      void this.refresh().finally(() => {
        if (!this.#stopped) this.#schedule(this.#options.intervalMs);
      });
    }, delayMs);
    // The server keeps the process alive; a forgotten collector alone must not.
    this.#timer.unref();
  }

  async #refresh(): Promise<void> {
    try {
      this.#view = this.#source.current();
      this.#problem = null;
    } catch (err) {
      // Keep showing the last good description; a half-written file is usually whole again next time.
      this.#problem = message(err);
    }
    const view = this.#view;
    const nodes = await Promise.all(view.nodes.map((node) => this.#nodeStatus(node)));
    // State queries go to the most advanced CometBFT RPC that answered, then to the others.
    const comets = nodes
      .flatMap((n) => (n.comet_rpc === null ? [] : [{ url: n.comet_rpc, height: n.height ?? -1 }]))
      .sort((a, b) => b.height - a.height)
      .map((n) => n.url);
    const epoch = await this.#query(comets, '/epoch', EpochInfo);
    const buffer = await this.#query(comets, '/buffer', KeyBuffer);
    const now = Date.now();
    if (buffer !== null) this.#record({ t: now, ready: buffer.ready, generating: buffer.generating, assigned: buffer.assigned, target: buffer.target });
    const answered = nodes.find((n) => n.chain_id !== null);
    const chainId = answered?.chain_id ?? view.chainId;
    if (chainId !== this.#chainId) {
      // Another chain (the next epoch after a rotation): heights and key indexes mean other things there.
      this.#chainId = chainId;
      this.#commitTimes.clear();
      this.#keyUsers.clear();
      this.#assignments = { available: false, reason: 'not looked up yet', items: [] };
      this.#assignmentsCount = undefined;
    }
    const stale = buffer?.assigned !== this.#assignmentsCount || this.#assignments.items.some((item) => item.time === null);
    if (comets.length > 0 && (stale || now - this.#assignmentsAt >= ASSIGNMENTS_MAX_AGE_MS)) {
      await this.#refreshAssignments(comets);
      this.#assignmentsCount = buffer?.assigned;
      this.#assignmentsAt = now;
    }
    this.#status = {
      updated_at: new Date(now).toISOString(),
      network: { source: view.source, kind: view.kind, chain_id: chainId, problem: this.#problem },
      epoch,
      buffer,
      keygen_rate: this.#rate(),
      nodes: nodes.map(({ chain_id: _chainId, ...node }) => node),
    };
  }

  #unknownNode(node: WatchedNode): NodeStatus {
    return {
      index: node.index, name: node.name, address: node.address, jsonrpc: node.jsonrpc, comet_rpc: node.cometRpc,
      liveness: 'unreachable', liveness_detail: 'not checked yet', readiness: 'unknown', readiness_detail: null,
      height: null, catching_up: null, block_time: null, comet_detail: null,
    };
  }

  async #probe(url: string): Promise<Probe> {
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(this.#options.requestTimeoutMs) });
      const text = await response.text();
      if (response.ok) return { status: response.status, detail: null };
      const detail = probeDetail(text);
      return { status: response.status, detail: detail === '' ? `HTTP ${response.status}` : detail };
    } catch (err) {
      return { error: err instanceof Error && err.name === 'TimeoutError' ? `no answer within ${this.#options.requestTimeoutMs} ms` : clip(message(err)) };
    }
  }

  async #nodeStatus(node: WatchedNode): Promise<NodeStatus & { chain_id: string | null }> {
    const [health, ready, comet] = await Promise.all([
      this.#probe(new URL('healthz', node.jsonrpc).toString()),
      this.#probe(new URL('readyz', node.jsonrpc).toString()),
      node.cometRpc === null ? Promise.resolve(undefined) : this.#cometStatus(node.cometRpc),
    ]);
    const liveness = 'error' in health ? 'unreachable' : health.status === 200 ? 'alive' : 'failing';
    let readiness: NodeStatus['readiness'] = 'unknown';
    let readinessDetail: string | null = null;
    if ('error' in ready) readinessDetail = ready.error;
    else if (ready.status === 200) readiness = 'ready';
    else if (ready.status === 404) readinessDetail = 'the retrieval server has no /readyz';
    else {
      readiness = 'not-ready';
      readinessDetail = ready.detail;
    }
    const answered = comet !== undefined && !('error' in comet) ? comet : undefined;
    return {
      index: node.index, name: node.name, address: node.address, jsonrpc: node.jsonrpc, comet_rpc: node.cometRpc,
      liveness, liveness_detail: 'error' in health ? health.error : health.detail, readiness, readiness_detail: readinessDetail,
      height: answered?.height ?? null,
      catching_up: answered?.catchingUp ?? null,
      block_time: answered?.blockTime ?? null,
      comet_detail: comet !== undefined && 'error' in comet ? comet.error : null,
      chain_id: answered?.chainId ?? null,
    };
  }

  async #cometStatus(url: string): Promise<CometStatus | { error: string }> {
    try {
      return await status(url, this.#options.requestTimeoutMs);
    } catch (err) {
      return { error: clip(message(err)) };
    }
  }

  /** The first valid answer of `path` among `comets`, or null when none gives one. */
  async #query<T>(comets: readonly string[], path: string, schema: z.ZodType<T>, data?: unknown): Promise<T | null> {
    for (const url of comets) {
      try {
        const answer = await abciQuery(url, path, data, undefined, this.#options.requestTimeoutMs);
        if (answer.code !== 0) continue;
        const parsed = schema.safeParse(answer.value);
        if (parsed.success) return parsed.data;
      } catch {
        // the next node
      }
    }
    return null;
  }

  #record(sample: BufferSample): void {
    this.#samples.push(sample);
    const oldest = sample.t - this.#options.historyMs;
    // By time, and by count as well, so memory stays bounded even if the clock jumps.
    const maxSamples = Math.ceil(this.#options.historyMs / this.#options.intervalMs) + 1;
    let drop = 0;
    while (drop < this.#samples.length && ((this.#samples[drop] as BufferSample).t < oldest || this.#samples.length - drop > maxSamples)) drop++;
    if (drop > 0) this.#samples.splice(0, drop);
  }

  /** Keys finished per second (growth of ready + assigned) over the rate window; null until it spans 2 samples. */
  #rate(): KeygenRate | null {
    const last = this.#samples.at(-1);
    if (last === undefined) return null;
    const first = this.#samples.find((s) => s.t >= last.t - this.#options.rateWindowMs);
    if (first === undefined || first === last || last.t - first.t < 1000) return null;
    const seconds = (last.t - first.t) / 1000;
    const finished = Math.max(0, last.ready + last.assigned - (first.ready + first.assigned));
    return { keys_per_second: finished / seconds, window_seconds: Math.round(seconds) };
  }

  async #refreshAssignments(comets: readonly string[]): Promise<void> {
    const shown = this.#options.assignmentsShown;
    let lastError = 'no CometBFT RPC answered';
    for (const url of comets) {
      let found: Array<Omit<Assignment, 'time' | 'verifier_id'>>;
      try {
        // Twice what is shown: repeated KeyAssigns of existing users are in the index too.
        const result = TxSearchResult.parse(await rpcCall(url, 'tx_search', {
          query: 'torus.assign.key_index EXISTS', prove: false, page: '1', per_page: String(2 * shown), order_by: 'desc',
        }, this.#options.requestTimeoutMs));
        found = result.txs.flatMap((tx) => {
          if ((tx.tx_result.code ?? 0) !== 0 || !tx.tx_result.data) return [];
          const event = tx.tx_result.events?.find((e) => e.type === 'torus.assign');
          const verifier = event?.attributes?.find((a) => a.key === 'verifier')?.value;
          let data: z.infer<typeof AssignResultData>;
          try {
            data = AssignResultData.parse(JSON.parse(fromUtf8(Buffer.from(tx.tx_result.data, 'base64'))));
          } catch {
            return [];
          }
          if (!data.created || typeof verifier !== 'string') return [];
          return [{ key_index: data.key_index, verifier, address: data.address, height: Number(tx.height) }];
        }).slice(0, shown);
      } catch (err) {
        lastError = clip(message(err));
        continue;
      }
      const items = await Promise.all(found.map(async (item) => ({
        ...item,
        time: await this.#commitTime(url, item.height),
        verifier_id: await this.#keyUser(comets, item.key_index),
      })));
      this.#assignments = { available: true, reason: null, items };
      return;
    }
    // The last list stays on screen, marked as stale by `available`.
    this.#assignments = { available: false, reason: lastError, items: this.#assignments.items };
  }

  /**
   * When block `height` was committed: the time of block height+1, which CometBFT (BFT time) takes from the
   * votes that committed `height`. Block `height`'s own time comes from the votes for the block before it, which
   * on our chains (no empty blocks) may be minutes older than the assignment. Null until height+1 exists.
   */
  async #commitTime(url: string, height: number): Promise<string | null> {
    const cached = this.#commitTimes.get(height);
    if (cached !== undefined) return cached;
    try {
      const time = HeaderResult.parse(await rpcCall(url, 'header', { height: String(height + 1) }, this.#options.requestTimeoutMs)).header.time;
      remember(this.#commitTimes, height, time);
      return time;
    } catch {
      return null;
    }
  }

  /** The masked verifier id of an assigned key; the unmasked one is never kept. */
  async #keyUser(comets: readonly string[], keyIndex: number): Promise<string | null> {
    const cached = this.#keyUsers.get(keyIndex);
    if (cached !== undefined) return cached;
    const record = await this.#query(comets, '/key', KeyUser, { key_index: keyIndex });
    if (record?.assigned_to === undefined) return null;
    const masked = maskVerifierId(record.assigned_to.verifier_id);
    remember(this.#keyUsers, keyIndex, masked);
    return masked;
  }
}
