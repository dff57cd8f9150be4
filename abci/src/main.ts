#!/usr/bin/env node
/**
 * torus-abci: the mapping process. Serves the ABCI socket that a CometBFT node connects to (`proxy_app`).
 *
 *   torus-abci --home DIR [--listen unix:///path | tcp://host:port] [--max-frame-bytes N] [--log-level L]
 *              [--metrics-listen HOST:PORT]
 *
 * State lives in DIR/state (LevelDB). The default listen address is the unix socket DIR/abci.sock, which
 * only local processes with access to DIR can reach. With --metrics-listen it serves Prometheus metrics,
 * /healthz and /readyz there (core/metrics.ts); ready = it has a state and CometBFT is connected.
 */
import { mkdirSync, rmSync, existsSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { createLogger } from '../../core/log.js';
import { HostPortSchema, ProcessMetrics, startProbeServer, type ProbeServer } from '../../core/metrics.js';
import { MappingApp } from './app.js';
import { MappingMetrics } from './metrics.js';
import { AbciServer, DEFAULT_MAX_FRAME_BYTES, parseListenAddress } from './transport/server.js';

const USAGE = 'usage: torus-abci --home DIR [--listen unix:///path|tcp://host:port] [--max-frame-bytes N] [--log-level LEVEL] [--metrics-listen HOST:PORT]';

const Options = z.object({
  home: z.string({ error: '--home is required' }).min(1),
  listen: z.string().optional(),
  'max-frame-bytes': z.coerce.number().int().min(1024).max(256 * 1024 * 1024).default(DEFAULT_MAX_FRAME_BYTES),
  'log-level': z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info'),
  'metrics-listen': HostPortSchema.optional(),
});

async function main(): Promise<void> {
  let raw;
  try {
    raw = parseArgs({
      args: process.argv.slice(2),
      options: {
        home: { type: 'string' }, listen: { type: 'string' }, 'max-frame-bytes': { type: 'string' },
        'log-level': { type: 'string' }, 'metrics-listen': { type: 'string' }, help: { type: 'boolean' },
      },
      strict: true,
    }).values;
  } catch (err) {
    console.error(`torus-abci: ${err instanceof Error ? err.message : String(err)}\n${USAGE}`);
    process.exit(2);
  }
  if (raw.help) {
    console.log(USAGE);
    return;
  }
  const parsed = Options.safeParse(raw);
  if (!parsed.success) {
    console.error(`torus-abci: ${z.prettifyError(parsed.error)}\n${USAGE}`);
    process.exit(2);
  }
  const options = parsed.data;
  const home = path.resolve(options.home);
  const listen = options.listen ?? `unix://${path.join(home, 'abci.sock')}`;
  try {
    parseListenAddress(listen);
  } catch (err) {
    console.error(`torus-abci: --listen: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(2);
  }

  const log = createLogger('torus-abci', options['log-level']);
  mkdirSync(home, { recursive: true });
  const metricsListen = options['metrics-listen'];
  // Without a reader, counting would only cost (each delivered tx's type is read again for its label).
  const metrics = metricsListen === undefined ? undefined : new ProcessMetrics('abci');
  const app = await MappingApp.open(path.join(home, 'state'), log, metrics === undefined ? undefined : new MappingMetrics(metrics));
  const server = new AbciServer(app, { maxFrameBytes: options['max-frame-bytes'], logger: log });
  const listenTarget = parseListenAddress(listen);
  // A socket file left by a killed process would make listen fail; nobody else owns a path under our home.
  if (listenTarget.kind === 'unix' && existsSync(listenTarget.path)) rmSync(listenTarget.path);
  await server.listen(listen);
  let probes: ProbeServer | undefined;
  if (metricsListen !== undefined && metrics !== undefined) {
    probes = await startProbeServer({
      listen: metricsListen, metrics, log,
      readiness: {
        // Ready = it can answer CometBFT: a state (from InitChain or the store) that it can still write,
        // and CometBFT connected and told its last height (the handshake's Info).
        state: () => {
          const { initialised, height, writeFailed } = app.readiness();
          return { ok: initialised && !writeFailed, detail: writeFailed ? 'writing committed state failed' : initialised ? { height } : 'waiting for InitChain' };
        },
        cometbft: () => {
          const { cometConnected, height } = app.readiness();
          const connections = server.connectionCount;
          return { ok: cometConnected && connections > 0, detail: { connections, handshake: cometConnected, height } };
        },
      },
    });
  }

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'stopping');
    await probes?.close();
    await server.close();
    await app.close();
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
}

main().catch((err: unknown) => {
  console.error(`torus-abci: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  process.exit(1);
});
