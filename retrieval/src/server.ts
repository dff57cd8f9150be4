/**
 * The retrieval server's HTTP face: Express with JSON-RPC at POST /jrpc, GET /healthz and GET /readyz,
 * CORS for browser wallets. The body is read as text with a size limit and parsed here, so that every failure — wrong
 * content type, bad JSON, too large, wrong shape — is a JSON-RPC error at HTTP 200 (torus.js treats any other
 * status as no answer), never an HTML page or a 5xx.
 */
import express, { type NextFunction, type Request, type Response } from 'express';
import type { Logger } from '../../core/log.js';
import { readinessStatus, type Readiness } from '../../core/metrics.js';
import { ErrorCode, errorResponse, JsonRpcDispatcher, RpcError } from './jsonrpc.js';

export interface ServerOptions {
  readonly maxBodyBytes: number;
  /** Allowed browser origins; ["*"] allows any (the legacy node did). */
  readonly corsOrigins: readonly string[];
  readonly health: () => Promise<{ ok: boolean; detail: Record<string, unknown> }>;
  /** /readyz: the same answer as on the metrics port (core/metrics.ts); absent = 404. */
  readonly readiness?: () => Promise<Readiness>;
}

export function createRetrievalApp(dispatcher: JsonRpcDispatcher, options: ServerOptions, log: Logger): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);

  app.use((req: Request, res: Response, next: NextFunction) => {
    const origin = req.headers.origin;
    if (options.corsOrigins.includes('*')) res.setHeader('Access-Control-Allow-Origin', '*');
    else if (origin !== undefined && options.corsOrigins.includes(origin)) {
      res.setHeader('Access-Control-Allow-Origin', origin);
      res.setHeader('Vary', 'Origin');
    }
    if (req.method === 'OPTIONS') {
      res.setHeader('Access-Control-Allow-Methods', 'GET, POST, OPTIONS');
      res.setHeader('Access-Control-Allow-Headers', 'Content-Type');
      res.setHeader('Access-Control-Max-Age', '600');
      res.status(204).end();
      return;
    }
    next();
  });

  app.get('/healthz', (_req, res) => {
    void options.health().then(
      (health) => res.status(health.ok ? 200 : 503).json(health),
      (err: unknown) => res.status(503).json({ ok: false, detail: { error: err instanceof Error ? err.message : String(err) } }),
    );
  });

  const readiness = options.readiness;
  if (readiness !== undefined) {
    app.get('/readyz', (_req, res) => {
      void readiness().then(
        (answer) => res.status(readinessStatus(answer)).json(answer),
        (err: unknown) => res.status(503).json({ ready: false, failed: ['readiness'], detail: err instanceof Error ? err.message : String(err) }),
      );
    });
  }

  const sendRpc = (res: Response, body: unknown) => res.status(200).type('application/json').send(JSON.stringify(body));
  const rpcError = (res: Response, code: number, message: string, data: string) => sendRpc(res, errorResponse(null, new RpcError(code, message, data)));

  app.post('/jrpc', express.text({ type: () => true, limit: options.maxBodyBytes, defaultCharset: 'utf-8' }), (req: Request, res: Response) => {
    const contentType = req.headers['content-type'] ?? '';
    if (!contentType.toLowerCase().startsWith('application/json')) {
      rpcError(res, ErrorCode.INVALID_REQUEST, 'Invalid Request', 'Content-Type must be application/json');
      return;
    }
    let body: unknown;
    try {
      body = JSON.parse(typeof req.body === 'string' ? req.body : '');
    } catch {
      rpcError(res, ErrorCode.PARSE_ERROR, 'Parse error', 'the body is not valid JSON');
      return;
    }
    void dispatcher.dispatch(body).then(
      (answer) => (answer === undefined ? res.status(204).end() : sendRpc(res, answer)),
      (err: unknown) => {
        log.error({ err }, 'JSON-RPC dispatch failed');
        rpcError(res, ErrorCode.INTERNAL_ERROR, 'Internal error', 'the node failed to process the request; see its log');
      },
    );
  });

  app.all('/jrpc', (_req, res) => {
    res.setHeader('Allow', 'POST, OPTIONS');
    rpcError(res, ErrorCode.INVALID_REQUEST, 'Invalid Request', 'send JSON-RPC with POST');
  });

  app.use((_req, res) => res.status(404).json({ error: 'not found; the JSON-RPC endpoint is POST /jrpc' }));

  // Body-parser failures (too large, bad encoding, aborted) end here: answer them as JSON-RPC errors.
  app.use((err: unknown, req: Request, res: Response, _next: NextFunction) => {
    const type = typeof err === 'object' && err !== null && 'type' in err ? String((err as { type: unknown }).type) : '';
    if (res.headersSent) return;
    if (req.path === '/jrpc') {
      if (type === 'entity.too.large') rpcError(res, ErrorCode.INVALID_REQUEST, 'Invalid Request', `the body exceeds ${options.maxBodyBytes} bytes`);
      else if (type === 'encoding.unsupported' || type === 'charset.unsupported') rpcError(res, ErrorCode.INVALID_REQUEST, 'Invalid Request', 'unsupported body encoding');
      else if (type === 'request.aborted') res.end();
      else rpcError(res, ErrorCode.PARSE_ERROR, 'Parse error', 'the body could not be read');
      return;
    }
    log.warn({ err }, 'HTTP request failed');
    res.status(400).json({ error: 'bad request' });
  });
  return app;
}
