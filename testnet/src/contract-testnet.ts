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
 * Ports: node i uses base + 10(i-1) + {0 CometBFT p2p, 1 CometBFT RPC, 2 ABCI, 3 key generation, 4 JSON-RPC,
 * 5 torus-abci metrics, 6 torus-dkg metrics, 7 torus-retrieval metrics (each: /metrics, /healthz, /readyz)};
 * anvil base + 10n, the development issuer base + 10n + 1. Each later epoch's nodes (`rotate`) take the next
 * 10 ports each, from base + 10(1 + all nodes so far); they are named e<epoch>node<i>.
 *
 * Rotation (`rotate`, `torus testnet rotate`): the owner creates epoch e+1 linked to e, whitelists and funds
 * new node keys; their launchers start (the running launcher starts them on SIGHUP), register, form the new
 * chain and take the mapping and the keys over from epoch e's nodes; once the new chain records the hand-off
 * as complete, epoch e+1 becomes current and client.json points at its nodes. Epoch e's nodes keep running
 * (they refuse share requests, naming epoch e+1) and are listed under `retired`.
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
import { devAccounts, startAnvil, type Anvil } from '../../contracts/src/anvil.js';
import { deployNodeList, NodeListContract, providerFor, walletFor } from '../../contracts/src/node-list.js';
import { clientNetworkFromContract } from '../../node/src/client-network.js';
import { DEV_AUDIENCE, DEV_VERIFIER } from '../../retrieval/src/verifiers/dev-issuer.js';

const FIRST_EPOCH = 1;

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

const TestnetNode = z.object({
  /** nodeN (epoch 1) or e<epoch>nodeN: its configuration file and data directory. */
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
  /** Each process's metrics server (/metrics, /healthz, /readyz); absent in networks made before they existed. */
  metrics: z.object({ abci: z.string(), dkg: z.string(), retrieval: z.string() }).optional(),
});
type TestnetNode = z.infer<typeof TestnetNode>;

const EpochNodes = z.object({ epoch: z.number(), n: z.number(), k: z.number(), t: z.number(), nodes: z.array(TestnetNode) });

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
  /** The current epoch's nodes. */
  nodes: z.array(TestnetNode),
  /** The next epoch while it takes the keys over (see `rotate`). */
  handover: EpochNodes.optional(),
  /** Earlier epochs, whose nodes keep running after their hand-over. */
  retired: z.array(EpochNodes).default([]),
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

function saveDescription(d: TestnetDescription): void {
  writeFileSync(path.join(d.dir, 'testnet.json'), `${JSON.stringify(d, null, 2)}\n`);
}

/**
 * What the contract owner does for a new local network: deploy NodeList, create epoch 1 (n nodes, k and t by
 * the rules), whitelist the node addresses and send each 1 ether for its registration gas, make the epoch
 * current. Returns the contract address and the epoch's thresholds.
 */
export async function provisionEpoch(p: { rpcUrl: string; chainId: number; adminSecretKey: string; n: number; nodes: readonly string[]; say: (line: string) => void }): Promise<{ contract: string; k: number; t: number }> {
  const provider = providerFor(p.rpcUrl, p.chainId);
  const admin = walletFor(p.adminSecretKey, provider);
  const deployed = await deployNodeList(admin);
  p.say(`contract: NodeList deployed at ${deployed.address}`);
  const contract = new NodeListContract(deployed.address, admin);
  const { k, t } = await addEpoch(contract, admin, { epoch: FIRST_EPOCH, n: p.n, nodes: p.nodes, say: p.say });
  await contract.setCurrentEpoch(FIRST_EPOCH);
  p.say(`epoch ${FIRST_EPOCH} is current`);
  return { contract: deployed.address, k, t };
}

/** Creates an epoch (k and t by the rules; linked after `prevEpoch` when given), whitelists and funds its node keys. */
async function addEpoch(contract: NodeListContract, admin: ReturnType<typeof walletFor>, p: { epoch: number; n: number; nodes: readonly string[]; prevEpoch?: number; say: (line: string) => void }): Promise<{ k: number; t: number }> {
  const k = Math.floor(p.n / 2) + 1;
  const t = maxFaults(p.n);
  await contract.createEpoch({ epoch: p.epoch, n: p.n, k, t, prevEpoch: p.prevEpoch ?? 0 });
  if (p.prevEpoch !== undefined) await contract.linkNextEpoch(p.prevEpoch, p.epoch);
  p.say(`epoch ${p.epoch} created: n=${p.n}, k=${k}, t=${t}${p.prevEpoch !== undefined ? `, after epoch ${p.prevEpoch}` : ''}`);
  for (const address of p.nodes) {
    await contract.updateWhitelist(p.epoch, address, true);
    await (await admin.sendTransaction({ to: address, value: 10n ** 18n })).wait();
  }
  p.say(`whitelisted and funded ${p.nodes.length} node keys for epoch ${p.epoch}`);
  return { k, t };
}

