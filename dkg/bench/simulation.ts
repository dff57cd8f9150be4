/**
 * Benchmark measures of the key-generation engine in one process:
 * - `measureSimulation`: the deterministic network simulation (dkg/test/simulation.ts) with the real mapping
 *   state machine as ledger, all nodes honest, modest delays and reordering, several keys in flight;
 *   keys per wall-clock second.
 * - `measureCeiling`: the same engine code with no network and no ledger: n engines, immediate FIFO delivery,
 *   the first emitted proposal decides and the first emitted publication fixes each key; process CPU time per key.
 */
import { KeygenEngine } from '../src/protocol/engine.js';
import type { KeygenMessage, Output } from '../src/protocol/messages.js';
import { MemoryDealingStore } from '../src/protocol/store.js';
import { membersOf, testSigners } from '../test/harness.js';
import { Simulation } from '../test/simulation.js';

export async function measureSimulation(n: number, k: number, t: number, keys: number, seed: number): Promise<{ keysPerSecond: number; seconds: number }> {
  const sim = new Simulation({
    n, k, t, keys, seed,
    maxDelay: 2, pDrop: 0, pDup: 0, blockEvery: 2, startJitter: 2,
    maxKeysInFlight: Math.min(keys, 4),
    seededDealings: false,
    maxTicks: 100_000,
  });
  const start = performance.now();
  sim.run();
  const seconds = (performance.now() - start) / 1000;
  await Promise.resolve();
  return { keysPerSecond: keys / seconds, seconds };
}

export async function measureCeiling(n: number, k: number, t: number, keys: number): Promise<{ keysPerSecond: number; cpuSecondsPerKey: number }> {
  const signers = testSigners(n);
  const members = membersOf(signers);
  const engines = new Map<number, KeygenEngine>();
  for (let i = 1; i <= n; i++) {
    engines.set(i, new KeygenEngine({
      chainId: 'torus-dkg-ceiling', epoch: 1n, n, k, t, self: i, members,
      signer: signers[i - 1] as (typeof signers)[number], store: new MemoryDealingStore(),
    }));
  }
  const queue: Array<{ from: number; to: number; messages: readonly KeygenMessage[] }> = [];
  const decided = new Set<bigint>();
  const ready = new Set<bigint>();
  const absorb = (from: number, out: Output): void => {
    for (const { to, messages } of out.outbox) queue.push({ from, to, messages });
    for (const tx of out.txs) {
      if (tx.type === 'keygen_propose' && !decided.has(tx.keyIndex)) {
        decided.add(tx.keyIndex);
        for (const [i, e] of engines) absorbLater.push([i, () => e.onDecided(tx.keyIndex, tx)]);
      } else if (tx.type === 'key_publish' && !ready.has(tx.keyIndex)) {
        ready.add(tx.keyIndex);
        for (const e of engines.values()) e.onKeyReady(tx.keyIndex);
      }
    }
  };
  const absorbLater: Array<[number, () => Output]> = [];
  const startCpu = process.cpuUsage();
  for (let κ = 0; κ < keys; κ++) for (const [i, e] of engines) absorb(i, e.startKey(BigInt(κ)));
  for (let head = 0; ; ) {
    if (absorbLater.length > 0) {
      const [i, call] = absorbLater.shift() as [number, () => Output];
      absorb(i, call());
      continue;
    }
    if (head >= queue.length) break;
    const { from, to, messages } = queue[head++] as (typeof queue)[number];
    absorb(to, (engines.get(to) as KeygenEngine).receiveBatch(from, messages));
    if (head > 10_000) {
      queue.splice(0, head);
      head = 0;
    }
  }
  const used = process.cpuUsage(startCpu);
  if (ready.size !== keys) throw new Error(`ceiling run finished ${ready.size} of ${keys} keys`);
  await Promise.resolve();
  const cpuSecondsPerKey = (used.user + used.system) / 1e6 / keys;
  return { keysPerSecond: 1 / cpuSecondsPerKey, cpuSecondsPerKey };
}
