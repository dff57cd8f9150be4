/**
 * bench:login — full logins per second and their latency on a real 5-node network on this machine
 * (CometBFT, torus-abci, torus-dkg, torus-retrieval per node, the development issuer), with our client.
 * A login is what `torus login` does: a lookup round, CommitmentRequest at the nodes, ShareRequest, then
 * decryption, a check of every share against its commitment and interpolation. Tokens are minted before
 * the clock starts (a real user brings their token from the provider).
 *
 *   npm run bench:login [-- --rounds 3 --sequential 40 --concurrent 16 --per-client 15]
 *
 * One client: `sequential` logins one after another -> p50/p99 latency. 16 clients: each runs `per-client`
 * logins back to back -> logins/s over the wall time, p50/p99. Figures are medians over rounds. Last line: JSON.
 */
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { median, percentile } from '../../testnet/src/stats.js';
import { DEV_VERIFIER } from '../../testnet/src/mapping-network.js';
import { loadNetwork } from '../../client/src/network.js';
import { TorusClient } from '../../client/src/sdk.js';
import { mintToken, startLoginNetwork, waitForFullBuffer } from '../test/support.js';

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '3' }, sequential: { type: 'string', default: '40' },
    concurrent: { type: 'string', default: '16' }, 'per-client': { type: 'string', default: '15' },
  },
});
const ROUNDS = Number(values.rounds);
const SEQUENTIAL = Number(values.sequential);
const CONCURRENT = Number(values.concurrent);
const PER_CLIENT = Number(values['per-client']);
const USERS = CONCURRENT;

console.log(`bench:login — 5 nodes; ${ROUNDS} rounds of ${SEQUENTIAL} sequential logins and ${CONCURRENT} clients × ${PER_CLIENT} logins`);
const env = await startLoginNetwork({ readyKeys: USERS + 2 });
try {
  const client = new TorusClient(loadNetwork(env.clientFile));
  const users = Array.from({ length: USERS }, (_, i) => `bench${i}-${Date.now()}@example.com`);
  for (const user of users) await client.assign(DEV_VERIFIER, user);
  // Assignments make key generation refill the buffer; let it finish so that only logins are measured.
  await waitForFullBuffer(env.net);
  const tokensFor = (user: string, count: number) => Promise.all(Array.from({ length: count }, () => mintToken(env.issuer, user, { jti: randomBytes(8).toString('hex') })));

  const login = async (c: TorusClient, user: string, token: string, expected: string): Promise<number> => {
    const start = performance.now();
    const result = await c.login(DEV_VERIFIER, token, { verifierId: user });
    const elapsed = performance.now() - start;
    if (result.address !== expected || result.badNodes.length > 0) throw new Error(`bad login for ${user}: ${JSON.stringify(result)}`);
    return elapsed;
  };
  const addresses = new Map<string, string>();
  for (const user of users) addresses.set(user, (await client.lookup(DEV_VERIFIER, user))?.address as string);

  // Warm-up: connections, JWKS caches, JIT.
  for (const token of await tokensFor(users[0] as string, 5)) await login(client, users[0] as string, token, addresses.get(users[0] as string) as string);

  const seqP50: number[] = [];
  const seqP99: number[] = [];
  const conRate: number[] = [];
  const conP50: number[] = [];
  const conP99: number[] = [];
  for (let round = 1; round <= ROUNDS; round++) {
    const user = users[round % USERS] as string;
    const tokens = await tokensFor(user, SEQUENTIAL);
    const sequential: number[] = [];
    for (const token of tokens) sequential.push(await login(client, user, token, addresses.get(user) as string));
    sequential.sort((a, b) => a - b);
    seqP50.push(percentile(sequential, 50));
    seqP99.push(percentile(sequential, 99));

    const perClient = await Promise.all(users.slice(0, CONCURRENT).map(async (u) => ({ user: u, tokens: await tokensFor(u, PER_CLIENT) })));
    const latencies: number[] = [];
    const started = performance.now();
    await Promise.all(perClient.map(async ({ user: u, tokens: ts }) => {
      const own = new TorusClient(loadNetwork(env.clientFile));
      for (const token of ts) latencies.push(await login(own, u, token, addresses.get(u) as string));
    }));
    const seconds = (performance.now() - started) / 1000;
    latencies.sort((a, b) => a - b);
    conRate.push(latencies.length / seconds);
    conP50.push(percentile(latencies, 50));
    conP99.push(percentile(latencies, 99));
    console.log(`round ${round}: 1 client p50 ${percentile(sequential, 50).toFixed(1)} ms, p99 ${percentile(sequential, 99).toFixed(1)} ms; ` +
      `${CONCURRENT} clients ${(latencies.length / seconds).toFixed(1)} logins/s, p50 ${percentile(latencies, 50).toFixed(1)} ms, p99 ${percentile(latencies, 99).toFixed(1)} ms`);
  }
  const round1 = (x: number) => Math.round(x * 10) / 10;
  const result = {
    p50_ms_1: round1(median(seqP50)), p99_ms_1: round1(median(seqP99)),
    logins_per_s_16: round1(median(conRate)), p50_ms_16: round1(median(conP50)), p99_ms_16: round1(median(conP99)),
    nodes: 5, rounds: ROUNDS, sequential_logins: SEQUENTIAL, concurrent_clients: CONCURRENT, logins_per_client: PER_CLIENT,
  };
  console.log(`medians: 1 client p50 ${result.p50_ms_1} ms (goal ≤ 60), ${CONCURRENT} clients ${result.logins_per_s_16} logins/s (goal ≥ 50)`);
  console.log(JSON.stringify(result));
} finally {
  await env.net.stop();
}