export interface NodePorts {
  cometbft_p2p: number; cometbft_rpc: number; abci: number; keygen: number; jsonrpc: number;
  metrics_abci?: number; metrics_dkg?: number; metrics_retrieval?: number;
}

/** A local node's ports from its first one (see the port plan above). */
function localNodePorts(first: number): Required<NodePorts> {
  return {
    cometbft_p2p: first, cometbft_rpc: first + 1, abci: first + 2, keygen: first + 3, jsonrpc: first + 4,
    metrics_abci: first + 5, metrics_dkg: first + 6, metrics_retrieval: first + 7,
  };
}

/** What testnet.json says of a local node with these ports (its index is known once it registered). */
function localNode(name: string, dir: string, signer: NodeSigner, ports: Required<NodePorts>): TestnetNode {
  const dataDir = path.join(dir, name);
  const local = (port: number) => `http://127.0.0.1:${port}`;
  return {
    name, index: 0, address: signer.checksumAddress, public_key: bytesToHex(signer.publicKey),
    jsonrpc: `${local(ports.jsonrpc)}/jrpc`, cometbft_rpc: local(ports.cometbft_rpc), config: path.join(dir, `${name}.json`), data_dir: dataDir,
    logs: Object.fromEntries(['cometbft', 'abci', 'dkg', 'retrieval'].map((p) => [p, path.join(dataDir, `${p}.log`)]).concat([['launcher', path.join(dir, `${name}.log`)]])),
    metrics: { abci: local(ports.metrics_abci), dkg: local(ports.metrics_dkg), retrieval: local(ports.metrics_retrieval) },
  };
}

