import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { CheckTxType, RequestCheckTx, RequestFinalizeBlock, RequestInitChain } from 'cosmjs-types/tendermint/abci/types';
import { createLogger } from '../../core/log.js';
import { ProcessMetrics } from '../../core/metrics.js';
import { parseExposition, sumSamples } from '../../core/metrics-exposition.js';
import { buildSignedTx } from '../../core/tx/build.js';
import { peekTxBodyType } from '../../core/tx/codec.js';
import { MappingApp } from '../src/app.js';
import { MappingMetrics } from '../src/metrics.js';
import { TxCode } from '../src/state/codes.js';
import { CHAIN_ID, assignTx, ctx, genesisBytes, keygenOutcome, registerTx, testEpoch } from './fixtures.js';

const dirs: string[] = [];
after(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

test('the body type of a transaction is read from its framing, without decoding the body', () => {
  const e = testEpoch();
  assert.equal(peekTxBodyType(assignTx(e, 'alice@example.com')), 'assign_key');
  assert.equal(peekTxBodyType(registerTx(e, 0)), 'register_key');
  assert.equal(peekTxBodyType(buildSignedTx(ctx(e), { type: 'freeze_vote', nextEpoch: 2n }, 10n)), 'freeze_vote');
  const outcome = keygenOutcome(e, 0, [1, 2, 3, 4]);
  assert.equal(peekTxBodyType(buildSignedTx(ctx(e), outcome.propose, 10n)), 'keygen_propose');
  for (const garbage of [new Uint8Array(0), new Uint8Array([0xff, 0xff, 0xff]), new Uint8Array(70 * 1024), Uint8Array.from([0x12, 0x02, 0x08, 0x01])]) {
    assert.equal(peekTxBodyType(garbage), undefined);
  }
});

test('torus-abci counts transactions, rejections, assignments, height and keys from the results it returns', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'torus-abci-metrics-'));
  dirs.push(dir);
  const metrics = new ProcessMetrics('abci');
  const app = await MappingApp.open(path.join(dir, 'state'), createLogger('test', 'silent'), new MappingMetrics(metrics));
  const scrape = async () => parseExposition(await metrics.registry.metrics());
  assert.deepEqual(app.readiness(), { initialised: false, cometConnected: false, height: 0, writeFailed: false });

  const e = testEpoch();
  app.checkTx(RequestCheckTx.fromPartial({ tx: assignTx(e, 'early@example.com') }));
  app.initChain(RequestInitChain.fromPartial({ chainId: CHAIN_ID, appStateBytes: genesisBytes(e, 3), initialHeight: 1n }));
  app.info();
  assert.deepEqual(app.readiness(), { initialised: true, cometConnected: true, height: 0, writeFailed: false });
  let families = await scrape();
  assert.equal(sumSamples(families, 'torus_abci_txs_rejected_total', { stage: 'check', code: String(TxCode.NOT_INITIALISED) }), 1);
  assert.equal(sumSamples(families, 'torus_abci_keys', { status: 'generating' }), 3, 'InitChain scheduled the buffer');

  const finalize = (height: number, txs: Uint8Array[]) => {
    app.finalizeBlock(RequestFinalizeBlock.fromPartial({ height: BigInt(height), txs }));
    app.commit();
  };
  finalize(1, [registerTx(e, 0), registerTx(e, 1), new Uint8Array([1, 2, 3])]);
  finalize(2, [assignTx(e, 'alice@example.com'), assignTx(e, 'alice@example.com', 40n, 2), assignTx(e, 'bob@example.com')]);
  const replay = assignTx(e, 'carol@example.com');
  finalize(3, [replay]);
  app.checkTx(RequestCheckTx.fromPartial({ tx: replay, type: CheckTxType.RECHECK }));
  await app.flushed();

  families = await scrape();
  assert.equal(sumSamples(families, 'torus_abci_block_height'), 3);
  assert.equal(sumSamples(families, 'torus_abci_txs_total', { type: 'register_key', code: '0' }), 2);
  assert.equal(sumSamples(families, 'torus_abci_txs_total', { type: 'unknown', code: String(TxCode.MALFORMED) }), 1);
  assert.equal(sumSamples(families, 'torus_abci_txs_total', { type: 'assign_key', code: '0' }), 3);
  assert.equal(sumSamples(families, 'torus_abci_txs_total', { type: 'assign_key', code: String(TxCode.BUFFER_EMPTY) }), 1);
  assert.equal(sumSamples(families, 'torus_abci_assignments_total', { result: 'new' }), 2);
  assert.equal(sumSamples(families, 'torus_abci_assignments_total', { result: 'repeated' }), 1);
  assert.equal(sumSamples(families, 'torus_abci_txs_rejected_total', { stage: 'finalize', code: String(TxCode.MALFORMED) }), 1);
  assert.equal(sumSamples(families, 'torus_abci_txs_rejected_total', { stage: 'finalize', code: String(TxCode.BUFFER_EMPTY) }), 1);
  assert.equal(sumSamples(families, 'torus_abci_txs_rejected_total', { stage: 'recheck', code: String(TxCode.BUFFER_EMPTY) }), 0, 'CheckTx leaves the buffer to FinalizeBlock');
  assert.equal(sumSamples(families, 'torus_abci_keys', { status: 'ready' }), 0);
  assert.equal(sumSamples(families, 'torus_abci_keys', { status: 'assigned' }), 2);
  assert.equal(sumSamples(families, 'torus_abci_keys', { status: 'generating' }), 3, 'the buffer was scheduled again');
  await app.close();
});
