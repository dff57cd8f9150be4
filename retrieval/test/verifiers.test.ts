import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { inspect } from 'node:util';
import { base64url, createLocalJWKSet, decodeJwt, generateKeyPair, SignJWT } from 'jose';
import { parseVerifiersConfig, type VerifierConfig, type VerifierConfigInput } from '../src/verifiers/config.js';
import { DevIssuer } from '../src/verifiers/dev-issuer.js';
import { OidcVerifier } from '../src/verifiers/oidc.js';
import { VerifierRegistry } from '../src/verifiers/registry.js';
import { TokenRejectedError, type IdTokenVerifier, type TokenRejection } from '../src/verifiers/types.js';

const ALICE = 'alice@example.com';
const AUD = 'torus-dev';
const nowSeconds = (): number => Math.floor(Date.now() / 1000);

/** The dev issuer over real HTTP on a free loopback port. */
async function startIssuer(): Promise<{ issuer: DevIssuer; url: string; server: Server }> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const issuer = await DevIssuer.create({ issuer: url });
  server.on('request', issuer.app());
  return { issuer, url, server };
}

/** A loopback port nobody listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

function config(entry: VerifierConfigInput): VerifierConfig {
  const parsed = parseVerifiersConfig({ test: entry }, 'development')['test'];
  assert.ok(parsed);
  return parsed;
}

/** Rejected with `reason`, and nothing of the token shows up in the error (message, cause, stack). */
async function assertRejected(verifier: IdTokenVerifier, token: string, claimed: string, reason: TokenRejection): Promise<TokenRejectedError> {
  let caught: unknown;
  try {
    await verifier.verify(token, claimed);
  } catch (err) {
    caught = err;
  }
  assert.ok(caught instanceof TokenRejectedError, `expected a TokenRejectedError for ${reason}, got ${inspect(caught)}`);
  assert.equal(caught.reason, reason, caught.message);
  const shown = inspect(caught);
  for (const part of String(token).split('.').filter((p) => p.length >= 8)) {
    assert.ok(!shown.includes(part), `the error shows part of the token: ${caught.message}`);
  }
  return caught;
}

function encodeJson(value: unknown): string {
  return base64url.encode(JSON.stringify(value));
}

