#!/usr/bin/env node
/**
 * torus-dkg: the key-generation process of a node.
 *
 *   torus-dkg --config FILE
 *
 * It reads the epoch (n, k, t, members) and the keys to generate from its node's mapping state through
 * CometBFT, runs the AVSS key generation with the other members over libp2p, and submits the agreed
 * dealings and the share proofs as BFT transactions. Its dealings and shares live in its own LevelDB; the
 * node's retrieval process reads single shares through a Unix socket (share-service.ts). With
 * `metrics_listen` it serves Prometheus metrics, /healthz and /readyz (core/metrics.ts); ready = its
 * CometBFT answers and is caught up, and it is connected to at least k-1 of the epoch's other members.
 */
import '../../core/runtime.js';
import { parseArgs } from 'node:util';
import { cometCaughtUp, readKeyBuffer, waitForMappingEpoch } from '../../core/comet/mapping-epoch.js';
import { bytesToHex } from '../../core/encoding/bytes.js';
import { parsePublicKey } from '../../core/crypto/keys.js';
import { NodeKeyError, readNodeKey } from '../../core/node-key.js';
import { NodeSigner } from '../../core/crypto/signature.js';
import { createLogger, type Logger } from '../../core/log.js';
import { ProcessMetrics, startProbeServer } from '../../core/metrics.js';
import { thresholdError } from '../../core/epoch.js';
import { ConfigError, loadKeygenConfig, type Committee } from './config.js';
import { HandoverSource, MappingCollector } from './handover.js';
import { Redealer } from './protocol/redealer.js';
import { LevelDealingStore } from './level-store.js';
import { KeygenMetrics } from './metrics.js';
import { KeygenEngine, type SourceEpoch } from './protocol/engine.js';
import { decodeBatch, encodeFrames } from './protocol/wire.js';
import { ShareService } from './share-service.js';
import { KeygenTransport } from './transport.js';
import { KeygenWorker, type FrameCodec } from './worker.js';

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { config: { type: 'string' }, help: { type: 'boolean' } }, strict: true });
  if (values.help || values.config === undefined) {
    console.log('usage: torus-dkg --config FILE');
    process.exit(values.help ? 0 : 2);
  }
  const config = loadKeygenConfig(values.config);
  const log = createLogger('torus-dkg', config.log_level);
  const secretKey = readNodeKey(config.node_key_file);
  const signer = new NodeSigner(secretKey);

  const { chainId, epoch } = await waitForMappingEpoch(config.comet_rpc, log);
  const members = new Map(epoch.members.map((m) => [m.index, parsePublicKey(m.public_key)]));
  const self = [...members].find(([, key]) => bytesToHex(key) === bytesToHex(signer.publicKey))?.[0];
  if (self === undefined) throw new ConfigError(`this node's key (${signer.checksumAddress}) is not a member of epoch ${epoch.id}`);
  const addresses = new Map(config.peers.map((p) => [p.index, p.address]));
  for (const index of members.keys()) {
    if (index !== self && !addresses.has(index)) throw new ConfigError(`peers has no address for member ${index}`);
  }

  const store = await LevelDealingStore.open(config.data_dir);
  const source = config.source === undefined ? undefined : committeeOf(config.source);
  if (source !== undefined && source.epoch >= BigInt(epoch.id)) throw new ConfigError(`source epoch ${source.epoch} must precede this epoch ${epoch.id}`);
  const engine = new KeygenEngine({
    chainId, epoch: BigInt(epoch.id), n: epoch.n, k: epoch.k, t: epoch.t, self, members, signer, store,
    // Peers poll the mapping state at other moments and may start a key before this node does.
    earlyMessagesPerPeer: 4096,
    ...(source !== undefined ? { source } : {}),
  });
  const decodeFor = (maxIndex: number) => (frame: Uint8Array) => {
    const result = decodeBatch(frame, { n: maxIndex, k: epoch.k });
    if (!result.ok) throw new Error(result.error);
    if (result.epoch !== BigInt(epoch.id)) throw new Error(`frame for epoch ${result.epoch}, this node is in epoch ${epoch.id}`);
    return result.messages;
  };
  const codec: FrameCodec = {
    encode: (messages) => encodeFrames(messages, config.max_frame_bytes),
    decode: decodeFor(epoch.n),
    // Re-dealings name their dealer by its index in the source epoch.
    decodeFromSource: decodeFor(source?.n ?? epoch.n),
  };
  const exposed = config.metrics_listen === undefined ? undefined : exposedMetrics(config.metrics_listen);
  const metrics = exposed?.metrics;
  const txContext = { chainId, epoch: BigInt(epoch.id), signerIndex: self, signer };
  let transport: KeygenTransport | undefined;
  const worker = new KeygenWorker({
    engine, store, codec, logger: log,
    transport: { send: (to, frame) => (transport as KeygenTransport).send(to, frame) },
    cometRpc: config.comet_rpc,
    tx: txContext,
    maxKeysInFlight: config.max_keys_in_flight, tickMs: config.tick_ms, pollMs: config.poll_ms, txLifetimeBlocks: config.tx_lifetime_blocks,
    txStaggerMs: config.tx_stagger_ms, n: epoch.n, self, resharing: source !== undefined,
    ...(metrics !== undefined ? { metrics } : {}),
  });
  transport = await KeygenTransport.start({
    secretKey, listen: config.listen, protocol: `/torus/keygen/${chainId}/${epoch.id}/1`,
    peers: [...members].filter(([index]) => index !== self).map(([index, publicKey]) => ({ index, publicKey, address: addresses.get(index) as string })),
    maxFrameBytes: config.max_frame_bytes, maxBytesPerSecond: config.max_bytes_per_second, logger: log,
    onFrame: (from, frame) => worker.onFrame(from, frame),
  });
  transport.onPeerConnected((index) => worker.onPeerConnected(index));
  const handover: Array<{ start(): void; stop(): Promise<void> }> = [];
  if (config.source !== undefined) {
    // Re-dealings of the source epoch's keys arrive on their own protocol, only from the source's nodes.
    await transport.addChannel({
      protocol: reshareProtocol(chainId, epoch.id), peers: peersOf(config.source),
      onFrame: (dealer, frame) => worker.onSourceFrame(dealer, frame),
    });
    const collector = new MappingCollector({
      cometRpc: config.comet_rpc, tx: txContext, source: config.source, logger: log, txLifetimeBlocks: config.tx_lifetime_blocks,
      pollMs: 1000, staggerMs: config.tx_stagger_ms, n: epoch.n,
    });
    metrics?.watchHandover('target', () => collector.complete);
    handover.push(collector);
  }
  if (config.target !== undefined) {
    const target = config.target;
    if (target.epoch <= epoch.id) throw new ConfigError(`target epoch ${target.epoch} must follow this epoch ${epoch.id}`);
    const channel = await transport.addChannel({ protocol: reshareProtocol(target.chain_id, target.epoch), peers: peersOf(target) });
    const session = {
      source: { chainId, epoch: BigInt(epoch.id), n: epoch.n, k: epoch.k, t: epoch.t },
      target: { chainId: target.chain_id, epoch: BigInt(target.epoch), n: target.n, k: target.k, t: target.t },
    };
    const handoverSource = new HandoverSource({
      cometRpc: config.comet_rpc, tx: txContext, store, redealer: new Redealer({ session, self, store }), target, channel,
      encode: (messages) => encodeFrames(messages, config.max_frame_bytes), logger: log, txLifetimeBlocks: config.tx_lifetime_blocks, pollMs: 1000,
      ...(metrics !== undefined ? { metrics } : {}),
    });
    metrics?.watchHandover('source', () => handoverSource.handedOver);
    handover.push(handoverSource);
  }
  const shareService = await ShareService.start(config.share_socket, store, log);
  worker.start();
  for (const role of handover) role.start();
  log.info({ chainId, epoch: epoch.id, self, n: epoch.n, k: epoch.k, t: epoch.t }, 'key generation running');

  const statsTimer = setInterval(() => log.info({ ...worker.stats, rejections: Object.fromEntries(worker.rejections) }, 'key-generation progress'), 10_000);
  const observability = exposed === undefined ? undefined : await startObservability({ ...exposed, cometRpc: config.comet_rpc, transport, k: epoch.k, log });
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    clearInterval(statsTimer);
    await observability?.stop();
    log.info({ signal }, 'stopping');
    for (const role of handover) await role.stop();
    await worker.stop();
    await shareService.stop();
    await transport?.stop();
    await store.close();
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
}

