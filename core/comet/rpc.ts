/**
 * A small typed client for the CometBFT RPC routes this project uses (JSON-RPC over HTTP POST). Answers
 * are validated before use; errors carry the route and the node's message.
 */
import { z } from 'zod';
import { bytesToHex, fromUtf8, utf8 } from '../encoding/bytes.js';

export class CometRpcError extends Error {
  override name = 'CometRpcError';
}

let nextId = 1;

export async function rpcCall(url: string, method: string, params: Record<string, unknown>, timeoutMs = 15_000): Promise<unknown> {
  let response: Response;
  try {
    response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ jsonrpc: '2.0', id: nextId++, method, params }),
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (cause) {
    throw new CometRpcError(`${method} at ${url} failed: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
  }
  const body = await response.json() as { result?: unknown; error?: { message?: string; data?: string } };
  if (body.error !== undefined) throw new CometRpcError(`${method} at ${url}: ${body.error.message ?? ''} ${body.error.data ?? ''}`.trim());
  return body.result;
}

const StatusResult = z.object({
  node_info: z.object({ id: z.string(), network: z.string(), version: z.string() }),
  sync_info: z.object({ latest_block_height: z.string().regex(/^\d+$/), latest_app_hash: z.string(), latest_block_time: z.string(), catching_up: z.boolean() }),
});

export interface CometStatus {
  readonly nodeId: string;
  readonly chainId: string;
  readonly version: string;
  readonly height: number;
  readonly appHash: string;
  readonly catchingUp: boolean;
  /** When the latest block was made (RFC 3339, as CometBFT writes it). */
  readonly blockTime: string;
}

/** The node's `status`; `timeoutMs` bounds the whole call (default 15 s, as rpcCall). */
export async function status(url: string, timeoutMs?: number): Promise<CometStatus> {
  const r = StatusResult.parse(await rpcCall(url, 'status', {}, timeoutMs));
  return {
    nodeId: r.node_info.id, chainId: r.node_info.network, version: r.node_info.version,
    height: Number(r.sync_info.latest_block_height), appHash: r.sync_info.latest_app_hash, catchingUp: r.sync_info.catching_up,
    blockTime: r.sync_info.latest_block_time,
  };
}

const AbciInfoResult = z.object({
  response: z.object({ data: z.string().optional(), last_block_height: z.string().optional(), last_block_app_hash: z.string().optional() }),
});

/** The application's own view: its last committed height and app hash (hex). */
export async function abciInfo(url: string): Promise<{ height: number; appHash: string }> {
  const r = AbciInfoResult.parse(await rpcCall(url, 'abci_info', {}));
  const appHash = r.response.last_block_app_hash === undefined ? '' : bytesToHex(Buffer.from(r.response.last_block_app_hash, 'base64'));
  return { height: Number(r.response.last_block_height ?? '0'), appHash };
}

const BroadcastResult = z.object({ code: z.number(), log: z.string(), hash: z.string(), codespace: z.string().optional() });
const BatchAnswer = z.array(z.object({ id: z.number(), result: BroadcastResult.optional(), error: z.object({ message: z.string().optional(), data: z.string().optional() }).optional() }));

/**
 * Submits several txs in one HTTP request (a JSON-RPC batch of broadcast_tx_sync). Answers come back in
 * tx order; a tx the node refused at the RPC layer (e.g. already in its cache) is reported as an error.
 */
export async function broadcastTxSyncBatch(url: string, txs: readonly Uint8Array[]): Promise<Array<BroadcastAnswer | CometRpcError>> {
  const firstId = nextId;
  nextId += txs.length;
  const body = txs.map((tx, i) => ({ jsonrpc: '2.0', id: firstId + i, method: 'broadcast_tx_sync', params: { tx: Buffer.from(tx).toString('base64') } }));
  let response: Response;
  try {
    response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body), signal: AbortSignal.timeout(30_000) });
  } catch (cause) {
    throw new CometRpcError(`broadcast_tx_sync batch at ${url} failed: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
  }
  const json: unknown = await response.json();
  if (!Array.isArray(json)) {
    const error = (json as { error?: { message?: string; data?: string } }).error;
    throw new CometRpcError(`broadcast_tx_sync batch of ${txs.length} at ${url} refused: ${error?.message ?? ''} ${error?.data ?? ''} ` +
      '(CometBFT limits batches with rpc.max_request_batch_size, default 10)');
  }
  const answers = BatchAnswer.parse(json);
  const byId = new Map(answers.map((a) => [a.id, a]));
  return txs.map((_, i) => {
    const a = byId.get(firstId + i);
    if (a?.result) return { code: a.result.code, log: a.result.log, hash: a.result.hash, codespace: a.result.codespace ?? '' };
    return new CometRpcError(`broadcast_tx_sync at ${url}: ${a?.error?.message ?? 'no answer'} ${a?.error?.data ?? ''}`.trim());
  });
}

