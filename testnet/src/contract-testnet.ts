/**
 * The local network a tester starts with one command: anvil (the chain, kept in DIR/anvil-state.json), the
 * NodeList contract, epoch 1, n nodes each started as `torus node start` (which registers, waits for the
 * others, derives the genesis from the contract and runs cometbft, torus-abci, torus-dkg, torus-retrieval),
 * and the development OpenID issuer. Everything lives in DIR; started again, it resumes from there.
 *
 *   DIR/testnet.json      what clients and scripts need (see TestnetDescription)
 *   DIR/client.json       the client network file (`torus --network`)
 *   DIR/nodeN.json        node N's configuration; DIR/nodeN/ its data and process logs; DIR/nodeN.log its launcher
 *   DIR/anvil-state.json, DIR/anvil.log, DIR/dev-issuer-key.json, DIR/dev-issuer.log
 *
 * Ports: node i uses base + 10(i-1) + {0 CometBFT p2p, 1 CometBFT RPC, 2 ABCI, 3 key generation, 4 JSON-RPC};
 * anvil base + 10n, the development issuer base + 10n + 1.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { abciQuery, status } from '../../core/comet/rpc.js';
import { REPO_ROOT } from '../../core/comet/binary.js';
import { maxFaults } from '../../core/epoch.js';
import { bytesToHex } from '../../core/encoding/bytes.js';
import { NodeSigner } from '../../core/crypto/signature.js';
import { loadOrCreateNodeKey } from '../../core/node-key.js';
import { ManagedProcess } from '../../core/process.js';
import { startAnvil, type Anvil } from '../../contracts/src/anvil.js';
import { deployNodeList, NodeListContract, providerFor, walletFor } from '../../contracts/src/node-list.js';
import { clientNetworkFromContract } from '../../node/src/client-network.js';
import { DEV_AUDIENCE, DEV_VERIFIER } from '../../retrieval/src/verifiers/dev-issuer.js';

const EPOCH = 1;

/** The launcher's options (npm run testnet, torus testnet up). */
export const TestnetArgs = z.object({
  nodes: z.coerce.number().int().min(1).max(32).default(5),
  keys: z.coerce.number().int().min(0).max(100_000).default(100),
  dir: z.string().default(path.join(REPO_ROOT, '.testnet')),
  'base-port': z.coerce.number().int().min(1024).max(65000).default(26600),
  fresh: z.boolean().default(false),
});

/** The file whose presence says the network in DIR is up; it holds the launcher's pid. */
export const upMarker = (dir: string) => path.join(dir, 'testnet.up');

export const TestnetDescription = z.object({
  dir: z.string(),
  chain_rpc: z.string(),
  eth_chain_id: z.number(),
  contract: z.string(),
  epoch: z.number(),
  n: z.number(), k: z.number(), t: z.number(),
  key_buffer_target: z.number(),
  base_port: z.number(),
  dev_issuer: z.string(),
  verifier: z.string(),
  client_network: z.string(),
  nodes: z.array(z.object({
    /** nodeN: its configuration file and data directory. */
    name: z.string(),
    /** Its position in the contract (= share index); 0 until it has registered. */
    index: z.number(),
    address: z.string(),
    public_key: z.string(),
    jsonrpc: z.string(),
    cometbft_rpc: z.string(),
    config: z.string(),
    data_dir: z.string(),
    logs: z.record(z.string(), z.string()),
  })),
});
export type TestnetDescription = z.infer<typeof TestnetDescription>;

