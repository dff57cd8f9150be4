/**
 * The one-command local network, as a tester uses it: anvil, the contract, five `torus node start` nodes and
 * the development issuer. A new user logs in; two nodes crash (their whole process groups) and logins go on;
 * they come back and catch up; the whole network is stopped and resumed through `torus testnet up --detach`,
 * the user gets the same key and the buffer refills; `status` and `down` work.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { status } from '../../core/comet/rpc.js';
import { freePortRange } from '../../core/ports.js';
import { main as torus } from '../../client/src/cli.js';
import { runTorus, waitFor } from './helpers.js';
import { loadNetwork } from '../../client/src/network.js';
import { TorusClient } from '../../client/src/sdk.js';
import { ContractTestnet, testnetStatus, type TestnetStatus } from '../src/contract-testnet.js';

const N = 5;
const KEYS = 6;



describe('the local network (npm run testnet)', { timeout: 900_000 }, () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'torus-testnet-'));
  let network: ContractTestnet | undefined;
  let detached = false;
  after(async () => {
    await network?.stop();
    if (detached) await torus(['testnet', 'down', '--dir', dir]);
  });

  it('logs a new user in; survives two crashed nodes, which catch up; resumes after a full stop with the same keys', async () => {
    const basePort = await freePortRange(10 * N + 2);
    network = await ContractTestnet.up({ dir, nodes: N, keys: KEYS, basePort, say: () => undefined });
    await network.waitUntilUp(() => undefined);
    const d = network.description;
    await waitFor('the first key buffer', 300_000, async () => {
      const buffer = (await testnetStatus(dir)).buffer;
      return buffer !== null && buffer.ready >= KEYS && buffer.generating === 0 ? true : undefined;
    });
    const client = () => new TorusClient(loadNetwork(d.client_network));
    const token = async (email: string) => client().devToken(email);

    // Every process of every node serves its metrics, /healthz and /readyz (README: "Metrics, health and readiness").
    for (const node of d.nodes) {
      for (const url of Object.values(node.metrics ?? {})) {
        assert.match(await (await fetch(`${url}/metrics`)).text(), /^# HELP torus_(abci|dkg|retrieval)_/m, `${node.name}: ${url}/metrics`);
        await waitFor(`${node.name}: ${url}/readyz`, 30_000, async () => ((await fetch(`${url}/readyz`)).status === 200 ? true : undefined));
      }
      assert.equal(Object.keys(node.metrics ?? {}).length, 3, `${node.name} lists its three metrics servers`);
    }

    const email = 'alice@example.com';
    const assigned = await client().assign(d.verifier, email);
    const first = await client().login(d.verifier, await token(email));
    assert.equal(first.address, assigned.address);
    assert.equal(first.address, (await client().lookup(d.verifier, email))?.address);

    // Two nodes lose power: their launchers and all their processes die at once.
    const [node4, node5] = [network.launcher(4), network.launcher(5)];
    await node4.crash();
    await node5.crash();
    const during = await client().login(d.verifier, await token(email));
    assert.equal(during.address, assigned.address);
    assert.deepEqual([...new Set(during.failedNodes.map((f) => f.index))].sort(), [4, 5]);
    // (Three of five validators are short of the two thirds that commit blocks: assignments wait for them.)
    node4.start();
    node5.start();
    const target = (await status(d.nodes[0]?.cometbft_rpc as string)).height;
    for (const node of d.nodes.slice(3)) {
      await waitFor(`node ${node.index} catching up to height ${target}`, 180_000, async () => ((await status(node.cometbft_rpc)).height >= target ? true : undefined));
    }
    const bob = await client().assign(d.verifier, 'bob@example.com');
    assert.notEqual(bob.address, assigned.address);
    assert.equal((await client().login(d.verifier, await token('bob@example.com'))).address, bob.address);

    // The whole network stops, then resumes from its directory through the command scripts use.
    await network.stop();
    network = undefined;
    await runTorus(['testnet', 'up', '--detach', '--dir', dir]);
    detached = true;
    const again = await client().login(d.verifier, await token(email));
    assert.equal(again.address, assigned.address, 'the same user gets the same key after a restart');
    const full = await waitFor('the buffer refilled', 300_000, async () => {
      const state = JSON.parse(await runTorus(['--json', 'testnet', 'status', '--dir', dir])) as TestnetStatus & { launcher_pid: number | null };
      return state.buffer !== null && state.buffer.ready >= KEYS && state.buffer.generating === 0 ? state : undefined;
    });
    assert.equal(full.buffer?.assigned, 2);
    assert.ok(full.nodes.every((node) => node.jsonrpc_healthy && (node.height ?? 0) > 0));
    assert.ok(full.launcher_pid !== null);
    await runTorus(['testnet', 'down', '--dir', dir]);
    detached = false;
    const down = JSON.parse(await runTorus(['--json', 'testnet', 'status', '--dir', dir])) as TestnetStatus & { launcher_pid: number | null };
    assert.equal(down.launcher_pid, null);
    assert.ok(down.nodes.every((node) => node.height === null));
  });
});
