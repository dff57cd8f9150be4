import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createLogger } from '../../core/log.js';
import { G } from '../../core/crypto/point.js';
import { LevelDealingStore } from '../src/level-store.js';
import { ShareService } from '../src/share-service.js';
import { ShareHandedOverError, ShareUnavailableError, SocketShareSource } from '../../retrieval/src/share-source.js';

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
  const store = await LevelDealingStore.open(path.join(dir, 'keygen'));
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
    await store.close();
  }
  await assert.rejects(new SocketShareSource(socket).share(2, 7), /unreachable/, 'a stopped service is reported, not hung on');
  assert.equal(await new SocketShareSource(socket).healthy(), false);
  rmSync(dir, { recursive: true, force: true });
});

test('after a hand-over the epoch\'s shares are gone (410, naming the next epoch); other epochs answer as before', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'share-service-'));
  const store = await LevelDealingStore.open(path.join(dir, 'keygen'));
  store.saveShare(1n, 7n, { s: 0x1111n, sPrime: 5n, D: [G], dealers: [1, 2, 3] });
  store.saveShare(2n, 7n, { s: 0x3333n, sPrime: 5n, D: [G], dealers: [1, 2, 3] });
  store.markHandedOver(1n, 2n);
  await store.flush();
  const socket = path.join(dir, 'share.sock');
  const service = await ShareService.start(socket, store, createLogger('test', 'silent'));
  const source = new SocketShareSource(socket);
  try {
    for (const keyIndex of [7, 8]) {
      const raw = await rawGet(socket, `/v1/share/1/${keyIndex}`);
      assert.equal(raw.status, 410, `key ${keyIndex} of the handed-over epoch, held here or not`);
      assert.deepEqual(JSON.parse(raw.body), { error: 'epoch 1 has handed its keys over to epoch 2; ask the nodes of epoch 2', handed_over_to: 2 });
    }
    await assert.rejects(source.share(1, 7), (err: unknown) =>
      err instanceof ShareHandedOverError && err.epoch === 1 && err.nextEpoch === 2 && err.message === 'epoch 1 has handed its keys over to epoch 2; ask the nodes of epoch 2');
    assert.equal(await source.share(2, 7), 0x3333n, 'the next epoch\'s own share in the same store is kept and served');
    const missing = await rawGet(socket, '/v1/share/2/8');
    assert.equal(missing.status, 404, 'a key without a share in an epoch that was not handed over');
    await assert.rejects(source.share(2, 8), (err: unknown) => err instanceof ShareUnavailableError && !(err instanceof ShareHandedOverError));
    assert.equal((await rawGet(socket, '/v1/share/2/9')).status, 404, 'the next epoch is not handed over: no share is 404, not 410');
    assert.equal((await rawGet(socket, '/v1/share/0/7')).status, 404, 'epoch 0 is still no epoch');
  } finally {
    source.close();
    await service.stop();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
