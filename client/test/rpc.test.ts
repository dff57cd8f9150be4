import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { z } from 'zod';
import { callNode, NodeCallError, NodeRpcError, nodeHttpTransport, postForJson, type NodeCallFailure } from '../src/rpc.js';
import { fetchTransport } from '../src/rpc-fetch.js';
import type { NodeTransport } from '../src/transport.js';
import { deadUrl, sendJson, serve, type Served } from './fake-nodes.js';
import { lookupResult, makeKey } from './fixtures.js';

const PARAMS = { verifier: 'v', verifier_id: 'alice' };

async function failure(promise: Promise<unknown>): Promise<NodeCallError> {
  try {
    await promise;
  } catch (err) {
    assert.ok(err instanceof NodeCallError, `expected a NodeCallError, got ${String(err)}`);
    return err;
  }
  assert.fail('the call succeeded');
}

// Both transports must fail in the same ways: TorusClient's decisions depend on the kind of each failure.
const TRANSPORTS: Array<[string, NodeTransport]> = [['node:http', nodeHttpTransport], ['fetch', fetchTransport]];

for (const [transportName, transport] of TRANSPORTS) describe(`callNode over ${transportName}`, () => {
  const key = makeKey(5, 3);
  let server: Served;
  let seen: Array<{ headers: Record<string, unknown>; body: Record<string, unknown> }> = [];
  const routes: Record<string, (res: import('node:http').ServerResponse, body: Record<string, unknown>) => void> = {
    '/ok': (res, body) => sendJson(res, { jsonrpc: '2.0', result: lookupResult(key), id: body['id'] }),
    '/rpc-error': (res, body) =>
      sendJson(res, { jsonrpc: '2.0', error: { code: -32602, message: 'Input Error', data: 'Verifier + VerifierID has not yet been assigned x' }, id: body['id'] }),
    '/http-502': (res) => {
      res.statusCode = 502;
      res.end('upstream down');
    },
    '/not-json': (res) => {
      res.end('<html>hello</html>');
    },
    '/bad-result': (res, body) => sendJson(res, { jsonrpc: '2.0', result: { keys: [{ key_index: 'zz' }] }, id: body['id'] }),
    '/no-version': (res, body) => sendJson(res, { result: lookupResult(key), id: body['id'] }),
    '/bad-error': (res, body) => sendJson(res, { jsonrpc: '2.0', error: { code: 'x' }, id: body['id'] }),
    '/huge': (res) => {
      res.setHeader('content-type', 'application/json');
      res.end(`{"jsonrpc":"2.0","result":"${'a'.repeat(64 * 1024)}"}`);
    },
    '/hang': () => undefined,
    '/slow-body': (res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"jsonrpc":"2.0",'); // and never finishes
    },
  };

  before(async () => {
    server = await serve((req, text, res) => {
      const body = JSON.parse(text) as Record<string, unknown>;
      seen.push({ headers: req.headers, body });
      const route = routes[req.url ?? ''];
      if (route === undefined) return sendJson(res, {}, 404);
      route(res, body);
    });
  });
  after(() => server.close());

  it('sends a JSON-RPC 2.0 POST and returns the validated result', async () => {
    seen = [];
    const result = await transport.callNode(`${server.url}/ok`, 'VerifierLookupRequest', PARAMS, { timeoutMs: 2000 });
    assert.deepEqual(result, lookupResult(key));
    const request = seen[0];
    assert.equal(request?.body['jsonrpc'], '2.0');
    assert.equal(request?.body['method'], 'VerifierLookupRequest');
    assert.deepEqual(request?.body['params'], PARAMS);
    assert.equal(typeof request?.body['id'], 'number');
    assert.match(String(request?.headers['content-type']), /^application\/json/);
  });

  it('a JSON-RPC error is a NodeRpcError with code, message and data', async () => {
    const err = await failure(transport.callNode(`${server.url}/rpc-error`, 'VerifierLookupRequest', PARAMS, { timeoutMs: 2000 }));
    assert.ok(err instanceof NodeRpcError);
    assert.equal(err.kind, 'rpc');
    assert.equal(err.code, -32602);
    assert.equal(err.rpcMessage, 'Input Error');
    assert.equal(err.data, 'Verifier + VerifierID has not yet been assigned x');
    assert.match(err.message, /VerifierLookupRequest at http.*\/rpc-error: JSON-RPC error -32602 Input Error: Verifier/);
  });

  const kinds: Array<[string, string, NodeCallFailure, RegExp]> = [
    ['a non-200 status', '/http-502', 'http', /HTTP 502 Bad Gateway: upstream down/],
    ['a body that is not JSON', '/not-json', 'not-json', /not JSON: <html>hello<\/html>/],
    ['a result that fails the schema', '/bad-result', 'bad-response', /invalid VerifierLookupRequest result/],
    ['an answer without jsonrpc 2.0', '/no-version', 'bad-response', /not JSON-RPC 2\.0/],
    ['a malformed error object', '/bad-error', 'bad-response', /malformed JSON-RPC error/],
    ['a body over the size cap', '/huge', 'bad-response', /larger than 1024 bytes/],
  ];
  for (const [name, route, kind, message] of kinds) {
    it(`${name} is a '${kind}' failure`, async () => {
      const err = await failure(transport.callNode(`${server.url}${route}`, 'VerifierLookupRequest', PARAMS, { timeoutMs: 2000, maxBodyBytes: 1024 }));
      assert.equal(err.kind, kind);
      assert.ok(!(err instanceof NodeRpcError));
      assert.match(err.message, message);
      if (kind === 'http') assert.equal(err.status, 502);
    });
  }

  it('connection refused is a transport failure with the reason', async () => {
    const err = await failure(transport.callNode(`${await deadUrl()}/jrpc`, 'KeyAssign', PARAMS, { timeoutMs: 2000 }));
    assert.equal(err.kind, 'transport');
    assert.match(err.reason, /ECONNREFUSED/);
  });

  it('a node that never answers, or stops in the middle of its body, times out', async () => {
    for (const route of ['/hang', '/slow-body']) {
      const started = Date.now();
      const err = await failure(transport.callNode(`${server.url}${route}`, 'VerifierLookupRequest', PARAMS, { timeoutMs: 200 }));
      assert.equal(err.kind, 'timeout', route);
      assert.match(err.reason, /no answer within 200 ms/);
      assert.ok(Date.now() - started < 2000);
    }
  });

  it("the caller's cancellation is 'aborted', not a node failure", async () => {
    const controller = new AbortController();
    const call = transport.callNode(`${server.url}/hang`, 'VerifierLookupRequest', PARAMS, { timeoutMs: 5000, signal: controller.signal });
    setTimeout(() => controller.abort(), 50);
    assert.equal((await failure(call)).kind, 'aborted');
  });
});

