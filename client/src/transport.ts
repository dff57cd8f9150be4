/**
 * How the client talks to nodes, without saying over what. A transport is one function, `post`: send a JSON
 * body to a URL and read the whole answer within a deadline. Everything the client decides from an answer —
 * HTTP status, JSON, JSON-RPC 2.0, the method's result schema — is checked here, once, for every transport, so
 * the node:http transport (rpc.ts, the default in Node) and the fetch transport (rpc-fetch.ts, for browsers)
 * fail in exactly the same ways. This module imports nothing from Node, so browser bundles can include it.
 *
 * Every failure is a `NodeCallError` with a `kind`, because the caller's decisions depend on *how* a call failed
 * (a node that is down is skipped, a node that says "not assigned" is a vote, a node that answers garbage is
 * reported):
 *
 *   transport     no HTTP answer (refused, reset, DNS, TLS, CORS)  timeout   no complete answer within timeoutMs
 *   aborted       the caller cancelled (not the node's fault)       http      an HTTP status other than 200
 *   not-json      the body is not JSON                              bad-response  JSON, but not a valid answer
 *   rpc           a JSON-RPC error object (`NodeRpcError`, with code, message and data)
 */
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

export const DEFAULT_MAX_BODY_BYTES = 4 * 1024 * 1024;

/** A complete HTTP answer, whatever its status. */
export interface HttpAnswer {
  readonly status: number;
  readonly statusText: string;
  readonly text: string;
}

/** Makes the NodeCallError of one call; a transport passes it the kind and the reason, the call fills in the rest. */
export type Fail = (kind: NodeCallFailure, reason: string, extra?: { cause?: unknown; status?: number }) => NodeCallError;

/** A call's options once `createTransport` checked them, with the body size cap filled in. */
export interface CheckedCallOptions extends CallOptions {
  readonly maxBodyBytes: number;
}

/**
 * The one thing a transport implements: POST `body` as JSON to `target` and read the whole answer within
 * `options.timeoutMs`, up to `options.maxBodyBytes`. `createTransport` has already checked the options and the
 * URL and refused a call cancelled before it started. Failures before a complete HTTP answer are rejections
 * made with `fail`: 'transport', 'timeout', 'aborted' (the caller's signal), or 'bad-response' (oversized body).
 */
export type PostJson = (target: URL, body: unknown, options: CheckedCallOptions, fail: Fail) => Promise<HttpAnswer>;

/** What TorusClient needs from a transport; `createTransport` makes one from a `PostJson`. */
export interface NodeTransport {
  /**
   * Calls `method` at `endpoint` and returns its validated result. Throws `NodeRpcError` for a JSON-RPC error
   * answer and `NodeCallError` for every other failure; never anything else.
   */
  callNode<M extends NodeMethod>(endpoint: string, method: M, params: MethodParams[M], options: CallOptions): Promise<MethodResult<M>>;
  /**
   * A plain JSON POST (not JSON-RPC) whose answer must be HTTP 200 with a JSON object matching `schema`; used for
   * the development token issuer. Failures are `NodeCallError`s whose `method` is `what`.
   */
  postForJson<T>(url: string, body: unknown, schema: z.ZodType<T>, what: string, options: CallOptions): Promise<T>;
}

const RpcErrorSchema = z.object({ code: z.number().int(), message: z.string(), data: z.unknown().optional() });

let nextId = 1;

/** Checks the options every transport relies on; a bad deadline is the caller's bug, not a node failure. */
function checkCallOptions(options: CallOptions): void {
  if (!Number.isFinite(options.timeoutMs) || options.timeoutMs <= 0) throw new RangeError(`timeoutMs must be positive, got ${options.timeoutMs}`);
}

/** Failures carry an error code (ECONNREFUSED, ECONNRESET…) and causes; name them next to the message. */
export function describeTransportFailure(err: unknown): string {
  const parts: string[] = [];
  let current: unknown = err;
  for (let depth = 0; depth < 4 && current instanceof Error; depth++) {
    const code = (current as Error & { code?: unknown }).code;
    parts.push(typeof code === 'string' && !current.message.includes(code) ? `${current.message} (${code})` : current.message);
    current = current.cause;
  }
  return parts.length > 0 ? parts.join(': ') : String(err);
}

/** The URL to POST to; anything but http(s) is a 'transport' failure, as no HTTP answer can come of it. */
function httpUrl(url: string, fail: Fail): URL {
  let target: URL;
  try {
    target = new URL(url);
  } catch (cause) {
    throw fail('transport', `not a URL: ${url}`, { cause });
  }
  if (target.protocol !== 'http:' && target.protocol !== 'https:') throw fail('transport', `unsupported protocol ${target.protocol}`);
  return target;
}

function snippet(text: string): string {
  const oneLine = text.replace(/\s+/g, ' ').trim();
  return oneLine.length > 200 ? `${oneLine.slice(0, 200)}…` : oneLine;
}

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
 * A NodeTransport whose bytes travel through `post`. The checks every call starts with (the options, a call
 * cancelled before it started, the URL) run here, once, in that order, before `post` is called.
 */
export function createTransport(post: PostJson): NodeTransport {
  const send = async (url: string, body: unknown, options: CallOptions, fail: Fail): Promise<HttpAnswer> => {
    checkCallOptions(options);
    if (options.signal?.aborted === true) throw fail('aborted', 'cancelled before the call', { cause: options.signal.reason });
    const target = httpUrl(url, fail);
    return post(target, body, { ...options, maxBodyBytes: options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES }, fail);
  };
  return {
    async callNode<M extends NodeMethod>(endpoint: string, method: M, params: MethodParams[M], options: CallOptions): Promise<MethodResult<M>> {
      const fail: Fail = (kind, reason, extra = {}) => new NodeCallError(kind, endpoint, method, reason, extra);
      const answer = await send(endpoint, { jsonrpc: '2.0', method, id: nextId++, params }, options, fail);
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
    },

    async postForJson<T>(url: string, body: unknown, schema: z.ZodType<T>, what: string, options: CallOptions): Promise<T> {
      const fail: Fail = (kind, reason, extra = {}) => new NodeCallError(kind, url, what, reason, extra);
      const answer = await send(url, body, options, fail);
      if (answer.status !== 200) throw httpStatusError(answer, fail);
      const parsed = schema.safeParse(parseJsonObject(answer.text, fail));
      if (!parsed.success) throw fail('bad-response', `invalid answer: ${z.prettifyError(parsed.error)}`, { cause: parsed.error });
      return parsed.data;
    },
  };
}
