/**
 * bench:abci — AssignKey throughput and commit latency through a 4-validator torus-abci network, and the
 * same load, on identically configured networks in the same run, through CometBFT's built-in kvstore
 * (in-process, the required baseline) and through the same kvstore served over the ABCI socket by
 * abci-cli (what any external application pays for the socket). Prints all three, the ratios, and (last
 * line) a JSON object with the figures.
 *
 *   npm run bench:abci [-- --rounds 3 --txs 4000 --validators 4 --window 1500 --submitters 16 --batch 10]
 *
 * Method: all transactions are built and signed before the clock starts. They are submitted with
 * broadcast_tx_sync in JSON-RPC batches, round-robin to every validator, keeping at most `window`
 * submitted-but-uncommitted. Commit time is when a poller sees the block containing the tx on validator 1.
 * Throughput is committed txs / (last commit - first submit). CPU seconds per process kind are read from
 * /proc for the measured interval. Each network runs `rounds` measurements (fresh users each time) and
 * the figures reported are medians over rounds; ratios are ratios of medians from this one run.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { abciQuery, broadcastTxSync, broadcastTxSyncBatch, rpcCall, status } from '../../core/comet/rpc.js';
import { buildSignedTx } from '../../core/tx/build.js';
import { MappingNetwork, type NetworkApp } from '../../testnet/src/mapping-network.js';
import { median, percentile } from '../../testnet/src/stats.js';

const { values } = parseArgs({
  options: { rounds: { type: 'string', default: '3' }, txs: { type: 'string', default: '4000' }, batch: { type: 'string', default: '10' }, validators: { type: 'string', default: '4' }, window: { type: 'string', default: '1500' }, 'timeout-commit': { type: 'string', default: '300ms' }, recheck: { type: 'string', default: 'true' }, submitters: { type: 'string', default: '16' } },
});
const ROUNDS = Number(values.rounds);
const TXS = Number(values.txs);
const VALIDATORS = Number(values.validators);
const WINDOW = Number(values.window);
const TIMEOUT_COMMIT = values['timeout-commit'] as string;
const RECHECK = values.recheck === 'true';
const SUBMITTERS = Number(values.submitters);
const BATCH = Number(values.batch);

interface CpuSplit {
  readonly cometbft: number;
  readonly app: number;
  readonly client: number;
}

function cpuNow(net: MappingNetwork): CpuSplit {
  const usage = process.cpuUsage();
  return {
    cometbft: net.nodes.reduce((sum, node) => sum + node.comet.cpuSeconds(), 0),
    app: net.nodes.reduce((sum, node) => sum + (node.abci?.cpuSeconds() ?? 0), 0),
    client: (usage.user + usage.system) / 1e6,
  };
}

interface RunResult {
  readonly tps: number;
  readonly p50: number;
  readonly p99: number;
  readonly committed: number;
  readonly rejected: number;
  readonly seconds: number;
  readonly cpu: CpuSplit;
}

const sha256Hex = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex').toUpperCase();

async function network(app: NetworkApp, dir: string): Promise<MappingNetwork> {
  const net = await MappingNetwork.open({
    dir, validators: VALIDATORS, app, keyBufferTarget: ROUNDS * TXS + 50, timeoutCommit: TIMEOUT_COMMIT, mempoolSize: 10_000,
    maxTxLifetimeBlocks: 100_000, mempoolRecheck: RECHECK, devAttestedKeys: true,
  });
  await net.start();
  return net;
}

/** Fills the torus buffer with ROUNDS * TXS ready keys (attested by k members), outside the measured runs. */
async function prepareKeys(net: MappingNetwork): Promise<void> {
  const expires = BigInt((await status(net.node(1).rpcUrl)).height + 50_000);
  const batch: Promise<unknown>[] = [];
  for (let i = 0; i < ROUNDS * TXS; i++) {
    const node = net.node((i % VALIDATORS) + 1);
    batch.push(broadcastTxSync(node.rpcUrl, net.attestedKeyTx(i, expires)));
    if (batch.length >= 200) await Promise.all(batch.splice(0));
  }
  await Promise.all(batch);
  for (;;) {
    const { value } = await abciQuery(net.node(1).rpcUrl, '/buffer');
    if ((value as { ready: number }).ready >= ROUNDS * TXS) return;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

async function buildTxs(app: NetworkApp, net: MappingNetwork, round: number): Promise<Uint8Array[]> {
  if (app !== 'torus') {
    // Same size class as a signed AssignKey (about 120 bytes).
    return Array.from({ length: TXS }, (_, i) => new TextEncoder().encode(`user-${round}-${i}-${'x'.repeat(80)}=${'k'.repeat(24)}${i}`));
  }
  const expires = BigInt((await status(net.node(1).rpcUrl)).height + 50_000);
  const contexts = net.nodes.map((node) => net.txContext(node.index));
  return Array.from({ length: TXS }, (_, i) =>
    buildSignedTx(contexts[i % contexts.length]!, { type: 'assign_key', verifier: 'google', verifierId: `user-${round}-${i}@example.com` }, expires));
}

async function measure(app: NetworkApp, net: MappingNetwork, txs: Uint8Array[], assignedBefore: number): Promise<RunResult> {
  const sentAt = new Map<string, number>();
  const latencies: number[] = [];
  let rejected = 0;
  let committed = 0;
  let lastCommit = 0;
  const url1 = net.node(1).rpcUrl;
  let height = (await status(url1)).height;
  let done = false;

  let pollerError: unknown;
  const poller = (async () => {
    while (!done) {
      const latest = (await status(url1)).height;
      for (let h = height + 1; h <= latest; h++) {
        const block = await rpcCall(url1, 'block', { height: String(h) }) as { block: { data: { txs: string[] | null } } };
        const now = performance.now();
        for (const b64 of block.block.data.txs ?? []) {
          const hash = sha256Hex(Buffer.from(b64, 'base64'));
          const sent = sentAt.get(hash);
          if (sent === undefined) continue;
          sentAt.delete(hash);
          latencies.push(now - sent);
          committed++;
          lastCommit = now;
        }
      }
      height = latest;
      if (committed + rejected >= txs.length) break;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  })().catch((err: unknown) => {
    pollerError = err;
  });

  const cpuBefore = cpuNow(net);
  const start = performance.now();
  let next = 0;
  const submitters = Array.from({ length: SUBMITTERS }, async () => {
    while (next < txs.length) {
      if (sentAt.size + BATCH > WINDOW) {
        await new Promise((resolve) => setTimeout(resolve, 5));
        continue;
      }
      const from = next;
      next = Math.min(txs.length, next + BATCH);
      const batch = txs.slice(from, next);
      const node = net.node((Math.floor(from / BATCH) % net.nodes.length) + 1);
      const hashes = batch.map(sha256Hex);
      const sent = performance.now();
      for (const hash of hashes) sentAt.set(hash, sent);
      const answers = await broadcastTxSyncBatch(node.rpcUrl, batch);
      answers.forEach((answer, i) => {
        if (answer instanceof Error || answer.code !== 0) {
          sentAt.delete(hashes[i] as string);
          rejected++;
        }
      });
    }
  });
  try {
    await Promise.all(submitters);
    const deadline = Date.now() + 120_000;
    while (committed + rejected < txs.length && Date.now() < deadline && pollerError === undefined) await new Promise((resolve) => setTimeout(resolve, 50));
  } finally {
    done = true;
    await poller;
  }
  if (pollerError !== undefined) throw pollerError;
  if (committed + rejected < txs.length) throw new Error(`only ${committed} of ${txs.length} txs committed within 120 s`);
  if (app === 'torus') {
    // A block is visible over RPC slightly before the application has committed it.
    let assigned = -1;
    for (let tries = 0; tries < 100 && assigned !== assignedBefore + committed; tries++) {
      assigned = ((await abciQuery(url1, '/buffer')).value as { assigned: number }).assigned;
      if (assigned !== assignedBefore + committed) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    if (assigned !== assignedBefore + committed) throw new Error(`${committed} assignments were included in blocks but the state shows ${assigned - assignedBefore}`);
  }
  const cpuAfter = cpuNow(net);
  latencies.sort((a, b) => a - b);
  const seconds = (lastCommit - start) / 1000;
  const cpu = {
    cometbft: cpuAfter.cometbft - cpuBefore.cometbft, app: cpuAfter.app - cpuBefore.app, client: cpuAfter.client - cpuBefore.client,
  };
  return { tps: committed / seconds, p50: percentile(latencies, 50), p99: percentile(latencies, 99), committed, rejected, seconds, cpu };
}

function medianResult(results: readonly RunResult[]): RunResult {
  return {
    tps: median(results.map((r) => r.tps)), p50: median(results.map((r) => r.p50)), p99: median(results.map((r) => r.p99)),
    committed: median(results.map((r) => r.committed)), rejected: median(results.map((r) => r.rejected)),
    seconds: median(results.map((r) => r.seconds)),
    cpu: {
      cometbft: median(results.map((r) => r.cpu.cometbft)), app: median(results.map((r) => r.cpu.app)), client: median(results.map((r) => r.cpu.client)),
    },
  };
}

async function run(app: NetworkApp): Promise<RunResult> {
  const dir = mkdtempSync(path.join(tmpdir(), `bench-${app}-`));
  const net = await network(app, dir);
  try {
    if (app === 'torus') await prepareKeys(net);
    const results: RunResult[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const txs = await buildTxs(app, net, round);
      await new Promise((resolve) => setTimeout(resolve, 1000));
      const result = await measure(app, net, txs, round * TXS);
      console.log(`${app.padEnd(14)} round ${round + 1}: ${result.committed} committed, ${result.rejected} rejected in ${result.seconds.toFixed(2)} s: ` +
        `${result.tps.toFixed(1)} tx/s, commit latency p50 ${result.p50.toFixed(0)} ms, p99 ${result.p99.toFixed(0)} ms; ` +
        `CPU s: cometbft ${result.cpu.cometbft.toFixed(1)}, app ${result.cpu.app.toFixed(1)}, client ${result.cpu.client.toFixed(1)}`);
      results.push(result);
    }
    return medianResult(results);
  } finally {
    await net.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

console.log(`bench:abci — ${ROUNDS} rounds of ${TXS} txs, ${VALIDATORS} validators on loopback, timeout_commit ${TIMEOUT_COMMIT}, window ${WINDOW}, batches of ${BATCH}`);
const torus = await run('torus');
const kvstore = await run('kvstore');
const kvstoreSocket = await run('kvstore-socket');
const round = (x: number) => Math.round(x * 10) / 10;
const ratio = (a: number, b: number) => Math.round((a / b) * 100) / 100;
for (const [name, r] of [['torus', torus], ['kvstore', kvstore], ['kvstore-socket', kvstoreSocket]] as const) {
  console.log(`median ${name.padEnd(14)} ${r.tps.toFixed(1)} tx/s, p50 ${r.p50.toFixed(0)} ms, p99 ${r.p99.toFixed(0)} ms`);
}
console.log(`ratio torus/kvstore: ${ratio(torus.tps, kvstore.tps)}; torus/kvstore over the ABCI socket: ${ratio(torus.tps, kvstoreSocket.tps)}; ` +
  `kvstore over the socket/built-in: ${ratio(kvstoreSocket.tps, kvstore.tps)}`);
console.log(JSON.stringify({
  assign_tps: round(torus.tps), kvstore_tps: round(kvstore.tps), ratio: ratio(torus.tps, kvstore.tps),
  assign_p50_ms: Math.round(torus.p50), assign_p99_ms: Math.round(torus.p99),
  kvstore_p50_ms: Math.round(kvstore.p50), kvstore_p99_ms: Math.round(kvstore.p99),
  kvstore_socket_tps: round(kvstoreSocket.tps), ratio_vs_socket_kvstore: ratio(torus.tps, kvstoreSocket.tps),
  cpu_ms_per_tx: { torus: round((torus.cpu.cometbft + torus.cpu.app + torus.cpu.client) * 1000 / torus.committed), kvstore: round((kvstore.cpu.cometbft + kvstore.cpu.client) * 1000 / kvstore.committed), kvstore_socket: round((kvstoreSocket.cpu.cometbft + kvstoreSocket.cpu.app + kvstoreSocket.cpu.client) * 1000 / kvstoreSocket.committed) },
  rounds: ROUNDS, txs: TXS, validators: VALIDATORS, timeout_commit: TIMEOUT_COMMIT,
}));
