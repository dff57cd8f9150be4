/**
 * End-to-end runs of the key-generation engine: all nodes in one process, messages delivered in a seeded
 * shuffled order, the first valid proposal deciding and the first valid publication fixing each key.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { bytesToHex } from '../../core/encoding/bytes.js';
import { Cluster, checkKey, type ClusterOptions } from './harness.js';

function runCluster(opts: ClusterOptions, keys: readonly bigint[]): Cluster {
  const cluster = new Cluster(opts);
  cluster.start(keys);
  cluster.run();
  return cluster;
}

function assertHealthy(cluster: Cluster, keys: readonly bigint[]): void {
  assert.deepEqual(cluster.invalidTxs, [], 'every proposal and publication is valid');
  assert.deepEqual(cluster.leaks, [], 'no share proof before the decision');
  for (const keyIndex of keys) {
    const check = checkKey(cluster, keyIndex);
    assert.ok(check.dealers.length >= cluster.opts.k + cluster.opts.t);
  }
  // Every live node finished every key and dropped its working state.
  for (const i of cluster.live) assert.deepEqual(cluster.engine(i).activeKeys(), [], `node ${i} still holds key state`);
  for (const i of cluster.live) for (const keyIndex of keys) assert.equal(cluster.engine(i).status(keyIndex).phase, 'finished');
}

function perKeyPerNode(cluster: Cluster, keys: number): string {
  const per = cluster.totalMs() / keys / cluster.live.length;
  const parts = [...cluster.timing.entries()]
    .sort(([, a], [, b]) => b.ms - a.ms)
    .map(([label, { ms, count }]) => `${label} ${(ms / keys / cluster.live.length).toFixed(1)}ms/${count}`);
  return `${per.toFixed(1)} ms CPU per key per node (${parts.join(', ')})`;
}

describe('keygen engine, honest runs', () => {
  it('n=5 k=3 t=1: three keys at once, shuffled delivery', (t) => {
    const keys = [1n, 2n, 3n];
    const cluster = runCluster({ n: 5, k: 3, t: 1, seed: 11 }, keys);
    assertHealthy(cluster, keys);
    assert.deepEqual(cluster.harmfulRejections(), [], 'an honest run rejects nothing');
    // Distinct keys have distinct public keys.
    const pks = keys.map((k) => bytesToHex(checkKey(cluster, k).publicKey.toBytes(true)));
    assert.equal(new Set(pks).size, keys.length);
    t.diagnostic(perKeyPerNode(cluster, keys.length));
  });

  it('n=9 k=5 t=2: two keys at once, shuffled delivery', (t) => {
    const keys = [7n, 8n];
    const cluster = runCluster({ n: 9, k: 5, t: 2, seed: 12 }, keys);
    assertHealthy(cluster, keys);
    assert.deepEqual(cluster.harmfulRejections(), []);
    t.diagnostic(perKeyPerNode(cluster, keys.length));
  });

  it('several seeds at n=5 all agree and finish', () => {
    for (const seed of [1, 2, 3, 4, 5, 6]) {
      const keys = [1n, 2n];
      const cluster = runCluster({ n: 5, k: 3, t: 1, seed }, keys);
      assertHealthy(cluster, keys);
      assert.deepEqual(cluster.harmfulRejections(), [], `seed ${seed}`);
    }
  });

  it('curve checks on every point pair give the same outcome', (t) => {
    const keys = [1n, 2n];
    const cluster = runCluster({ n: 5, k: 3, t: 1, seed: 13, curveChecksOnly: true }, keys);
    assertHealthy(cluster, keys);
    assert.deepEqual(cluster.harmfulRejections(), []);
    t.diagnostic(`curve checks only: ${perKeyPerNode(cluster, keys.length)}`);
  });

  it('through the wire codec, with seeded dealings and decisions given as dealer lists', (t) => {
    const keys = [5n, 6n];
    const cluster = runCluster({ n: 5, k: 3, t: 1, seed: 14, wire: true, seededDealings: true, listDecision: true }, keys);
    assertHealthy(cluster, keys);
    assert.deepEqual(cluster.harmfulRejections(), []);
    t.diagnostic(`with wire codec: ${perKeyPerNode(cluster, keys.length)}`);
  });

  it('n=9 through the wire codec', (t) => {
    const keys = [1n];
    const cluster = runCluster({ n: 9, k: 5, t: 2, seed: 15, wire: true }, keys);
    assertHealthy(cluster, keys);
    t.diagnostic(`n=9 with wire codec: ${perKeyPerNode(cluster, keys.length)}`);
  });

  it('seeded dealings and seeded delivery reproduce the same decisions and keys', () => {
    const run = () => {
      const keys = [1n, 2n];
      const cluster = runCluster({ n: 5, k: 3, t: 1, seed: 99, seededDealings: true }, keys);
      return keys.map((k) => {
        const check = checkKey(cluster, k);
        return `${check.dealers.join()}:${bytesToHex(check.publicKey.toBytes(true))}`;
      });
    };
    assert.deepEqual(run(), run());
  });

  it('decisions after every dealing completed everywhere (proposal from a quiet network)', () => {
    const keys = [1n, 2n];
    const cluster = runCluster({ n: 5, k: 3, t: 1, seed: 16, autoDecide: 'quiet' }, keys);
    assertHealthy(cluster, keys);
    // Before any decision every node completed all n dealings and proposed every key once.
    const completions = cluster.events.filter((e) => e.type === 'dealing-complete');
    assert.equal(completions.length, keys.length * 5 * 5);
    assert.equal(cluster.proposals.length, keys.length * 5);
  });
});
