#!/usr/bin/env node
/**
 * `npm run testnet` (and `torus testnet up`): the local network of contract-testnet.ts in the foreground —
 * progress (contract, registrations, BFT network, a bar of generated keys), then endpoints and a login
 * command; Ctrl-C stops everything cleanly; run again to resume from DIR. It also serves the dashboard
 * (dashboard/) next to the development issuer, on base + 10n + 2.
 *
 *   npm run testnet [-- --nodes 5] [--keys 100] [--dir .testnet] [--base-port 26600] [--fresh]
 */
import '../../core/runtime.js';
import { rmSync, unlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { REPO_ROOT } from '../../core/comet/binary.js';
import type { ManagedProcess } from '../../core/process.js';
import { localDashboardPort } from '../../dashboard/src/local-network.js';
import { startDashboard, type RunningDashboard } from '../../dashboard/src/server.js';
import { ContractTestnet, keyBuffer, TestnetArgs, upMarker } from './contract-testnet.js';

const USAGE = 'usage: npm run testnet [-- --nodes N] [--keys BUFFER] [--dir DIR] [--base-port PORT] [--fresh]';

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { nodes: { type: 'string' }, keys: { type: 'string' }, dir: { type: 'string' }, 'base-port': { type: 'string' }, fresh: { type: 'boolean' }, help: { type: 'boolean' } },
    strict: true,
  });
  if (values.help) {
    console.log(USAGE);
    return;
  }
  const parsed = TestnetArgs.safeParse(values);
  if (!parsed.success) throw new Error(`${z.prettifyError(parsed.error)}\n${USAGE}`);
  const options = parsed.data;
  const dir = path.resolve(options.dir);
  if (options.fresh) rmSync(dir, { recursive: true, force: true });
  const say = (line: string) => console.log(line);

  say(`Local network in ${dir}`);
  const network = await ContractTestnet.up({ dir, nodes: options.nodes, keys: options.keys, basePort: options['base-port'], say });
  // In this process: the dashboard is a view of testnet.json, not a node process. Without it the network still runs.
  const dashboard: RunningDashboard | undefined = await startDashboard({
    networkFile: path.join(dir, 'testnet.json'), port: localDashboardPort(network.description),
  }).catch((err: unknown) => {
    say(`dashboard: not started (${err instanceof Error ? err.message : String(err)})`);
    return undefined;
  });
  if (dashboard !== undefined) say(`dashboard: ${dashboard.url}`);
  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    say('\nStopping all processes...');
    try {
      unlinkSync(upMarker(dir));
    } catch {
      // not up yet
    }
    await dashboard?.close();
    await network.stop();
    say(`Stopped. Run the same command again to resume (state kept in ${dir}; --fresh starts over).`);
    process.exit(0);
  };
  process.on('SIGINT', () => void stop());
  process.on('SIGTERM', () => void stop());
  const watchExit = (launcher: ManagedProcess) => {
    void launcher.exited().then((code) => {
      if (!stopping) console.error(`${launcher.name} exited with code ${code}; see ${path.join(dir, `${launcher.name}.log`)}`);
    });
  };
  network.launchers.forEach(watchExit);
  // `torus testnet rotate` adds the next epoch's nodes to testnet.json and asks for them with SIGHUP.
  process.on('SIGHUP', () => {
    const started = network.startMissing();
    started.forEach(watchExit);
    if (started.length > 0) say(`\nstarted ${started.map((l) => l.name).join(', ')}`);
  });

  await network.waitUntilUp(say);
  const d = network.description;
  writeFileSync(upMarker(dir), `${process.pid}\n`);
  say(`\nThe network is up: epoch ${d.epoch} (n=${d.n}, k=${d.k}, t=${d.t}), NodeList contract ${d.contract} on ${d.chain_rpc}.`);
  for (const node of d.nodes) say(`  node ${node.index}: JSON-RPC ${node.jsonrpc}   CometBFT RPC ${node.cometbft_rpc}   ${node.address}`);
  say(`  development OpenID issuer: ${d.dev_issuer} (verifier name "${d.verifier}")`);
  say(`Everything a client needs: ${path.join(dir, 'testnet.json')}; logs under ${dir}.`);
  if (dashboard !== undefined) say(`Dashboard (nodes, epoch, key buffer, assignments, a login demo in the browser): ${dashboard.url}`);
  const networkFlag = d.client_network === path.join(REPO_ROOT, '.testnet', 'client.json') ? '' : ` --network ${d.client_network}`;
  say('\nIn another terminal: give alice a key (the account resolver), look it up, log in:');
  say(`  npm run torus --${networkFlag} assign ${d.verifier} alice@example.com`);
  say(`  npm run torus --${networkFlag} lookup ${d.verifier} alice@example.com`);
  say(`  npm run torus --${networkFlag} login --verifier ${d.verifier} --dev-email alice@example.com`);
  say('Press Ctrl-C to stop.\n');

  const width = 30;
  for (;;) {
    // Only the buffer: the full status would probe every node's health each second.
    const buffer = await keyBuffer(d);
    if (buffer !== null) {
      const filled = buffer.target === 0 ? width : Math.round((Math.min(buffer.ready, buffer.target) / buffer.target) * width);
      process.stdout.write(`\rkeys ready [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${buffer.ready}/${buffer.target} (generating ${buffer.generating}, assigned ${buffer.assigned})   `);
      if (buffer.ready >= buffer.target && buffer.generating === 0) {
        process.stdout.write('\nThe key buffer is full.\n');
        break;
      }
    }
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
}

main().catch((err: unknown) => {
  console.error(`testnet: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
