/** The anvil launcher: a chain on a free loopback port with the well-known development accounts. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AnvilError, anvilBinary, devAccounts, startAnvil } from '../src/anvil.js';

async function rpc(url: string, method: string, params: unknown[] = []): Promise<unknown> {
  const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }) });
  const body = (await response.json()) as { result?: unknown };
  return body.result;
}

test('devAccounts are anvil\'s accounts (account 0 is the well-known 0xf39F…2266)', () => {
  const [first] = devAccounts(1);
  assert.deepEqual(first, {
    address: '0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266',
    secretKey: '0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80',
  });
});

test('startAnvil picks a free port, answers eth_chainId, funds its accounts, logs to a file, and stops', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'anvil-test-'));
  const logFile = join(dir, 'anvil.log');
  const [a, b] = await Promise.all([startAnvil({ logFile }), startAnvil({ chainId: 1337 })]);
  try {
    assert.notEqual(a.port, b.port);
    assert.equal(a.rpcUrl, `http://127.0.0.1:${a.port}`);
    assert.equal(await rpc(a.rpcUrl, 'eth_chainId'), '0x7a69');
    assert.equal(await rpc(b.rpcUrl, 'eth_chainId'), '0x539');
    assert.equal(b.chainId, 1337);
    assert.deepEqual(await rpc(a.rpcUrl, 'eth_accounts'), a.accounts.map((x) => x.address.toLowerCase()));
    assert.equal(a.accounts.length, 10);
    assert.ok(BigInt(String(await rpc(a.rpcUrl, 'eth_getBalance', [a.accounts[9]?.address, 'latest']))) > 0n);
    assert.ok(existsSync(logFile) && readFileSync(logFile, 'utf8').includes('Listening on'), 'anvil logs to the file');
  } finally {
    await Promise.all([a.stop(), b.stop()]);
    rmSync(dir, { recursive: true, force: true });
  }
  assert.equal(await rpc(a.rpcUrl, 'eth_chainId').catch(() => 'down'), 'down');
  await a.stop(); // stopping twice is harmless
});

test('a fixed port that is taken, or a missing binary, fails with a readable error', async () => {
  const a = await startAnvil();
  try {
    await assert.rejects(startAnvil({ port: a.port, readyTimeoutMs: 5000 }), (error: unknown) =>
      error instanceof AnvilError && error.message === `port ${a.port} on 127.0.0.1 is in use`);
  } finally {
    await a.stop();
  }
  assert.throws(() => anvilBinary('/nonexistent/anvil'), /anvil binary not found at \/nonexistent\/anvil/);
});
