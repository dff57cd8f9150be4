/**
 * Key-generation throughput through the full stack: n nodes on this machine, each with cometbft,
 * torus-abci and torus-dkg (libp2p on loopback), filling a key buffer. Keys/s is measured in steady state,
 * from the moment `warmup` keys are ready until `target` are, so process start-up is not counted.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { abciQuery } from '../../core/comet/rpc.js';
import { MappingNetwork } from '../../testnet/src/mapping-network.js';

export interface FullStackResult {
  readonly keysPerSecond: number;
  readonly keys: number;
  readonly seconds: number;
  readonly cpuSecondsPerKey: { readonly cometbft: number; readonly abci: number; readonly dkg: number };
}

export async function measureFullStack(validators: number, target: number, warmup: number, inFlight: number): Promise<FullStackResult> {
  const dir = mkdtempSync(path.join(tmpdir(), 'bench-dkg-'));
  const network = await MappingNetwork.open({ dir, validators, keyBufferTarget: target, keygen: true, keygenInFlight: inFlight, timeoutCommit: '200ms' });
  const ready = async () => ((await abciQuery(network.node(1).rpcUrl, '/buffer')).value as { ready: number }).ready;
  const cpu = () => ({
    cometbft: network.nodes.reduce((sum, node) => sum + node.comet.cpuSeconds(), 0),
    abci: network.nodes.reduce((sum, node) => sum + (node.abci?.cpuSeconds() ?? 0), 0),
    dkg: network.nodes.reduce((sum, node) => sum + (node.keygen?.cpuSeconds() ?? 0), 0),
  });
  try {
    await network.start();
    const deadline = Date.now() + 600_000;
    let startedAt = 0;
    let startCount = 0;
    let cpuStart = cpu();
    for (;;) {
      const count = await ready();
      if (startedAt === 0 && count >= warmup) {
        startedAt = performance.now();
        startCount = count;
        cpuStart = cpu();
      }
      if (count >= target) {
        const seconds = (performance.now() - startedAt) / 1000;
        const keys = count - startCount;
        const cpuEnd = cpu();
        const per = (a: number, b: number) => Math.round(((a - b) / keys) * 1000) / 1000;
        return {
          keysPerSecond: keys / seconds, keys, seconds,
          cpuSecondsPerKey: { cometbft: per(cpuEnd.cometbft, cpuStart.cometbft), abci: per(cpuEnd.abci, cpuStart.abci), dkg: per(cpuEnd.dkg, cpuStart.dkg) },
        };
      }
      if (Date.now() > deadline) throw new Error(`only ${count} of ${target} keys ready after 10 minutes (logs in ${dir})`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  } finally {
    await network.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
