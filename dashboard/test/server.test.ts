/**
 * The dashboard server against fake nodes (fake-network.ts) and the real development issuer: what the API
 * reports for alive, failing and unreachable nodes (with and without /readyz), the epoch and the buffer from the
 * most advanced CometBFT, the bounded buffer history and the key-generation rate, recent assignments (only new
 * ones, masked, with their commit time), the login demo's network and token proxy, the description files
 * changing under a running server, every wrong description or option, and `torus dashboard` as a program.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { decodeJwt } from 'jose';
import { z } from 'zod';
import { REPO_ROOT } from '../../core/comet/binary.js';
import { DevIssuer } from '../../retrieval/src/verifiers/dev-issuer.js';
import { AssignmentsAnswer, BufferHistoryAnswer, ClientNetworkAnswer, StatusAnswer } from '../src/api.js';
import { NetworkCollector } from '../src/collector.js';
import { parseListen } from '../src/commands.js';
import { localDashboardPort } from '../src/local-network.js';
import { NetworkSource } from '../src/network-source.js';
import { startDashboard, type RunningDashboard } from '../src/server.js';
import { startFakeNode, writeClientNetwork, writeLocalNetwork, type FakeChain, type FakeNode } from './fake-network.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function freshChain(): FakeChain {
  const t0 = Date.parse('2026-01-01T00:00:00Z');
  return {
    chainId: 'torus-test-chain',
    epoch: { id: 1, n: 3, k: 2, t: 0 },
    buffer: { target: 10, next_index: 12, generating: 2, ready: 8, assigned: 2 },
    assignments: [
      { key_index: 0, verifier: 'torus-dev', verifier_id: 'alice@example.com', address: `0x${'a'.repeat(40)}`, height: 5, created: true },
      { key_index: 0, verifier: 'torus-dev', verifier_id: 'alice@example.com', address: `0x${'a'.repeat(40)}`, height: 7, created: false },
      { key_index: 1, verifier: 'torus-dev', verifier_id: 'bob@example.com', address: `0x${'b'.repeat(40)}`, height: 9, created: true },
      { key_index: 2, verifier: 'torus-dev', verifier_id: 'nobody@example.com', address: `0x${'c'.repeat(40)}`, height: 11, created: true, refused: true },
    ],
    // Heights 1..10 exist; the assignment at 9 was committed at the time of block 10.
    blockTimes: new Map(Array.from({ length: 10 }, (_, i) => [i + 1, new Date(t0 + (i + 1) * 60_000).toISOString()])),
  };
}

async function getJson<T>(url: string, schema: z.ZodType<T>): Promise<T> {
  const response = await fetch(url);
  assert.equal(response.status, 200, `${url}: HTTP ${response.status}`);
  return schema.parse(await response.json());
}

async function startIssuer(): Promise<{ url: string; server: Server }> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  server.on('request', (await DevIssuer.create({ issuer: url })).app());
  return { url, server };
}

describe('the dashboard server on a local network description', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'torus-dashboard-'));
  const chain = freshChain();
  let nodes: FakeNode[] = [];
  let issuer: { url: string; server: Server };
  let dashboard: RunningDashboard;
  let file: string;

  before(async () => {
    issuer = await startIssuer();
    nodes = [
      await startFakeNode(chain, 1, { ready: 200, height: 10 }),
      await startFakeNode(chain, 2, { health: 503, ready: 503, readyBody: { ready: false, failed: ['comet'], checks: { comet: { ok: false, detail: 'catching up' } } }, height: 12 }),
      await startFakeNode(chain, 3, { health: 'down' }),
    ];
    file = writeLocalNetwork(dir, chain, nodes, issuer.url);
    // A long interval: the tests refresh by hand.
    dashboard = await startDashboard({ networkFile: file, port: 0, intervalMs: 60_000, requestTimeoutMs: 1000 });
    await dashboard.collector.refresh();
  });
  after(async () => {
    await dashboard.close();
    await Promise.all(nodes.map((node) => node.close()));
    issuer.server.closeAllConnections();
    issuer.server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('reports each node: alive and ready, failing with its reasons, unreachable', async () => {
    const status = await getJson(`${dashboard.url}api/status`, StatusAnswer);
    assert.equal(status.network.kind, 'local-network');
    assert.equal(status.network.chain_id, 'torus-test-chain');
    assert.ok(status.updated_at !== null);
    const [one, two, three] = status.nodes;
    assert.deepEqual([one?.liveness, one?.readiness, one?.height], ['alive', 'ready', 10]);
    assert.deepEqual([two?.liveness, two?.readiness, two?.height], ['failing', 'not-ready', 12]);
    assert.match(two?.liveness_detail ?? '', /comet/);
    assert.equal(two?.readiness_detail, 'comet: catching up');
    assert.deepEqual([three?.liveness, three?.readiness, three?.height], ['unreachable', 'unknown', null]);
    assert.match(three?.comet_detail ?? '', /failed/);
  });

  it('reads the epoch and the buffer from the most advanced CometBFT first', async () => {
    const status = await getJson(`${dashboard.url}api/status`, StatusAnswer);
    assert.deepEqual(status.epoch, { id: 1, n: 3, k: 2, t: 0 });
    assert.deepEqual(status.buffer, chain.buffer);
    assert.ok(nodes[1]?.calls.includes('abci_query'), 'node 2 (height 12) was asked');
    assert.ok(!nodes[0]?.calls.includes('abci_query'), 'node 1 (height 10) was not needed');
  });

  it('shows new assignments only, newest first, masked, with the time of the block that committed them', async () => {
    const answer = await getJson(`${dashboard.url}api/assignments`, AssignmentsAnswer);
    assert.equal(answer.available, true);
    assert.deepEqual(answer.items.map((a) => [a.key_index, a.verifier_id, a.height]), [[1, 'b***@example.com', 9], [0, 'a***@example.com', 5]]);
    assert.equal(answer.items[0]?.time, chain.blockTimes.get(10));
    assert.equal(answer.items[1]?.time, chain.blockTimes.get(6));
    // No answer of the API carries a whole verifier id.
    for (const route of ['status', 'buffer', 'assignments']) {
      const text = await (await fetch(`${dashboard.url}api/${route}`)).text();
      assert.ok(!text.includes('alice@') && !text.includes('bob@'), route);
    }
  });

  it('an assignment whose next block does not exist yet gets its time once it does', async () => {
    chain.assignments.push({ key_index: 3, verifier: 'torus-dev', verifier_id: 'carol@example.com', address: `0x${'d'.repeat(40)}`, height: 10, created: true });
    chain.buffer = { ...chain.buffer, assigned: 3, ready: 7 };
    await dashboard.collector.refresh();
    let items = (await getJson(`${dashboard.url}api/assignments`, AssignmentsAnswer)).items;
    assert.deepEqual([items[0]?.key_index, items[0]?.verifier_id, items[0]?.time], [3, 'c***@example.com', null]);
    chain.blockTimes.set(11, new Date().toISOString());
    await dashboard.collector.refresh();
    items = (await getJson(`${dashboard.url}api/assignments`, AssignmentsAnswer)).items;
    assert.equal(items[0]?.time, chain.blockTimes.get(11));
  });

  it('on another chain (the next epoch), forgets what it knew of the last one', async () => {
    const saved = { chainId: chain.chainId, assignments: chain.assignments };
    chain.chainId = 'torus-test-chain-e2';
    chain.assignments = [{ key_index: 1, verifier: 'torus-dev', verifier_id: 'dora@example.com', address: `0x${'e'.repeat(40)}`, height: 3, created: true }];
    try {
      await dashboard.collector.refresh();
      const answer = await getJson(`${dashboard.url}api/assignments`, AssignmentsAnswer);
      assert.deepEqual(answer.items.map((a) => [a.key_index, a.verifier_id, a.time]), [[1, 'd***@example.com', chain.blockTimes.get(4)]]);
      assert.equal((await getJson(`${dashboard.url}api/status`, StatusAnswer)).network.chain_id, 'torus-test-chain-e2');
    } finally {
      Object.assign(chain, saved);
      await dashboard.collector.refresh();
    }
  });

  it('gives the login demo its network, and development tokens through the issuer', async () => {
    const setup = await getJson(`${dashboard.url}api/client-network`, ClientNetworkAnswer);
    assert.equal(setup.problem, null);
    assert.equal(setup.verifier, 'torus-dev');
    assert.equal(setup.network?.['dev_issuer'], issuer.url);
    const token = await fetch(`${dashboard.url}api/dev-token`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: 'erin@example.com' }) });
    assert.equal(token.status, 200);
    const claims = decodeJwt(z.object({ id_token: z.string() }).parse(await token.json()).id_token);
    assert.equal(claims['email'], 'erin@example.com');
    assert.equal(claims['iss'], issuer.url);
    for (const [body, pattern] of [['{"email":"not an email"}', /expected \{"email"/], ['{"email": "a@b.c", "extra": 1}', /expected/], ['{nope', /not valid JSON/]] as const) {
      const refused = await fetch(`${dashboard.url}api/dev-token`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
      assert.equal(refused.status, 400, body);
      assert.match(z.object({ error: z.string() }).parse(await refused.json()).error, pattern);
    }
  });

  it('serves the page with a strict content policy, and JSON 404s', async () => {
    const page = await fetch(dashboard.url);
    assert.equal(page.status, 200);
    assert.match(await page.text(), /<title>Torus network dashboard<\/title>/);
    assert.match(page.headers.get('content-security-policy') ?? '', /default-src 'self'/);
    assert.equal(page.headers.get('x-content-type-options'), 'nosniff');
    const missing = await fetch(`${dashboard.url}api/nothing`);
    assert.equal(missing.status, 404);
    assert.deepEqual(await missing.json(), { error: 'no such API route' });
    assert.equal((await fetch(`${dashboard.url}api/status`)).headers.get('cache-control'), 'no-store');
  });

  it('follows the description when it changes, and keeps the last good one while it is broken', async () => {
    const fourth = await startFakeNode(chain, 4, { height: 13 });
    nodes.push(fourth);
    writeLocalNetwork(dir, chain, nodes, issuer.url);
    await dashboard.collector.refresh();
    let status = await getJson(`${dashboard.url}api/status`, StatusAnswer);
    assert.deepEqual(status.nodes.map((n) => n.index), [1, 2, 3, 4]);
    writeFileSync(file, '{"half written');
    await dashboard.collector.refresh();
    status = await getJson(`${dashboard.url}api/status`, StatusAnswer);
    assert.match(status.network.problem ?? '', /testnet\.json is not JSON/);
    assert.equal(status.nodes.length, 4);
    writeLocalNetwork(dir, chain, nodes, issuer.url);
    await dashboard.collector.refresh();
    assert.equal((await getJson(`${dashboard.url}api/status`, StatusAnswer)).network.problem, null);
  });
});

describe('the buffer history and the key-generation rate', () => {
  it('keeps a bounded history by time and count, and measures keys finished per second', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'torus-dashboard-history-'));
    const chain = freshChain();
    const node = await startFakeNode(chain, 1, { height: 10 });
    try {
      const file = writeClientNetwork(path.join(dir, 'client.json'), chain, [node]);
      const source = new NetworkSource(file, { comet: [node.comet] });
      const measuring = new NetworkCollector(source);
      await measuring.refresh();
      assert.equal(measuring.status().keygen_rate, null, 'no rate from one sample');
      await sleep(1100);
      chain.buffer = { ...chain.buffer, ready: chain.buffer.ready + 3, generating: 0 };
      await measuring.refresh();
      const rate = measuring.status().keygen_rate;
      assert.ok(rate !== null && rate.keys_per_second > 2 && rate.keys_per_second < 3, `3 keys in about 1.1 s: ${JSON.stringify(rate)}`);

      const collector = new NetworkCollector(source, { intervalMs: 100, historyMs: 400 });
      for (let i = 0; i < 12; i++) {
        await collector.refresh();
        await sleep(60);
      }
      const history = BufferHistoryAnswer.parse(collector.history());
      const last = history.samples.at(-1)?.t ?? 0;
      assert.ok(history.samples.length <= 5, `at most 400/100 + 1 samples, got ${history.samples.length}`);
      assert.ok(history.samples.every((s) => s.t >= last - 400));
    } finally {
      await node.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('network descriptions and options', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'torus-dashboard-source-'));
  const chain = freshChain();
  let nodes: FakeNode[] = [];
  before(async () => {
    nodes = [await startFakeNode(chain, 1, { height: 4 }), await startFakeNode(chain, 2), await startFakeNode(chain, 3)];
  });
  after(async () => {
    await Promise.all(nodes.map((node) => node.close()));
    rmSync(dir, { recursive: true, force: true });
  });

  it('a client network file takes CometBFT RPCs in its node order; without dev_issuer there is no login demo', async () => {
    const file = writeClientNetwork(path.join(dir, 'plain.json'), chain, nodes);
    const collector = new NetworkCollector(new NetworkSource(file, { comet: [nodes[0]?.comet as string] }));
    await collector.refresh();
    const status = collector.status();
    assert.equal(status.network.kind, 'client-network');
    assert.deepEqual(status.nodes.map((n) => [n.index, n.comet_rpc === null, n.height]), [[1, false, 4], [2, true, null], [3, true, null]]);
    assert.deepEqual(status.epoch, chain.epoch);
    assert.match('problem' in collector.view.login ? collector.view.login.problem : '', /names no dev_issuer/);
  });

  it('refuses wrong files and options, naming what is wrong', () => {
    const client = writeClientNetwork(path.join(dir, 'client.json'), chain, nodes, 'http://127.0.0.1:1');
    const local = writeLocalNetwork(dir, chain, nodes, 'http://127.0.0.1:1');
    assert.throws(() => new NetworkSource(local, { comet: ['http://127.0.0.1:26657'] }), /--comet is for client network files/);
    assert.throws(() => new NetworkSource(client, { comet: ['http://a:1', 'http://b:1', 'http://c:1', 'http://d:1'] }), /4 CometBFT RPC URLs given for the 3 nodes/);
    assert.throws(() => new NetworkSource(client, { comet: ['ftp://x'] }), /--comet "ftp:\/\/x" \(for node 1\): must be an http/);
    assert.throws(() => new NetworkSource(path.join(dir, 'missing.json')), /cannot read .*missing\.json: no such file/);
    writeFileSync(path.join(dir, 'bad.json'), JSON.stringify({ chain_id: 'x', epoch: 1, n: 2, k: 1, nodes: [] }));
    assert.throws(() => new NetworkSource(path.join(dir, 'bad.json')), /invalid network file .*bad\.json:[^]*k: must be floor\(n\/2\)\+1/);
    writeFileSync(path.join(dir, 'bad-local.json'), JSON.stringify({ client_network: 'client.json', nodes: 'none' }));
    assert.throws(() => new NetworkSource(path.join(dir, 'bad-local.json')), /invalid local network description/);
  });

  it('--listen and the local network port', () => {
    assert.deepEqual(parseListen('127.0.0.1:8090'), { host: '127.0.0.1', port: 8090 });
    assert.deepEqual(parseListen('[::1]:0'), { host: '::1', port: 0 });
    assert.throws(() => parseListen('8090'), /HOST:PORT/);
    assert.throws(() => parseListen('localhost:70000'), /HOST:PORT/);
    // Next to the development issuer at base + 10n + 1.
    assert.equal(localDashboardPort({ dev_issuer: 'http://127.0.0.1:26651' }), 26652);
  });

  it('`torus dashboard` serves until SIGTERM (the option also after the command name)', async () => {
    const file = writeLocalNetwork(dir, chain, nodes, 'http://127.0.0.1:1');
    const child = spawn(process.execPath, [path.join(REPO_ROOT, 'dist/client/src/cli.js'), 'dashboard', '--network', file, '--listen', '127.0.0.1:0'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      for (let i = 0; i < 100 && !/at http:\/\//.test(output); i++) await sleep(100);
      const url = /at (http:\/\/\S+)/.exec(output)?.[1];
      assert.ok(url !== undefined, `no URL printed: ${output}`);
      assert.match(output, new RegExp(`dashboard of ${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
      const status = await getJson(`${url}api/status`, StatusAnswer);
      assert.equal(status.nodes.length, 3);
    } finally {
      child.kill('SIGTERM');
    }
    assert.equal(await exited, 0, output);
  });
});
