/**
 * One JSON-RPC 2.0 call to one node over HTTP POST (node:http with kept-alive connections). The caller's decisions depend on *how* a
 * call failed — a node that is down is skipped, a node that says "not assigned" is a vote, a node that answers
 * garbage is reported — so every failure is a `NodeCallError` with a `kind`:
 *
 *   transport     no HTTP answer (refused, reset, DNS, TLS)      timeout   no complete answer within timeoutMs
 *   aborted       the caller cancelled (not the node's fault)     http      an HTTP status other than 200
 *   not-json      the body is not JSON                            bad-response  JSON, but not a valid answer
 *   rpc           a JSON-RPC error object (`NodeRpcError`, with code, message and data)
 *
 * A successful result is validated with the method's zod schema before it is returned. Bodies are read with a
 * size cap, so a hostile node cannot make the client buffer without bound. `postForJson` is the same transport
 * for a plain JSON POST (the development token issuer).
 */
import { Agent as HttpAgent, request as httpRequest } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { z } from 'zod';
import { RESULT_SCHEMAS, type MethodParams, type MethodResult, type NodeMethod } from './protocol.js';

export type NodeCallFailure = 'transport' | 'timeout' | 'aborted' | 'http' | 'not-json' | 'bad-response' | 'rpc';

export class NodeCallError extends Error {
  override name = 'NodeCallError';
  readonly kind: NodeCallFailure;
  readonly endpoint: string;
  readonly method: string;
  /** Set when kind is 'http'. */
  readonly status: number | undefined;
  /** The failure without the endpoint and method, for reports that already name the node. */
  readonly reason: string;

  constructor(kind: NodeCallFailure, endpoint: string, method: string, reason: string, options: { cause?: unknown; status?: number } = {}) {
    super(`${method} at ${endpoint}: ${reason}`, options.cause === undefined ? undefined : { cause: options.cause });
    this.kind = kind;
    this.endpoint = endpoint;
    this.method = method;
    this.reason = reason;
    this.status = options.status;
  }
}

/** A JSON-RPC error answer. `message` is the Error's full text; the node's own message is `rpcMessage`. */
export class NodeRpcError extends NodeCallError {
  override name = 'NodeRpcError';
  readonly code: number;
  readonly rpcMessage: string;
  readonly data: unknown;

  constructor(endpoint: string, method: string, error: { code: number; message: string; data?: unknown }) {
    const data = error.data === undefined ? '' : `: ${typeof error.data === 'string' ? error.data : JSON.stringify(error.data)}`;
    super('rpc', endpoint, method, `JSON-RPC error ${error.code} ${error.message}${data}`);
    this.code = error.code;
    this.rpcMessage = error.message;
    this.data = error.data;
  }

  /** `data` as text, for substring tests such as "has not yet been assigned". */
  dataText(): string {
    if (this.data === undefined) return '';
    return typeof this.data === 'string' ? this.data : JSON.stringify(this.data);
  }
}

export interface CallOptions {
  /** Whole-call deadline: connect, send, and read the complete body. */
  readonly timeoutMs: number;
  readonly signal?: AbortSignal;
  /** Largest accepted body; default 4 MiB (a ShareRequest answer is about 1 kB per key). */
  readonly maxBodyBytes?: number;
}

const DEFAULT_MAX_BODY_BYTES = 4 * 1024 * 1024;

const RpcErrorSchema = z.object({ code: z.number().int(), message: z.string(), data: z.unknown().optional() });

let nextId = 1;

/** Failures carry Node's error code (ECONNREFUSED, ECONNRESET…); name it next to the message. */
function describeTransportFailure(err: unknown): string {
  const parts: string[] = [];
  let current: unknown = err;
  for (let depth = 0; depth < 4 && current instanceof Error; depth++) {
    const code = (current as NodeJS.ErrnoException).code;
    parts.push(code !== undefined && !current.message.includes(code) ? `${current.message} (${code})` : current.message);
    current = current.cause;
  }
  return parts.length > 0 ? parts.join(': ') : String(err);
}

function snippet(text: string): string {
  const oneLine = text.replace(/\s+/g, ' ').trim();
  return oneLine.length > 200 ? `${oneLine.slice(0, 200)}…` : oneLine;
}

interface HttpAnswer {
  readonly status: number;
  readonly statusText: string;
  readonly text: string;
}

// Kept-alive connections to the nodes: a login makes two rounds of calls to every node, and node:http costs
// about half a millisecond of CPU less per call than fetch (measured with bench:login's call pattern).
const agents = { 'http:': new HttpAgent({ keepAlive: true }), 'https:': new HttpsAgent({ keepAlive: true }) } as const;

/**
 * POSTs a JSON body and reads the whole answer within the deadline. Failures before a complete HTTP answer
 * become NodeCallError 'transport', 'timeout', 'aborted' or 'bad-response' (oversized body), made by `fail`.
 */
