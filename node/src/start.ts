/**
 * `torus node start`: from a configuration file to a running node, with no coordinator.
 *
 *   1. load (or create) the node key; prepare the CometBFT home (its p2p node id; the node key as its
 *      secp256k1 validator key);
 *   2. wait until the epoch exists and this node is whitelisted, then register — once: a registered node
 *      checks that the contract holds what its configuration says;
 *   3. wait until all n nodes of the epoch are listed, showing who is missing;
 *   4. derive the network from the contract (network-plan.ts): the same genesis at every node, the peers,
 *      the key-generation addresses; write the CometBFT, torus-abci, torus-dkg and torus-retrieval settings;
 *      an epoch with a previous epoch also waits until that one is full: its genesis and torus-dkg's `source`
 *      name it;
 *   5. start the four processes under supervision, and watch for the next epoch: once it is full, torus-dkg
 *      gets it as `target` (next-epoch.ts) and hands this epoch's keys over to it.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { cometbftBinary, REPO_ROOT } from '../../core/comet/binary.js';
import { secp256k1PrivValidatorKey } from '../../core/comet/genesis.js';
import { setTomlValues } from '../../core/comet/toml.js';
import { compressPublicKey, publicKeyOf } from '../../core/crypto/keys.js';
import { NodeSigner } from '../../core/crypto/signature.js';
import { bytesToBigint } from '../../core/encoding/bytes.js';
import type { Thresholds } from '../../core/epoch.js';
import type { Logger } from '../../core/log.js';
import { loadOrCreateNodeKey } from '../../core/node-key.js';
import { ManagedProcess } from '../../core/process.js';
import type { Committee } from '../../dkg/src/config.js';
import type { NodeConfig } from './config.js';
import { planNetwork, type NetworkPlan } from './network-plan.js';
import { NextEpochWatcher } from './next-epoch.js';
import { readRegistrations, type EpochOnChain, type EpochRegistrations, type NodeDetailsOnChain, type NodeRegistry, type Registration } from './registry.js';
import { Supervisor } from './supervisor.js';

export class NodeStartError extends Error {
  override name = 'NodeStartError';
}

export interface StartOptions {
  readonly config: NodeConfig;
  /** The contract, acting as this node (transactions are signed with its key). */
  readonly registry: (secretKey: Uint8Array) => NodeRegistry;
  readonly log: Logger;
  /** Progress lines for the operator. */
  readonly say: (line: string) => void;
  readonly pollMs?: number;
}

