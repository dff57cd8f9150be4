/**
 * A local mapping network: n CometBFT validators on loopback, each with its own torus-abci process (or
 * CometBFT's built-in kvstore, as a baseline). Everything lives under one directory, described by
 * network.json, so a stopped network can be started again from its state.
 *
 *   DIR/network.json            layout: chain id, ports, node ids, node keys' public halves
 *   DIR/genesis.json            the shared CometBFT genesis (validators + torus app_state)
 *   DIR/nodeN/node-key.json     the node's secp256k1 (Ethereum) key, mode 0600
 *   (torus-abci, torus-dkg and torus-retrieval each serve /metrics, /healthz and /readyz on a port of their own)
 *   DIR/nodeN/cometbft/         CometBFT home;  DIR/nodeN/cometbft.log
 *   DIR/nodeN/abci/             torus-abci home; DIR/nodeN/abci.log
 *   DIR/nodeN/dkg.json          torus-dkg configuration; DIR/nodeN/dkg/ its store; DIR/nodeN/dkg.log
 *   DIR/nodeN/retrieval.json    torus-retrieval configuration; DIR/nodeN/retrieval/ its store; .log
 *   DIR/dev-issuer-key.json     the development OpenID issuer's signing key; DIR/dev-issuer.log
 *   DIR/client.json             what a client needs: endpoints, node keys, thresholds, the dev issuer
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { abciCliBinary, cometbftBinary, REPO_ROOT } from '../../core/comet/binary.js';
import { abciInfo, status } from '../../core/comet/rpc.js';
import { setTomlValues } from '../../core/comet/toml.js';
import { buildGenesis, type GenesisValidator } from '../../core/comet/genesis.js';
import { bytesToHex } from '../../core/encoding/bytes.js';
import { publicKeyOf, randomSecretKey } from '../../core/crypto/keys.js';
import { readNodeKey } from '../../core/node-key.js';
import { NodeSigner } from '../../core/crypto/signature.js';
import { maxFaults } from '../../core/epoch.js';
import { attestKey, buildSignedTx, type TxContext } from '../../core/tx/build.js';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { DEV_VERIFIER } from '../../retrieval/src/verifiers/dev-issuer.js';
import { ManagedProcess } from '../../core/process.js';
import { freePorts } from '../../core/ports.js';

/**
 * torus: our torus-abci. kvstore: CometBFT's built-in kvstore, in-process (no ABCI socket).
 * kvstore-socket: the same kvstore served by abci-cli over the ABCI socket, as torus-abci is.
 */
export type NetworkApp = 'torus' | 'kvstore' | 'kvstore-socket';

export interface MappingNetworkOptions {
  readonly dir: string;
  readonly validators: number;
  readonly app?: NetworkApp;
  readonly epoch?: number;
  readonly keyBufferTarget?: number;
  readonly maxTxLifetimeBlocks?: number;
  /** CometBFT consensus.timeout_commit. */
  readonly timeoutCommit?: string;
  readonly createEmptyBlocks?: boolean;
  /**
   * First port; node i uses basePort + 10(i-1) + {0 p2p, 1 rpc, 2 abci, 3 keygen, 4 retrieval, 5-7 the metrics
   * of torus-abci, torus-dkg, torus-retrieval}. Free ports are picked when absent.
   */
  readonly basePort?: number;
  readonly mempoolSize?: number;
  /** CometBFT mempool.recheck (default true). */
  readonly mempoolRecheck?: boolean;
  /** Tests and benchmarks: accept member-attested keys (RegisterKey) without key generation. */
  readonly devAttestedKeys?: boolean;
  /** Run a key-generation process (torus-dkg) per node. */
  readonly keygen?: boolean;
  /** torus-dkg's max_keys_in_flight. */
  readonly keygenInFlight?: number;
  /** Run a retrieval server per node and a development OpenID issuer (needs keygen). */
  readonly retrieval?: boolean;
}

export { DEV_VERIFIER };

