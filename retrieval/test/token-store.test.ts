import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { TokenStore } from '../src/token-store.js';

const key = { x: 'ab'.repeat(32), y: 'cd'.repeat(32) };
const hash = (n: number) => n.toString(16).padStart(64, '0');

test('token store: first commitment binds, a used token stays used across a reopen until it expires, expired records go', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'token-store-'));
  try {
    let store = await TokenStore.open(dir);
    assert.equal(await store.recordCommitment('google', hash(1), key, 1_000, 100), 'recorded');
    assert.equal(await store.recordCommitment('google', hash(1), { x: key.y, y: key.x }, 1_000, 101), 'duplicate', 'first come, first bound');
    assert.deepEqual(store.committedKey('google', hash(1), 500), key);
    assert.equal(store.committedKey('google', hash(1), 1_000), undefined, 'a commitment expires');
    assert.equal(store.committedKey('other-verifier', hash(1), 500), undefined, 'commitments are per verifier');

    assert.ok(store.claim(hash(2), 100));
    assert.equal(store.claim(hash(2), 100), false, 'a token being revealed cannot be claimed twice');
    assert.equal(await store.recordCommitment('google', hash(2), key, 1_000, 100), 'duplicate', 'nor committed meanwhile');
    await store.markUsed(hash(2), 2_000);
    store.release(hash(2));
    assert.equal(store.claim(hash(2), 100), false, 'used');
    store.release(hash(3));
    assert.ok(store.claim(hash(3), 100), 'a released, unused token can be claimed again');
    store.release(hash(3));
    await store.close();

    store = await TokenStore.open(dir);
    assert.ok(store.isUsed(hash(2), 1_999), 'used survives a restart');
    assert.deepEqual(store.committedKey('google', hash(1), 500), key, 'commitments survive a restart');
    assert.equal(await store.recordCommitment('google', hash(2), key, 3_000, 1_500), 'duplicate', 'a used token cannot be committed again');
    assert.equal(await store.prune(1_500), 1, 'the commitment expired at 1000');
    assert.equal(await store.prune(2_000), 1, 'the used record expired at 2000');
    assert.deepEqual(store.size, { commitments: 0, usedTokens: 0 });
    assert.equal(store.isUsed(hash(2), 2_001), false);
    await store.close();
    store = await TokenStore.open(dir);
    assert.deepEqual(store.size, { commitments: 0, usedTokens: 0 }, 'pruning is durable');
    await store.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
