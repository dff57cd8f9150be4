#!/usr/bin/env node
/**
 * torus-retrieval: the retrieval process of a node — the Torus-compatible JSON-RPC server that users log in
 * at and that resolves accounts.
 *
 *   torus-retrieval --config FILE
 *
 * It reads the epoch from its node's mapping state through CometBFT, reads shares from its node's key
 * generation process over a local socket, and keeps its own commitments and used tokens in LevelDB. It
 * answers GET /readyz next to /healthz on its JSON-RPC port, and with `metrics_listen` serves Prometheus
 * metrics, /healthz and /readyz on a port of their own (core/metrics.ts). Ready = CometBFT answers and is
 * caught up, the key-generation share socket answers, and the key buffer holds a ready key (or the epoch is
 * frozen for a hand-over, when new users go to the next epoch anyway).
 */
import '../../core/runtime.js';
import type { Server } from 'node:http';
import { parseArgs } from 'node:util';
import { cometCaughtUp, readKeyBuffer, waitForMappingEpoch } from '../../core/comet/mapping-epoch.js';
import { status } from '../../core/comet/rpc.js';
import { bytesToHex } from '../../core/encoding/bytes.js';
import { NodeKeyError, readNodeKey } from '../../core/node-key.js';
import { NodeSigner } from '../../core/crypto/signature.js';
import { createLogger } from '../../core/log.js';
import { evaluateReadiness, parseHostPort, ProcessMetrics, startProbeServer, type CheckResult, type ProbeServer, type ReadinessCheck } from '../../core/metrics.js';
import { ConfigError, loadRetrievalConfig } from './config.js';
import { membersOf, type RetrievalContext } from './context.js';
import { JsonRpcDispatcher } from './jsonrpc.js';
import { MappingClient } from './mapping.js';
import { RetrievalMetrics } from './metrics.js';
import { commitRevealMethods } from './methods/commit-reveal.js';
import { handoffMethods } from './methods/handoff.js';
import { resolverMethods } from './methods/resolver.js';
import { createRetrievalApp } from './server.js';
import { SocketShareSource } from './share-source.js';
import { TokenStore } from './token-store.js';
import { VerifierConfigError } from './verifiers/config.js';
import { VerifierRegistry } from './verifiers/registry.js';

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { config: { type: 'string' }, help: { type: 'boolean' } }, strict: true });
  if (values.help || values.config === undefined) {
    console.log('usage: torus-retrieval --config FILE');
    process.exit(values.help ? 0 : 2);
  }
  const config = loadRetrievalConfig(values.config);
  const log = createLogger('torus-retrieval', config.log_level);
  const signer = new NodeSigner(readNodeKey(config.node_key_file));
  const mapping = new MappingClient(config.comet_rpc, config.tx_lifetime_blocks);
  const { chainId, epoch } = await waitForMappingEpoch(config.comet_rpc, log);
  const members = membersOf(epoch);
  const self = epoch.members.find((m) => m.public_key === bytesToHex(signer.publicKey));
  if (self === undefined) throw new ConfigError(`this node's key (${signer.checksumAddress}) is not a member of epoch ${epoch.id}`);

  const tokens = await TokenStore.open(config.data_dir);
  const shares = new SocketShareSource(config.share_socket);
  const processMetrics = new ProcessMetrics('retrieval');
  const metrics = new RetrievalMetrics(processMetrics);
  const ctx: RetrievalContext = {
    signer, selfIndex: self.index, epoch, members,
    tx: { chainId, epoch: BigInt(epoch.id), signerIndex: self.index, signer },
    verifiers: VerifierRegistry.fromConfig(config.verifiers), mapping, tokens, shares,
    limits: { signatureWindowSeconds: config.signature_window_seconds, clockSkewSeconds: config.clock_skew_seconds, commitmentTtlSeconds: config.commitment_ttl_seconds, assignmentWaitMs: config.assignment_wait_ms },
    now: () => Math.floor(Date.now() / 1000),
    metrics,
  };
  const dispatcher = new JsonRpcDispatcher({ ...resolverMethods(ctx), ...commitRevealMethods(ctx), ...handoffMethods(ctx) }, {
    maxBatch: config.max_batch,
    onInternalError: (method, err) => log.error({ method, err }, 'request failed inside the node'),
    onRequest: (method, outcome, seconds) => metrics.request(method, outcome, seconds),
  });
  const readiness: Record<string, ReadinessCheck> = {
    cometbft: () => cometCaughtUp(config.comet_rpc),
    // No socket path in the detail: /readyz is also answered on the public JSON-RPC port.
    keygen: async () => (await shares.healthy() ? { ok: true } : { ok: false, detail: 'the key-generation process\'s share socket does not answer' }),
    key_buffer: () => keyBufferReadiness(mapping),
  };
  const app = createRetrievalApp(dispatcher, {
    maxBodyBytes: config.max_body_bytes,
    corsOrigins: config.cors_origins,
    health: async () => {
      // Healthy = able to serve logins: CometBFT answers and so does the key-generation process's share socket.
      const [comet, keygen] = await Promise.all([
        status(config.comet_rpc).then((s) => ({ height: s.height }), (err: unknown) => ({ error: err instanceof Error ? err.message : String(err) })),
        shares.healthy(),
      ]);
      return { ok: !('error' in comet) && keygen, detail: { node_index: self.index, epoch: epoch.id, mode: config.mode, comet, keygen, tokens: tokens.size } };
    },
    readiness: () => evaluateReadiness(readiness),
  }, log);
  const { host, port } = parseHostPort(config.listen);
  const server: Server = await new Promise((resolve, reject) => {
    const s = app.listen(port, host, (err?: Error) => (err ? reject(err) : resolve(s)));
  });
  server.keepAliveTimeout = 65_000;
  const probes: ProbeServer | undefined = config.metrics_listen === undefined
    ? undefined
    : await startProbeServer({ listen: config.metrics_listen, metrics: processMetrics, readiness, log });
  const pruneTimer = setInterval(() => void tokens.prune(ctx.now()).catch((err: unknown) => log.error({ err }, 'pruning expired tokens failed')), 60_000);
  log.info({ listen: config.listen, mode: config.mode, node_index: self.index, epoch: epoch.id, verifiers: Object.keys(config.verifiers) }, 'retrieval server running');

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'stopping');
    clearInterval(pruneTimer);
    await probes?.close();
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    shares.close();
    await tokens.close();
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
}

/**
 * New users need a ready key; users with a key are served regardless, but an empty buffer means key
 * generation is behind or stuck. A frozen epoch assigns nothing new by design, so it counts as ready.
 */
async function keyBufferReadiness(mapping: MappingClient): Promise<CheckResult> {
  const buffer = await readKeyBuffer(mapping.rpcUrl);
  if (buffer.ready > 0) return { ok: true, detail: { ready: buffer.ready, target: buffer.target } };
  const frozenFor = await mapping.frozenFor();
  return frozenFor !== undefined
    ? { ok: true, detail: { ready: 0, frozen_for_epoch: frozenFor } }
    : { ok: false, detail: { ready: 0, target: buffer.target, generating: buffer.generating } };
}

main().catch((err: unknown) => {
  console.error(`torus-retrieval: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(err instanceof ConfigError || err instanceof VerifierConfigError || err instanceof NodeKeyError ? 2 : 1);
});
