/**
 * Five nodes started independently against a real chain (anvil) with the NodeList contract, each with only its
 * own configuration file: they register, wait for each other, derive the same genesis, form one CometBFT
 * network and fill the key buffer. The operator steps go through the `torus` command. Also: a node restarted
 * later finds its registration and rejoins; a crashed process is restarted by the node's supervisor.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import type { Server } from 'node:http';
import { createRequire } from 'node:module';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { abciQuery, rpcCall, status } from '../../core/comet/rpc.js';
import { REPO_ROOT } from '../../core/comet/binary.js';
import { ManagedProcess } from '../../core/process.js';
import { freePorts } from '../../core/ports.js';
import { startAnvil, type Anvil } from '../../contracts/src/anvil.js';
import { NodeListContract, providerFor } from '../../contracts/src/node-list.js';
import { runTorus, waitFor } from '../../testnet/test/helpers.js';
import { DevIssuer, DEV_AUDIENCE } from '../../retrieval/src/verifiers/dev-issuer.js';

interface NodeDetailsResult {
  currentEpoch: string | number;
  torusNodeEndpoints: string[];
  torusNodePub: Array<{ X: string; Y: string }>;
  torusIndexes: Array<number | string>;
  updated: boolean;
}
type NodeDetailManagerClass = new (options: { network: string; proxyAddress: string }) => { getNodeDetails(skip: boolean, skipPostEpochCheck: boolean): Promise<NodeDetailsResult> };
const NodeDetailManager = (createRequire(import.meta.url)('@toruslabs/fetch-node-details') as { default: NodeDetailManagerClass }).default;

const N = 5;
let anvil: Anvil;
let issuer: DevIssuer;
let issuerServer: Server;
let env: Record<string, string>;
let dir: string;
let contract: string;
const nodes: Array<{ config: string; rpc: string; launcher: ManagedProcess; address: string; dataDir: string }> = [];



describe('nodes formed from the NodeList contract', { timeout: 600_000 }, () => {
  before(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'torus-nodes-'));
    anvil = await startAnvil({ logFile: path.join(dir, 'anvil.log') });
    const admin = anvil.accounts[0]?.secretKey as string;
    env = { TORUS_ETH_RPC: anvil.rpcUrl, TORUS_ADMIN_KEY: admin };
    const issuerPort = (await freePorts(1))[0] as number;
    issuer = await DevIssuer.create({ issuer: `http://127.0.0.1:${issuerPort}` });
    issuerServer = await new Promise<Server>((resolve) => { const server = issuer.app().listen(issuerPort, '127.0.0.1', () => resolve(server)); });
    contract = (JSON.parse(await runTorus(['--json', 'contract', 'deploy'], env)) as { contract: string }).contract;
    await runTorus(['--json', 'epoch', 'create', '--epoch', '1', '--n', String(N), '--k', '3', '--t', '1', '--contract', contract], env);
    const ports = await freePorts(5 * N);
    for (let i = 0; i < N; i++) {
      const dataDir = path.join(dir, `node${i + 1}`);
      const config = path.join(dir, `node${i + 1}.json`);
      const p = ports.slice(5 * i, 5 * i + 5) as [number, number, number, number, number];
      writeFileSync(config, JSON.stringify({
        eth_rpc: anvil.rpcUrl, contract, epoch: 1, data_dir: dataDir, public_host: '127.0.0.1', mode: 'development',
        ports: { cometbft_p2p: p[0], cometbft_rpc: p[1], abci: p[2], keygen: p[3], jsonrpc: p[4] },
        verifiers: { 'torus-dev': { preset: 'dev', issuer: issuer.issuer, audience: DEV_AUDIENCE } },
        genesis: { key_buffer_target: 6, max_tx_lifetime_blocks: 1000 },
      }));
      const address = (JSON.parse(await runTorus(['--json', 'node', 'key', '--config', config], env)) as { address: string }).address;
      const launcher = new ManagedProcess(`node${i + 1}`, process.execPath, [path.join(REPO_ROOT, 'dist/client/src/cli.js'), 'node', 'start', '--config', config], path.join(dir, `node${i + 1}.out`));
      nodes.push({ config, rpc: `http://127.0.0.1:${p[1]}`, launcher, address, dataDir });
    }
    // The nodes start before they are whitelisted: they wait, then register in whatever order they get there.
    for (const node of nodes) node.launcher.start();
    await runTorus(['--json', 'whitelist', 'add', '--epoch', '1', '--fund', '1', '--contract', contract, ...nodes.map((n) => n.address)], env);
  });

  after(async () => {
    for (const node of nodes) await node.launcher.stop('SIGTERM', 20_000);
    await anvil?.stop();
    issuerServer?.close();
  });

  it('five independently started nodes register, derive one genesis, form one network and fill the key buffer', async () => {
    const genesisHashes = await Promise.all(nodes.map((node) => waitFor(`CometBFT of ${node.config}`, 180_000, async () => {
      if ((await status(node.rpc)).height < 1) return undefined;
      const { genesis } = await rpcCall(node.rpc, 'genesis', {}) as { genesis: unknown };
      return createHash('sha256').update(JSON.stringify(genesis)).digest('hex');
    })));
    assert.equal(new Set(genesisHashes).size, 1, 'every node derived the same genesis');
    const chain = new NodeListContract(contract, providerFor(anvil.rpcUrl));
    const info = await chain.getEpochInfo(1);
    assert.equal(info?.nodeList.length, N);
    assert.deepEqual([...(info?.nodeList ?? [])].sort(), nodes.map((n) => n.address).sort());
    const epoch = (await abciQuery(nodes[0]?.rpc as string, '/epoch')).value as { members: Array<{ index: number; address: string }> };
    assert.deepEqual(epoch.members.map((m) => m.address), info?.nodeList, 'share indexes are the contract positions');
    await waitFor('a full key buffer', 240_000, async () => {
      const buffer = (await abciQuery(nodes[2]?.rpc as string, '/buffer')).value as { ready: number; target: number; generating: number };
      return buffer.ready >= buffer.target && buffer.generating === 0 ? buffer : undefined;
    });
  });

  it('clients find the nodes in the contract: fetch-node-details 4.0.2, and our client logs a user in', async () => {
    await runTorus(['--json', 'epoch', 'set-current', '--epoch', '1', '--contract', contract], env);
    const manager = new NodeDetailManager({ network: anvil.rpcUrl, proxyAddress: contract });
    const details = await manager.getNodeDetails(false, false);
    assert.equal(details.updated, true, 'read from the chain, not the built-in mainnet list');
    assert.equal(String(details.currentEpoch), '1');
    assert.deepEqual(details.torusIndexes.map(Number), [1, 2, 3, 4, 5]);
    const chain = new NodeListContract(contract, providerFor(anvil.rpcUrl));
    const listed = (await chain.getEpochInfo(1))?.nodeList ?? [];
    for (const [i, address] of listed.entries()) {
      const registered = await chain.getNodeDetailsForEpoch(1, address);
      assert.equal(details.torusNodeEndpoints[i], 'https://127.0.0.1/jrpc', 'fetch-node-details keeps only the host of declaredIp');
      assert.equal(BigInt(`0x${details.torusNodePub[i]?.X}`), registered?.pubKx);
      assert.equal(BigInt(`0x${details.torusNodePub[i]?.Y}`), registered?.pubKy);
    }

    const clientFile = path.join(dir, 'client.json');
    await runTorus(['--json', 'network', 'export', '--contract', contract, '--out', clientFile], env);
    const email = 'alice@example.com';
    const assigned = JSON.parse(await runTorus(['--json', '--network', clientFile, 'assign', 'torus-dev', email], env)) as { address: string };
    const token = await issuer.sign({ email, aud: DEV_AUDIENCE });
    const login = JSON.parse(await runTorus(['--json', '--network', clientFile, 'login', '--verifier', 'torus-dev', '--token', token], env)) as { address: string; badNodes: unknown[] };
    assert.equal(login.address, assigned.address);
    assert.deepEqual(login.badNodes, []);
  });

  it('a node started again finds its registration and rejoins; a crashed process is restarted by its supervisor', async () => {
    const node = nodes[0] as (typeof nodes)[number];
    await node.launcher.stop('SIGTERM', 20_000);
    const before = (await status(nodes[1]?.rpc as string)).height;
    node.launcher.start();
    await waitFor('node 1 back at the network height', 120_000, async () => ((await status(node.rpc)).height >= before ? true : undefined));
    const abciPid = await waitFor('the torus-abci process of node 2', 30_000, async () => pidOf(nodes[1]?.dataDir as string, 'abci/src/main.js'));
    process.kill(abciPid, 'SIGKILL');
    await waitFor('torus-abci of node 2 restarted', 60_000, async () => {
      const pid = pidOf(nodes[1]?.dataDir as string, 'abci/src/main.js');
      return pid !== undefined && pid !== abciPid ? pid : undefined;
    });
    await waitFor('node 2 serving queries again', 120_000, async () => ((await abciQuery(nodes[1]?.rpc as string, '/epoch')).code === 0 ? true : undefined));
  });
});

/** The pid of the process whose command line contains both strings (Linux /proc). */
function pidOf(dataDir: string, script: string): number | undefined {
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8');
      if (cmdline.includes(script) && cmdline.includes(dataDir)) return Number(entry);
    } catch {
      // gone
    }
  }
  return undefined;
}
