import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadVerifiersFromEnv, parseVerifiersConfig, VerifierConfigError } from '../src/verifiers/config.js';

function refused(json: unknown, mode: 'production' | 'development', message: RegExp): void {
  assert.throws(() => parseVerifiersConfig(json, mode), (err: unknown) => {
    assert.ok(err instanceof VerifierConfigError, String(err));
    assert.match(err.message, message);
    return true;
  });
}

test('presets fill in the defaults', () => {
  const config = parseVerifiersConfig({
    google: { preset: 'google', audience: 'client-1' },
    auth0: { issuer: 'https://tenant.auth0.com/', audience: ['a', 'b'] },
    local: { preset: 'dev', issuer: 'http://127.0.0.1:7080', audience: 'torus-dev' },
  }, 'development');
  assert.deepEqual(config['google'], {
    preset: 'google',
    issuer: 'https://accounts.google.com',
    accepted_issuers: ['https://accounts.google.com', 'accounts.google.com'],
    audience: ['client-1'],
    authorized_party: undefined,
    jwks_uri: 'https://www.googleapis.com/oauth2/v3/certs',
    verifier_id_claim: 'email',
    require_email_verified: true,
    algorithms: ['RS256'],
    max_token_age_seconds: 3600,
    clock_skew_seconds: 60,
  });
  const auth0 = config['auth0'];
  assert.equal(auth0?.preset, 'oidc');
  assert.deepEqual(auth0?.accepted_issuers, ['https://tenant.auth0.com/']);
  assert.deepEqual(auth0?.audience, ['a', 'b']);
  assert.equal(auth0?.jwks_uri, undefined, 'read from discovery');
  assert.equal(auth0?.verifier_id_claim, 'sub');
  assert.equal(auth0?.require_email_verified, false);
  assert.deepEqual(auth0?.algorithms, ['RS256']);
  const local = config['local'];
  assert.equal(local?.verifier_id_claim, 'email');
  assert.equal(local?.require_email_verified, false);
  assert.deepEqual(local?.algorithms, ['ES256']);

  const custom = parseVerifiersConfig({ g: {
    preset: 'google', audience: 'c', authorized_party: 'c', verifier_id_claim: 'sub', require_email_verified: false,
    algorithms: ['RS256', 'ES256'], max_token_age_seconds: 600, clock_skew_seconds: 0,
  } }, 'production')['g'];
  assert.equal(custom?.authorized_party, 'c');
  assert.equal(custom?.verifier_id_claim, 'sub');
  assert.equal(custom?.require_email_verified, false);
  assert.deepEqual(custom?.algorithms, ['RS256', 'ES256']);
  assert.equal(custom?.max_token_age_seconds, 600);
  assert.equal(custom?.clock_skew_seconds, 0);
});

test('production refuses the dev preset and plain-HTTP URLs, naming the verifier', () => {
  const dev = { local: { preset: 'dev', issuer: 'https://dev.example', audience: 'torus-dev' } };
  assert.ok(parseVerifiersConfig(dev, 'development')['local']);
  refused(dev, 'production', /verifier "local": preset "dev" is refused in production/);
  refused({ corp: { issuer: 'http://idp.example', audience: 'x' } }, 'production', /verifier "corp": issuer "http:\/\/idp\.example" must be https/);
  refused({ corp: { issuer: 'https://idp.example', audience: 'x', jwks_uri: 'http://idp.example/keys' } }, 'production', /verifier "corp": jwks_uri "http:\/\/idp\.example\/keys" must be https/);
  refused({ google: { preset: 'google', audience: 'x', jwks_uri: 'http://keys.example' } }, 'production', /verifier "google": jwks_uri/);
  assert.ok(parseVerifiersConfig({ corp: { issuer: 'https://idp.example', audience: 'x', jwks_uri: 'https://idp.example/keys' } }, 'production')['corp']);
});

