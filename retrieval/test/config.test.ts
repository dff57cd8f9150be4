import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseRetrievalConfig } from '../src/config.js';

const base = {
  node_key_file: 'node-key.json', data_dir: 'retrieval', listen: '127.0.0.1:7001', comet_rpc: 'http://127.0.0.1:26657',
  share_socket: 'dkg/share.sock',
};
const devVerifiers = { 'torus-dev': { preset: 'dev', issuer: 'http://127.0.0.1:7080', audience: 'torus-dev' } };
const google = { google: { preset: 'google', audience: 'client-id.apps.googleusercontent.com' } };

test('retrieval configuration: defaults, resolved paths, production by default', () => {
  const config = parseRetrievalConfig({ ...base, verifiers: google }, '/srv/node1', {});
  assert.equal(config.mode, 'production');
  assert.equal(config.data_dir, '/srv/node1/retrieval');
  assert.equal(config.share_socket, '/srv/node1/dkg/share.sock');
  assert.equal(config.signature_window_seconds, 600);
  assert.equal(config.max_body_bytes, 65536);
  assert.deepEqual(Object.keys(config.verifiers), ['google']);
});

test('retrieval configuration: development needs asking for, and the environment can only make it stricter', () => {
  assert.throws(() => parseRetrievalConfig({ ...base, verifiers: devVerifiers }, '/x', {}), /preset "dev" is refused in production/);
  const dev = parseRetrievalConfig({ ...base, mode: 'development', verifiers: devVerifiers }, '/x', {});
  assert.equal(dev.mode, 'development');
  assert.throws(() => parseRetrievalConfig({ ...base, mode: 'development', verifiers: devVerifiers }, '/x', { TORUS_MODE: 'production' }), /refused in production/);
  assert.throws(() => parseRetrievalConfig({ ...base, mode: 'development', verifiers: devVerifiers }, '/x', { NODE_ENV: 'production' }), /refused in production/);
  assert.throws(() => parseRetrievalConfig({ ...base, verifiers: google }, '/x', { TORUS_MODE: 'staging' }), /TORUS_MODE must be/);
  const fromEnv = parseRetrievalConfig({ ...base }, '/x', { TORUS_VERIFIERS: JSON.stringify(google) });
  assert.deepEqual(Object.keys(fromEnv.verifiers), ['google'], 'TORUS_VERIFIERS supplies the verifiers');
});

test('retrieval configuration: bad files are refused with the field named', () => {
  assert.throws(() => parseRetrievalConfig({ ...base }, '/x', {}), /no verifiers configured/);
  assert.throws(() => parseRetrievalConfig({ ...base, verifiers: google, listen: '7001' }, '/x', {}), /listen/);
  assert.throws(() => parseRetrievalConfig({ ...base, verifiers: google, max_body_bytes: 10 }, '/x', {}), /max_body_bytes/);
  assert.throws(() => parseRetrievalConfig({ ...base, verifiers: google, surprise: 1 }, '/x', {}), /surprise/);
  assert.throws(() => parseRetrievalConfig({ ...base, verifiers: { google: { preset: 'google', audience: 'x', algorithms: ['HS256'] } } }, '/x', {}), /HS/);
});