export interface TestnetOptions {
  readonly dir: string;
  readonly nodes: number;
  readonly keys: number;
  readonly basePort: number;
  readonly say: (line: string) => void;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export function readDescription(dir: string): TestnetDescription {
  const file = path.join(dir, 'testnet.json');
  if (!existsSync(file)) throw new Error(`no local network in ${dir} (no testnet.json)`);
  return TestnetDescription.parse(JSON.parse(readFileSync(file, 'utf8')));
}

/**
 * What the contract owner does for a new local network: deploy NodeList, create epoch 1 (n nodes, k and t by
 * the rules), whitelist the node addresses and send each 1 ether for its registration gas, make the epoch
 * current. Returns the contract address.
 */
export async function provisionEpoch(p: { rpcUrl: string; chainId: number; adminSecretKey: string; n: number; nodes: readonly string[]; say: (line: string) => void }): Promise<string> {
  const k = Math.floor(p.n / 2) + 1;
  const t = maxFaults(p.n);
  const provider = providerFor(p.rpcUrl, p.chainId);
  const admin = walletFor(p.adminSecretKey, provider);
  const deployed = await deployNodeList(admin);
  const contract = new NodeListContract(deployed.address, admin);
  p.say(`contract: NodeList deployed at ${deployed.address}`);
  await contract.createEpoch({ epoch: EPOCH, n: p.n, k, t });
  p.say(`epoch ${EPOCH} created: n=${p.n}, k=${k}, t=${t}`);
  for (const address of p.nodes) {
    await contract.updateWhitelist(EPOCH, address, true);
    await (await admin.sendTransaction({ to: address, value: 10n ** 18n })).wait();
  }
  await contract.setCurrentEpoch(EPOCH);
  p.say(`whitelisted and funded ${p.nodes.length} node keys; epoch ${EPOCH} is current`);
  return deployed.address;
}

/** A node's configuration file (node/src/config.ts) for a local network with the development issuer. */
export function nodeConfig(p: {
  ethRpc: string; contract: string; dataDir: string; publicHost: string; listenHost?: string; nodeKeyFile?: string; issuerUrl: string; keys: number;
  ports: { cometbft_p2p: number; cometbft_rpc: number; abci: number; keygen: number; jsonrpc: number };
}): Record<string, unknown> {
  return {
    eth_rpc: p.ethRpc, contract: p.contract, epoch: EPOCH, data_dir: p.dataDir, public_host: p.publicHost, mode: 'development',
    ...(p.listenHost !== undefined ? { listen_host: p.listenHost } : {}),
    ...(p.nodeKeyFile !== undefined ? { node_key_file: p.nodeKeyFile } : {}),
    ports: p.ports,
    verifiers: { [DEV_VERIFIER]: { preset: 'dev', issuer: p.issuerUrl, audience: DEV_AUDIENCE } },
    genesis: { key_buffer_target: p.keys, max_tx_lifetime_blocks: 1000 },
    log_level: 'info',
  };
}

export class ContractTestnet {
  #description: TestnetDescription;
  readonly anvil: Anvil;
  readonly launchers: readonly ManagedProcess[];
  readonly devIssuer: ManagedProcess;

  private constructor(description: TestnetDescription, anvil: Anvil, launchers: ManagedProcess[], devIssuer: ManagedProcess) {
    this.#description = description;
    this.anvil = anvil;
    this.launchers = launchers;
    this.devIssuer = devIssuer;
  }