test('algorithms: only the asymmetric allowlist, never none or HS*', () => {
  for (const alg of ['none', 'HS256', 'HS384', 'HS512', 'rs256', 'ES256K', '']) {
    refused({ v: { issuer: 'https://idp.example', audience: 'x', algorithms: [alg] } }, 'development', /"none" and HS\* are never allowed/);
  }
  refused({ v: { issuer: 'https://idp.example', audience: 'x', algorithms: ['RS256', 'none'] } }, 'development', /algorithms/);
  refused({ v: { issuer: 'https://idp.example', audience: 'x', algorithms: [] } }, 'development', /algorithms/);
  for (const alg of ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA']) {
    assert.deepEqual(parseVerifiersConfig({ v: { issuer: 'https://idp.example', audience: 'x', algorithms: [alg] } }, 'development')['v']?.algorithms, [alg]);
  }
});

test('names, required fields, unknown fields and types', () => {
  for (const name of ['', 'a b', 'a/b', 'x'.repeat(65), 'é', 'a:b']) {
    refused({ [name]: { preset: 'google', audience: 'x' } }, 'development', /invalid verifier name .*names are 1-64 characters/);
  }
  refused(JSON.parse('{"__proto__": {"preset": "dev", "issuer": "http://127.0.0.1", "audience": "x"}}'), 'production', /invalid verifier name "__proto__"/);
  for (const name of ['google', 'a', 'x'.repeat(64), 'torus-test.v2_A']) {
    assert.ok(parseVerifiersConfig({ [name]: { preset: 'google', audience: 'x' } }, 'development')[name]);
  }
  refused({}, 'development', /at least one verifier/);
  refused([], 'development', /invalid verifier configuration/);
  refused(null, 'development', /invalid verifier configuration/);
  refused({ v: { audience: 'x' } }, 'development', /issuer is required for the oidc preset/);
  refused({ v: { preset: 'dev', audience: 'x' } }, 'development', /issuer is required for the dev preset/);
  refused({ v: { preset: 'google' } }, 'development', /audience/);
  refused({ v: { preset: 'google', audience: [] } }, 'development', /audience/);
  refused({ v: { preset: 'google', audience: '' } }, 'development', /audience/);
  refused({ v: { preset: 'google', audience: 'x', extra: 1 } }, 'development', /extra/);
  refused({ v: { preset: 'facebook', audience: 'x' } }, 'development', /"facebook" is not a known verifier type \(google, oidc, dev\)\n.*at v\.preset/);
  refused({ v: { issuer: 'ftp://idp.example', audience: 'x' } }, 'development', /issuer/);
  refused({ v: { issuer: 'not a url', audience: 'x' } }, 'development', /issuer/);
  refused({ v: { preset: 'google', audience: 'x', require_email_verified: 'yes' } }, 'development', /require_email_verified/);
  refused({ v: { preset: 'google', audience: 'x', max_token_age_seconds: 0 } }, 'development', /max_token_age_seconds/);
  refused({ v: { preset: 'google', audience: 'x', clock_skew_seconds: -1 } }, 'development', /clock_skew_seconds/);
});

test('TORUS_VERIFIERS from the environment', () => {
  assert.equal(loadVerifiersFromEnv({}), undefined);
  const value = JSON.stringify({ google: { preset: 'google', audience: 'client-1' } });
  assert.deepEqual(loadVerifiersFromEnv({ TORUS_VERIFIERS: value })?.['google']?.audience, ['client-1']);
  assert.throws(() => loadVerifiersFromEnv({ TORUS_VERIFIERS: '{nope' }), (err: unknown) => err instanceof VerifierConfigError && /TORUS_VERIFIERS is not valid JSON/.test(err.message));
  const dev = JSON.stringify({ local: { preset: 'dev', issuer: 'http://127.0.0.1:7080', audience: 'torus-dev' } });
  assert.throws(() => loadVerifiersFromEnv({ TORUS_VERIFIERS: dev }), VerifierConfigError, 'production is the default mode');
  assert.ok(loadVerifiersFromEnv({ TORUS_VERIFIERS: dev }, 'development')?.['local']);
});
