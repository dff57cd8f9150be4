import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Server } from 'node:http';
import { z } from 'zod';
import { createLogger } from '../../core/log.js';
import { evaluateReadiness } from '../../core/metrics.js';
import { define, inputError, JsonRpcDispatcher } from '../src/jsonrpc.js';
import { createRetrievalApp } from '../src/server.js';

type Observed = Array<{ method: string; outcome: string; seconds: number }>;

async function withServer(fn: (url: string, internalErrors: string[], observed: Observed) => Promise<void>, ready = true): Promise<void> {
  const internalErrors: string[] = [];
  const observed: Observed = [];
  const dispatcher = new JsonRpcDispatcher({
    Echo: define({ params: z.object({ text: z.string().max(10) }), handle: async ({ text }) => ({ text }) }),
    Refuse: define({ params: z.object({}), handle: async () => { throw inputError('refused on purpose'); } }),
    Crash: define({ params: z.object({}), handle: async () => { throw new Error('secret detail'); } }),
  }, {
    maxBatch: 3, onInternalError: (method) => internalErrors.push(method),
    onRequest: (method, outcome, seconds) => observed.push({ method, outcome, seconds }),
  });
  const app = createRetrievalApp(dispatcher, {
    maxBodyBytes: 2048, corsOrigins: ['*'], health: async () => ({ ok: true, detail: {} }),
    readiness: () => evaluateReadiness({ cometbft: () => ({ ok: true }), key_buffer: () => ({ ok: ready, detail: { ready: ready ? 1 : 0 } }) }),
  }, createLogger('test', 'silent'));
  const server: Server = await new Promise((resolve) => { const s = app.listen(0, '127.0.0.1', () => resolve(s)); });
  const { port } = server.address() as { port: number };
  try {
    await fn(`http://127.0.0.1:${port}`, internalErrors, observed);
  } finally {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
}

async function post(url: string, body: string, contentType = 'application/json; charset=utf-8') {
  const res = await fetch(`${url}/jrpc`, { method: 'POST', headers: { 'content-type': contentType }, body });
  const text = await res.text();
  return { status: res.status, json: text === '' ? undefined : JSON.parse(text) as unknown };
}

test('JSON-RPC: answers, errors at HTTP 200 with standard codes, batches and notifications', async () => {
  await withServer(async (url, internalErrors) => {
    assert.deepEqual((await post(url, '{"jsonrpc":"2.0","method":"Echo","id":10,"params":{"text":"hi"}}')).json, { jsonrpc: '2.0', id: 10, result: { text: 'hi' } });
    const cases: Array<[string, number, RegExp, string?]> = [
      ['{"jsonrpc":"2.0","method":"Echo","id":1,', -32700, /not valid JSON/],
      ['{"jsonrpc":"1.0","method":"Echo","id":1}', -32600, /jsonrpc/],
      ['{"jsonrpc":"2.0","id":1}', -32600, /method/],
      ['"just a string"', -32600, /object/],
      ['[]', -32600, /empty batch/],
      ['[1,2,3,4]', -32600, /at most 3/],
      ['{"jsonrpc":"2.0","method":"Nope","id":1}', -32601, /known methods: Echo, Refuse, Crash/],
      ['{"jsonrpc":"2.0","method":"toString","id":1}', -32601, /unknown method/],
      ['{"jsonrpc":"2.0","method":"Echo","id":1,"params":{"text":5}}', -32602, /text/],
      ['{"jsonrpc":"2.0","method":"Echo","id":1,"params":{"text":"far too long text"}}', -32602, /text/],
      ['{"jsonrpc":"2.0","method":"Refuse","id":1}', -32602, /refused on purpose/],
      ['{"jsonrpc":"2.0","method":"Crash","id":1}', -32603, /see its log/],
      ['{"jsonrpc":"2.0","method":"Echo","id":1,"params":{"text":"hi"}}', -32600, /Content-Type/, 'text/plain'],
      [`{"jsonrpc":"2.0","method":"Echo","id":1,"params":{"text":"${'x'.repeat(4000)}"}}`, -32600, /exceeds 2048 bytes/],
    ];
    for (const [body, code, data, contentType] of cases) {
      const { status, json } = await post(url, body, contentType);
      assert.equal(status, 200, body.slice(0, 60));
      const error = (json as { error: { code: number; data: string } }).error;
      assert.equal(error.code, code, `${body.slice(0, 60)} -> ${JSON.stringify(json)}`);
      assert.match(error.data, data);
      assert.doesNotMatch(JSON.stringify(json), /secret detail/);
    }
    assert.deepEqual(internalErrors, ['Crash'], 'only the server-side failure is logged as internal');

    const batch = await post(url, '[{"jsonrpc":"2.0","method":"Echo","id":"a","params":{"text":"1"}},{"jsonrpc":"2.0","method":"Echo","params":{"text":"note"}},{"jsonrpc":"2.0","method":"Nope","id":"c"}]');
    assert.deepEqual(batch.json, [
      { jsonrpc: '2.0', id: 'a', result: { text: '1' } },
      { jsonrpc: '2.0', id: 'c', error: { code: -32601, message: 'Method not found', data: 'unknown method; known methods: Echo, Refuse, Crash' } },
    ], 'the notification runs but is not answered');
    const onlyNotification = await post(url, '{"jsonrpc":"2.0","method":"Echo","params":{"text":"x"}}');
    assert.equal(onlyNotification.status, 204);
  });
});

test('HTTP around JSON-RPC: CORS, other methods, health, unknown paths', async () => {
  await withServer(async (url) => {
    const preflight = await fetch(`${url}/jrpc`, { method: 'OPTIONS', headers: { origin: 'https://wallet.example', 'access-control-request-method': 'POST' } });
    assert.equal(preflight.status, 204);
    assert.equal(preflight.headers.get('access-control-allow-origin'), '*');
    assert.match(preflight.headers.get('access-control-allow-headers') ?? '', /Content-Type/);
    const get = await fetch(`${url}/jrpc`);
    assert.equal(get.status, 200);
    assert.match(JSON.stringify(await get.json()), /POST/);
    assert.equal((await fetch(`${url}/healthz`)).status, 200);
    assert.equal((await fetch(`${url}/nothing`)).status, 404);
  });
});

test('every request is reported once with a bounded method label and its outcome; /readyz names a failed check', async () => {
  await withServer(async (url, _internalErrors, observed) => {
    await post(url, JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'Echo', params: { text: 'hi' } }));
    await post(url, JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'Refuse', params: {} }));
    await post(url, JSON.stringify({ jsonrpc: '2.0', id: 3, method: 'Echo', params: { text: 'far too long' } }));
    await post(url, JSON.stringify({ jsonrpc: '2.0', id: 4, method: 'alice@example.com', params: {} }));
    await post(url, JSON.stringify([{ jsonrpc: '2.0', id: 5, method: 'Crash' }, { jsonrpc: '1.0', id: 6, method: 'Echo' }]));
    await post(url, JSON.stringify([]));
    assert.deepEqual(observed.map(({ method, outcome }) => `${method} ${outcome}`).sort(), [
      'Crash -32603', 'Echo -32602', 'Echo ok', 'Refuse -32602', 'invalid -32600', 'invalid -32600', 'unknown -32601',
    ]);
    assert.ok(observed.every(({ seconds }) => seconds >= 0 && seconds < 5));
    const ready = await fetch(`${url}/readyz`);
    assert.equal(ready.status, 200);
    assert.equal((await ready.json() as { ready: boolean }).ready, true);
  });
  await withServer(async (url) => {
    const notReady = await fetch(`${url}/readyz`);
    assert.equal(notReady.status, 503);
    assert.deepEqual((await notReady.json() as { failed: string[] }).failed, ['key_buffer']);
    assert.equal((await fetch(`${url}/healthz`)).status, 200, '/healthz keeps its own meaning');
  }, false);
});
