import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { bytesToHex } from '../../core/encoding/bytes.js';
import { EXIT, main } from '../src/cli.js';
import { FakeCluster, VERIFIER } from './fake-nodes.js';
import { fakeIdToken, type TestKey } from './fixtures.js';

interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

describe('torus CLI', () => {
  let cluster: FakeCluster;
  let dir = '';
  let networkFile = '';
  let alice: TestKey;

  const run = async (argv: string[], env: Record<string, string | undefined> = {}, cwd = dir): Promise<Run> => {
    let stdout = '';
    let stderr = '';
    const code = await main(argv, { stdout: (t) => void (stdout += t), stderr: (t) => void (stderr += t), env, cwd });
    return { code, stdout, stderr };
  };

  before(async () => {
    cluster = await FakeCluster.start(5, { 5: { down: true }, 4: { corruptShare: true } }, { devIssuer: true });
    alice = cluster.preassign('alice@example.com');
    dir = mkdtempSync(path.join(tmpdir(), 'torus-cli-'));
    networkFile = path.join(dir, 'net.json');
    writeFileSync(networkFile, JSON.stringify(cluster.network));
  });
  after(async () => {
    await cluster.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('lookup of an assigned user prints address, public key and key index', async () => {
    const r = await run(['--network', networkFile, 'lookup', VERIFIER, 'alice@example.com']);
    assert.equal(r.code, EXIT.OK, r.stderr);
    assert.match(r.stdout, new RegExp(`address +${alice.address}`));
    assert.match(r.stdout, new RegExp(`public key +${bytesToHex(alice.publicKey)}`));
    assert.match(r.stdout, /key index +1f/);
  });

  it('lookup of an unknown user says "not assigned" with exit code 3; --json too', async () => {
    const r = await run(['--network', networkFile, 'lookup', VERIFIER, 'zed@example.com']);
    assert.equal(r.code, EXIT.NOT_ASSIGNED);
    assert.match(r.stdout, /not assigned/);
    const j = await run(['--json', '--network', networkFile, 'lookup', VERIFIER, 'zed@example.com']);
    assert.equal(j.code, 3);
    assert.deepEqual(JSON.parse(j.stdout), { verifier: VERIFIER, verifierId: 'zed@example.com', assigned: false });
  });

  it('assign, then lookup --json shows the same key; the network file comes from TORUS_NETWORK', async () => {
    const env = { TORUS_NETWORK: networkFile };
    const a = await run(['--json', 'assign', VERIFIER, 'bob@example.com'], env);
    assert.equal(a.code, EXIT.OK, a.stderr);
    const assigned = JSON.parse(a.stdout) as Record<string, unknown>;
    assert.equal(assigned['address'], cluster.assignment('bob@example.com')?.address);
    const l = await run(['lookup', VERIFIER, 'bob@example.com', '--json'], env);
    assert.equal(l.code, EXIT.OK, l.stderr);
    assert.deepEqual(JSON.parse(l.stdout), assigned);
  });

  it('login with --dev-email names the bad and the failed node and hides the private key', async () => {
    const r = await run(['--network', networkFile, 'login', '--verifier', VERIFIER, '--dev-email', 'alice@example.com']);
    assert.equal(r.code, EXIT.OK, r.stderr);
    assert.match(r.stdout, new RegExp(`address +${alice.address}`));
    assert.match(r.stdout, /verified from nodes 1, 2, 3; key interpolated from nodes 1, 2, 3/);
    assert.match(r.stdout, /BAD SHARE +node 4: share does not match its commitment/);
    assert.match(r.stdout, /no share +node 5 \(commitment\): connect ECONNREFUSED/);
    assert.ok(!r.stdout.includes(bytesToHex(alice.privateKey)));
    assert.ok(!r.stdout.includes('private key'));
  });

  it('login --token --show-private-key prints the key; --json carries it only then', async () => {
    const token = fakeIdToken({ email: 'alice@example.com' });
    const shown = await run(['--network', networkFile, 'login', '--verifier', VERIFIER, '--token', token, '--show-private-key']);
    assert.equal(shown.code, EXIT.OK, shown.stderr);
    assert.match(shown.stdout, new RegExp(`private key +${bytesToHex(alice.privateKey)}`));

    const hidden = await run(['--network', networkFile, '--json', 'login', '--verifier', VERIFIER, '--token', fakeIdToken({ email: 'alice@example.com', n: 2 })]);
    const json = JSON.parse(hidden.stdout) as Record<string, unknown>;
    assert.equal(json['address'], alice.address);
    assert.deepEqual(json['badNodes'], [{ index: 4, reason: 'share does not match its commitment (s_i·G ≠ ShareCommitments[i])' }]);
    assert.equal(json['privateKey'], undefined);
    assert.ok(!hidden.stdout.includes(bytesToHex(alice.privateKey)));

    const withKey = await run(['--network', networkFile, '--json', 'login', '--verifier', VERIFIER, '--token', fakeIdToken({ email: 'alice@example.com', n: 3 }), '--show-private-key']);
    assert.equal((JSON.parse(withKey.stdout) as Record<string, unknown>)['privateKey'], bytesToHex(alice.privateKey));
  });

  it('login of an unassigned user: exit 1 and a hint to run assign', async () => {
    const r = await run(['--network', networkFile, 'login', '--verifier', VERIFIER, '--token', fakeIdToken({ email: 'nobody@example.com' })]);
    assert.equal(r.code, EXIT.FAILURE);
    assert.match(r.stderr, /^torus: .*run `torus assign test-verifier nobody@example.com` first/);
  });

  it('usage errors exit with 2', async () => {
    for (const argv of [
      ['--network', networkFile, 'login', '--verifier', VERIFIER],
      ['--network', networkFile, 'login', '--verifier', VERIFIER, '--token', 'a', '--dev-email', 'b'],
      ['--network', networkFile, 'login', '--token', 'a'],
      ['--network', networkFile, 'lookup', VERIFIER],
      ['--timeout', 'soon', 'lookup', 'a', 'b'],
      ['frobnicate'],
      [],
    ]) {
      const r = await run(argv);
      assert.equal(r.code, EXIT.USAGE, `${argv.join(' ')}: ${r.stderr}`);
      assert.notEqual(r.stderr, '');
    }
    const help = await run(['--help']);
    assert.equal(help.code, EXIT.OK);
    assert.match(help.stdout, /Usage: torus/);
  });

  it('a missing or invalid network file exits with 1 and says why', async () => {
    const empty = mkdtempSync(path.join(tmpdir(), 'torus-cli-empty-'));
    try {
      const r = await run(['lookup', 'a', 'b'], {}, empty);
      assert.equal(r.code, EXIT.FAILURE);
      assert.match(r.stderr, /cannot read network file .*\.testnet\/client\.json: no such file \(pass --network FILE or set TORUS_NETWORK\)/);
      mkdirSync(path.join(empty, '.testnet'));
      writeFileSync(path.join(empty, '.testnet', 'client.json'), JSON.stringify({ ...cluster.network, k: 4 }));
      const bad = await run(['lookup', 'a', 'b'], {}, empty);
      assert.equal(bad.code, EXIT.FAILURE);
      assert.match(bad.stderr, /k: must be floor\(n\/2\)\+1 = 3 for n = 5, got 4/);
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });

  it('runs as a program: exit code and output of the compiled entry point', async () => {
    // Asynchronous spawn: the fake nodes live in this process and must keep answering.
    const cli = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'src', 'cli.js');
    const child = spawn(process.execPath, [cli, '--network', networkFile, '--timeout', '20000', 'lookup', VERIFIER, 'nobody@example.com'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => void (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => void (stderr += chunk.toString()));
    const started = Date.now();
    const status = await new Promise<number | null>((resolve) => child.on('close', resolve));
    assert.equal(status, EXIT.NOT_ASSIGNED, stderr);
    assert.match(stdout, /not assigned/);
    // The process must not linger on open sockets or on the 20 s call deadlines after its answer (the bound is
    // loose because a loaded machine starts Node slowly).
    assert.ok(Date.now() - started < 10_000, `took ${Date.now() - started} ms`);
  });
});
