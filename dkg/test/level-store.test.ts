import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { G, H } from '../../core/crypto/point.js';
import { LevelDealingStore } from '../src/level-store.js';

test('dealings, readies and shares survive a reopen; only flushed writes are written', async () => {
  const root = mkdtempSync(path.join(tmpdir(), 'dkg-store-'));
  const dir = path.join(root, 'keygen');
  try {
    const store = await LevelDealingStore.open(dir);
    assert.equal(statSync(dir).mode & 0o777, 0o700, 'the store directory is private');
    const dealing = { F: [[1n, 2n], [3n, 4n]], Fprime: [[5n, 6n], [7n, 2n ** 255n]] };
    store.saveDealing(1n, 7n, dealing);
    store.saveReady(1n, 7n, 3, new Uint8Array(32).fill(9));
    store.saveShare(1n, 7n, { s: 11n, sPrime: 12n, D: [G, H], dealers: [1, 2, 4] });
    assert.ok(store.dirty);
    assert.deepEqual(store.loadDealing(1n, 7n), dealing, 'reads are served before the flush');
    await store.flush();
    assert.equal(store.dirty, false);
    store.saveDealing(1n, 8n, dealing);
    await store.close(); // close flushes too

    const reopened = await LevelDealingStore.open(dir);
    assert.deepEqual(reopened.loadDealing(1n, 7n), dealing);
    assert.deepEqual(reopened.loadDealing(1n, 8n), dealing);
    assert.equal(reopened.loadDealing(2n, 7n), undefined, 'another epoch is another session');
    assert.deepEqual(reopened.loadReady(1n, 7n, 3), new Uint8Array(32).fill(9));
    assert.equal(reopened.loadReady(1n, 7n, 4), undefined);
    const share = reopened.share(1n, 7n);
    assert.equal(share?.s, 11n);
    assert.ok(share?.D[1]?.equals(H));
    assert.deepEqual(share?.dealers, [1, 2, 4]);
    await reopened.close();
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('a hand-over deletes the epoch\'s shares, dealings, readies and re-dealings for good, and is remembered', async () => {
  const root = mkdtempSync(path.join(tmpdir(), 'dkg-store-'));
  const dir = path.join(root, 'keygen');
  try {
    const store = await LevelDealingStore.open(dir);
    const dealing = { F: [[1n, 2n], [3n, 4n]], Fprime: [[5n, 6n], [7n, 8n]] };
    for (const keyIndex of [0n, 1n, 300n]) {
      store.saveDealing(1n, keyIndex, dealing);
      store.saveReady(1n, keyIndex, 2, new Uint8Array(32).fill(1));
      store.saveShare(1n, keyIndex, { s: 11n, sPrime: 12n, D: [G, H], dealers: [1, 2, 4] });
      store.saveDealing(2n, keyIndex, dealing); // the re-dealing for epoch 2
    }
    store.saveShare(3n, 0n, { s: 13n, sPrime: 14n, D: [G, H], dealers: [1, 2, 3] });
    await store.flush();
    assert.equal(store.handedOverTo(1n), undefined);
    store.markHandedOver(1n, 2n);
    await store.close();

    const reopened = await LevelDealingStore.open(dir);
    assert.equal(reopened.handedOverTo(1n), 2n);
    for (const keyIndex of [0n, 1n, 300n]) {
      assert.equal(reopened.share(1n, keyIndex), undefined);
      assert.equal(reopened.loadDealing(1n, keyIndex), undefined);
      assert.equal(reopened.loadReady(1n, keyIndex, 2), undefined);
      assert.equal(reopened.loadDealing(2n, keyIndex), undefined, 'the re-dealing held the old share as its constant term');
    }
    assert.equal(reopened.share(3n, 0n)?.s, 13n, 'other epochs are untouched');
    await reopened.close();
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