describe('OidcVerifier against the dev issuer over HTTP', () => {
  let issuer: DevIssuer;
  let url: string;
  let server: Server;
  /** Keys through discovery (no jwks_uri configured). */
  let discovered: OidcVerifier;
  /** Keys from the configured jwks_uri. */
  let direct: OidcVerifier;

  before(async () => {
    ({ issuer, url, server } = await startIssuer());
    discovered = new OidcVerifier('dev', config({ preset: 'dev', issuer: url, audience: AUD }));
    direct = new OidcVerifier('dev-direct', config({ preset: 'dev', issuer: url, audience: [AUD, 'other-client'], jwks_uri: `${url}/jwks` }));
  });
  after(() => {
    server.closeAllConnections();
    server.close();
  });

  test('a valid token verifies through discovery and through jwks_uri', async () => {
    const token = await issuer.sign({ email: ALICE, aud: AUD });
    const { iat, exp } = decodeJwt(token);
    for (const verifier of [discovered, direct]) {
      assert.deepEqual(await verifier.verify(token, ALICE), { verifierId: ALICE, issuedAt: iat, expiresAt: exp });
    }
    // An aud list is accepted when it contains a configured audience.
    const listed = await issuer.sign({ email: ALICE, aud: ['someone-else', AUD] });
    assert.equal((await direct.verify(listed, ALICE)).verifierId, ALICE);
  });

  test('a token from the /token endpoint verifies', async () => {
    const response = await fetch(`${url}/token`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: ALICE }) });
    const { id_token: token } = (await response.json()) as { id_token: string };
    assert.equal((await discovered.verify(token, ALICE)).verifierId, ALICE);
  });

  test('audience, issuer and authorized party', async () => {
    await assertRejected(discovered, await issuer.sign({ email: ALICE, aud: 'another-client' }), ALICE, 'wrong_audience');
    await assertRejected(discovered, await issuer.sign({ email: ALICE, aud: AUD, iss: 'https://evil.example' }), ALICE, 'wrong_issuer');

    const withAzp = new OidcVerifier('azp', config({ preset: 'dev', issuer: url, audience: AUD, jwks_uri: `${url}/jwks`, authorized_party: 'web-client' }));
    assert.equal((await withAzp.verify(await issuer.sign({ email: ALICE, aud: AUD, azp: 'web-client' }), ALICE)).verifierId, ALICE);
    await assertRejected(withAzp, await issuer.sign({ email: ALICE, aud: AUD, azp: 'other-client' }), ALICE, 'wrong_authorized_party');
    await assertRejected(withAzp, await issuer.sign({ email: ALICE, aud: AUD }), ALICE, 'missing_claim');
  });

  test('lifetime: exp, iat and nbf, with the clock skew', async () => {
    const now = nowSeconds();
    // Default skew 60 s, default maximum age 3600 s.
    assert.equal((await discovered.verify(await issuer.sign({ email: ALICE, aud: AUD }, { iat: now - 600, exp: now - 20 }), ALICE)).verifierId, ALICE);
    await assertRejected(discovered, await issuer.sign({ email: ALICE, aud: AUD }, { iat: now - 600, exp: now - 120 }), ALICE, 'expired');
    assert.equal((await discovered.verify(await issuer.sign({ email: ALICE, aud: AUD }, { iat: now + 20 }), ALICE)).verifierId, ALICE);
    await assertRejected(discovered, await issuer.sign({ email: ALICE, aud: AUD }, { iat: now + 600 }), ALICE, 'not_yet_valid');
    await assertRejected(discovered, await issuer.sign({ email: ALICE, aud: AUD }, { iat: now - 7200 }), ALICE, 'too_old');
    await assertRejected(discovered, await issuer.sign({ email: ALICE, aud: AUD }, { nbf: now + 600 }), ALICE, 'not_yet_valid');
    assert.equal((await discovered.verify(await issuer.sign({ email: ALICE, aud: AUD }, { nbf: now }), ALICE)).verifierId, ALICE);

    const strict = new OidcVerifier('strict', config({ preset: 'dev', issuer: url, audience: AUD, max_token_age_seconds: 300, clock_skew_seconds: 0 }));
    await assertRejected(strict, await issuer.sign({ email: ALICE, aud: AUD }, { iat: now - 400 }), ALICE, 'too_old');
    await assertRejected(strict, await issuer.sign({ email: ALICE, aud: AUD }, { exp: now - 5 }), ALICE, 'expired');
  });

  test('signatures: another key with the same kid, an unknown kid, a tampered payload', async () => {
    const { privateKey } = await generateKeyPair('ES256');
    const claims = { iss: url, sub: `dev|${ALICE}`, email: ALICE, email_verified: true, aud: AUD, iat: nowSeconds(), exp: nowSeconds() + 600 };
    const forged = await new SignJWT(claims).setProtectedHeader({ alg: 'ES256', typ: 'JWT', kid: issuer.kid }).sign(privateKey);
    await assertRejected(discovered, forged, ALICE, 'bad_signature');
    const unknownKid = await new SignJWT(claims).setProtectedHeader({ alg: 'ES256', typ: 'JWT', kid: 'not-a-key-of-the-issuer' }).sign(privateKey);
    await assertRejected(direct, unknownKid, ALICE, 'bad_signature');

    const [header, , signature] = (await issuer.sign({ email: ALICE, aud: AUD })).split('.');
    const tampered = `${header}.${encodeJson({ ...claims, email: 'mallory@example.com' })}.${signature}`;
    await assertRejected(discovered, tampered, 'mallory@example.com', 'bad_signature');
    await assertRejected(discovered, `${header}.${encodeJson(claims)}.`, ALICE, 'bad_signature');
  });

  test('algorithms: none in any spelling, HS256, an allowed but unconfigured algorithm', async () => {
    const claims = encodeJson({ iss: url, email: ALICE, email_verified: true, aud: AUD, iat: nowSeconds(), exp: nowSeconds() + 600 });
    for (const alg of ['none', 'None', 'NONE']) {
      const unsigned = `${encodeJson({ alg })}.${claims}.`;
      const err = await assertRejected(discovered, unsigned, ALICE, 'algorithm_not_allowed');
      assert.match(err.message, /"none"/);
      await assertRejected(discovered, `${encodeJson({ alg, typ: 'JWT' })}.${claims}.${base64url.encode('x'.repeat(32))}`, ALICE, 'algorithm_not_allowed');
    }
    const hs256 = await new SignJWT({ iss: url, email: ALICE, aud: AUD }).setProtectedHeader({ alg: 'HS256', kid: issuer.kid }).setIssuedAt().setExpirationTime('10m')
      .sign(new TextEncoder().encode('a shared secret of thirty-two by'));
    await assertRejected(discovered, hs256, ALICE, 'algorithm_not_allowed');

    const rs256Only = new OidcVerifier('rs', config({ preset: 'oidc', issuer: url, audience: AUD, jwks_uri: `${url}/jwks` }));
    await assertRejected(rs256Only, await issuer.sign({ email: ALICE, aud: AUD, sub: ALICE }), ALICE, 'algorithm_not_allowed');
  });

  test('missing claims', async () => {
    await assertRejected(discovered, await issuer.sign({ email: ALICE, aud: AUD, exp: undefined }), ALICE, 'missing_claim');
    await assertRejected(discovered, await issuer.sign({ email: ALICE, aud: AUD, iat: undefined }), ALICE, 'missing_claim');
    await assertRejected(discovered, await issuer.sign({ email: ALICE, aud: AUD, iss: undefined }), ALICE, 'missing_claim');
    await assertRejected(discovered, await issuer.sign({ email: ALICE, aud: AUD, exp: 'tomorrow' }), ALICE, 'malformed');
    const byUsername = new OidcVerifier('user', config({ preset: 'dev', issuer: url, audience: AUD, verifier_id_claim: 'preferred_username' }));
    const err = await assertRejected(byUsername, await issuer.sign({ email: ALICE, aud: AUD }), ALICE, 'missing_claim');
    assert.match(err.message, /preferred_username/);
  });

  test('verifier id: exact match of the configured claim', async () => {
    const token = await issuer.sign({ email: ALICE, aud: AUD });
    const err = await assertRejected(discovered, token, 'bob@example.com', 'verifier_id_mismatch');
    assert.ok(!err.message.includes(ALICE), 'the token\'s verifier id is not echoed');
    await assertRejected(discovered, token, 'Alice@example.com', 'verifier_id_mismatch');
    await assertRejected(discovered, token, `${ALICE} `, 'verifier_id_mismatch');

    const bySub = new OidcVerifier('sub', config({ preset: 'oidc', issuer: url, audience: AUD, algorithms: ['ES256'] }));
    assert.equal((await bySub.verify(token, `dev|${ALICE}`)).verifierId, `dev|${ALICE}`);
    await assertRejected(bySub, token, ALICE, 'verifier_id_mismatch');
    const byUid = new OidcVerifier('uid', config({ preset: 'dev', issuer: url, audience: AUD, verifier_id_claim: 'uid' }));
    await assertRejected(byUid, await issuer.sign({ email: ALICE, aud: AUD, uid: 42 }), '42', 'verifier_id_mismatch');
  });

  test('email_verified when required', async () => {
    const verified = new OidcVerifier('ev', config({ preset: 'dev', issuer: url, audience: AUD, require_email_verified: true }));
    assert.equal((await verified.verify(await issuer.sign({ email: ALICE, aud: AUD }), ALICE)).verifierId, ALICE);
    await assertRejected(verified, await issuer.sign({ email: ALICE, aud: AUD, email_verified: false }), ALICE, 'email_not_verified');
    await assertRejected(verified, await issuer.sign({ email: ALICE, aud: AUD, email_verified: 'true' }), ALICE, 'email_not_verified');
    await assertRejected(verified, await issuer.sign({ email: ALICE, aud: AUD, email_verified: undefined }), ALICE, 'email_not_verified');
    // Not required by the dev preset.
    assert.equal((await discovered.verify(await issuer.sign({ email: ALICE, aud: AUD, email_verified: false }), ALICE)).verifierId, ALICE);
  });

  test('google preset: both forms of iss, azp, email_verified required', async () => {
    const google = new OidcVerifier('google', config({ preset: 'google', audience: 'client-1.apps.googleusercontent.com', authorized_party: 'client-1.apps.googleusercontent.com', jwks_uri: `${url}/jwks`, algorithms: ['ES256'] }));
    const claims = { email: ALICE, aud: 'client-1.apps.googleusercontent.com', azp: 'client-1.apps.googleusercontent.com', sub: '1234567890' };
    for (const iss of ['https://accounts.google.com', 'accounts.google.com']) {
      assert.equal((await google.verify(await issuer.sign({ ...claims, iss }), ALICE)).verifierId, ALICE);
    }
    await assertRejected(google, await issuer.sign({ ...claims, iss: 'http://accounts.google.com' }), ALICE, 'wrong_issuer');
    await assertRejected(google, await issuer.sign({ ...claims, iss: 'https://accounts.google.com', email_verified: false }), ALICE, 'email_not_verified');
  });

  test('malformed tokens', async () => {
    const valid = await issuer.sign({ email: ALICE, aud: AUD });
    const [header, payload] = valid.split('.');
    const cases = [
      '',
      'abc.def',
      `${header}.${payload}`,
      'a.b.c.d.e',
      '%%%.%%%.%%%',
      'abc.def.ghi',
      `${header}.${payload}.sig=`,
      ` ${valid}`,
      `${encodeJson({ typ: 'JWT' })}.${payload}.abc`,
      `${base64url.encode('not json')}.${payload}.abc`,
      `${valid}${'A'.repeat(20_000)}`,
    ];
    for (const token of cases) await assertRejected(discovered, token, ALICE, 'malformed');
    await assertRejected(discovered, undefined as unknown as string, ALICE, 'malformed');
  });

  test('an injected clock and key set', async () => {
    const keys = createLocalJWKSet(issuer.jwks());
    const token = await issuer.sign({ email: ALICE, aud: AUD });
    const at = (seconds: number) => new OidcVerifier('local', config({ preset: 'dev', issuer: url, audience: AUD }), { keys, now: () => seconds });
    assert.equal((await at(nowSeconds()).verify(token, ALICE)).verifierId, ALICE);
    await assertRejected(at(nowSeconds() + 2 * 3600), token, ALICE, 'expired');
    await assertRejected(at(nowSeconds() - 3600), token, ALICE, 'not_yet_valid');
  });

  test('keys unavailable: closed port for discovery and for jwks_uri, a 404, a discovery for another issuer', async () => {
    const port = await closedPort();
    const token = await issuer.sign({ email: ALICE, aud: AUD });
    const noDiscovery = new OidcVerifier('x', config({ preset: 'dev', issuer: `http://127.0.0.1:${port}`, audience: AUD }));
    assert.match((await assertRejected(noDiscovery, token, ALICE, 'keys_unavailable')).message, /OpenID discovery at .* failed: fetch failed \(.*ECONNREFUSED/);
    const noJwks = new OidcVerifier('y', config({ preset: 'dev', issuer: url, audience: AUD, jwks_uri: `http://127.0.0.1:${port}/jwks` }));
    assert.match((await assertRejected(noJwks, token, ALICE, 'keys_unavailable')).message, /signing keys from http:\/\/127\.0\.0\.1:\d+\/jwks are unavailable: fetch failed \(.*ECONNREFUSED/);
    const notFound = new OidcVerifier('z', config({ preset: 'dev', issuer: url, audience: AUD, jwks_uri: `${url}/no-such-path` }));
    await assertRejected(notFound, token, ALICE, 'keys_unavailable');
    const otherIssuer = new OidcVerifier('w', config({ preset: 'dev', issuer: `${url}/`, audience: AUD }));
    assert.match((await assertRejected(otherIssuer, token, ALICE, 'keys_unavailable')).message, /is for issuer/);
    // Shape and algorithm are checked before any key is fetched.
    await assertRejected(noJwks, 'abc.def', ALICE, 'malformed');
    await assertRejected(noJwks, `${encodeJson({ alg: 'none' })}.${encodeJson({})}.`, ALICE, 'algorithm_not_allowed');
  });

  test('VerifierRegistry builds one verifier per name', async () => {
    const registry = VerifierRegistry.fromConfig(parseVerifiersConfig({
      dev: { preset: 'dev', issuer: url, audience: AUD },
      google: { preset: 'google', audience: 'client-1' },
    }, 'development'));
    assert.deepEqual(registry.names(), ['dev', 'google']);
    assert.equal(registry.get('google')?.name, 'google');
    assert.equal(registry.get('nope'), undefined);
    assert.equal(registry.get('__proto__'), undefined);
    assert.equal(registry.get('toString'), undefined);
    const dev = registry.get('dev');
    assert.ok(dev);
    assert.equal((await dev.verify(await issuer.sign({ email: ALICE, aud: AUD }), ALICE)).verifierId, ALICE);
  });
});