const NodeLayoutSchema = z.object({
  index: z.number().int().positive(),
  nodeId: z.string(),
  p2pPort: z.number().int(),
  rpcPort: z.number().int(),
  abciPort: z.number().int(),
  keygenPort: z.number().int(),
  retrievalPort: z.number().int().optional(),
  /** The processes' metrics servers (core/metrics.ts); absent in networks made before they existed. */
  metricsPorts: z.object({ abci: z.number().int(), dkg: z.number().int(), retrieval: z.number().int() }).optional(),
  publicKey: z.string(),
});
const LayoutSchema = z.object({
  chainId: z.string(),
  app: z.enum(['torus', 'kvstore', 'kvstore-socket']),
  epoch: z.number().int().positive(),
  n: z.number().int(),
  k: z.number().int(),
  t: z.number().int(),
  keygen: z.boolean(),
  devIssuerPort: z.number().int().optional(),
  nodes: z.array(NodeLayoutSchema),
});
export type NetworkLayout = z.infer<typeof LayoutSchema>;
export type NodeLayout = z.infer<typeof NodeLayoutSchema>;

export class MappingNode {
  readonly layout: NodeLayout;
  readonly dir: string;
  readonly comet: ManagedProcess;
  readonly abci: ManagedProcess | undefined;
  readonly keygen: ManagedProcess | undefined;
  readonly retrieval: ManagedProcess | undefined;

  constructor(layout: NodeLayout, dir: string, app: NetworkApp, keygen: boolean) {
    this.layout = layout;
    this.dir = dir;
    this.comet = new ManagedProcess(`cometbft-${layout.index}`, cometbftBinary(), ['start', '--home', path.join(dir, 'cometbft')], path.join(dir, 'cometbft.log'));
    const logFile = path.join(dir, 'abci.log');
    this.abci = app === 'torus'
      ? new ManagedProcess(`torus-abci-${layout.index}`, process.execPath, [
        path.join(REPO_ROOT, 'dist/abci/src/main.js'), '--home', path.join(dir, 'abci'), '--listen', this.abciAddress,
        '--log-level', process.env['TORUS_ABCI_LOG_LEVEL'] ?? 'info',
        ...(layout.metricsPorts !== undefined ? ['--metrics-listen', `127.0.0.1:${layout.metricsPorts.abci}`] : []),
      ], logFile)
      : app === 'kvstore-socket'
        ? new ManagedProcess(`kvstore-${layout.index}`, abciCliBinary(), ['kvstore', '--address', this.abciAddress, '--log_level', 'error'], logFile)
        : undefined;
    this.keygen = keygen
      ? new ManagedProcess(`torus-dkg-${layout.index}`, process.execPath, [path.join(REPO_ROOT, 'dist/dkg/src/main.js'), '--config', path.join(dir, 'dkg.json')], path.join(dir, 'dkg.log'))
      : undefined;
    this.retrieval = layout.retrievalPort !== undefined
      ? new ManagedProcess(`torus-retrieval-${layout.index}`, process.execPath, [path.join(REPO_ROOT, 'dist/retrieval/src/main.js'), '--config', path.join(dir, 'retrieval.json')], path.join(dir, 'retrieval.log'))
      : undefined;
  }

  /** The node's JSON-RPC endpoint (torus.js's "endpoint"). */
  get endpoint(): string {
    if (this.layout.retrievalPort === undefined) throw new Error(`node ${this.index} runs no retrieval server`);
    return `http://127.0.0.1:${this.layout.retrievalPort}/jrpc`;
  }

  get index(): number {
    return this.layout.index;
  }

  /** The base URL of a process's metrics server (GET /metrics, /healthz, /readyz). */
  metricsUrl(process: 'abci' | 'dkg' | 'retrieval'): string {
    if (this.layout.metricsPorts === undefined) throw new Error(`node ${this.index} serves no metrics (its network predates them)`);
    return `http://127.0.0.1:${this.layout.metricsPorts[process]}`;
  }

  get rpcUrl(): string {
    return `http://127.0.0.1:${this.layout.rpcPort}`;
  }

  get abciAddress(): string {
    return `tcp://127.0.0.1:${this.layout.abciPort}`;
  }

  #signer: NodeSigner | undefined;

  /** The node's signing key. Test and local-network use only: an operator's key never leaves its node. */
  signer(): NodeSigner {
    if (this.#signer === undefined) {
      this.#signer = new NodeSigner(readNodeKey(path.join(this.dir, 'node-key.json')));
    }
    return this.#signer;
  }
}

export class MappingNetwork {
  readonly dir: string;
  readonly layout: NetworkLayout;
  readonly nodes: readonly MappingNode[];
  readonly devIssuer: ManagedProcess | undefined;

