#!/usr/bin/env node
/**
 * `npm run testnet`: a local network on this machine: n nodes, each with a CometBFT validator, its
 * torus-abci mapping process, its torus-dkg key-generation process and its torus-retrieval JSON-RPC server,
 * plus a development OpenID issuer, all on loopback. Runs in the foreground until Ctrl-C; run again to
 * resume from the same directory.
 *
 *   npm run testnet [-- --validators 5] [--keys 100] [--dir .testnet] [--base-port 26600] [--fresh]
 */
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { abciQuery, status } from '../../core/comet/rpc.js';
import { REPO_ROOT } from '../../core/comet/binary.js';
import { DEV_VERIFIER, MappingNetwork } from './mapping-network.js';

const USAGE = 'usage: npm run testnet [-- --validators N] [--keys BUFFER] [--dir DIR] [--base-port PORT] [--fresh]';

const Options = z.object({
  validators: z.coerce.number().int().min(1).max(32).default(5),
  keys: z.coerce.number().int().min(0).max(100_000).default(100),
  dir: z.string().default(path.join(REPO_ROOT, '.testnet')),
  'base-port': z.coerce.number().int().min(1024).max(65000).default(26600),
  fresh: z.boolean().default(false),
});

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { validators: { type: 'string' }, keys: { type: 'string' }, dir: { type: 'string' }, 'base-port': { type: 'string' }, fresh: { type: 'boolean' }, help: { type: 'boolean' } },
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
  const network = await MappingNetwork.open({
    dir, validators: options.validators, basePort: options['base-port'], keyBufferTarget: options.keys, keygen: true, retrieval: true,
  });
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

  console.log(`Starting ${network.nodes.length} nodes (CometBFT validator, torus-abci, torus-dkg, torus-retrieval each) and a development OpenID issuer...`);
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
      ...(node.layout.retrievalPort !== undefined ? { jrpc: node.endpoint } : {}),
      public_key: node.layout.publicKey,
      logs: Object.fromEntries(['cometbft', 'abci', 'dkg', 'retrieval'].map((name) => [name, path.join(node.dir, `${name}.log`)])),
    })),
    ...(network.layout.devIssuerPort !== undefined ? { dev_issuer: network.devIssuerUrl } : {}),
  };
  writeFileSync(path.join(dir, 'testnet.json'), JSON.stringify(endpoints, null, 2) + '\n');

  console.log(`\nThe network is up: chain ${network.chainId}, height ${tip.height}, epoch ${epoch.id} (n=${epoch.n}, k=${epoch.k}, t=${epoch.t}).`);
  for (const node of network.nodes) {
    const jrpc = node.layout.retrievalPort !== undefined ? `   JSON-RPC ${node.endpoint}` : '';
    console.log(`  node ${node.index}: CometBFT RPC ${node.rpcUrl}   torus-abci ${node.abciAddress}${jrpc}`);
  }
  if (network.layout.devIssuerPort !== undefined) console.log(`  development OpenID issuer: ${network.devIssuerUrl} (POST /token {"email": ...})`);
  console.log(`Key buffer: ${JSON.stringify(buffer)}`);
  console.log(`Endpoints and log paths: ${path.join(dir, 'testnet.json')}`);
  if (network.layout.devIssuerPort !== undefined) {
    const clientFile = path.join(dir, 'client.json');
    // The client's default network file is .testnet/client.json in the working directory.
    const networkFlag = clientFile === path.join(REPO_ROOT, '.testnet', 'client.json') ? '' : ` --network ${clientFile}`;
    console.log(`\nLog a user in with the client (the verifier is ${DEV_VERIFIER}; the network is described in ${clientFile}):`);
    console.log(`  npm run torus --${networkFlag} assign ${DEV_VERIFIER} alice@example.com`);
    console.log(`  npm run torus --${networkFlag} login --verifier ${DEV_VERIFIER} --dev-email alice@example.com`);
    console.log(`Wallets with @toruslabs/torus.js use the JSON-RPC endpoints above, node indexes 1..${network.nodes.length}.`);
  }
  console.log('\nTry a query (data is hex-encoded JSON):');
  console.log(`  curl -s '${network.node(1).rpcUrl}/abci_query?path="/buffer"'`);
  console.log(`  curl -s '${network.node(1).rpcUrl}/abci_query?path="/epoch"'`);
  console.log('\nPress Ctrl-C to stop.\n');

  // Key generation fills the buffer; show its progress until it is full.
  const progress = setInterval(() => {
    void abciQuery(network.node(1).rpcUrl, '/buffer').then(({ value }) => {
      const b = value as { target: number; ready: number; assigned: number; generating: number };
      const width = 30;
      const filled = b.target === 0 ? width : Math.round((Math.min(b.ready, b.target) / b.target) * width);
      process.stdout.write(`\rkeys ready [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${b.ready}/${b.target} (generating ${b.generating}, assigned ${b.assigned})   `);
      if (b.ready >= b.target) {
        clearInterval(progress);
        process.stdout.write('\nThe key buffer is full.\n');
      }
    }).catch(() => undefined);
  }, 1000);

  // Watch the processes: a validator that dies is reported (the others keep the chain going).
  for (const node of network.nodes) {
    for (const proc of [node.comet, node.abci, node.keygen, node.retrieval]) {
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
