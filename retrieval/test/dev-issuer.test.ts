import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { calculateJwkThumbprint, createLocalJWKSet, createRemoteJWKSet, decodeJwt, decodeProtectedHeader, jwtVerify, type JWK } from 'jose';
import { parseVerifiersConfig } from '../src/verifiers/config.js';
import { DEV_AUDIENCE, DevIssuer } from '../src/verifiers/dev-issuer.js';
import { OidcVerifier } from '../src/verifiers/oidc.js';

const MAIN = fileURLToPath(new URL('../src/verifiers/dev-issuer-main.js', import.meta.url));
const nowSeconds = (): number => Math.floor(Date.now() / 1000);

/** The dev issuer over real HTTP on a free loopback port. */
async function startIssuer(keyFile?: string): Promise<{ issuer: DevIssuer; url: string; server: Server }> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const issuer = await DevIssuer.create({ issuer: url, keyFile });
  server.on('request', issuer.app());
  return { issuer, url, server };
}

function stop(server: Server): void {
  server.closeAllConnections();
  server.close();
}

function postToken(url: string, body: string, contentType = 'application/json'): Promise<Response> {
  return fetch(`${url}/token`, { method: 'POST', headers: { 'content-type': contentType }, body });
}

describe('the dev issuer over HTTP', () => {
  let issuer: DevIssuer;
  let url: string;
  let server: Server;
  before(async () => {
    ({ issuer, url, server } = await startIssuer());
  });
  after(() => stop(server));

  test('discovery document and public key set', async () => {
    const discovery = await (await fetch(`${url}/.well-known/openid-configuration`)).json();
    assert.deepEqual(discovery, {
      issuer: url,
      jwks_uri: `${url}/jwks`,
      token_endpoint: `${url}/token`,
      response_types_supported: ['id_token'],
      subject_types_supported: ['public'],
      id_token_signing_alg_values_supported: ['ES256'],
    });
    const { keys } = (await (await fetch(`${url}/jwks`)).json()) as { keys: JWK[] };
    assert.equal(keys.length, 1);
    const [key] = keys;
    assert.ok(key);
    assert.equal(key.d, undefined, 'no private part');
    assert.deepEqual([key.kty, key.crv, key.alg, key.use, key.kid], ['EC', 'P-256', 'ES256', 'sig', issuer.kid]);
    assert.equal(issuer.kid, await calculateJwkThumbprint(key), 'kid is the thumbprint');
  });

  test('POST /token returns an ES256 id token that jose verifies against /jwks', async () => {
    const response = await postToken(url, JSON.stringify({ email: 'alice@example.com' }));
    assert.equal(response.status, 200);
    assert.equal(response.headers.get('cache-control'), 'no-store');
    const body = (await response.json()) as { id_token: string; token_type: string; expires_in: number };
    assert.equal(body.token_type, 'Bearer');
    assert.equal(body.expires_in, 3600);
    assert.deepEqual(decodeProtectedHeader(body.id_token), { alg: 'ES256', typ: 'JWT', kid: issuer.kid });
    const { payload } = await jwtVerify(body.id_token, createRemoteJWKSet(new URL(`${url}/jwks`)), { issuer: url, audience: DEV_AUDIENCE, algorithms: ['ES256'] });
    assert.equal(payload.sub, 'dev|alice@example.com');
    assert.equal(payload['email'], 'alice@example.com');
    assert.equal(payload['email_verified'], true);
    assert.ok(Math.abs((payload.iat ?? 0) - nowSeconds()) <= 5);
    assert.equal(payload.exp, (payload.iat ?? 0) + 3600);

    const other = await postToken(url, JSON.stringify({ email: 'bob@example.com', audience: 'my-client' }));
    assert.equal(decodeJwt(((await other.json()) as { id_token: string }).id_token).aud, 'my-client');
  });

  test('POST /token refuses bad input with invalid_request', async () => {
    const cases: Array<[string, string, number]> = [
      ['{}', 'application/json', 400],
      ['{"email":"not-an-email"}', 'application/json', 400],
      [JSON.stringify({ email: `${'a'.repeat(250)}@example.com` }), 'application/json', 400],
      ['{"email":"alice@example.com","audience":""}', 'application/json', 400],
      ['{"email":"alice@example.com","admin":true}', 'application/json', 400],
      ['["alice@example.com"]', 'application/json', 400],
      ['{"email":', 'application/json', 400],
      ['email=alice@example.com', 'application/x-www-form-urlencoded', 400],
      [JSON.stringify({ email: 'alice@example.com', audience: 'x'.repeat(17 * 1024) }), 'application/json', 413],
    ];
    for (const [body, contentType, status] of cases) {
      const response = await postToken(url, body, contentType);
      assert.equal(response.status, status, body.slice(0, 60));
      const answer = (await response.json()) as { error: string; error_description: string };
      assert.equal(answer.error, 'invalid_request');
      assert.equal(typeof answer.error_description, 'string');
      assert.ok(answer.error_description.length > 0);
    }
  });

  test('tokens minted for the tests: defaults, times and overrides', async () => {
    const now = nowSeconds();
    const plain = decodeJwt(await issuer.sign({ email: 'carol@example.com', aud: 'x' }));
    assert.equal(plain.iss, url);
    assert.equal(plain.sub, 'dev|carol@example.com');
    assert.equal(plain['email_verified'], true);
    assert.equal(plain.nbf, undefined);
    assert.ok(Math.abs((plain.iat ?? 0) - now) <= 5);
    assert.equal(plain.exp, (plain.iat ?? 0) + 3600);

    const timed = decodeJwt(await issuer.sign({ email: 'carol@example.com', aud: ['x', 'y'], sub: 'carol' }, { iat: now - 7200, exp: now - 3600, nbf: now - 7200 }));
    assert.deepEqual([timed.iat, timed.exp, timed.nbf, timed.sub, timed.aud], [now - 7200, now - 3600, now - 7200, 'carol', ['x', 'y']]);
    // exp does not follow an earlier iat, so an old token is "too old" rather than "expired".
    assert.ok(((decodeJwt(await issuer.sign({ email: 'c@example.com', aud: 'x' }, { iat: now - 7200 })).exp ?? 0) - now) > 3000);

    const overridden = decodeJwt(await issuer.sign({ email: 'carol@example.com', aud: 'x', iss: 'https://other', email_verified: false, azp: 'web', exp: undefined }));
    assert.equal(overridden.iss, 'https://other');
    assert.equal(overridden['email_verified'], false);
    assert.equal(overridden['azp'], 'web');
    assert.ok(!('exp' in overridden), 'a claim set to undefined is left out');
  });
});