export interface RunningNode {
  readonly address: string;
  readonly plan: NetworkPlan;
  readonly index: number;
  readonly supervisor: Supervisor;
  stop(): Promise<void>;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function multiaddr(host: string, port: number): string {
  return `/${/^\d+\.\d+\.\d+\.\d+$/.test(host) ? 'ip4' : 'dns4'}/${host}/tcp/${port}`;
}

/** Creates the CometBFT home once and returns its p2p node id. */
function prepareCometHome(home: string, secretKey: Uint8Array): string {
  const cometbft = cometbftBinary();
  if (!existsSync(path.join(home, 'config', 'config.toml'))) execFileSync(cometbft, ['init', '--home', home], { stdio: 'ignore' });
  const keyFile = path.join(home, 'config', 'priv_validator_key.json');
  writeFileSync(keyFile, `${JSON.stringify(secp256k1PrivValidatorKey(secretKey, compressPublicKey(publicKeyOf(secretKey))), null, 2)}\n`, { mode: 0o600 });
  return execFileSync(cometbft, ['show-node-id', '--home', home], { encoding: 'utf8' }).trim();
}

function sameRegistration(onChain: NodeDetailsOnChain, wanted: Registration): string[] {
  const differ: string[] = [];
  for (const field of ['declaredIp', 'pubKx', 'pubKy', 'tmP2PListenAddress', 'p2pListenAddress'] as const) {
    if (onChain[field] !== wanted[field]) differ.push(`${field}: on chain ${String(onChain[field])}, configured ${String(wanted[field])}`);
  }
  return differ;
}

/**
 * What differs between the epoch the configuration expects (`expect_epoch`) and the contract's, one entry per
 * parameter, naming both values; empty when they agree or nothing is expected.
 */
function expectedEpochDifferences(expected: Thresholds | undefined, onChain: Thresholds): string[] {
  if (expected === undefined) return [];
  return (['n', 'k', 't'] as const).filter((p) => expected[p] !== onChain[p]).map((p) => `expect_epoch.${p} is ${expected[p]}, the contract says ${onChain[p]}`);
}

async function waitForWhitelist(registry: NodeRegistry, epoch: number, address: string, say: (line: string) => void, pollMs: number, expected: Thresholds | undefined): Promise<EpochOnChain> {
  let said = '';
  for (;;) {
    const info = await registry.epoch(epoch);
    // As soon as the epoch is readable, and so before this node registers (registrations are final).
    const differ = info === undefined ? [] : expectedEpochDifferences(expected, info);
    if (differ.length > 0) {
      throw new NodeStartError(`epoch ${epoch} in the contract ${registry.address} is not the epoch the configuration expects:\n  ${differ.join('\n  ')}\n` +
        'check the epoch number and the contract, or correct expect_epoch');
    }
    const whitelisted = info !== undefined && await registry.isWhitelisted(epoch, address);
    if (info !== undefined && whitelisted) return info;
    const line = info === undefined ? `waiting for epoch ${epoch} to be created in the NodeList contract ${registry.address}` :
      `waiting for the contract owner to whitelist ${address} for epoch ${epoch} (torus whitelist add --epoch ${epoch} ${address})`;
    if (line !== said) say(line);
    said = line;
    await sleep(pollMs);
  }
}

async function waitForAllNodes(registry: NodeRegistry, epoch: number, say: (line: string) => void, pollMs: number): Promise<EpochOnChain> {
  let listed = -1;
  for (;;) {
    const info = await registry.epoch(epoch);
    if (info === undefined) throw new NodeStartError(`epoch ${epoch} disappeared from the contract`);
    if (info.nodeList.length >= info.n) return info;
    if (info.nodeList.length !== listed) {
      say(`epoch ${epoch}: ${info.nodeList.length} of ${info.n} nodes listed; waiting for ${info.n - info.nodeList.length} more (listed: ${info.nodeList.join(', ') || 'none'})`);
      listed = info.nodeList.length;
    }
    await sleep(pollMs);
  }
}

/** The previous epoch's registrations, once it is full, when the epoch names one (its genesis depends on them). */
async function readPrevious(registry: NodeRegistry, epoch: EpochOnChain, say: (line: string) => void, pollMs: number): Promise<EpochRegistrations | undefined> {
  if (epoch.prevEpoch === 0) return undefined;
  if (await registry.epoch(epoch.prevEpoch) === undefined) {
    throw new NodeStartError(`epoch ${epoch.id} names epoch ${epoch.prevEpoch} as its previous epoch, which is not in the contract ${registry.address}`);
  }
  return readRegistrations(registry, await waitForAllNodes(registry, epoch.prevEpoch, say, pollMs));
}

export async function startNode(options: StartOptions): Promise<RunningNode> {
  const { config, log, say } = options;
  const pollMs = options.pollMs ?? 2000;
  mkdirSync(config.data_dir, { recursive: true, mode: 0o700 });
  const { secretKey, created } = loadOrCreateNodeKey(config.node_key_file);
  const signer = new NodeSigner(secretKey);
  const address = signer.checksumAddress;
  say(`${created ? 'created' : 'loaded'} the node key ${config.node_key_file}: address ${address}`);
  const registry = options.registry(secretKey);

  const cometHome = path.join(config.data_dir, 'cometbft');
  const nodeId = prepareCometHome(cometHome, secretKey);
  const publicKey = signer.publicKey;
  const wanted: Registration = {
    declaredIp: `${config.public_host}:${config.ports.jsonrpc}`,
    pubKx: bytesToBigint(publicKey.subarray(1, 33)),
    pubKy: bytesToBigint(publicKey.subarray(33, 65)),
    tmP2PListenAddress: `${nodeId}@${config.public_host}:${config.ports.cometbft_p2p}`,
    p2pListenAddress: multiaddr(config.public_host, config.ports.keygen),
  };

  await waitForWhitelist(registry, config.epoch, address, say, pollMs, config.expect_epoch);
  const existing = await registry.details(config.epoch, address);
  if (existing === undefined) {
    const hash = await registry.listNode(config.epoch, wanted);
    say(`registered in epoch ${config.epoch} (transaction ${hash})`);
  } else {
    const differ = sameRegistration(existing, wanted);
    if (differ.length > 0) {
      throw new NodeStartError(`this node is registered in epoch ${config.epoch} with other settings than its configuration, and registrations are final:\n  ${differ.join('\n  ')}\n` +
        'restore the configuration (and the data directory, which holds the CometBFT node id) it was registered with');
    }
    say(`already registered in epoch ${config.epoch} at position ${existing.position}`);
  }

  const epoch = await waitForAllNodes(registry, config.epoch, say, pollMs);
  const previous = await readPrevious(registry, epoch, say, pollMs);
  const ethChainId = await registry.chainId();
  const own = await readRegistrations(registry, epoch);
  const plan = planNetwork({
    ethChainId, contract: registry.address, epoch, details: own.details, ...(previous !== undefined ? { previous } : {}),
    params: { keyBufferTarget: config.genesis.key_buffer_target, maxTxLifetimeBlocks: config.genesis.max_tx_lifetime_blocks },
  });
  const self = plan.members.find((m) => m.address === address);
  if (self === undefined) throw new NodeStartError(`${address} is not in the node list of epoch ${config.epoch}`);
  say(`all ${epoch.n} nodes of epoch ${epoch.id} are listed; this node is node ${self.index}; chain ${plan.chainId}`);
  if (plan.source !== undefined) say(`epoch ${epoch.id} takes the keys of epoch ${plan.source.epoch} over (chain ${plan.source.chain_id}, ${plan.source.n} nodes)`);

  const supervisor = new Supervisor(log);
  const dkgFile = path.join(config.data_dir, 'dkg.json');
  const watcher = new NextEpochWatcher({
    registry, epoch: epoch.id, ethChainId, dkgFile, say, log,
    restartKeygen: () => supervisor.restart('torus-dkg', 'dkg.json names a new hand-over target'),
  });
  const target = await watcher.targetAtStart();
  writeNodeFiles(config, plan, self.index, target);
  const logFile = (name: string) => path.join(config.data_dir, `${name}.log`);
  const nodeScript = (script: string) => path.join(REPO_ROOT, 'dist', script);
  const abciMetrics = metricsListen(config, 'metrics_abci');
  supervisor.add(new ManagedProcess('torus-abci', process.execPath, [
    nodeScript('abci/src/main.js'), '--home', path.join(config.data_dir, 'abci'), '--listen', `tcp://127.0.0.1:${config.ports.abci}`, '--log-level', config.log_level,
    ...(abciMetrics !== undefined ? ['--metrics-listen', abciMetrics] : []),
  ], logFile('abci')));
  supervisor.add(new ManagedProcess('cometbft', cometbftBinary(), ['start', '--home', cometHome], logFile('cometbft')));
  supervisor.add(new ManagedProcess('torus-dkg', process.execPath, [nodeScript('dkg/src/main.js'), '--config', dkgFile], logFile('dkg')));
  supervisor.add(new ManagedProcess('torus-retrieval', process.execPath, [nodeScript('retrieval/src/main.js'), '--config', path.join(config.data_dir, 'retrieval.json')], logFile('retrieval')));
  say(`started cometbft, torus-abci, torus-dkg and torus-retrieval (logs in ${config.data_dir}); JSON-RPC on ${config.listen_host}:${config.ports.jsonrpc}`);

  // Registrations are final, so only the next epoch's link and list change: a poll every few seconds is ample.
  watcher.start(pollMs * 5);
  return {
    address, plan, index: self.index, supervisor,
    stop: async () => {
      watcher.stop();
      await supervisor.stop();
    },
  };
}

/** Where a process serves its metrics, /healthz and /readyz: listen_host and the configured port, if any. */
function metricsListen(config: NodeConfig, port: 'metrics_abci' | 'metrics_dkg' | 'metrics_retrieval'): string | undefined {
  const value = config.ports[port];
  return value === undefined ? undefined : `${config.listen_host}:${value}`;
}

/**
 * Writes the settings of the four processes; refuses to replace the genesis of a chain that already ran.
 * dkg.json names the previous epoch's committee (`source`) and the next epoch's (`target`) when there are.
 */
function writeNodeFiles(config: NodeConfig, plan: NetworkPlan, selfIndex: number, target: Committee | undefined): void {
  const cometHome = path.join(config.data_dir, 'cometbft');
  const genesisFile = path.join(cometHome, 'config', 'genesis.json');
  const genesisText = `${JSON.stringify(plan.genesis, null, 2)}\n`;
  const hasBlocks = existsSync(path.join(cometHome, 'data', 'blockstore.db'));
  if (hasBlocks && readFileSync(genesisFile, 'utf8') !== genesisText) {
    throw new NodeStartError(`${cometHome} holds a chain with another genesis than the one the contract gives for epoch ${config.epoch}; use a new data_dir`);
  }
  writeFileSync(genesisFile, genesisText);
  const tomlFile = path.join(cometHome, 'config', 'config.toml');
  writeFileSync(tomlFile, setTomlValues(readFileSync(tomlFile, 'utf8'), {
    moniker: `node${selfIndex}`,
    proxy_app: `tcp://127.0.0.1:${config.ports.abci}`,
    log_level: 'state:info,*:error',
    'rpc.laddr': `tcp://${config.listen_host}:${config.ports.cometbft_rpc}`,
    'p2p.laddr': `tcp://${config.listen_host}:${config.ports.cometbft_p2p}`,
    'p2p.external_address': `${config.public_host}:${config.ports.cometbft_p2p}`,
    'p2p.persistent_peers': plan.members.filter((m) => m.index !== selfIndex).map((m) => m.cometPeer).join(','),
    'p2p.addr_book_strict': false,
    'p2p.allow_duplicate_ip': true,
    'p2p.pex': false,
    'consensus.timeout_commit': config.timeout_commit,
    'consensus.create_empty_blocks': false,
  }));
  mkdirSync(path.join(config.data_dir, 'abci'), { recursive: true });
  // The node's own processes reach CometBFT locally, also when it listens on every interface.
  const localHost = config.listen_host === '0.0.0.0' ? '127.0.0.1' : config.listen_host;
  const cometRpc = `http://${localHost}:${config.ports.cometbft_rpc}`;
  const dkgMetrics = metricsListen(config, 'metrics_dkg');
  const retrievalMetrics = metricsListen(config, 'metrics_retrieval');
  writeFileSync(path.join(config.data_dir, 'dkg.json'), `${JSON.stringify({
    node_key_file: config.node_key_file,
    data_dir: 'dkg',
    listen: `/ip4/${config.listen_host}/tcp/${config.ports.keygen}`,
    comet_rpc: cometRpc,
    peers: plan.members.map((m) => ({ index: m.index, address: m.keygenAddress })),
    log_level: config.log_level,
    ...(dkgMetrics !== undefined ? { metrics_listen: dkgMetrics } : {}),
    ...(plan.source !== undefined ? { source: plan.source } : {}),
    ...(target !== undefined ? { target } : {}),
  }, null, 2)}\n`);
  writeFileSync(path.join(config.data_dir, 'retrieval.json'), `${JSON.stringify({
    mode: config.mode,
    node_key_file: config.node_key_file,
    data_dir: 'retrieval',
    listen: `${config.listen_host}:${config.ports.jsonrpc}`,
    comet_rpc: cometRpc,
    share_socket: 'dkg/share.sock',
    ...(config.verifiers !== undefined ? { verifiers: config.verifiers } : {}),
    log_level: config.log_level,
    ...(retrievalMetrics !== undefined ? { metrics_listen: retrievalMetrics } : {}),
  }, null, 2)}\n`);
}
