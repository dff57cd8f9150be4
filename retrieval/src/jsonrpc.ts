/**
 * JSON-RPC 2.0 over HTTP as the legacy Torus node spoke it (torus-node.md §2, torus-client.md §2.1): every
 * answer, errors included, is HTTP 200 with a JSON-RPC body, because torus.js treats any other status as
 * "no answer". Batches are supported. Methods declare a zod schema for their params; a request whose params
 * fail it gets -32602 with the reason and never reaches the method.
 */
import { z } from 'zod';

export const ErrorCode = {
  PARSE_ERROR: -32700,
  INVALID_REQUEST: -32600,
  METHOD_NOT_FOUND: -32601,
  INVALID_PARAMS: -32602,
  INTERNAL_ERROR: -32603,
} as const;

/** An error answered to the caller. `data` says what was wrong; it never contains secrets. */
export class RpcError extends Error {
  override name = 'RpcError';
  constructor(readonly code: number, message: string, readonly data?: string, options?: ErrorOptions) {
    super(message, options);
  }
}

/** The legacy node's "Input error" (-32602) for requests that are well-formed but refused. */
export const inputError = (data: string) => new RpcError(ErrorCode.INVALID_PARAMS, 'Input error', data);
/** The legacy node's "Internal error" (-32603), which it also used for refused commitments and shares. */
export const internalError = (data: string) => new RpcError(ErrorCode.INTERNAL_ERROR, 'Internal error', data);

export type JsonRpcId = string | number | null;

export interface JsonRpcResponse {
  jsonrpc: '2.0';
  id: JsonRpcId;
  result?: unknown;
  error?: { code: number; message: string; data?: string };
}

export interface Method<P> {
  readonly params: z.ZodType<P>;
  handle(params: P): Promise<unknown>;
}

// Each method is stored with its own params type erased; `define` keeps handler and schema consistent.
type AnyMethod = { params: z.ZodType<unknown>; handle(params: unknown): Promise<unknown> };

export function define<P>(method: Method<P>): AnyMethod {
  return method as unknown as AnyMethod;
}

const RequestShape = z.object({
  jsonrpc: z.literal('2.0'),
  method: z.string().min(1).max(128),
  params: z.unknown().optional(),
  id: z.union([z.string().max(256), z.number(), z.null()]).optional(),
});

export interface DispatchOptions {
  readonly maxBatch: number;
  /** Called for failures that are the server's fault (not the caller's), for logging. */
  readonly onInternalError: (method: string, err: unknown) => void;
  /**
   * Called once per request, for metrics: the method (one of this dispatcher's, `unknown` for any other name,
   * `invalid` for a request or batch that is not JSON-RPC), `ok` or the JSON-RPC error code, and the seconds
   * it took. Caller-chosen strings never become labels.
   */
  readonly onRequest?: (method: string, outcome: string, seconds: number) => void;
}

const UNKNOWN_METHOD = 'unknown';
const INVALID_REQUEST = 'invalid';

export class JsonRpcDispatcher {
  readonly #methods: ReadonlyMap<string, AnyMethod>;
  readonly #options: DispatchOptions;

  constructor(methods: Record<string, AnyMethod>, options: DispatchOptions) {
    this.#methods = new Map(Object.entries(methods));
    this.#options = options;
  }

  get methodNames(): string[] {
    return [...this.#methods.keys()];
  }

  /** Answers a parsed body: one response, an array for a batch, or undefined when only notifications came. */
  async dispatch(body: unknown): Promise<JsonRpcResponse | JsonRpcResponse[] | undefined> {
    if (Array.isArray(body)) {
      if (body.length === 0) return this.#invalid(new RpcError(ErrorCode.INVALID_REQUEST, 'Invalid Request', 'empty batch'));
      if (body.length > this.#options.maxBatch) {
        return this.#invalid(new RpcError(ErrorCode.INVALID_REQUEST, 'Invalid Request', `a batch may hold at most ${this.#options.maxBatch} requests`));
      }
      const answers = await Promise.all(body.map((item) => this.#one(item)));
      const sent = answers.filter((a): a is JsonRpcResponse => a !== undefined);
      return sent.length === 0 ? undefined : sent;
    }
    return this.#one(body);
  }

  /** A request or batch that is not JSON-RPC: answered at once, and counted as `invalid`. */
  #invalid(error: RpcError, id: JsonRpcId = null): JsonRpcResponse {
    this.#options.onRequest?.(INVALID_REQUEST, String(error.code), 0);
    return errorResponse(id, error);
  }

  async #one(item: unknown): Promise<JsonRpcResponse | undefined> {
    const request = RequestShape.safeParse(item);
    if (!request.success) {
      const id = typeof item === 'object' && item !== null && 'id' in item ? idOf((item as { id: unknown }).id) : null;
      return this.#invalid(new RpcError(ErrorCode.INVALID_REQUEST, 'Invalid Request', z.prettifyError(request.error)), id);
    }
    const { method: name, params, id } = request.data;
    const started = performance.now();
    const answer = await this.#call(name, params);
    this.#options.onRequest?.(
      this.#methods.has(name) ? name : UNKNOWN_METHOD, 'error' in answer ? String(answer.error.code) : 'ok', (performance.now() - started) / 1000,
    );
    // A request without an id is a notification: it runs, and nothing is answered.
    if (id === undefined) return undefined;
    return 'error' in answer ? errorResponse(id, answer.error) : { jsonrpc: '2.0', id, result: answer.result };
  }

  async #call(name: string, rawParams: unknown): Promise<{ result: unknown } | { error: RpcError }> {
    const method = this.#methods.get(name);
    if (method === undefined) {
      return { error: new RpcError(ErrorCode.METHOD_NOT_FOUND, 'Method not found', `unknown method; known methods: ${this.methodNames.join(', ')}`) };
    }
    const params = method.params.safeParse(rawParams ?? {});
    if (!params.success) return { error: new RpcError(ErrorCode.INVALID_PARAMS, 'Invalid params', z.prettifyError(params.error)) };
    try {
      return { result: await method.handle(params.data) };
    } catch (err) {
      if (err instanceof RpcError) return { error: err };
      this.#options.onInternalError(name, err);
      return { error: internalError('the node failed to process the request; see its log') };
    }
  }
}

function idOf(value: unknown): JsonRpcId {
  return typeof value === 'string' || typeof value === 'number' ? value : null;
}

export function errorResponse(id: JsonRpcId, error: RpcError): JsonRpcResponse {
  const body: JsonRpcResponse['error'] = { code: error.code, message: error.message };
  if (error.data !== undefined) body.data = error.data;
  return { jsonrpc: '2.0', id, error: body };
}