  /** Creates the network in `options.dir` (or resumes the one there) and starts every process. */
  static async up(options: TestnetOptions): Promise<ContractTestnet> {
    const dir = path.resolve(options.dir);
    mkdirSync(dir, { recursive: true });
    const resuming = existsSync(path.join(dir, 'testnet.json'));
    if (!resuming && existsSync(path.join(dir, 'network.json'))) {
      throw new Error(`${dir} holds a network of an older launcher (network.json, no testnet.json); start over with --fresh`);
    }
    const previous = resuming ? readDescription(dir) : undefined;
    const n = previous?.n ?? options.nodes;
    const basePort = previous?.base_port ?? options.basePort;
    const say = options.say;

    const anvil = await startAnvil({ port: basePort + 10 * n, stateFile: path.join(dir, 'anvil-state.json'), logFile: path.join(dir, 'anvil.log') });
    say(`chain: anvil at ${anvil.rpcUrl} (chain id ${anvil.chainId}${resuming ? ', state restored' : ''})`);
    const issuerUrl = `http://127.0.0.1:${basePort + 10 * n + 1}`;
    const description = previous ?? await ContractTestnet.#create(dir, n, options.keys, basePort, anvil, issuerUrl, say);
    writeFileSync(path.join(dir, 'testnet.json'), `${JSON.stringify(description, null, 2)}\n`);

    const devIssuer = new ManagedProcess('torus-dev-issuer', process.execPath, [
      path.join(REPO_ROOT, 'dist/retrieval/src/verifiers/dev-issuer-main.js'), '--listen', issuerUrl.replace('http://', ''),
      '--key-file', path.join(dir, 'dev-issuer-key.json'),
    ], path.join(dir, 'dev-issuer.log'));
    devIssuer.start();
    const launchers = description.nodes.map((node) => new ManagedProcess(node.name, process.execPath, [
      path.join(REPO_ROOT, 'dist/client/src/cli.js'), 'node', 'start', '--config', node.config,
    ], path.join(dir, `${node.name}.log`), { ownGroup: true }));
    for (const launcher of launchers) launcher.start();
    return new ContractTestnet(description, anvil, launchers, devIssuer);
  }

  static async #create(dir: string, n: number, keys: number, basePort: number, anvil: Anvil, issuerUrl: string, say: (line: string) => void): Promise<TestnetDescription> {
    const nodes: TestnetDescription['nodes'] = [];
    for (let i = 1; i <= n; i++) {
      const port = (slot: number) => basePort + 10 * (i - 1) + slot;
      const dataDir = path.join(dir, `node${i}`);
      const config = path.join(dir, `node${i}.json`);
      const signer = new NodeSigner(loadOrCreateNodeKey(path.join(dataDir, 'node-key.json')).secretKey);
      nodes.push({
        name: `node${i}`, index: 0, address: signer.checksumAddress, public_key: bytesToHex(signer.publicKey),
        jsonrpc: `http://127.0.0.1:${port(4)}/jrpc`, cometbft_rpc: `http://127.0.0.1:${port(1)}`, config, data_dir: dataDir,
        logs: Object.fromEntries(['cometbft', 'abci', 'dkg', 'retrieval'].map((name) => [name, path.join(dataDir, `${name}.log`)]).concat([['launcher', path.join(dir, `node${i}.log`)]])),
      });
    }
    const contract = await provisionEpoch({ rpcUrl: anvil.rpcUrl, chainId: anvil.chainId, adminSecretKey: anvil.accounts[0]?.secretKey as string, n, nodes: nodes.map((x) => x.address), say });
    for (const [i, node] of nodes.entries()) {
      const port = (slot: number) => basePort + 10 * i + slot;
      writeFileSync(node.config, `${JSON.stringify(nodeConfig({
        ethRpc: anvil.rpcUrl, contract, dataDir: node.name, publicHost: '127.0.0.1', issuerUrl, keys,
        ports: { cometbft_p2p: port(0), cometbft_rpc: port(1), abci: port(2), keygen: port(3), jsonrpc: port(4) },
      }), null, 2)}\n`);
    }
    return {
      dir, chain_rpc: anvil.rpcUrl, eth_chain_id: anvil.chainId, contract, epoch: EPOCH, n, k: Math.floor(n / 2) + 1, t: maxFaults(n), key_buffer_target: keys, base_port: basePort,
      dev_issuer: issuerUrl, verifier: DEV_VERIFIER, client_network: path.join(dir, 'client.json'), nodes,
    };
  }

  /** What clients and scripts need (testnet.json); node indexes are known once all have registered. */
  get description(): TestnetDescription {
    return this.#description;
  }