  private constructor(dir: string, layout: NetworkLayout) {
    this.dir = dir;
    this.layout = layout;
    this.nodes = layout.nodes.map((node) => new MappingNode(node, path.join(dir, `node${node.index}`), layout.app, layout.keygen));
    this.devIssuer = layout.devIssuerPort === undefined ? undefined : new ManagedProcess('torus-dev-issuer', process.execPath, [
      path.join(REPO_ROOT, 'dist/retrieval/src/verifiers/dev-issuer-main.js'), '--listen', `127.0.0.1:${layout.devIssuerPort}`,
      '--key-file', path.join(dir, 'dev-issuer-key.json'),
    ], path.join(dir, 'dev-issuer.log'));
  }

  /** The development issuer's base URL (its tokens' `iss`). */
  get devIssuerUrl(): string {
    if (this.layout.devIssuerPort === undefined) throw new Error('this network runs no development issuer');
    return `http://127.0.0.1:${this.layout.devIssuerPort}`;
  }

  get chainId(): string {
    return this.layout.chainId;
  }

  /** Opens the network in `dir`, creating it first when `dir` has no network.json. */
  static async open(options: MappingNetworkOptions): Promise<MappingNetwork> {
    const dir = path.resolve(options.dir);
    const layoutFile = path.join(dir, 'network.json');
    if (existsSync(layoutFile)) {
      return new MappingNetwork(dir, LayoutSchema.parse(JSON.parse(readFileSync(layoutFile, 'utf8'))));
    }
    return MappingNetwork.#create(dir, options);
  }

  static async #create(dir: string, options: MappingNetworkOptions): Promise<MappingNetwork> {
    const n = options.validators;
    const app = options.app ?? 'torus';
    const epoch = options.epoch ?? 1;
    const k = Math.floor(n / 2) + 1;
    const t = maxFaults(n);
    const cometbft = cometbftBinary();
    const retrieval = options.retrieval ?? false;
    if (retrieval && !(options.keygen ?? false)) throw new Error('a retrieval server needs key generation (keygen: true) for its shares');
    // Node i uses base + 10(i-1) + {0 p2p, 1 rpc, 2 abci, 3 keygen, 4 retrieval, 5-7 metrics}; the dev issuer base + 10n.
    const PER_NODE = 8;
    const ports = options.basePort !== undefined
      ? [...Array.from({ length: PER_NODE * n }, (_, i) => (options.basePort as number) + 10 * Math.floor(i / PER_NODE) + (i % PER_NODE)), options.basePort + 10 * n]
      : await freePorts(PER_NODE * n + 1);
    const port = (node: number, slot: number) => ports[PER_NODE * (node - 1) + slot] as number;
    mkdirSync(dir, { recursive: true });
    const chainId = `torus-local-${bytesToHex(crypto.getRandomValues(new Uint8Array(4)))}`;

    const nodes: NodeLayout[] = [];
    const validators: GenesisValidator[] = [];
    for (let i = 1; i <= n; i++) {
      const nodeDir = path.join(dir, `node${i}`);
      const cometHome = path.join(nodeDir, 'cometbft');
      mkdirSync(path.join(nodeDir, 'abci'), { recursive: true });
      execFileSync(cometbft, ['init', '--home', cometHome], { stdio: 'ignore' });
      const nodeId = execFileSync(cometbft, ['show-node-id', '--home', cometHome], { encoding: 'utf8' }).trim();
      const validatorKey = JSON.parse(readFileSync(path.join(cometHome, 'config/priv_validator_key.json'), 'utf8')) as Pick<GenesisValidator, 'address' | 'pub_key'>;
      validators.push({ address: validatorKey.address, pub_key: validatorKey.pub_key, power: '1', name: `node${i}` });
      const secretKey = randomSecretKey();
      writeFileSync(path.join(nodeDir, 'node-key.json'), JSON.stringify({ secret_key: bytesToHex(secretKey) }) + '\n', { mode: 0o600 });
      nodes.push({
        index: i, nodeId,
        p2pPort: port(i, 0), rpcPort: port(i, 1), abciPort: port(i, 2), keygenPort: port(i, 3),
        ...(retrieval ? { retrievalPort: port(i, 4) } : {}),
        metricsPorts: { abci: port(i, 5), dkg: port(i, 6), retrieval: port(i, 7) },
        publicKey: bytesToHex(publicKeyOf(secretKey)),
      });
    }

