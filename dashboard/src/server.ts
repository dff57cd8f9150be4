/**
 * The dashboard's HTTP server (Express): the page and its bundle from dist/dashboard/web, and the JSON API of
 * api.ts over what the collector gathered. The login demo's token comes through here (`POST /api/dev-token`),
 * because the development issuer sends no CORS headers; the login itself runs in the browser, against the
 * nodes' JSON-RPC endpoints, which do.
 *
 * It listens on loopback by default. It mints development tokens for any email, so only for a network whose
 * description names a development issuer, and it never serves anything secret: users' ids leave it masked.
 */
import { existsSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import express, { type NextFunction, type Request, type Response } from 'express';
import { z } from 'zod';
import { REPO_ROOT } from '../../core/comet/binary.js';
import { TorusClient } from '../../client/src/sdk.js';
import { DevTokenRequest, type ClientNetworkAnswer } from './api.js';
import { NetworkCollector, type CollectorOptions } from './collector.js';
import { NetworkSource, type NetworkSourceOptions } from './network-source.js';

/** Where `npm run build` puts the page (dashboard/scripts/bundle.ts). */
export const WEB_ROOT = path.join(REPO_ROOT, 'dist/dashboard/web');

export interface DashboardOptions extends NetworkSourceOptions, CollectorOptions {
  /** testnet.json of a local network, or a client network file (then `comet` gives the CometBFT RPCs). */
  readonly networkFile: string;
  readonly host?: string;
  /** 0 picks a free port. */
  readonly port: number;
  /** The built page; default WEB_ROOT. */
  readonly webRoot?: string;
}

export interface RunningDashboard {
  readonly url: string;
  readonly collector: NetworkCollector;
  close(): Promise<void>;
}

function sendError(res: Response, status: number, error: string): void {
  res.status(status).json({ error });
}

/** The Express app over a collector; `startDashboard` runs it. */
export function createDashboardApp(collector: NetworkCollector, webRoot: string): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.use((_req: Request, res: Response, next: NextFunction) => {
    // The page runs the login against the nodes, wherever they are, so connect-src allows any http(s) origin;
    // everything else comes from this server only.
    res.setHeader('Content-Security-Policy', "default-src 'self'; connect-src 'self' http: https:; img-src 'self' data:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'");
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.setHeader('Referrer-Policy', 'no-referrer');
    next();
  });

  const api = express.Router();
  api.use((_req: Request, res: Response, next: NextFunction) => {
    res.setHeader('Cache-Control', 'no-store');
    next();
  });
  api.get('/status', (_req, res) => void res.json(collector.status()));
  api.get('/buffer', (_req, res) => void res.json(collector.history()));
  api.get('/assignments', (_req, res) => void res.json(collector.assignments()));
  api.get('/client-network', (_req, res) => {
    const login = collector.view.login;
    const answer: ClientNetworkAnswer = 'problem' in login
      ? { network: null, verifier: null, problem: login.problem }
      : { network: { ...login.network }, verifier: login.verifier, problem: null };
    res.json(answer);
  });
  api.post('/dev-token', express.json({ limit: '2kb' }), (req: Request, res: Response) => {
    const request = DevTokenRequest.safeParse(req.body);
    if (!request.success) return sendError(res, 400, `expected {"email": "<an email address>"}: ${z.prettifyError(request.error)}`);
    const login = collector.view.login;
    if ('problem' in login) return sendError(res, 409, login.problem);
    // The SDK's own path to the issuer (validated answer, deadline), from the same description the page uses.
    new TorusClient(login.network, { timeoutMs: 5000 }).devToken(request.data.email).then(
      (idToken) => res.json({ id_token: idToken }),
      (err: unknown) => sendError(res, 502, `the development issuer gave no token: ${err instanceof Error ? err.message : String(err)}`),
    );
  });
  api.use((_req, res) => sendError(res, 404, 'no such API route'));
  app.use('/api', api);

  app.use(express.static(webRoot, { index: 'index.html', fallthrough: true }));
  app.use((_req, res) => {
    if (!existsSync(path.join(webRoot, 'index.html'))) return sendError(res, 500, `the page is not built (no ${webRoot}/index.html); run npm run build`);
    sendError(res, 404, 'not found');
  });
  // Body-parser failures (bad JSON, too large) as JSON, without echoing the body.
  app.use((err: unknown, _req: Request, res: Response, _next: NextFunction) => {
    const status = typeof err === 'object' && err !== null && 'status' in err && typeof err.status === 'number' ? err.status : 500;
    sendError(res, status >= 400 && status < 500 ? status : 500, status >= 400 && status < 500 ? 'the request body is not valid JSON or too large' : 'internal error');
  });
  return app;
}

/** Reads the description (errors at once), starts collecting and listens; resolves once it is serving. */
export async function startDashboard(options: DashboardOptions): Promise<RunningDashboard> {
  const source = new NetworkSource(options.networkFile, options);
  const collector = new NetworkCollector(source, options);
  const app = createDashboardApp(collector, options.webRoot ?? WEB_ROOT);
  const host = options.host ?? '127.0.0.1';
  const server = await new Promise<Server>((resolve, reject) => {
    const listening = app.listen(options.port, host, (err?: Error) => (err === undefined ? resolve(listening) : reject(err)));
  });
  collector.start();
  const { port } = server.address() as AddressInfo;
  const shownHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;
  return {
    url: `http://${shownHost}:${port}/`,
    collector,
    async close() {
      await collector.stop();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
