#!/usr/bin/env node
/**
 * torus-dkg: the key-generation process of a node.
 *
 *   torus-dkg --config FILE
 *
 * It reads the epoch (n, k, t, members) and the keys to generate from its node's mapping state through
 * CometBFT, runs the AVSS key generation with the other members over libp2p, and submits the agreed
 * dealings and the share proofs as BFT transactions. Its dealings and shares live in its own LevelDB; the
 * node's retrieval process reads single shares through a Unix socket (share-service.ts).
 */
import '../../core/runtime.js';
import { parseArgs } from 'node:util';
import { waitForMappingEpoch } from '../../core/comet/mapping-epoch.js';
import { bytesToHex } from '../../core/encoding/bytes.js';
import { parsePublicKey } from '../../core/crypto/keys.js';
import { NodeKeyError, readNodeKey } from '../../core/node-key.js';
import { NodeSigner } from '../../core/crypto/signature.js';
import { createLogger } from '../../core/log.js';
import { ConfigError, loadKeygenConfig } from './config.js';
import { LevelDealingStore } from './level-store.js';
import { KeygenEngine } from './protocol/engine.js';
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
  const engine = new KeygenEngine({
    chainId, epoch: BigInt(epoch.id), n: epoch.n, k: epoch.k, t: epoch.t, self, members, signer, store,
    // Peers poll the mapping state at other moments and may start a key before this node does.
    earlyMessagesPerPeer: 4096,
  });
  const codec: FrameCodec = {
    encode: (messages) => encodeFrames(messages, config.max_frame_bytes),
    decode: (frame) => {
      const result = decodeBatch(frame, { n: epoch.n, k: epoch.k });
      if (!result.ok) throw new Error(result.error);
      if (result.epoch !== BigInt(epoch.id)) throw new Error(`frame for epoch ${result.epoch}, this node is in epoch ${epoch.id}`);
      return result.messages;
    },
  };
  let transport: KeygenTransport | undefined;
  const worker = new KeygenWorker({
    engine, store, codec, logger: log,
    transport: { send: (to, frame) => (transport as KeygenTransport).send(to, frame) },
    cometRpc: config.comet_rpc,
    tx: { chainId, epoch: BigInt(epoch.id), signerIndex: self, signer },
    maxKeysInFlight: config.max_keys_in_flight, tickMs: config.tick_ms, pollMs: config.poll_ms, txLifetimeBlocks: config.tx_lifetime_blocks,
    txStaggerMs: config.tx_stagger_ms, n: epoch.n, self,
  });
  transport = await KeygenTransport.start({
    secretKey, listen: config.listen, protocol: `/torus/keygen/${chainId}/${epoch.id}/1`,
    peers: [...members].filter(([index]) => index !== self).map(([index, publicKey]) => ({ index, publicKey, address: addresses.get(index) as string })),
    maxFrameBytes: config.max_frame_bytes, maxBytesPerSecond: config.max_bytes_per_second, logger: log,
    onFrame: (from, frame) => worker.onFrame(from, frame),
  });
  transport.onPeerConnected((index) => worker.onPeerConnected(index));
  const shareService = await ShareService.start(config.share_socket, store, log);
  worker.start();
  log.info({ chainId, epoch: epoch.id, self, n: epoch.n, k: epoch.k, t: epoch.t }, 'key generation running');

  const statsTimer = setInterval(() => log.info({ ...worker.stats, rejections: Object.fromEntries(worker.rejections) }, 'key-generation progress'), 10_000);
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    clearInterval(statsTimer);
    log.info({ signal }, 'stopping');
    await worker.stop();
    await shareService.stop();
    await transport?.stop();
    await store.close();
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
}

main().catch((err: unknown) => {
  console.error(`torus-dkg: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(err instanceof ConfigError || err instanceof NodeKeyError ? 2 : 1);
});