function exposedMetrics(listen: string): { listen: string; processMetrics: ProcessMetrics; metrics: KeygenMetrics } {
  const processMetrics = new ProcessMetrics('dkg');
  return { listen, processMetrics, metrics: new KeygenMetrics(processMetrics) };
}

/** How often the key buffer gauge is refreshed from the mapping state. */
const BUFFER_POLL_MS = 5000;

/**
 * The metrics server and the key buffer gauge. Ready = CometBFT answers and is caught up, and at least k-1
 * other members are connected: with k-1 peers and itself, k nodes can deal, echo and ready for a key.
 */
async function startObservability(o: {
  processMetrics: ProcessMetrics; metrics: KeygenMetrics; listen: string; cometRpc: string; transport: KeygenTransport; k: number; log: Logger;
}): Promise<{ stop(): Promise<void> }> {
  const { metrics, cometRpc, transport, k, log } = o;
  metrics.watchPeers(async () => (await transport.connectedMembers()).length);
  const probes = await startProbeServer({
    listen: o.listen, metrics: o.processMetrics, log,
    readiness: {
      cometbft: () => cometCaughtUp(cometRpc),
      peers: async () => {
        const connected = await transport.connectedMembers({ dialMissing: true });
        return { ok: connected.length >= k - 1, detail: { connected, needed: k - 1 } };
      },
    },
  });
  const pollBuffer = () => readKeyBuffer(cometRpc).then(
    (buffer) => metrics.setBuffer(buffer),
    (err: unknown) => log.debug({ err: err instanceof Error ? err.message : String(err) }, 'could not read the key buffer for metrics'),
  );
  void pollBuffer();
  const bufferTimer = setInterval(() => void pollBuffer(), BUFFER_POLL_MS);
  return {
    stop: async () => {
      clearInterval(bufferTimer);
      await probes.close();
    },
  };
}

/** The protocol on which the nodes of the epoch before `epoch` deal their shares to it. */
function reshareProtocol(chainId: string, epoch: number): string {
  return `/torus/reshare/${chainId}/${epoch}/1`;
}

function peersOf(committee: Committee): Array<{ index: number; publicKey: Uint8Array; address: string }> {
  return committee.members.map((m) => ({ index: m.index, publicKey: parsePublicKey(m.public_key), address: m.address }));
}

/** The engine's view of the source committee; the thresholds and keys come from the contract via the launcher. */
function committeeOf(committee: Committee): SourceEpoch {
  const broken = thresholdError(committee);
  if (broken !== undefined) throw new ConfigError(`source: invalid thresholds: ${broken}`);
  if (committee.members.length !== committee.n) throw new ConfigError(`source: n=${committee.n} but ${committee.members.length} members`);
  return {
    chainId: committee.chain_id, epoch: BigInt(committee.epoch), n: committee.n, k: committee.k, t: committee.t,
    members: new Map(committee.members.map((m) => [m.index, parsePublicKey(m.public_key)])),
  };
}

main().catch((err: unknown) => {
  console.error(`torus-dkg: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(err instanceof ConfigError || err instanceof NodeKeyError ? 2 : 1);
});