describe('the key file', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'dev-issuer-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('is created with mode 0600 and reused, so tokens survive a restart', async () => {
    const keyFile = path.join(dir, 'issuer-key.json');
    const first = await DevIssuer.create({ issuer: 'http://127.0.0.1:7080', keyFile });
    assert.equal(statSync(keyFile).mode & 0o777, 0o600);
    const token = await first.sign({ email: 'alice@example.com', aud: 'torus-dev' });
    const second = await DevIssuer.create({ issuer: 'http://127.0.0.1:7080', keyFile });
    assert.equal(second.kid, first.kid);
    const { payload } = await jwtVerify(token, createLocalJWKSet(second.jwks()), { algorithms: ['ES256'] });
    assert.equal(payload['email'], 'alice@example.com');
    const fresh = await DevIssuer.create({ issuer: 'http://127.0.0.1:7080' });
    assert.notEqual(fresh.kid, first.kid, 'without a key file each start has a new key');
  });

  test('a file that is not a private P-256 JWK is refused with its name', async () => {
    const notJson = path.join(dir, 'broken.json');
    writeFileSync(notJson, 'not json');
    await assert.rejects(DevIssuer.create({ issuer: 'http://x', keyFile: notJson }), new RegExp(`${notJson} is not JSON`));
    const publicOnly = path.join(dir, 'public.json');
    writeFileSync(publicOnly, JSON.stringify({ kty: 'EC', crv: 'P-256', x: 'a', y: 'b' }));
    await assert.rejects(DevIssuer.create({ issuer: 'http://x', keyFile: publicOnly }), /is not a private P-256 JWK/);
  });
});