    const genesis = buildGenesis({
      chainId,
      genesisTime: new Date().toISOString(),
      validators,
      pubKeyTypes: ['ed25519'],
      appState: {
        epoch: { id: epoch, n, k, t, members: nodes.map((node) => ({ index: node.index, public_key: node.publicKey })) },
        key_buffer_target: options.keyBufferTarget ?? 100,
        max_tx_lifetime_blocks: options.maxTxLifetimeBlocks ?? 1000,
        dev_attested_keys: options.devAttestedKeys ?? false,
      },
    });
    writeFileSync(path.join(dir, 'genesis.json'), JSON.stringify(genesis, null, 2) + '\n');

    for (const node of nodes) {
      const cometHome = path.join(dir, `node${node.index}`, 'cometbft');
      writeFileSync(path.join(cometHome, 'config/genesis.json'), JSON.stringify(genesis, null, 2) + '\n');
      const peers = nodes.filter((peer) => peer.index !== node.index).map((peer) => `${peer.nodeId}@127.0.0.1:${peer.p2pPort}`).join(',');
      const configFile = path.join(cometHome, 'config/config.toml');
      const config = setTomlValues(readFileSync(configFile, 'utf8'), {
        moniker: `node${node.index}`,
        proxy_app: app === 'kvstore' ? 'kvstore' : `tcp://127.0.0.1:${node.abciPort}`,
        log_level: 'state:info,*:error',
        'rpc.laddr': `tcp://127.0.0.1:${node.rpcPort}`,
        'p2p.laddr': `tcp://127.0.0.1:${node.p2pPort}`,
        'p2p.persistent_peers': peers,
        'p2p.addr_book_strict': false,
        'p2p.allow_duplicate_ip': true,
        'p2p.pex': false,
        'mempool.size': options.mempoolSize ?? 5000,
        'mempool.recheck': options.mempoolRecheck ?? true,
        'consensus.timeout_commit': options.timeoutCommit ?? '500ms',
        'consensus.create_empty_blocks': options.createEmptyBlocks ?? false,
      });
      writeFileSync(configFile, config);
    }