  /** The launcher of a node by its index (its position in the contract). */
  launcher(index: number): ManagedProcess {
    const node = this.#description.nodes.find((n) => n.index === index);
    const launcher = this.launchers.find((l) => l.name === node?.name);
    if (launcher === undefined) throw new Error(`no node with index ${index}`);
    return launcher;
  }

  /** Waits for: every registration, the BFT network's first block at every node, every retrieval server. */
  async waitUntilUp(say: (line: string) => void, timeoutMs = 300_000): Promise<void> {
    let d = this.#description;
    const deadline = Date.now() + timeoutMs;
    const check = (what: string) => {
      if (Date.now() > deadline) throw new Error(`the local network is not up after ${timeoutMs / 1000} s: ${what} (logs in ${d.dir})`);
    };
    const provider = providerFor(d.chain_rpc, d.eth_chain_id);
    const contract = new NodeListContract(d.contract, provider);
    let seen = -1;
    for (;;) {
      const count = (await contract.getEpochInfo(d.epoch))?.nodeList.length ?? 0;
      if (count !== seen) say(`registrations: ${count} of ${d.n} nodes listed in the contract`);
      seen = count;
      if (count >= d.n) break;
      check('registrations');
      await sleep(500);
    }
    const listed = (await contract.getEpochInfo(d.epoch))?.nodeList ?? [];
    d = { ...d, nodes: d.nodes.map((node) => ({ ...node, index: listed.indexOf(node.address) + 1 })).sort((a, b) => a.index - b.index) };
    this.#description = d;
    writeFileSync(path.join(d.dir, 'testnet.json'), `${JSON.stringify(d, null, 2)}\n`);
    for (;;) {
      const heights = await Promise.all(d.nodes.map((node) => status(node.cometbft_rpc).then((s) => s.height, () => -1)));
      if (heights.every((h) => h >= 1)) {
        say(`BFT network up: ${d.n} validators, heights ${heights.join(', ')}`);
        break;
      }
      check('CometBFT');
      await sleep(500);
    }
    for (const node of d.nodes) {
      while (!(await fetch(node.jsonrpc.replace('/jrpc', '/healthz')).then((r) => r.ok, () => false))) {
        check(`the retrieval server of node ${node.index}`);
        await sleep(250);
      }
    }
    const client = await clientNetworkFromContract(contract, provider, d.epoch);
    writeFileSync(d.client_network, `${JSON.stringify({ ...client, dev_issuer: d.dev_issuer }, null, 2)}\n`);
  }

  async stop(): Promise<void> {
    await Promise.all(this.launchers.map((launcher) => launcher.stop('SIGTERM', 30_000)));
    await this.devIssuer.stop('SIGTERM');
    await this.anvil.stop();
  }
}

export interface TestnetStatus {
  epoch: number;
  nodes: Array<{ index: number; height: number | null; jsonrpc_healthy: boolean }>;
  buffer: { target: number; ready: number; generating: number; assigned: number } | null;
}

/** Block heights, retrieval health and key buffer of a network described in DIR. */
export async function testnetStatus(dir: string): Promise<TestnetStatus> {
  const d = readDescription(dir);
  const nodes = await Promise.all(d.nodes.map(async (node) => ({
    index: node.index,
    height: await status(node.cometbft_rpc).then((s) => s.height, () => null),
    jsonrpc_healthy: await fetch(node.jsonrpc.replace('/jrpc', '/healthz'), { signal: AbortSignal.timeout(2000) }).then((r) => r.ok, () => false),
  })));
  return { epoch: d.epoch, nodes, buffer: await keyBuffer(d) };
}

/** The key buffer, from the first node that answers; null when none does. */
export async function keyBuffer(d: TestnetDescription): Promise<TestnetStatus['buffer']> {
  for (const node of d.nodes) {
    const answer = await abciQuery(node.cometbft_rpc, '/buffer').catch(() => undefined);
    if (answer?.code === 0) return answer.value as NonNullable<TestnetStatus['buffer']>;
  }
  return null;
}
