/**
 * Key generation on a real network: 5 nodes, each with cometbft, torus-abci and torus-dkg (libp2p on
 * loopback). The test oracle at the end reads every node's key store and checks each published key.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { abciQuery, broadcastTxCommit, status } from '../../core/comet/rpc.js';
import { buildSignedTx } from '../../core/tx/build.js';
import { bytesToHex } from '../../core/encoding/bytes.js';
import { G, encodePoint, mulSecret } from '../../core/crypto/point.js';
import { interpolate } from '../../core/crypto/polynomial.js';
import { MappingNetwork } from '../../testnet/src/mapping-network.js';
import { LevelDealingStore } from '../src/level-store.js';
import { StateStore } from '../../abci/src/state/store.js';

interface Buffer {
  target: number;
  generating: number;
  ready: number;
  assigned: number;
}

async function buffer(network: MappingNetwork, node = 1): Promise<Buffer> {
  return (await abciQuery(network.node(node).rpcUrl, '/buffer')).value as Buffer;
}

async function waitFor(what: string, condition: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

async function assign(network: MappingNetwork, users: readonly string[]): Promise<void> {
  const url = network.node(1).rpcUrl;
  const expires = BigInt((await status(url)).height + 500);
  for (const user of users) {
    const result = await broadcastTxCommit(url, buildSignedTx(network.txContext(1), { type: 'assign_key', verifier: 'google', verifierId: user }, expires));
    assert.equal(result.code, 0, result.log);
  }
}

test('5 nodes generate keys over libp2p: 1 node down goes on, 2 down stalls and resumes, every key is right', { timeout: 600_000 }, async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'torus-dkg-net-'));
  const network = await MappingNetwork.open({ dir, validators: 5, keyBufferTarget: 50, keygen: true, timeoutCommit: '200ms' });
  assert.deepEqual([network.layout.n, network.layout.k, network.layout.t], [5, 3, 1]);
  try {
    await network.start();
    await waitFor('50 ready keys', async () => (await buffer(network)).ready >= 50, 240_000);
    const hashes = await network.settledAppHashes(60_000);
    assert.equal(new Set(hashes.map((h) => h.appHash)).size, 1, `app hashes differ: ${JSON.stringify(hashes)}`);

    // Node 5 goes down entirely; 4 of 5 validators keep the chain, and t=1 key generation goes on.
    const five = network.node(5);
    await five.keygen?.stop('SIGKILL');
    await five.comet.stop('SIGKILL');
    await five.abci?.stop('SIGKILL');
    await assign(network, Array.from({ length: 10 }, (_, i) => `one-down-${i}@example.com`));
    await waitFor('the buffer to refill with node 5 down', async () => (await buffer(network)).ready >= 50, 180_000);

    // Node 5 comes back; then the key generation of nodes 4 and 5 stops (their validators stay up):
    // 3 of 5 cannot reach the echo threshold of 4, so generation must stall, producing nothing.
    five.abci?.start();
    five.comet.start();
    await network.waitForHeight((await status(network.node(1).rpcUrl)).height, 60_000, [five]);
    await network.node(4).keygen?.stop('SIGKILL');
    await assign(network, Array.from({ length: 5 }, (_, i) => `two-down-${i}@example.com`));
    const stalled = await buffer(network);
    await new Promise((resolve) => setTimeout(resolve, 10_000));
    const still = await buffer(network);
    assert.equal(still.ready, stalled.ready, 'no key becomes ready with two key-generation processes down');
    assert.ok(still.ready < 50);

    network.node(4).keygen?.start();
    five.keygen?.start();
    await waitFor('generation to resume after both return', async () => (await buffer(network)).ready >= 50, 180_000);
    const after = await network.settledAppHashes(60_000);
    assert.equal(new Set(after.map((h) => h.appHash)).size, 1);
  } finally {
    await network.stop();
  }

  // Test oracle: every published key equals s·G for the s that k nodes' shares interpolate to.
  const stores = await Promise.all(network.nodes.map((node) => LevelDealingStore.open(path.join(node.dir, 'dkg'))));
  const mapping = await StateStore.open(path.join(network.node(1).dir, 'abci', 'state'));
  try {
    let checked = 0;
    for (let keyIndex = 0; keyIndex < 65; keyIndex++) {
      const holders = stores.map((store, i) => ({ index: i + 1, share: store.share(1n, BigInt(keyIndex)) })).filter((h) => h.share !== undefined);
      if (holders.length < 3) continue;
      const secret = interpolate(holders.slice(0, 3).map((h) => ({ index: BigInt(h.index), value: h.share!.s })));
      const other = interpolate(holders.slice(-3).map((h) => ({ index: BigInt(h.index), value: h.share!.s })));
      assert.equal(other, secret, `key ${keyIndex}: two sets of k shares agree`);
      const expected = bytesToHex(encodePoint(mulSecret(G, secret)));
      const record = await mapping.readLatest(`key/${keyIndex.toString(16).padStart(16, '0')}`) as { public_key?: string } | undefined;
      if (record?.public_key === undefined) continue;
      assert.equal(record.public_key, expected, `key ${keyIndex}: the published public key is s·G`);
      checked++;
    }
    assert.ok(checked >= 60, `only ${checked} keys checked`);
  } finally {
    await Promise.all(stores.map((store) => store.close()));
    await mapping.close();
  }
  rmSync(dir, { recursive: true, force: true });
});