function postJson(url: string, body: unknown, options: CallOptions, fail: Fail): Promise<HttpAnswer> {
  if (!Number.isFinite(options.timeoutMs) || options.timeoutMs <= 0) throw new RangeError(`timeoutMs must be positive, got ${options.timeoutMs}`);
  if (options.signal?.aborted === true) return Promise.reject(fail('aborted', 'cancelled before the call', { cause: options.signal.reason }));
  let target: URL;
  try {
    target = new URL(url);
  } catch (cause) {
    return Promise.reject(fail('transport', `not a URL: ${url}`, { cause }));
  }
  if (target.protocol !== 'http:' && target.protocol !== 'https:') return Promise.reject(fail('transport', `unsupported protocol ${target.protocol}`));
  const limit = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const payload = Buffer.from(JSON.stringify(body), 'utf8');
  return new Promise<HttpAnswer>((resolve, reject) => {
    let finished = false;
    const finish = (error: NodeCallError | undefined, answer?: HttpAnswer) => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
      if (error !== undefined) {
        req.destroy();
        reject(error);
      } else resolve(answer as HttpAnswer);
    };
    const send = target.protocol === 'https:' ? httpsRequest : httpRequest;
    const req = send(target, {
      method: 'POST',
      agent: target.protocol === 'https:' ? agents['https:'] : agents['http:'],
      headers: { 'content-type': 'application/json; charset=utf-8', accept: 'application/json', 'content-length': payload.length },
    }, (res) => {
      const declared = Number(res.headers['content-length']);
      if (Number.isFinite(declared) && declared > limit) {
        finish(fail('bad-response', `answer larger than ${limit} bytes`));
        return;
      }
      const chunks: Buffer[] = [];
      let total = 0;
      res.on('data', (chunk: Buffer) => {
        total += chunk.length;
        if (total > limit) finish(fail('bad-response', `answer larger than ${limit} bytes`));
        else chunks.push(chunk);
      });
      res.on('end', () => finish(undefined, { status: res.statusCode ?? 0, statusText: res.statusMessage ?? '', text: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', (cause) => finish(fail('transport', `answer broken off: ${describeTransportFailure(cause)}`, { cause })));
    });
    // Which event came first decides the kind: a cancelled call is the caller's doing, a timeout is the node's.
    const timer = setTimeout(() => finish(fail('timeout', `no answer within ${options.timeoutMs} ms`)), options.timeoutMs);
    const onAbort = () => finish(fail('aborted', 'cancelled', { cause: options.signal?.reason }));
    options.signal?.addEventListener('abort', onAbort, { once: true });
    req.on('error', (cause) => finish(fail('transport', describeTransportFailure(cause), { cause })));
    req.end(payload);
  });
}

type Fail = (kind: NodeCallFailure, reason: string, extra?: { cause?: unknown; status?: number }) => NodeCallError;

function httpStatusError(answer: HttpAnswer, fail: Fail): NodeCallError {
  const body = snippet(answer.text);
  return fail('http', `HTTP ${answer.status}${answer.statusText ? ` ${answer.statusText}` : ''}${body ? `: ${body}` : ''}`, { status: answer.status });
}

function parseJsonObject(text: string, fail: Fail): Record<string, unknown> {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (cause) {
    throw fail('not-json', `answer is not JSON: ${snippet(text) || '(empty body)'}`, { cause });
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw fail('bad-response', 'answer is not a JSON object');
  return json as Record<string, unknown>;
}

/**
 * Calls `method` at `endpoint` and returns its validated result. Throws `NodeRpcError` for a JSON-RPC error
 * answer and `NodeCallError` for every other failure; never anything else.
 */
export async function callNode<M extends NodeMethod>(endpoint: string, method: M, params: MethodParams[M], options: CallOptions): Promise<MethodResult<M>> {
  const fail: Fail = (kind, reason, extra = {}) => new NodeCallError(kind, endpoint, method, reason, extra);
  const answer = await postJson(endpoint, { jsonrpc: '2.0', method, id: nextId++, params }, options, fail);
  // Nodes send JSON-RPC errors with HTTP 200 (torus-client.md §2.1); any other status is a broken node or proxy.
  if (answer.status !== 200) throw httpStatusError(answer, fail);
  const body = parseJsonObject(answer.text, fail);
  if (body['jsonrpc'] !== '2.0') throw fail('bad-response', 'answer is not JSON-RPC 2.0 (jsonrpc != "2.0")');
  // The id is not compared: HTTP pairs each answer with its request, and the legacy client never checked it either.
  if (body['error'] !== undefined && body['error'] !== null) {
    const error = RpcErrorSchema.safeParse(body['error']);
    if (!error.success) throw fail('bad-response', `malformed JSON-RPC error object: ${z.prettifyError(error.error)}`, { cause: error.error });
    throw new NodeRpcError(endpoint, method, error.data);
  }
  if (!('result' in body)) throw fail('bad-response', 'answer has neither result nor error');
  const result = RESULT_SCHEMAS[method].safeParse(body['result']);
  if (!result.success) throw fail('bad-response', `invalid ${method} result: ${z.prettifyError(result.error)}`, { cause: result.error });
  return result.data;
}

/**
 * A plain JSON POST (not JSON-RPC) whose answer must be HTTP 200 with a JSON object matching `schema`; used for
 * the development token issuer. Failures are `NodeCallError`s whose `method` is `what`.
 */
export async function postForJson<T>(url: string, body: unknown, schema: z.ZodType<T>, what: string, options: CallOptions): Promise<T> {
  const fail: Fail = (kind, reason, extra = {}) => new NodeCallError(kind, url, what, reason, extra);
  const answer = await postJson(url, body, options, fail);
  if (answer.status !== 200) throw httpStatusError(answer, fail);
  const parsed = schema.safeParse(parseJsonObject(answer.text, fail));
  if (!parsed.success) throw fail('bad-response', `invalid answer: ${z.prettifyError(parsed.error)}`, { cause: parsed.error });
  return parsed.data;
}