/** Runs the CLI to completion (or until `until` matches its stdout, then stops it with SIGTERM). */
function runCli(args: string[], env: Record<string, string>, until?: (stdout: string) => Promise<void>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const base = { ...process.env };
  delete base['TORUS_MODE'];
  delete base['NODE_ENV'];
  const child = spawn(process.execPath, [MAIN, ...args], { env: { ...base, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  let started = false;
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
    if (until !== undefined && !started && stdout.includes('\n')) {
      started = true;
      until(stdout).finally(() => child.kill('SIGTERM')).catch((err: unknown) => {
        stderr += `test failure: ${String(err)}`;
      });
    }
  });
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
  return new Promise((resolve) => {
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

describe('torus-dev-issuer (CLI)', () => {
  test('refuses to start in production mode', async () => {
    const envs: Array<Record<string, string>> = [{ TORUS_MODE: 'production' }, { NODE_ENV: 'production' }];
    for (const env of envs) {
      const { code, stdout, stderr } = await runCli(['--listen', '127.0.0.1:0'], env);
      assert.equal(code, 2, stderr);
      assert.match(stderr, /refusing to start: this is a development issuer/);
      assert.equal(stdout, '');
    }
  });

  test('refuses a non-loopback host without --allow-non-loopback, and bad arguments', async () => {
    for (const listen of ['0.0.0.0:7080', '[::]:7080', '192.0.2.1:7080']) {
      const { code, stderr } = await runCli(['--listen', listen], {});
      assert.equal(code, 2, stderr);
      assert.match(stderr, /refusing to listen on .*--allow-non-loopback/);
    }
    assert.equal((await runCli(['--listen', 'nonsense'], {})).code, 2);
    assert.equal((await runCli(['--no-such-option'], {})).code, 2);
    const help = await runCli(['--help'], {});
    assert.equal(help.code, 0);
    assert.match(help.stdout, /usage: torus-dev-issuer/);
  });

  test('serves on loopback; a verifier with the dev preset accepts its tokens through discovery', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'dev-issuer-cli-'));
    let token = '';
    try {
      const result = await runCli(['--listen', '127.0.0.1:0', '--key-file', path.join(dir, 'key.json')], {}, async (stdout) => {
        const url = /issuer (http:\/\/127\.0\.0\.1:\d+) /.exec(stdout)?.[1];
        assert.ok(url, stdout);
        const response = await postToken(url, JSON.stringify({ email: 'dave@example.com' }));
        token = ((await response.json()) as { id_token: string }).id_token;
        const config = parseVerifiersConfig({ local: { preset: 'dev', issuer: url, audience: DEV_AUDIENCE } }, 'development')['local'];
        assert.ok(config);
        assert.equal((await new OidcVerifier('local', config).verify(token, 'dave@example.com')).verifierId, 'dave@example.com');
      });
      assert.equal(result.stderr, '');
      assert.equal(result.code, 0, 'exits cleanly on SIGTERM');
      assert.ok(token.length > 0);
      const lines = result.stdout.trim().split('\n');
      assert.equal(lines.length, 1);
      assert.match(lines[0] ?? '', /DEVELOPMENT OpenID issuer .*never use it in production/);
      assert.ok(!result.stdout.includes(token.split('.')[2] ?? '-'), 'no token in the output');
      assert.equal(statSync(path.join(dir, 'key.json')).mode & 0o777, 0o600);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
