/**
 * Integration tests: real CometBFT v0.38 processes on loopback with real torus-abci processes.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { abciQuery, broadcastTxCommit, broadcastTxSync, status } from '../../core/comet/rpc.js';
import { buildSignedTx } from '../../core/tx/build.js';
import { NodeSigner } from '../../core/crypto/signature.js';
import { utf8 } from '../../core/encoding/bytes.js';
import { encodeUvarint } from '../src/transport/varint.js';
import { TxCode } from '../src/state/codes.js';
import { MappingNetwork } from '../../testnet/src/mapping-network.js';
import { secp256k1 } from '@noble/curves/secp256k1.js';

function tempDir(): string {
  return mkdtempSync(path.join(tmpdir(), 'torus-net-'));
}

async function withNetwork(validators: number, keyBufferTarget: number, fn: (network: MappingNetwork) => Promise<void>): Promise<void> {
  const dir = tempDir();
  const network = await MappingNetwork.open({ dir, validators, keyBufferTarget, devAttestedKeys: true });
  try {
    await network.start();
    await fn(network);
  } catch (err) {
    console.error(`network logs kept in ${dir}`);
    await network.stop();
    throw err;
  }
  await network.stop();
  rmSync(dir, { recursive: true, force: true });
}

async function expiry(network: MappingNetwork, node = 1): Promise<bigint> {
  return BigInt((await status(network.node(node).rpcUrl)).height + 500);
}

/** Registers keys [from, to) through node 1, each attested by the first k members. */
async function registerKeys(network: MappingNetwork, from: number, to: number): Promise<void> {
  const expires = await expiry(network);
  const txs = [];
  for (let keyIndex = from; keyIndex < to; keyIndex++) txs.push(network.attestedKeyTx(keyIndex, expires));
  const answers = await Promise.all(txs.map((tx) => broadcastTxSync(network.node(1).rpcUrl, tx)));
  for (const a of answers) assert.equal(a.code, 0, a.log);
  const deadline = Date.now() + 60_000;
  for (;;) {
    const buffer = await abciQuery(network.node(1).rpcUrl, '/buffer');
    const { ready, assigned } = buffer.value as { ready: number; assigned: number };
    if (ready + assigned >= to) return;
    if (Date.now() > deadline) throw new Error(`keys not registered: ${JSON.stringify(buffer.value)}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

test('one node: signed transactions commit, queries answer, bad transactions get their codes', { timeout: 120_000 }, async () => {
  await withNetwork(1, 5, async (network) => {
    const url = network.node(1).rpcUrl;
    const ctx = network.txContext(1);
    const expires = await expiry(network);

    const empty = await broadcastTxCommit(url, buildSignedTx(ctx, { type: 'assign_key', verifier: 'google', verifierId: 'alice@example.com' }, expires));
    assert.equal(empty.checkCode, 0);
    assert.equal(empty.code, TxCode.BUFFER_EMPTY, empty.log);

    await registerKeys(network, 0, 2);
    const assignTx = buildSignedTx(ctx, { type: 'assign_key', verifier: 'google', verifierId: 'alice@example.com' }, expires);
    const assigned = await broadcastTxCommit(url, assignTx);
    assert.equal(assigned.code, 0, assigned.log);
    const { key_index: keyIndex, address, public_key: publicKey } = assigned.data as { key_index: number; address: string; public_key: string };
    assert.equal(keyIndex, 0);

    const lookup = await abciQuery(url, '/lookup/verifier', { verifier: 'google', verifier_id: 'alice@example.com' });
    // An attested key has no share_publics (they come from key generation's share proofs).
    assert.deepEqual(lookup.value, { keys: [{ key_index: 0, epoch: 1, public_key: publicKey, address }] });
    const byKey = await abciQuery(url, '/lookup/public-key', { public_key: publicKey });
    assert.deepEqual((byKey.value as { assigned_to: unknown }).assigned_to, { verifier: 'google', verifier_id: 'alice@example.com' });
    const epoch = await abciQuery(url, '/epoch');
    assert.equal((epoch.value as { n: number }).n, 1);
    const buffer = await abciQuery(url, '/buffer');
    assert.deepEqual(buffer.value, { target: 5, next_index: 6, generating: 4, ready: 1, assigned: 1 });
    // At the height before the assignment, alice was unknown.
    const before = await abciQuery(url, '/lookup/verifier', { verifier: 'google', verifier_id: 'alice@example.com' }, assigned.height - 1);
    assert.equal(before.code, 2);
    assert.match(before.log, /not been assigned/);
    const badQuery = await abciQuery(url, '/lookup/verifier', { verifier: 'google' });
    assert.equal(badQuery.code, 1);
    assert.match(badQuery.log, /verifier_id/);
    assert.equal((await abciQuery(url, '/nope')).code, 3);
    assert.equal((await abciQuery(url, '/buffer', undefined, 10_000)).code, 4);

    // Rejected at CheckTx, each with its own code, and nothing changes.
    const outsider = new NodeSigner(secp256k1.utils.randomSecretKey());
    const cases: Array<[string, Uint8Array, number]> = [
      ['garbage', utf8('garbage garbage garbage'), TxCode.MALFORMED],
      ['non-member signer', buildSignedTx({ ...ctx, signerIndex: 2 }, { type: 'assign_key', verifier: 'google', verifierId: 'x' }, expires), TxCode.UNKNOWN_SIGNER],
      ['forged signature', buildSignedTx({ ...ctx, signer: outsider }, { type: 'assign_key', verifier: 'google', verifierId: 'x' }, expires), TxCode.BAD_SIGNATURE],
      // The committed tx again, re-encoded with an unknown field (15, varint 1) so CometBFT's cache does not catch it.
      ['replay, re-encoded', Buffer.concat([assignTx, Buffer.from([0x78, 0x01])]), TxCode.REPLAY],
      ['wrong epoch', buildSignedTx({ ...ctx, epoch: 7n }, { type: 'assign_key', verifier: 'google', verifierId: 'x' }, expires), TxCode.WRONG_EPOCH],
      ['expired', buildSignedTx(ctx, { type: 'assign_key', verifier: 'google', verifierId: 'x' }, 1n), TxCode.EXPIRED],
    ];
    for (const [name, tx, code] of cases) {
      const answer = await broadcastTxSync(url, tx);
      assert.equal(answer.code, code, `${name}: ${answer.log}`);
      assert.equal(answer.codespace, 'torus', name);
    }
    assert.deepEqual((await abciQuery(url, '/buffer')).value, buffer.value);
  });
});

test('four validators: the same transactions give identical app hashes; crashes lose nothing committed', { timeout: 300_000 }, async () => {
  await withNetwork(4, 120, async (network) => {
    await registerKeys(network, 0, 100);
    const first = await network.settledAppHashes();
    assert.equal(new Set(first.map((i) => i.appHash)).size, 1, `app hashes differ: ${JSON.stringify(first)}`);

    // Load: assignments through nodes 1 and 4, which stay up, while node 2's torus-abci and later node 3's
    // cometbft are killed with SIGKILL and restarted.
    const committed = new Map<string, number>();
    let running = true;
    let sent = 0;
    const worker = async (nodeIndex: number, prefix: string) => {
      const url = network.node(nodeIndex).rpcUrl;
      const ctx = network.txContext(nodeIndex);
      for (let i = 0; running && sent < 90; i++) {
        sent++;
        const verifierId = `${prefix}-${i}@example.com`;
        const tx = buildSignedTx(ctx, { type: 'assign_key', verifier: 'google', verifierId }, await expiry(network, nodeIndex));
        try {
          const result = await broadcastTxCommit(url, tx);
          if (result.checkCode === 0 && result.code === 0) committed.set(verifierId, (result.data as { key_index: number }).key_index);
        } catch {
          // A timeout while a validator restarts: the tx may or may not commit; only confirmed ones are checked.
        }
      }
    };
    const load = Promise.all([worker(1, 'a'), worker(4, 'b'), worker(1, 'c'), worker(4, 'd')]);

    await new Promise((resolve) => setTimeout(resolve, 1500));
    const victimAbci = network.node(2);
    assert.ok(sent < 90, 'torus-abci is killed while the load is running');
    await victimAbci.abci?.stop('SIGKILL');
    // CometBFT stops when its application's connection drops (by design), so the node restarts as a whole.
    await victimAbci.comet.exited();
    await new Promise((resolve) => setTimeout(resolve, 1000));
    victimAbci.abci?.start();
    victimAbci.comet.start();

    await new Promise((resolve) => setTimeout(resolve, 2000));
    const victimComet = network.node(3);
    assert.ok(sent < 90, 'cometbft is killed while the load is running');
    await victimComet.comet.stop('SIGKILL');
    await new Promise((resolve) => setTimeout(resolve, 1000));
    victimComet.comet.start();

    await load;
    running = false;
    assert.ok(committed.size >= 20, `only ${committed.size} assignments committed under load`);

    const settled = await network.settledAppHashes(90_000);
    assert.equal(new Set(settled.map((i) => i.appHash)).size, 1, `app hashes differ after crashes: ${JSON.stringify(settled)}`);
    assert.ok(settled[0]!.height > first[0]!.height);
    for (const node of network.nodes) {
      for (const [verifierId, keyIndex] of committed) {
        const lookup = await abciQuery(node.rpcUrl, '/lookup/verifier', { verifier: 'google', verifier_id: verifierId });
        assert.equal(lookup.code, 0, `node ${node.index} lost ${verifierId}: ${lookup.log}`);
        assert.equal((lookup.value as { keys: Array<{ key_index: number }> }).keys[0]?.key_index, keyIndex);
      }
    }
    const indexes = [...committed.values()];
    assert.equal(new Set(indexes).size, indexes.length, 'no key was handed to two users');
  });
});

test('stray frames at a running torus-abci are refused; the chain goes on', { timeout: 120_000 }, async () => {
  await withNetwork(4, 5, async (network) => {
    const node = network.node(2);
    const port = Number(node.abciAddress.split(':').pop());
    const attacks: Buffer[] = [
      Buffer.concat([Buffer.from(encodeUvarint(12)), Buffer.from('not protobuf')]),
      Buffer.concat([Buffer.from(encodeUvarint(10 * 1024 * 1024)), Buffer.alloc(10 * 1024 * 1024, 0x42)]),
      Buffer.concat([Buffer.from(encodeUvarint(5000)), Buffer.alloc(100)]),
    ];
    for (const bytes of attacks) {
      const socket = net.connect(port, '127.0.0.1');
      socket.on('error', () => undefined);
      socket.end(bytes);
      await new Promise((resolve) => socket.on('close', resolve));
    }
    assert.ok(node.abci?.running, 'torus-abci survived');
    assert.ok(node.comet.running, 'its cometbft survived');
    await registerKeys(network, 0, 2);
    const settled = await network.settledAppHashes();
    assert.equal(new Set(settled.map((i) => i.appHash)).size, 1);
  });
});
