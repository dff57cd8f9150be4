/**
 * Metrics, health and readiness of every process on a real 5-node network (CometBFT, torus-abci, torus-dkg,
 * torus-retrieval as separate processes, testnet/src/mapping-network.ts): each /metrics parses as the
 * Prometheus exposition format with the documented families, and the counters move during key generation,
 * an assignment and a login; a replayed token and a bad commitment signature are counted; /healthz answers,
 * and /readyz says 503 with the failing check before the chain runs and 200 once the network serves.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadNetwork } from '../../client/src/network.js';
import { TorusClient } from '../../client/src/sdk.js';
import { REPO_ROOT } from '../../core/comet/binary.js';
import { parseExposition, sumSamples, type MetricFamily, type MetricType } from '../../core/metrics-exposition.js';
import { DevIssuer } from '../../retrieval/src/verifiers/dev-issuer.js';
import { commitToken, mintToken, rpc, waitForFullBuffer } from '../../retrieval/test/support.js';
import { DEV_VERIFIER, MappingNetwork, type MappingNode } from '../src/mapping-network.js';
import { waitFor } from './helpers.js';

const KEYS = 4;
type ProcessName = 'abci' | 'dkg' | 'retrieval';
type Families = Map<string, MetricFamily>;

/** The families each process must expose, with their types: the documented names (README, "Metrics"). */
const EXPECTED: Record<ProcessName, Record<string, MetricType>> = {
  abci: {
    torus_abci_block_height: 'gauge', torus_abci_keys: 'gauge', torus_abci_txs_total: 'counter',
    torus_abci_txs_rejected_total: 'counter', torus_abci_assignments_total: 'counter',
  },
  dkg: {
    torus_dkg_keys_started_total: 'counter', torus_dkg_keys_finished_total: 'counter', torus_dkg_dealings_completed_total: 'counter',
    torus_dkg_messages_rejected_total: 'counter', torus_dkg_messages_received_total: 'counter', torus_dkg_messages_sent_total: 'counter',
    torus_dkg_send_failures_total: 'counter', torus_dkg_txs_submitted_total: 'counter', torus_dkg_txs_rejected_total: 'counter',
    torus_dkg_buffer_ready_keys: 'gauge', torus_dkg_buffer_target_keys: 'gauge', torus_dkg_handover_keys_redealt_total: 'counter',
    torus_dkg_handover_complete: 'gauge', torus_dkg_peers_connected: 'gauge',
  },
  retrieval: {
    torus_retrieval_requests_total: 'counter', torus_retrieval_request_duration_seconds: 'histogram',
    torus_retrieval_replayed_tokens_total: 'counter', torus_retrieval_bad_signatures_total: 'counter', torus_retrieval_shares_served_total: 'counter',
  },
};