export interface BroadcastAnswer {
  readonly code: number;
  readonly log: string;
  readonly hash: string;
  readonly codespace: string;
}

/** Submits a tx and returns its CheckTx result. */
export async function broadcastTxSync(url: string, tx: Uint8Array): Promise<BroadcastAnswer> {
  const r = BroadcastResult.parse(await rpcCall(url, 'broadcast_tx_sync', { tx: Buffer.from(tx).toString('base64') }));
  return { code: r.code, log: r.log, hash: r.hash, codespace: r.codespace ?? '' };
}

const ExecTxResult = z.object({
  code: z.number().optional(), log: z.string().optional(), data: z.string().nullable().optional(), codespace: z.string().optional(),
});
const BroadcastCommitResult = z.object({ check_tx: ExecTxResult, tx_result: ExecTxResult, hash: z.string(), height: z.string() });

export interface CommittedTx {
  readonly checkCode: number;
  readonly checkLog: string;
  readonly code: number;
  readonly log: string;
  readonly data: unknown;
  readonly height: number;
  readonly hash: string;
}

/** Submits a tx and waits until it is committed (or rejected by CheckTx). `data` is parsed as JSON when present. */
export async function broadcastTxCommit(url: string, tx: Uint8Array): Promise<CommittedTx> {
  const r = BroadcastCommitResult.parse(await rpcCall(url, 'broadcast_tx_commit', { tx: Buffer.from(tx).toString('base64') }, 30_000));
  const raw = r.tx_result.data ? fromUtf8(Buffer.from(r.tx_result.data, 'base64')) : '';
  return {
    checkCode: r.check_tx.code ?? 0, checkLog: r.check_tx.log ?? '',
    code: r.tx_result.code ?? 0, log: r.tx_result.log ?? '', data: raw === '' ? undefined : JSON.parse(raw) as unknown,
    height: Number(r.height), hash: r.hash,
  };
}

const QueryResult = z.object({
  response: z.object({ code: z.number().optional(), log: z.string().optional(), value: z.string().nullable().optional(), height: z.string().optional() }),
});

export interface QueryAnswer {
  readonly code: number;
  readonly log: string;
  readonly value: unknown;
  readonly height: number;
}

/** abci_query with JSON data in and JSON value out; `timeoutMs` bounds the whole call (default 15 s, as rpcCall). */
export async function abciQuery(url: string, path: string, data?: unknown, height?: number, timeoutMs?: number): Promise<QueryAnswer> {
  const params: Record<string, unknown> = { path, data: data === undefined ? '' : bytesToHex(utf8(JSON.stringify(data))), prove: false };
  if (height !== undefined) params['height'] = String(height);
  const r = QueryResult.parse(await rpcCall(url, 'abci_query', params, timeoutMs));
  const raw = r.response.value ? fromUtf8(Buffer.from(r.response.value, 'base64')) : '';
  return { code: r.response.code ?? 0, log: r.response.log ?? '', value: raw === '' ? undefined : JSON.parse(raw) as unknown, height: Number(r.response.height ?? '0') };
}
