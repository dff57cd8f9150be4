/**
 * The launcher's watch for the next epoch (src/next-epoch.ts) against a fake contract: torus-dkg gets the next
 * committee as `target` (and is restarted) exactly when the next epoch is linked, full and usable, once.
 */
import { beforeEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadKeygenConfig } from '../../dkg/src/config.js';
import { createLogger } from '../../core/log.js';
import { dkgTarget, NextEpochWatcher } from '../src/next-epoch.js';
import { expectedCommittee, FakeRegistry, registrations } from './helpers.js';

// What start.ts writes for an epoch without source or target; the watcher must keep it as it is.
const BASE_SETTINGS = {
  node_key_file: 'node-key.json', data_dir: 'dkg', listen: '/ip4/127.0.0.1/tcp/9000', comet_rpc: 'http://127.0.0.1:26657',
  peers: [{ index: 1, address: '/ip4/127.0.0.1/tcp/9000' }], log_level: 'info',
};

let registry: FakeRegistry;
let dkgFile: string;
let restarts: number;
let said: string[];
let failNextRestart: boolean;

function watcher(): NextEpochWatcher {
  return new NextEpochWatcher({
    registry, epoch: 1, ethChainId: 31337n, dkgFile, log: createLogger('test', 'silent'),
    say: (line) => said.push(line),
    restartKeygen: async () => {
      if (failNextRestart) {
        failNextRestart = false;
        throw new Error('the node is stopping');
      }
      restarts++;
    },
  });
}

beforeEach(() => {
  registry = new FakeRegistry();
  registry.put(registrations(4, { id: 1 }));
  dkgFile = path.join(mkdtempSync(path.join(tmpdir(), 'torus-next-epoch-')), 'dkg.json');
  writeFileSync(dkgFile, `${JSON.stringify(BASE_SETTINGS, null, 2)}\n`);
  restarts = 0;
  said = [];
  failNextRestart = false;
});

test('no next epoch, then one not full: nothing; once full: target written and torus-dkg restarted, once', async () => {
  const w = watcher();
  const untouched = readFileSync(dkgFile, 'utf8');
  assert.equal(await w.poll(), 'none');
  assert.equal(await w.targetAtStart(), undefined);

  const next = registrations(5, { id: 2, prevEpoch: 1, base: 100 });
  registry.put({ ...next, epoch: { ...next.epoch, nodeList: next.epoch.nodeList.slice(0, 3) } });
  assert.equal(await w.poll(), 'none', 'epoch 2 exists but epoch 1 does not name it yet');
  registry.update(1, { nextEpoch: 2 });
  assert.equal(await w.poll(), 'waiting');
  assert.equal(await w.poll(), 'waiting');
  assert.equal(readFileSync(dkgFile, 'utf8'), untouched);
  assert.equal(restarts, 0);
  assert.deepEqual(said, ["next epoch 2: 3 of 5 nodes listed; epoch 1's keys are handed over once all are"], 'said once, not at every poll');

  registry.put(next);
  assert.equal(await w.poll(), 'handed-over');
  assert.equal(restarts, 1);
  assert.equal(said.at(-1), "epoch 2 is full: handing epoch 1's keys over to it");
  const target = expectedCommittee('torus-31337-5fbdb231-e2', next);
  const written = JSON.parse(readFileSync(dkgFile, 'utf8')) as Record<string, unknown>;
  assert.deepEqual(written, { ...BASE_SETTINGS, target }, 'the rest of dkg.json is kept as it was');
  assert.deepEqual(loadKeygenConfig(dkgFile).target, target, 'torus-dkg reads the target');

  assert.equal(await w.poll(), 'unchanged');
  assert.equal(restarts, 1, 'the same state again restarts nothing');

  // A launcher started again writes the target from the start and restarts nothing afterwards.
  const again = watcher();
  assert.deepEqual(await again.targetAtStart(), target);
  assert.equal(await again.poll(), 'unchanged');
  assert.equal(restarts, 1);
});

test('a next epoch that would not take the keys over is named and left alone', async () => {
  const w = watcher();
  registry.update(1, { nextEpoch: 2 });
  registry.put(registrations(5, { id: 2, prevEpoch: 0, base: 100 }));
  assert.equal(await w.poll(), 'unusable');
  assert.match(said.at(-1) ?? '', /epoch 2 names no previous epoch, not epoch 1/);

  const badly = registrations(5, { id: 2, prevEpoch: 1, base: 100 });
  const third = badly.epoch.nodeList[2] as string;
  registry.put({ epoch: badly.epoch, details: new Map([...badly.details].map(([k, v]) => [k, k === third ? { ...v, declaredIp: 'http://x/' } : v])) });
  assert.equal(await w.poll(), 'unusable');
  assert.match(said.at(-1) ?? '', new RegExp(`next epoch 2 cannot take epoch 1's keys: node 3 \\(${third}\\) of epoch 2: declaredIp`));

  registry.update(1, { nextEpoch: 1 });
  assert.equal(await w.poll(), 'unusable');
  assert.match(said.at(-1) ?? '', /only to a later epoch/);
  assert.equal(dkgTarget(dkgFile), undefined);
  assert.equal(restarts, 0);
});

test('a restart that failed is made up at the next poll; a new next epoch replaces the target', async () => {
  const w = watcher();
  const second = registrations(5, { id: 2, prevEpoch: 1, base: 100 });
  registry.put(second);
  registry.update(1, { nextEpoch: 2 });
  failNextRestart = true;
  await assert.rejects(w.poll(), /the node is stopping/);
  assert.equal(restarts, 0);
  assert.equal(await w.poll(), 'handed-over', 'dkg.json already holds the target, but torus-dkg has not read it');
  assert.equal(restarts, 1);
  assert.equal(await w.poll(), 'unchanged');

  const third = registrations(4, { id: 3, prevEpoch: 1, base: 200 });
  registry.put(third);
  registry.update(1, { nextEpoch: 3 });
  assert.equal(await w.poll(), 'handed-over');
  assert.equal(restarts, 2);
  assert.deepEqual(dkgTarget(dkgFile), expectedCommittee('torus-31337-5fbdb231-e3', third));
});

test('a broken dkg.json is named, not overwritten', async () => {
  writeFileSync(dkgFile, JSON.stringify({ ...BASE_SETTINGS, peers: [] }));
  registry.put(registrations(5, { id: 2, prevEpoch: 1, base: 100 }));
  registry.update(1, { nextEpoch: 2 });
  await assert.rejects(watcher().poll(), /invalid key-generation settings in .*dkg\.json/);
  assert.equal(restarts, 0);
});

test("a full next epoch's registrations are read once; its links still at every poll", async () => {
  const w = watcher();
  const next = registrations(5, { id: 2, prevEpoch: 1, base: 100 });
  registry.put(next);
  registry.update(1, { nextEpoch: 2 });
  const details = registry.details;
  let detailReads = 0;
  registry.details = async (epoch, node) => {
    detailReads++;
    return details(epoch, node);
  };
  assert.equal(await w.poll(), 'handed-over');
  assert.equal(detailReads, 5);
  assert.equal(await w.poll(), 'unchanged');
  assert.equal(detailReads, 5, 'a full epoch is not read again');

  registry.update(2, { prevEpoch: 0 });
  assert.equal(await w.poll(), 'unusable', 'a changed link is seen');
  registry.update(2, { prevEpoch: 1 });
  assert.equal(await w.poll(), 'unchanged');
  assert.equal(detailReads, 5);
});