/** A node's configuration file (node/src/config.ts) for a local network with the development issuer. */
export function nodeConfig(p: {
  ethRpc: string; contract: string; dataDir: string; publicHost: string; listenHost?: string; nodeKeyFile?: string; issuerUrl: string; keys: number;
  ports: NodePorts; epoch?: number;
}): Record<string, unknown> {
  return {
    eth_rpc: p.ethRpc, contract: p.contract, epoch: p.epoch ?? FIRST_EPOCH, data_dir: p.dataDir, public_host: p.publicHost, mode: 'development',
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
  readonly launchers: ManagedProcess[] = [];
  readonly devIssuer: ManagedProcess;

  private constructor(description: TestnetDescription, anvil: Anvil, devIssuer: ManagedProcess) {
    this.#description = description;
    this.anvil = anvil;
    this.devIssuer = devIssuer;
  }

  /**
   * Starts a launcher for every node of the description (current, handing over, retired) that has none;
   * returns the new ones. The running launcher calls it on SIGHUP after `torus testnet rotate` added nodes.
   */
  startMissing(): ManagedProcess[] {
    this.#description = readDescription(this.#description.dir);
    const started: ManagedProcess[] = [];
    for (const node of allNodes(this.#description)) {
      if (this.launchers.some((l) => l.name === node.name)) continue;
      const launcher = new ManagedProcess(node.name, process.execPath, [
        path.join(REPO_ROOT, 'dist/client/src/cli.js'), 'node', 'start', '--config', node.config,
      ], path.join(this.#description.dir, `${node.name}.log`), { ownGroup: true, env: launcherEnvironment() });
      launcher.start();
      this.launchers.push(launcher);
      started.push(launcher);
    }
    return started;
  }

  /** Hands the keys over to a new epoch of `nodes` nodes (see the file comment); resolves once it is current. */
  async rotate(options: { nodes: number; say: (line: string) => void; timeoutMs?: number }): Promise<void> {
    await prepareRotation(this.#description.dir, { nodes: options.nodes, say: options.say });
    this.startMissing();
    await waitForHandover(this.#description.dir, options.say, options.timeoutMs);
    this.#description = await finishRotation(this.#description.dir, options.say);
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
    saveDescription(description);

    const devIssuer = new ManagedProcess('torus-dev-issuer', process.execPath, [
      path.join(REPO_ROOT, 'dist/retrieval/src/verifiers/dev-issuer-main.js'), '--listen', issuerUrl.replace('http://', ''),
      '--key-file', path.join(dir, 'dev-issuer-key.json'),
    ], path.join(dir, 'dev-issuer.log'));
    devIssuer.start();
    const network = new ContractTestnet(description, anvil, devIssuer);
    network.startMissing();
    return network;
  }

  static async #create(dir: string, n: number, keys: number, basePort: number, anvil: Anvil, issuerUrl: string, say: (line: string) => void): Promise<TestnetDescription> {
    const nodes: TestnetDescription['nodes'] = [];
    const ports = (i: number) => localNodePorts(basePort + 10 * (i - 1));
    for (let i = 1; i <= n; i++) {
      const signer = new NodeSigner(loadOrCreateNodeKey(path.join(dir, `node${i}`, 'node-key.json')).secretKey);
      nodes.push(localNode(`node${i}`, dir, signer, ports(i)));
    }
    const { contract, k, t } = await provisionEpoch({ rpcUrl: anvil.rpcUrl, chainId: anvil.chainId, adminSecretKey: anvil.accounts[0]?.secretKey as string, n, nodes: nodes.map((x) => x.address), say });
    for (const [i, node] of nodes.entries()) {
      writeFileSync(node.config, `${JSON.stringify(nodeConfig({
        ethRpc: anvil.rpcUrl, contract, dataDir: node.name, publicHost: '127.0.0.1', issuerUrl, keys, ports: ports(i + 1),
      }), null, 2)}\n`);
    }
    return {
      dir, chain_rpc: anvil.rpcUrl, eth_chain_id: anvil.chainId, contract, epoch: FIRST_EPOCH, n, k, t, key_buffer_target: keys, base_port: basePort,
      dev_issuer: issuerUrl, verifier: DEV_VERIFIER, client_network: path.join(dir, 'client.json'), nodes, retired: [],
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
    d = { ...d, nodes: await withIndexes(contract, d.epoch, d.nodes) };
    this.#description = d;
    saveDescription(d);
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
    await writeClientNetwork(d);
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

/**
 * The node launchers' environment: this one without TORUS_* variables, which `torus node start` would apply
 * over the generated configuration (an operator's exported TORUS_CONTRACT would point every local node at
 * another contract, TORUS_MODE=production would refuse the development issuer).
 */
function launcherEnvironment(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('TORUS_')));
}

function allNodes(d: TestnetDescription): TestnetNode[] {
  return [...d.retired.flatMap((e) => e.nodes), ...d.nodes, ...(d.handover?.nodes ?? [])];
}

/** The nodes with their positions in the contract's list of `epoch` (0 for one not listed yet), by position. */
async function withIndexes(contract: NodeListContract, epoch: number, nodes: readonly TestnetNode[]): Promise<TestnetNode[]> {
  const listed = (await contract.getEpochInfo(epoch))?.nodeList ?? [];
  return nodes.map((node) => ({ ...node, index: listed.indexOf(node.address) + 1 })).sort((a, b) => a.index - b.index);
}

function contractOf(d: TestnetDescription): NodeListContract {
  return new NodeListContract(d.contract, providerFor(d.chain_rpc, d.eth_chain_id));
}

/** The contract as its owner: anvil's first development account deployed it (provisionEpoch). */
function ownerOf(d: TestnetDescription): { contract: NodeListContract; admin: ReturnType<typeof walletFor> } {
  const admin = walletFor(devAccounts()[0]?.secretKey as string, providerFor(d.chain_rpc, d.eth_chain_id));
  return { contract: new NodeListContract(d.contract, admin), admin };
}

/** client.json: the current epoch's nodes as the contract lists them, and the development issuer. */
async function writeClientNetwork(d: TestnetDescription): Promise<void> {
  const contract = contractOf(d);
  const client = await clientNetworkFromContract(contract, providerFor(d.chain_rpc, d.eth_chain_id), d.epoch);
  writeFileSync(d.client_network, `${JSON.stringify({ ...client, dev_issuer: d.dev_issuer }, null, 2)}\n`);
}

/**
 * The owner's part of a rotation: epoch e+1 with `nodes` new node keys, created after epoch e, its nodes
 * whitelisted and funded, their configurations written, and `handover` recorded in testnet.json. Idempotent
 * while the same hand-over is under way (a second call returns it unchanged).
 */
export async function prepareRotation(dir: string, options: { nodes: number; say: (line: string) => void }): Promise<TestnetDescription> {
  const d = readDescription(dir);
  if (d.handover !== undefined) {
    options.say(`epoch ${d.handover.epoch} is already taking the keys over from epoch ${d.epoch}`);
    return d;
  }
  const epoch = d.epoch + 1;
  const n = options.nodes;
  const firstPort = d.base_port + 10 * (1 + allNodes(d).length);
  const nodeConfigTemplate = JSON.parse(readFileSync(d.nodes[0]?.config as string, 'utf8')) as { eth_rpc: string; genesis: { key_buffer_target: number } };
  const nodes: TestnetNode[] = [];
  for (let i = 1; i <= n; i++) {
    const ports = localNodePorts(firstPort + 10 * (i - 1));
    const name = `e${epoch}node${i}`;
    const signer = new NodeSigner(loadOrCreateNodeKey(path.join(dir, name, 'node-key.json')).secretKey);
    const node = localNode(name, dir, signer, ports);
    writeFileSync(node.config, `${JSON.stringify(nodeConfig({
      ethRpc: nodeConfigTemplate.eth_rpc, contract: d.contract, dataDir: name, publicHost: '127.0.0.1', issuerUrl: d.dev_issuer, keys: d.key_buffer_target, epoch, ports,
    }), null, 2)}\n`);
    nodes.push(node);
  }
  const { contract, admin } = ownerOf(d);
  const { k, t } = await addEpoch(contract, admin, { epoch, n, nodes: nodes.map((x) => x.address), prevEpoch: d.epoch, say: options.say });
  const next = { ...d, handover: { epoch, n, k, t, nodes } };
  saveDescription(next);
  return next;
}

/**
 * Waits until the handing-over epoch's nodes are listed, their chain runs and it records the hand-off as
 * complete, showing progress (chunks of the mapping, keys reshared).
 */
export async function waitForHandover(dir: string, say: (line: string) => void, timeoutMs = 600_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  for (;;) {
    const d = readDescription(dir);
    const handover = d.handover;
    if (handover === undefined) throw new Error(`no hand-over under way in ${dir}`);
    const listed = (await contractOf(d).getEpochInfo(handover.epoch))?.nodeList.length ?? 0;
    let line = `epoch ${handover.epoch}: ${listed} of ${handover.n} nodes registered`;
    if (listed >= handover.n) {
      const states = await Promise.all(handover.nodes.map((node) => abciQuery(node.cometbft_rpc, '/handoff/in').then((a) => (a.code === 0 ? a.value as HandoffProgress : undefined), () => undefined)));
      const state = states.find((s) => s !== undefined);
      if (state?.complete === true) {
        say(`epoch ${handover.epoch} took over every key of epoch ${d.epoch} (${state.keys_transferred} keys)`);
        return;
      }
      line = state === undefined ? `epoch ${handover.epoch}: all nodes registered; waiting for its chain` :
        `epoch ${handover.epoch}: mapping chunks ${state.chunks_received}/${state.chunk_count ?? '?'}, keys reshared ${state.keys_transferred - state.keys_resharing}/${state.keys_transferred}`;
    }
    if (line !== last) say(line);
    last = line;
    if (Date.now() > deadline) throw new Error(`the hand-over to epoch ${handover.epoch} is not complete after ${timeoutMs / 1000} s: ${line} (logs in ${dir})`);
    await sleep(1000);
  }
}

interface HandoffProgress {
  readonly complete: boolean;
  readonly chunks_received: number;
  readonly chunk_count: number | null;
  readonly keys_transferred: number;
  readonly keys_resharing: number;
}

/** Makes the handed-over epoch current on the contract and in testnet.json and client.json. */
export async function finishRotation(dir: string, say: (line: string) => void): Promise<TestnetDescription> {
  const d = readDescription(dir);
  const handover = d.handover;
  if (handover === undefined) throw new Error(`no hand-over under way in ${dir}`);
  const { contract } = ownerOf(d);
  await contract.setCurrentEpoch(handover.epoch);
  const next: TestnetDescription = {
    ...d, epoch: handover.epoch, n: handover.n, k: handover.k, t: handover.t,
    nodes: await withIndexes(contract, handover.epoch, handover.nodes),
    retired: [...d.retired, { epoch: d.epoch, n: d.n, k: d.k, t: d.t, nodes: d.nodes }],
  };
  delete next.handover;
  saveDescription(next);
  await writeClientNetwork(next);
  say(`epoch ${handover.epoch} is current; ${next.client_network} lists its nodes; epoch ${d.epoch}'s nodes keep running and refuse share requests`);
  return next;
}
