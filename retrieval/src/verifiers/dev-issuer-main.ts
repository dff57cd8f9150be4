#!/usr/bin/env node
/**
 * torus-dev-issuer: the development OpenID issuer (dev-issuer.ts) as a process, for local networks.
 *
 *   torus-dev-issuer [--listen HOST:PORT] [--issuer URL] [--key-file PATH] [--allow-non-loopback]
 *
 * It hands out a valid id token for any email to anyone who asks, so it refuses to run in production
 * mode and, unless told otherwise, to listen beyond loopback. It logs no requests and so no tokens.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { isIP } from 'node:net';
import { parseArgs } from 'node:util';
import { DevIssuer } from './dev-issuer.js';

const USAGE = `usage: torus-dev-issuer [--listen HOST:PORT] [--issuer URL] [--key-file PATH] [--allow-non-loopback]

A development OpenID issuer: it signs an id token for any email. Never use it in production.
  --listen HOST:PORT      where to listen (default 127.0.0.1:7080; port 0 picks a free port)
  --issuer URL            the tokens' "iss" and the base URL of the endpoints (default http://HOST:PORT)
  --key-file PATH         private signing key (JWK), created with mode 0600 if missing; without it the
                          key is new on each start and earlier tokens stop verifying
  --allow-non-loopback    allow a HOST other than localhost, 127.0.0.0/8 or ::1`;

function refuse(message: string): never {
  console.error(`torus-dev-issuer: ${message}`);
  process.exit(2);
}

/** HOST:PORT or [IPv6]:PORT. */
function parseListen(value: string): { host: string; port: number } {
  const match = /^(?:\[([0-9A-Fa-f:.]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(value);
  const port = Number(match?.[3]);
  const host = match?.[1] ?? match?.[2];
  if (host === undefined || !(port >= 0 && port <= 65535)) refuse(`--listen must be HOST:PORT or [IPv6]:PORT, got ${value}`);
  return { host, port };
}

function parseOptions() {
  try {
    return parseArgs({
      options: {
        listen: { type: 'string', default: '127.0.0.1:7080' },
        issuer: { type: 'string' },
        'key-file': { type: 'string' },
        'allow-non-loopback': { type: 'boolean', default: false },
        help: { type: 'boolean', default: false },
      },
      strict: true,
    }).values;
  } catch (err) {
    refuse(`${err instanceof Error ? err.message : String(err)}\n${USAGE}`);
  }
}

function isLoopback(host: string): boolean {
  if (host === 'localhost') return true;
  if (isIP(host) === 4) return host.startsWith('127.');
  return host === '::1';
}

async function main(): Promise<void> {
  if (process.env['TORUS_MODE'] === 'production' || process.env['NODE_ENV'] === 'production') {
    refuse('refusing to start: this is a development issuer and TORUS_MODE or NODE_ENV is production');
  }
  const values = parseOptions();
  if (values.help) {
    console.log(USAGE);
    return;
  }
  const { host, port } = parseListen(values.listen);
  if (!isLoopback(host) && !values['allow-non-loopback']) {
    refuse(`refusing to listen on ${host}: anyone who can reach it can mint tokens; pass --allow-non-loopback to do it anyway`);
  }
  if (values.issuer !== undefined && !URL.canParse(values.issuer)) refuse(`--issuer must be a URL, got ${values.issuer}`);

  // The default issuer names the bound port, known only after listen() when port is 0; until the key is
  // ready requests are answered 503.
  let handler: ((req: IncomingMessage, res: ServerResponse) => void) | undefined;
  const server = createServer((req, res) => {
    if (handler !== undefined) return handler(req, res);
    res.writeHead(503).end();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, resolve);
  });
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('the server has no TCP address');
  const hostInUrl = host.includes(':') ? `[${host}]` : host;
  const issuerUrl = values.issuer ?? `http://${hostInUrl}:${address.port}`;
  const issuer = await DevIssuer.create({ issuer: issuerUrl, keyFile: values['key-file'] });
  handler = issuer.app();
  console.log(`torus-dev-issuer: DEVELOPMENT OpenID issuer ${issuerUrl} listening on ${hostInUrl}:${address.port}; it signs tokens for any email, never use it in production`);

  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      server.close();
      server.closeAllConnections();
    });
  }
}

main().catch((err: unknown) => {
  console.error(`torus-dev-issuer: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
