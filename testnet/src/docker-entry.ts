#!/usr/bin/env node
/**
 * Entry point of the compose network's containers (testnet/docker-compose.yml), one image for all:
 *
 *   setup --chain URL --nodes N [--shared DIR]   the contract owner's one-time work: node keys in the shared
 *                                                volume, NodeList deployed, epoch 1, whitelist; idempotent
 *   node --index I --public-host IP --chain URL --issuer URL [--keys K] [--shared DIR] [--data DIR]
 *                                                waits for setup, writes its configuration, runs `torus node start`
 */
import '../../core/runtime.js';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { NodeSigner } from '../../core/crypto/signature.js';
import { loadOrCreateNodeKey } from '../../core/node-key.js';
import { devAccounts } from '../../contracts/src/anvil.js';
import { providerFor } from '../../contracts/src/node-list.js';
import { main as torus } from '../../client/src/cli.js';
import { DEFAULT_PORTS } from '../../node/src/config.js';
import { nodeConfig, provisionEpoch } from './contract-testnet.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function waitForChain(url: string): Promise<number> {
  for (;;) {
    try {
      return Number((await providerFor(url).getNetwork()).chainId);
    } catch {
      await sleep(500);
    }
  }
}

async function main(): Promise<number> {
  const [mode, ...rest] = process.argv.slice(2);
  const { values } = parseArgs({
    args: rest,
    options: {
      chain: { type: 'string' }, nodes: { type: 'string', default: '5' }, shared: { type: 'string', default: '/shared' }, data: { type: 'string', default: '/data' },
      index: { type: 'string' }, 'public-host': { type: 'string' }, issuer: { type: 'string' }, keys: { type: 'string', default: '100' },
    },
    strict: true,
  });
  const setupFile = path.join(values.shared, 'setup.json');
  if (mode === 'setup') {
    if (existsSync(setupFile)) {
      console.log(`already set up: ${readFileSync(setupFile, 'utf8').trim()}`);
      return 0;
    }
    const chain = values.chain as string;
    const chainId = await waitForChain(chain);
    const n = Number(values.nodes);
    const nodes = Array.from({ length: n }, (_, i) => new NodeSigner(loadOrCreateNodeKey(path.join(values.shared, `node${i + 1}-key.json`)).secretKey).checksumAddress);
    const { contract } = await provisionEpoch({ rpcUrl: chain, chainId, adminSecretKey: devAccounts(1)[0]?.secretKey as string, n, nodes, say: (line) => console.log(line) });
    writeFileSync(setupFile, `${JSON.stringify({ contract, chain_id: chainId, nodes })}\n`);
    return 0;
  }
  if (mode === 'node') {
    while (!existsSync(setupFile)) await sleep(500);
    const { contract } = JSON.parse(readFileSync(setupFile, 'utf8')) as { contract: string };
    const config = path.join(values.data, 'node.json');
    // In-container ports are the node defaults; the compose file publishes them on the host.
    writeFileSync(config, `${JSON.stringify(nodeConfig({
      ethRpc: values.chain as string, contract, dataDir: values.data, publicHost: values['public-host'] as string, listenHost: '0.0.0.0',
      nodeKeyFile: path.join(values.shared, `node${values.index as string}-key.json`), issuerUrl: values.issuer as string, keys: Number(values.keys), ports: DEFAULT_PORTS,
    }), null, 2)}\n`);
    return torus(['node', 'start', '--config', config]);
  }
  console.error('usage: docker-entry setup|node ... (see the comment at the top of testnet/src/docker-entry.ts)');
  return 2;
}

process.exitCode = await main();
