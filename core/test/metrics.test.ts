import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createLogger } from '../log.js';
import {
  evaluateReadiness, HostPortSchema, LATENCY_BUCKETS_SECONDS, parseHostPort, ProcessMetrics, startProbeServer, type ProbeServer,
} from '../metrics.js';
import { ExpositionError, parseExposition, sumSamples } from '../metrics-exposition.js';

const log = createLogger('metrics-test', 'silent');

describe('the probe server', () => {
  const metrics = new ProcessMetrics('dkg');
  const messages = metrics.counter('messages_received_total', 'Messages received, by peer.', ['peer']);
  const latency = metrics.histogram('request_duration_seconds', 'Request latency.', ['method'], LATENCY_BUCKETS_SECONDS);
  let bufferReads = 0;
  metrics.gauge('buffer_ready_keys', 'Ready keys.', [], (gauge) => {
    bufferReads++;
    gauge.set(7);
  });
  let cometUp = true;
  let server: ProbeServer;
  let base: string;

  before(async () => {
    server = await startProbeServer({
      listen: '127.0.0.1:0', metrics, log,
      readiness: {
        cometbft: () => (cometUp ? { ok: true, detail: { height: 3 } } : { ok: false, detail: 'catching up' }),
        peers: async () => ({ ok: true, detail: { connected: 4, needed: 2 } }),
      },
    });
    base = `http://127.0.0.1:${server.address.port}`;
  });
  after(() => server.close());

  test('serves the registry in the exposition format, with HELP and TYPE lines and the default process metrics', async () => {
    messages.inc({ peer: '2' }, 3);
    messages.inc({ peer: '3' });
    latency.observe({ method: 'ShareRequest' }, 0.004);
    const res = await fetch(`${base}/metrics`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
    const text = await res.text();
    assert.match(text, /^# HELP torus_dkg_messages_received_total Messages received, by peer\.$/m);
    assert.match(text, /^# TYPE torus_dkg_messages_received_total counter$/m);
    const families = parseExposition(text);
    assert.equal(families.get('torus_dkg_messages_received_total')?.type, 'counter');
    assert.equal(sumSamples(families, 'torus_dkg_messages_received_total', { peer: '2' }), 3);
    assert.equal(sumSamples(families, 'torus_dkg_messages_received_total'), 4);
    assert.equal(families.get('torus_dkg_request_duration_seconds')?.type, 'histogram');
    assert.equal(sumSamples(families, 'torus_dkg_request_duration_seconds_count', { method: 'ShareRequest' }), 1);
    assert.equal(sumSamples(families, 'torus_dkg_request_duration_seconds_bucket', { method: 'ShareRequest', le: '0.005' }), 1);
    assert.equal(sumSamples(families, 'torus_dkg_request_duration_seconds_bucket', { method: 'ShareRequest', le: '0.0025' }), 0);
    assert.equal(sumSamples(families, 'torus_dkg_buffer_ready_keys'), 7, 'a read-at-scrape gauge is read');
    assert.ok(bufferReads >= 1);
    assert.equal(families.get('torus_process_cpu_seconds_total')?.type, 'counter', 'default process metrics, prefixed torus_');
    assert.ok(families.has('torus_nodejs_eventloop_lag_seconds'));
  });

  test('/healthz answers 200 {ok:true}; unknown paths 404; other methods 405', async () => {
    const health = await fetch(`${base}/healthz`);
    assert.equal(health.status, 200);
    assert.deepEqual(await health.json(), { ok: true });
    for (const path of ['/', '/metricz', '/metrics/x', '/jrpc']) {
      const res = await fetch(`${base}${path}`);
      assert.equal(res.status, 404, path);
      await res.body?.cancel();
    }
    const post = await fetch(`${base}/metrics`, { method: 'POST', body: '{}' });
    assert.equal(post.status, 405);
    await post.body?.cancel();
  });

  test('/readyz is 200 when every check passes and 503 naming the check that failed', async () => {
    cometUp = true;
    const ready = await fetch(`${base}/readyz`);
    assert.equal(ready.status, 200);
    const readyBody = await ready.json() as { ready: boolean; failed: string[]; checks: Record<string, { ok: boolean }> };
    assert.equal(readyBody.ready, true);
    assert.deepEqual(readyBody.failed, []);
    assert.deepEqual(Object.keys(readyBody.checks), ['cometbft', 'peers']);

    cometUp = false;
    const notReady = await fetch(`${base}/readyz`);
    assert.equal(notReady.status, 503);
    const body = await notReady.json() as { ready: boolean; failed: string[]; checks: Record<string, { ok: boolean; detail: unknown }> };
    assert.equal(body.ready, false);
    assert.deepEqual(body.failed, ['cometbft']);
    assert.deepEqual(body.checks['cometbft'], { ok: false, detail: 'catching up' });
    assert.equal(body.checks['peers']?.ok, true);
  });
});

test('a check that throws or hangs fails with its reason; the others are still reported', async () => {
  const readiness = await evaluateReadiness({
    throws: () => {
      throw new Error('socket refused');
    },
    rejects: () => Promise.reject(new Error('no route')),
    hangs: () => new Promise(() => undefined),
    fine: () => ({ ok: true }),
  }, 50);
  assert.equal(readiness.ready, false);
  assert.deepEqual(readiness.failed, ['throws', 'rejects', 'hangs']);
  assert.deepEqual(readiness.checks['throws'], { ok: false, detail: 'socket refused' });
  assert.deepEqual(readiness.checks['rejects'], { ok: false, detail: 'no route' });
  assert.deepEqual(readiness.checks['hangs'], { ok: false, detail: 'no answer within 50 ms' });
  assert.deepEqual(readiness.checks['fine'], { ok: true });
});

test('metrics listen addresses are HOST:PORT with a port up to 65535', () => {
  assert.deepEqual(parseHostPort('127.0.0.1:9100'), { host: '127.0.0.1', port: 9100 });
  for (const good of ['127.0.0.1:9100', '0.0.0.0:0', 'localhost:65535']) assert.equal(HostPortSchema.safeParse(good).success, true, good);
  for (const bad of ['127.0.0.1', ':9100', '127.0.0.1:65536', 'http://127.0.0.1:9100', '127.0.0.1:91x', '::1:9100 ']) {
    assert.equal(HostPortSchema.safeParse(bad).success, false, bad);
  }
});

test('two processes in one test runner keep separate registries', async () => {
  const a = new ProcessMetrics('abci');
  const b = new ProcessMetrics('abci');
  a.counter('txs_total', 'Transactions.').inc();
  b.counter('txs_total', 'Transactions.').inc(5);
  assert.equal(sumSamples(parseExposition(await a.registry.metrics()), 'torus_abci_txs_total'), 1);
  assert.equal(sumSamples(parseExposition(await b.registry.metrics()), 'torus_abci_txs_total'), 5);
});

test('the exposition reader checks TYPE lines, label syntax and values', () => {
  const families = parseExposition([
    '# HELP x_total Things, with "quotes" and \\\\ in help.',
    '# TYPE x_total counter',
    'x_total{a="1",b="q\\"uote\\\\d\\n"} 2',
    'x_total{a="2"} 1e3 1712345678000',
    '# TYPE h histogram',
    'h_bucket{le="+Inf"} 4',
    'h_sum 0.5',
    'h_count 4',
    '# TYPE g gauge',
    'g NaN',
    '',
  ].join('\n'));
  assert.equal(families.get('x_total')?.help, 'Things, with "quotes" and \\\\ in help.');
  assert.deepEqual(families.get('x_total')?.samples[0]?.labels, { a: '1', b: 'q"uote\\d\n' });
  assert.equal(sumSamples(families, 'x_total'), 1002);
  assert.equal(sumSamples(families, 'h_count'), 4);
  assert.equal(sumSamples(families, 'h_bucket', { le: '+Inf' }), 4);
  assert.ok(Number.isNaN(sumSamples(families, 'g')));
  assert.equal(sumSamples(families, 'absent_total'), 0);

  const bad: Array<[string, RegExp]> = [
    ['y_total 1', /no TYPE line/],
    ['# TYPE y_total counter\ny_total{a=1} 1', /unquoted/],
    ['# TYPE y_total counter\ny_total{a="1" 1', /unterminated|separated/],
    ['# TYPE y_total counter\ny_total{a="1",a="2"} 1', /twice/],
    ['# TYPE y_total counter\ny_total one', /not a sample value/],
    ['# TYPE y_total counter\ny_total 1 2 3', /trailing/],
    ['# TYPE y_total countr', /bad type/],
    ['# TYPE y_total counter\n# TYPE y_total counter', /second TYPE/],
    ['# TYPE h histogram\nh 1', /no TYPE line/],
  ];
  for (const [text, error] of bad) assert.throws(() => parseExposition(text), (err: unknown) => err instanceof ExpositionError && error.test(err.message), text);
});
