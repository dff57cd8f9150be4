#!/usr/bin/env node
/**
 * `npm run testnet`: a local mapping network on this machine: n CometBFT validators with their torus-abci
 * processes on loopback. Runs in the foreground until Ctrl-C; run again to resume from the same directory.
 *
 *   npm run testnet [-- --validators 4] [--dir .testnet] [--base-port 26600] [--fresh]
 */
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { abciQuery, status } from '../../core/comet/rpc.js';
import { REPO_ROOT } from '../../core/comet/binary.js';
import { MappingNetwork } from './mapping-network.js';

const USAGE = 'usage: npm run testnet [-- --validators N] [--dir DIR] [--base-port PORT] [--fresh]';

const Options = z.object({
  validators: z.coerce.number().int().min(1).max(32).default(4),
  dir: z.string().default(path.join(REPO_ROOT, '.testnet')),
  'base-port': z.coerce.number().int().min(1024).max(65000).default(26600),
  fresh: z.boolean().default(false),
});

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { validators: { type: 'string' }, dir: { type: 'string' }, 'base-port': { type: 'string' }, fresh: { type: 'boolean' }, help: { type: 'boolean' } },
    strict: true,
  });
  if (values.help) {
    console.log(USAGE);
    return;
  }
  const parsed = Options.safeParse(values);
  if (!parsed.success) throw new Error(`${z.prettifyError(parsed.error)}\n${USAGE}`);
  const options = parsed.data;
  const dir = path.resolve(options.dir);
  if (options.fresh) rmSync(dir, { recursive: true, force: true });
  const resuming = existsSync(path.join(dir, 'network.json'));

  console.log(`${resuming ? 'Resuming' : 'Creating'} the local mapping network in ${dir}`);
  const network = await MappingNetwork.open({ dir, validators: options.validators, basePort: options['base-port'] });
  if (resuming && network.nodes.length !== options.validators && values.validators !== undefined) {
    console.log(`note: ${dir} holds a ${network.nodes.length}-validator network; use --fresh to create a new one`);
  }

  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    console.log('\nStopping all processes...');
    await network.stop();
    console.log(`Stopped. Run the same command again to resume (state kept in ${dir}; --fresh starts over).`);
    process.exit(0);
  };
  process.on('SIGINT', () => void stop());
  process.on('SIGTERM', () => void stop());

  console.log(`Starting ${network.nodes.length} torus-abci processes and ${network.nodes.length} CometBFT validators...`);
  await network.start(90_000);
  const tip = await status(network.node(1).rpcUrl);
  const epoch = (await abciQuery(network.node(1).rpcUrl, '/epoch')).value as { id: number; n: number; k: number; t: number };
  const buffer = (await abciQuery(network.node(1).rpcUrl, '/buffer')).value;

  const endpoints = {
    chain_id: network.chainId,
    epoch,
    nodes: network.nodes.map((node) => ({
      index: node.index,
      cometbft_rpc: node.rpcUrl,
      abci: node.abciAddress,
      public_key: node.layout.publicKey,
      logs: { cometbft: path.join(node.dir, 'cometbft.log'), abci: path.join(node.dir, 'abci.log') },
    })),
  };
  writeFileSync(path.join(dir, 'testnet.json'), JSON.stringify(endpoints, null, 2) + '\n');

  console.log(`\nThe mapping network is up: chain ${network.chainId}, height ${tip.height}, epoch ${epoch.id} (n=${epoch.n}, k=${epoch.k}, t=${epoch.t}).`);
  for (const node of network.nodes) console.log(`  node ${node.index}: CometBFT RPC ${node.rpcUrl}   torus-abci ${node.abciAddress}`);
  console.log(`Key buffer: ${JSON.stringify(buffer)}`);
  console.log(`Endpoints and log paths: ${path.join(dir, 'testnet.json')}`);
  console.log('\nTry a query (data is hex-encoded JSON):');
  console.log(`  curl -s '${network.node(1).rpcUrl}/abci_query?path="/buffer"'`);
  console.log(`  curl -s '${network.node(1).rpcUrl}/abci_query?path="/epoch"'`);
  console.log('\nPress Ctrl-C to stop.');

  // Watch the processes: a validator that dies is reported (the others keep the chain going).
  for (const node of network.nodes) {
    for (const proc of [node.comet, node.abci]) {
      void proc?.exited().then((code) => {
        if (!stopping) console.error(`${proc.name} exited with code ${code}; see its log in ${node.dir}`);
      });
    }
  }
}

main().catch((err: unknown) => {
  console.error(`testnet: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