async function scrape(node: MappingNode, process: ProcessName): Promise<Families> {
  const res = await fetch(`${node.metricsUrl(process)}/metrics`, { signal: AbortSignal.timeout(5000) });
  assert.equal(res.status, 200, `${process} of node ${node.index}: /metrics`);
  assert.match(res.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
  const families = parseExposition(await res.text());
  for (const [name, type] of Object.entries(EXPECTED[process])) {
    const family = families.get(name);
    assert.equal(family?.type, type, `${process} of node ${node.index}: # TYPE ${name} ${type}`);
    assert.ok((family?.help.length ?? 0) > 10, `${process} of node ${node.index}: ${name} has a HELP text`);
  }
  assert.equal(families.get('torus_process_cpu_seconds_total')?.type, 'counter', 'the default process metrics');
  return families;
}

/** One sample summed over every node's process. */
async function total(net: MappingNetwork, process: ProcessName, sample: string, labels: Record<string, string> = {}): Promise<number> {
  const all = await Promise.all(net.nodes.map((node) => scrape(node, process)));
  return all.reduce((sum, families) => sum + sumSamples(families, sample, labels), 0);
}

async function probe(url: string): Promise<{ status: number; body: { ready?: boolean; failed?: string[]; ok?: boolean } }> {
  const res = await fetch(url, { signal: AbortSignal.timeout(5000) });
  return { status: res.status, body: await res.json() as { ready?: boolean; failed?: string[]; ok?: boolean } };
}

describe('metrics, health and readiness of every process', { timeout: 240_000 }, () => {
  let net: MappingNetwork;
  let issuer: DevIssuer;
  let client: TorusClient;
  const processes: readonly ProcessName[] = ['abci', 'dkg', 'retrieval'];

  before(async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'torus-metrics-'));
    net = await MappingNetwork.open({ dir, validators: 5, keygen: true, retrieval: true, keyBufferTarget: KEYS, timeoutCommit: '200ms', keygenInFlight: 8 });
    issuer = await DevIssuer.create({ issuer: net.devIssuerUrl, keyFile: path.join(dir, 'dev-issuer-key.json') });
    client = new TorusClient(loadNetwork(path.join(dir, 'client.json')));
  });
  after(() => net?.stop());

  it('torus-abci is alive but not ready before CometBFT connects, then ready with a height', async () => {
    // The steps of MappingNetwork.start, with a look at torus-abci before CometBFT runs.
    net.devIssuer?.start();
    for (const node of net.nodes) node.abci?.start();
    const abci = net.node(1).metricsUrl('abci');
    await waitFor('torus-abci\'s /healthz', 30_000, () => probe(`${abci}/healthz`).then((r) => (r.status === 200 ? r : undefined)));
    assert.deepEqual((await probe(`${abci}/healthz`)).body, { ok: true });
    const early = await probe(`${abci}/readyz`);
    assert.equal(early.status, 503);
    assert.equal(early.body.ready, false);
    assert.deepEqual(early.body.failed, ['state', 'cometbft'], 'no InitChain yet, and no CometBFT');
    const before = await scrape(net.node(1), 'abci');
    assert.equal(sumSamples(before, 'torus_abci_block_height'), 0);

    for (const node of net.nodes) node.comet.start();
    await net.waitForHeight(1, 60_000);
    for (const node of net.nodes) {
      await waitFor(`torus-abci of node ${node.index} ready`, 30_000, () => probe(`${node.metricsUrl('abci')}/readyz`).then((r) => (r.status === 200 ? r : undefined)));
    }
    const started = await scrape(net.node(1), 'abci');
    assert.ok(sumSamples(started, 'torus_abci_block_height') >= 1, 'the height is known');
    assert.equal(sumSamples(started, 'torus_abci_keys', { status: 'generating' }), KEYS, 'InitChain scheduled the buffer');
    assert.equal(sumSamples(started, 'torus_abci_keys', { status: 'ready' }), 0);
  });

  it('counters move during key generation; every process is healthy and ready once the buffer is full', async () => {
    const heightBefore = sumSamples(await scrape(net.node(1), 'abci'), 'torus_abci_block_height');
    for (const node of net.nodes) node.keygen?.start();
    for (const node of net.nodes) node.retrieval?.start();
    await net.waitForRetrieval(60_000);
    await waitForFullBuffer(net, 120_000);

    const { k, t } = net.layout;
    for (const node of net.nodes) {
      const abci = await scrape(node, 'abci');
      assert.ok(sumSamples(abci, 'torus_abci_block_height') > heightBefore, `node ${node.index}: the height grew`);
      assert.equal(sumSamples(abci, 'torus_abci_keys', { status: 'ready' }), KEYS, `node ${node.index}: keys ready`);
      assert.equal(sumSamples(abci, 'torus_abci_keys', { status: 'generating' }), 0);
      assert.ok(sumSamples(abci, 'torus_abci_txs_total', { type: 'keygen_propose', code: '0' }) >= KEYS, 'one applied proposal per key');
      assert.ok(sumSamples(abci, 'torus_abci_txs_total', { type: 'key_publish', code: '0' }) >= KEYS, 'one applied publication per key');

      // A key counts as finished at the first poll of the pending set after it is ready; a node that derived
      // its share of a key completed every decided dealing of it, at least k+t.
      const dkg = await waitFor(`node ${node.index}: keys finished`, 20_000, async () => {
        const families = await scrape(node, 'dkg');
        const done = sumSamples(families, 'torus_dkg_keys_finished_total') >= KEYS && sumSamples(families, 'torus_dkg_dealings_completed_total') >= KEYS * (k + t);
        return done ? families : undefined;
      });
      assert.ok(sumSamples(dkg, 'torus_dkg_keys_started_total') >= KEYS, `node ${node.index}: keys started`);
      for (const peer of net.nodes.filter((p) => p.index !== node.index)) {
        assert.ok(sumSamples(dkg, 'torus_dkg_messages_received_total', { peer: String(peer.index) }) > 0, `node ${node.index} heard from ${peer.index}`);
        assert.ok(sumSamples(dkg, 'torus_dkg_messages_sent_total', { peer: String(peer.index) }) > 0, `node ${node.index} sent to ${peer.index}`);
      }
      assert.ok(sumSamples(dkg, 'torus_dkg_peers_connected') >= k - 1);
      // The buffer gauge is read every few seconds.
      await waitFor(`node ${node.index}: buffer gauge`, 20_000, async () => (sumSamples(await scrape(node, 'dkg'), 'torus_dkg_buffer_ready_keys') === KEYS ? true : undefined));
      assert.equal(sumSamples(dkg, 'torus_dkg_buffer_target_keys'), KEYS);
    }
    assert.ok(await total(net, 'dkg', 'torus_dkg_txs_submitted_total') >= 2 * KEYS, 'proposals and publications were submitted');

    for (const node of net.nodes) {
      for (const process of processes) {
        const health = await probe(`${node.metricsUrl(process)}/healthz`);
        assert.equal(health.status, 200, `${process} of node ${node.index}: /healthz`);
        assert.deepEqual(health.body, { ok: true });
        const ready = await probe(`${node.metricsUrl(process)}/readyz`);
        assert.equal(ready.status, 200, `${process} of node ${node.index}: /readyz ${JSON.stringify(ready.body)}`);
        assert.equal(ready.body.ready, true);
        const unknown = await fetch(`${node.metricsUrl(process)}/jrpc`);
        assert.equal(unknown.status, 404);
        await unknown.body?.cancel();
      }
      // The JSON-RPC port keeps /healthz and answers /readyz too; metrics stay off the public port.
      const jsonRpc = node.endpoint.replace(/\/jrpc$/, '');
      assert.equal((await probe(`${jsonRpc}/healthz`)).status, 200);
      assert.equal((await probe(`${jsonRpc}/readyz`)).status, 200);
      const metricsOnPublicPort = await fetch(`${jsonRpc}/metrics`);
      assert.equal(metricsOnPublicPort.status, 404);
      await metricsOnPublicPort.body?.cancel();
    }
  });

  it('the Grafana dashboard (testnet/grafana-dashboard.json) asks only for metrics the processes expose', async () => {
    const dashboard = JSON.parse(readFileSync(path.join(REPO_ROOT, 'testnet/grafana-dashboard.json'), 'utf8')) as { panels: Array<{ targets?: Array<{ expr: string }> }> };
    const exprs = dashboard.panels.flatMap((panel) => (panel.targets ?? []).map((target) => target.expr));
    assert.ok(exprs.length >= 10);
    const exposed = new Set<string>();
    for (const process of processes) for (const family of (await scrape(net.node(1), process)).values()) exposed.add(family.name);
    const used = new Set(exprs.flatMap((expr) => expr.match(/torus_[a-z_]+/g) ?? []).map((name) => name.replace(/_(bucket|sum|count)$/, '')));
    for (const name of used) assert.ok(exposed.has(name), `the dashboard uses ${name}, which no process exposes`);
  });

  it('an assignment and a login move the mapping and retrieval counters and the latency histograms', async () => {
    const email = `metrics-${Date.now()}@example.com`;
    const request = (method: string, outcome = 'ok') => total(net, 'retrieval', 'torus_retrieval_requests_total', { method, outcome });
    const latencyCount = (method: string) => total(net, 'retrieval', 'torus_retrieval_request_duration_seconds_count', { method });
    const assignments = (result: string) => total(net, 'abci', 'torus_abci_assignments_total', { result });
    const before = {
      newAssignments: await assignments('new'), repeated: await assignments('repeated'),
      assignTxs: await total(net, 'abci', 'torus_abci_txs_total', { type: 'assign_key', code: '0' }),
      keyAssign: await request('KeyAssign'), commitments: await request('CommitmentRequest'), shares: await request('ShareRequest'),
      commitmentLatency: await latencyCount('CommitmentRequest'), shareLatency: await latencyCount('ShareRequest'),
      served: await total(net, 'retrieval', 'torus_retrieval_shares_served_total'),
    };

    const assigned = await client.assign(DEV_VERIFIER, email);
    // Every validator executes the block: each torus-abci counts the new assignment.
    await waitFor('the assignment at every node', 20_000, async () => (await assignments('new') === before.newAssignments + net.nodes.length ? true : undefined));
    assert.equal(await total(net, 'abci', 'torus_abci_txs_total', { type: 'assign_key', code: '0' }), before.assignTxs + net.nodes.length);
    assert.ok(await request('KeyAssign') > before.keyAssign, 'KeyAssign counted at the node that was asked');

    const login = await client.login(DEV_VERIFIER, await mintToken(issuer, email));
    assert.equal(login.address, assigned.address);
    const { k } = net.layout;
    assert.ok(await request('CommitmentRequest') >= before.commitments + k, 'CommitmentRequest ok at k nodes or more');
    assert.ok(await request('ShareRequest') >= before.shares + k, 'ShareRequest ok at k nodes or more');
    assert.ok(await latencyCount('CommitmentRequest') >= before.commitmentLatency + k, 'CommitmentRequest latencies observed');
    assert.ok(await latencyCount('ShareRequest') >= before.shareLatency + k, 'ShareRequest latencies observed');
    assert.ok(await total(net, 'retrieval', 'torus_retrieval_shares_served_total') >= before.served + k, 'shares served');
    const bucketed = await total(net, 'retrieval', 'torus_retrieval_request_duration_seconds_bucket', { method: 'ShareRequest', le: '5' });
    assert.equal(bucketed, await latencyCount('ShareRequest'), 'every ShareRequest took less than 5 s');

    // KeyAssign again for the same user (client.assign would look the key up instead): the same key, so a
    // repeated assignment and no new one.
    const again = await rpc(net.node(2).endpoint, 'KeyAssign', { verifier: DEV_VERIFIER, verifier_id: email });
    assert.ok(again.result, JSON.stringify(again.error));
    await waitFor('the repeated assignment at every node', 20_000, async () => (await assignments('repeated') === before.repeated + net.nodes.length ? true : undefined));
    assert.equal(await assignments('new'), before.newAssignments + net.nodes.length);
  });

  it('a replayed token and a bad commitment signature are counted', async () => {
    const email = `replay-${Date.now()}@example.com`;
    await client.assign(DEV_VERIFIER, email);
    const node = net.node(1);
    const counter = async (sample: string, labels: Record<string, string>) => sumSamples(await scrape(node, 'retrieval'), sample, labels);
    const replays = (method: string) => counter('torus_retrieval_replayed_tokens_total', { method });
    const before = {
      shareReplays: await replays('ShareRequest'), commitmentReplays: await replays('CommitmentRequest'),
      invalidSignatures: await counter('torus_retrieval_bad_signatures_total', { reason: 'invalid' }),
      refused: await counter('torus_retrieval_requests_total', { method: 'ShareRequest', outcome: '-32603' }),
    };

    const token = await mintToken(issuer, email);
    const { signatures, params } = await commitToken(net, token);
    // One signature tampered with: it does not count (k of the other four still do), and is counted as invalid.
    const forged = signatures.map((s, i) => (i === 4 ? { ...s, signature: `${s.signature.slice(0, 10)}${s.signature[10] === '0' ? '1' : '0'}${s.signature.slice(11)}` } : s));
    const item = { verifier_id: email, idtoken: token, nodesignatures: forged, verifieridentifier: DEV_VERIFIER };
    const first = await rpc(node.endpoint, 'ShareRequest', { encrypted: 'yes', item: [item] });
    assert.ok(first.result, `the first reveal is answered: ${JSON.stringify(first.error)}`);
    assert.equal(await counter('torus_retrieval_bad_signatures_total', { reason: 'invalid' }), before.invalidSignatures + 1);

    const replay = await rpc(node.endpoint, 'ShareRequest', { encrypted: 'yes', item: [item] });
    assert.match(replay.error?.data ?? replay.error?.message ?? '', /Duplicate token/);
    assert.equal(await replays('ShareRequest'), before.shareReplays + 1, 'the revealed token, again');
    assert.equal(await counter('torus_retrieval_requests_total', { method: 'ShareRequest', outcome: '-32603' }), before.refused + 1);

    const recommit = await rpc(node.endpoint, 'CommitmentRequest', params);
    assert.match(`${recommit.error?.message ?? ''} ${recommit.error?.data ?? ''}`, /Duplicate token/);
    assert.equal(await replays('CommitmentRequest'), before.commitmentReplays + 1, 'a commitment bound before, again');
  });
});
