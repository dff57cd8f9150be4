#!/usr/bin/env node
/**
 * torus-retrieval: the retrieval process of a node — the Torus-compatible JSON-RPC server that users log in
 * at and that resolves accounts.
 *
 *   torus-retrieval --config FILE
 *
 * It reads the epoch from its node's mapping state through CometBFT, reads shares from its node's key
 * generation process over a local socket, and keeps its own commitments and used tokens in LevelDB.
 */
import '../../core/runtime.js';
import type { Server } from 'node:http';
import { parseArgs } from 'node:util';
import { waitForMappingEpoch } from '../../core/comet/mapping-epoch.js';
import { status } from '../../core/comet/rpc.js';
import { bytesToHex } from '../../core/encoding/bytes.js';
import { NodeKeyError, readNodeKey } from '../../core/node-key.js';
import { NodeSigner } from '../../core/crypto/signature.js';
import { createLogger } from '../../core/log.js';
import { ConfigError, loadRetrievalConfig } from './config.js';
import { membersOf, type RetrievalContext } from './context.js';
import { JsonRpcDispatcher } from './jsonrpc.js';
import { MappingClient } from './mapping.js';
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
  const ctx: RetrievalContext = {
    signer, selfIndex: self.index, epoch, members,
    tx: { chainId, epoch: BigInt(epoch.id), signerIndex: self.index, signer },
    verifiers: VerifierRegistry.fromConfig(config.verifiers), mapping, tokens, shares,
    limits: { signatureWindowSeconds: config.signature_window_seconds, clockSkewSeconds: config.clock_skew_seconds, commitmentTtlSeconds: config.commitment_ttl_seconds, assignmentWaitMs: config.assignment_wait_ms },
    now: () => Math.floor(Date.now() / 1000),
  };
  const dispatcher = new JsonRpcDispatcher({ ...resolverMethods(ctx), ...commitRevealMethods(ctx), ...handoffMethods(ctx) }, {
    maxBatch: config.max_batch,
    onInternalError: (method, err) => log.error({ method, err }, 'request failed inside the node'),
  });
  const app = createRetrievalApp(dispatcher, {
    maxBodyBytes: config.max_body_bytes,
    corsOrigins: config.cors_origins,
    health: async () => {
      // Healthy = able to serve logins: CometBFT answers and so does the key-generation process's share socket.
      const comet = await status(config.comet_rpc).then((s) => ({ height: s.height }), (err: unknown) => ({ error: err instanceof Error ? err.message : String(err) }));
      const keygen = await shares.healthy();
      return { ok: !('error' in comet) && keygen, detail: { node_index: self.index, epoch: epoch.id, mode: config.mode, comet, keygen, tokens: tokens.size } };
    },
  }, log);
  const [host, port] = [config.listen.slice(0, config.listen.lastIndexOf(':')), Number(config.listen.slice(config.listen.lastIndexOf(':') + 1))];
  const server: Server = await new Promise((resolve, reject) => {
    const s = app.listen(port, host, (err?: Error) => (err ? reject(err) : resolve(s)));
  });
  server.keepAliveTimeout = 65_000;
  const pruneTimer = setInterval(() => void tokens.prune(ctx.now()).catch((err: unknown) => log.error({ err }, 'pruning expired tokens failed')), 60_000);
  log.info({ listen: config.listen, mode: config.mode, node_index: self.index, epoch: epoch.id, verifiers: Object.keys(config.verifiers) }, 'retrieval server running');

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'stopping');
    clearInterval(pruneTimer);
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    shares.close();
    await tokens.close();
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
}

main().catch((err: unknown) => {
  console.error(`torus-retrieval: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(err instanceof ConfigError || err instanceof VerifierConfigError || err instanceof NodeKeyError ? 2 : 1);
});