describe('postForJson', () => {
  it("the module-level callNode and postForJson are the node:http transport's", async () => {
    const dead = await deadUrl();
    assert.match((await failure(callNode(`${dead}/jrpc`, 'KeyAssign', PARAMS, { timeoutMs: 2000 }))).reason, /ECONNREFUSED/);
    assert.match((await failure(postForJson(`${dead}/token`, {}, z.object({}), 'dev token', { timeoutMs: 2000 }))).reason, /ECONNREFUSED/);
  });

  for (const [transportName, transport] of TRANSPORTS) it(`returns the validated JSON answer and reports HTTP errors (${transportName})`, async () => {
    const server = await serve((req, body, res) => {
      if (req.url === '/token') return sendJson(res, { id_token: `x${(JSON.parse(body) as { email: string }).email}` });
      sendJson(res, { error: 'nope' }, 404);
    });
    try {
      const schema = z.object({ id_token: z.string() });
      assert.deepEqual(await transport.postForJson(`${server.url}/token`, { email: 'a@b' }, schema, 'dev token', { timeoutMs: 2000 }), { id_token: 'xa@b' });
      const err = await failure(transport.postForJson(`${server.url}/other`, {}, schema, 'dev token', { timeoutMs: 2000 }));
      assert.equal(err.kind, 'http');
      assert.match(err.message, /^dev token at .*: HTTP 404/);
    } finally {
      await server.close();
    }
  });
});
