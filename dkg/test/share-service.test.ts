import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createLogger } from '../../core/log.js';
import { G } from '../../core/crypto/point.js';
import { MemoryDealingStore } from '../src/protocol/store.js';
import { ShareService } from '../src/share-service.js';
import { ShareUnavailableError, SocketShareSource } from '../../retrieval/src/share-source.js';

function rawGet(socketPath: string, urlPath: string, method = 'GET'): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath, path: urlPath, method }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

test('the share service answers one share at a time, only to its socket owner, and nothing else', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'share-service-'));
  const store = new MemoryDealingStore();
  store.saveShare(2n, 7n, { s: 0x1234n, sPrime: 5n, D: [G], dealers: [1, 2, 3] });
  const socket = path.join(dir, 'share.sock');
  const service = await ShareService.start(socket, store, createLogger('test', 'silent'));
  const source = new SocketShareSource(socket);
  try {
    assert.equal(statSync(socket).mode & 0o777, 0o600, 'only the node user may connect');
    assert.equal(await source.share(2, 7), 0x1234n);
    assert.equal(await source.healthy(), true);
    await assert.rejects(source.share(2, 8), (err: unknown) => err instanceof ShareUnavailableError && /no share of key 8 in epoch 2/.test(err.message));
    await assert.rejects(source.share(1, 7), ShareUnavailableError, 'the epoch is part of the address');
    for (const [method, urlPath] of [['GET', '/v1/share/2'], ['GET', '/v1/shares'], ['POST', '/v1/share/2/7'], ['GET', '/v1/share/2/7/x'], ['GET', '/v1/share/0/7']]) {
      const answer = await rawGet(socket, urlPath as string, method);
      assert.equal(answer.status, 404, `${method} ${urlPath}`);
      assert.doesNotMatch(answer.body, /1234/);
    }
  } finally {
    source.close();
    await service.stop();
  }
  await assert.rejects(new SocketShareSource(socket).share(2, 7), /unreachable/, 'a stopped service is reported, not hung on');
  assert.equal(await new SocketShareSource(socket).healthy(), false);
  rmSync(dir, { recursive: true, force: true });
});