    const keygen = options.keygen ?? false;
    if (keygen) {
      for (const node of nodes) {
        const nodeDir = path.join(dir, `node${node.index}`);
        writeFileSync(path.join(nodeDir, 'dkg.json'), JSON.stringify({
          node_key_file: 'node-key.json',
          data_dir: 'dkg',
          listen: `/ip4/127.0.0.1/tcp/${node.keygenPort}`,
          comet_rpc: `http://127.0.0.1:${node.rpcPort}`,
          peers: nodes.map((peer) => ({ index: peer.index, address: `/ip4/127.0.0.1/tcp/${peer.keygenPort}` })),
          max_keys_in_flight: options.keygenInFlight ?? 16,
          log_level: process.env['TORUS_DKG_LOG_LEVEL'] ?? 'info',
          metrics_listen: `127.0.0.1:${port(node.index, 6)}`,
        }, null, 2) + '\n');
      }
    }
    const devIssuerPort = retrieval ? ports[PER_NODE * n] as number : undefined;
    if (devIssuerPort !== undefined) {
      const issuer = `http://127.0.0.1:${devIssuerPort}`;
      for (const node of nodes) {
        writeFileSync(path.join(dir, `node${node.index}`, 'retrieval.json'), JSON.stringify({
          mode: 'development',
          node_key_file: 'node-key.json',
          data_dir: 'retrieval',
          listen: `127.0.0.1:${node.retrievalPort as number}`,
          comet_rpc: `http://127.0.0.1:${node.rpcPort}`,
          share_socket: 'dkg/share.sock',
          verifiers: { [DEV_VERIFIER]: { preset: 'dev', issuer, audience: 'torus-dev' } },
          log_level: process.env['TORUS_RETRIEVAL_LOG_LEVEL'] ?? 'info',
          metrics_listen: `127.0.0.1:${port(node.index, 7)}`,
        }, null, 2) + '\n');
      }
      writeFileSync(path.join(dir, 'client.json'), JSON.stringify({
        chain_id: chainId, epoch, n, k,
        nodes: nodes.map((node) => ({ index: node.index, endpoint: `http://127.0.0.1:${node.retrievalPort as number}/jrpc`, public_key: node.publicKey })),
        dev_issuer: issuer,
      }, null, 2) + '\n');
    }
    const layout: NetworkLayout = { chainId, app, epoch, n, k, t, keygen, ...(devIssuerPort !== undefined ? { devIssuerPort } : {}), nodes };
    writeFileSync(path.join(dir, 'network.json'), JSON.stringify(layout, null, 2) + '\n');
    return new MappingNetwork(dir, layout);
  }

  /** Starts every process (applications first, since CometBFT connects to them) and waits for block 1. */
  async start(timeoutMs = 60_000): Promise<void> {
    this.devIssuer?.start();
    for (const node of this.nodes) node.abci?.start();
    for (const node of this.nodes) node.comet.start();
    await this.waitForHeight(1, timeoutMs);
    for (const node of this.nodes) node.keygen?.start();
    for (const node of this.nodes) node.retrieval?.start();
    await this.waitForRetrieval(timeoutMs);
  }

  /** Waits until every retrieval server answers /healthz. */
  async waitForRetrieval(timeoutMs = 60_000, nodes: readonly MappingNode[] = this.nodes): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (const node of nodes) {
      if (node.layout.retrievalPort === undefined) continue;
      const url = `http://127.0.0.1:${node.layout.retrievalPort}/healthz`;
      while (!(await fetch(url).then((r) => r.ok, () => false))) {
        if (Date.now() > deadline) throw new Error(`the retrieval server of node ${node.index} is not up after ${timeoutMs} ms (log: ${path.join(node.dir, 'retrieval.log')})`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
  }

  async stop(): Promise<void> {
    await Promise.all(this.nodes.map((node) => node.retrieval?.stop('SIGTERM')));
    await this.devIssuer?.stop('SIGTERM');
    await Promise.all(this.nodes.map((node) => node.keygen?.stop('SIGTERM')));
    await Promise.all(this.nodes.map((node) => node.comet.stop('SIGTERM')));
    await Promise.all(this.nodes.map((node) => node.abci?.stop('SIGTERM')));
  }

  /** A transaction-signing context for node i (1-based). */
  txContext(index: number): TxContext {
    const node = this.node(index);
    return { chainId: this.chainId, epoch: BigInt(this.layout.epoch), signerIndex: index, signer: node.signer() };
  }

  /**
   * Tests and benchmarks on a `devAttestedKeys` chain: a RegisterKey for a random key, attested by the
   * first k members and signed by node 1. Such a key has no shares; it only fills the buffer.
   */
  attestedKeyTx(keyIndex: number, expiresAtHeight: bigint): Uint8Array {
    const { k, epoch } = this.layout;
    const randomPoint = () => secp256k1.getPublicKey(secp256k1.utils.randomSecretKey(), true);
    const publicKey = randomPoint();
    const commitments = Array.from({ length: k }, randomPoint);
    const attestations = Array.from({ length: k }, (_, i) =>
      attestKey(this.node(i + 1).signer(), i + 1, this.chainId, BigInt(epoch), BigInt(keyIndex), publicKey, commitments));
    return buildSignedTx(this.txContext(1), { type: 'register_key', keyIndex: BigInt(keyIndex), publicKey, commitments, attestations }, expiresAtHeight);
  }

  node(index: number): MappingNode {
    const node = this.nodes[index - 1];
    if (node === undefined) throw new Error(`no node ${index} in a network of ${this.nodes.length}`);
    return node;
  }

  /** Waits until every listed node (default: all) reports a block height of at least `height`. */
  async waitForHeight(height: number, timeoutMs = 60_000, nodes: readonly MappingNode[] = this.nodes): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (const node of nodes) {
      for (;;) {
        try {
          if ((await status(node.rpcUrl)).height >= height) break;
        } catch {
          // not up yet
        }
        if (Date.now() > deadline) throw new Error(`node ${node.index} did not reach height ${height} within ${timeoutMs} ms (logs in ${node.dir})`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
  }

  /**
   * Waits until all listed nodes' applications report the same last height, then returns their
   * (height, app hash) pairs. With create_empty_blocks=false an idle network settles on one height.
   */
  async settledAppHashes(timeoutMs = 60_000, nodes: readonly MappingNode[] = this.nodes): Promise<Array<{ height: number; appHash: string }>> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const infos = await Promise.all(nodes.map((node) => abciInfo(node.rpcUrl).catch(() => ({ height: -1, appHash: '' }))));
      const first = infos[0];
      if (first !== undefined && first.height > 0 && infos.every((info) => info.height === first.height)) return infos;
      if (Date.now() > deadline) throw new Error(`nodes did not settle on one height: ${JSON.stringify(infos)}`);
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }
}
