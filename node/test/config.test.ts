/**
 * The node configuration file (src/config.ts): JSONC, the environment's overrides, validation that names every
 * bad field and its value at once, `torus node init`, and `torus node start` refusing a bad file at once, before
 * a key or the contract is touched; and expect_epoch against the contract before registering.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { main as torus } from '../../client/src/cli.js';
import { REPO_ROOT } from '../../core/comet/binary.js';
import { createLogger } from '../../core/log.js';
import { nodeConfig } from '../../testnet/src/contract-testnet.js';
import { loadNodeConfig, NodeConfigSchema, PORT_NAMES, readNodeConfig } from '../src/config.js';
import { startNode } from '../src/start.js';
import { CONTRACT, FakeRegistry, registrations } from './helpers.js';

const dir = mkdtempSync(path.join(tmpdir(), 'torus-node-config-'));
let files = 0;

/** A valid configuration as plain JSON. */
const VALID = {
  eth_rpc: 'http://127.0.0.1:8545', contract: CONTRACT, epoch: 1, data_dir: 'data', public_host: '127.0.0.1',
  ports: { cometbft_p2p: 26656, cometbft_rpc: 26657, abci: 26658, keygen: 7100, jsonrpc: 7000 },
  verifiers: { google: { preset: 'google', audience: '1234-abc.apps.googleusercontent.com' } },
};

function write(text: string, name = `node${++files}.jsonc`): string {
  const file = path.join(dir, name);
  writeFileSync(file, text);
  return file;
}

const writeJson = (value: unknown) => write(JSON.stringify(value, null, 2));

/** The error lines (after the heading) of loading `file`. */
function problems(file: string, env: Record<string, string> = {}): string[] {
  try {
    loadNodeConfig(file, env);
  } catch (error) {
    assert.ok(error instanceof Error && error.name === 'NodeConfigError', String(error));
    return error.message.split('\n').slice(1).map((line) => line.trim());
  }
  return assert.fail(`${file} loaded, but should not have`);
}

/** The value with one change at a dotted path (undefined removes it). */
function changed(at: string, value: unknown, base: Record<string, unknown> = VALID): Record<string, unknown> {
  const copy = structuredClone(base);
  const keys = at.split('.');
  let object = copy;
  for (const key of keys.slice(0, -1)) object = (object[key] ??= {}) as Record<string, unknown>;
  const last = keys.at(-1) as string;
  if (value === undefined) delete object[last];
  else object[last] = value;
  return copy;
}

test('a valid file loads, with defaults filled in and paths relative to it', () => {
  const file = writeJson(changed('ports', undefined));
  const config = loadNodeConfig(file, {});
  assert.deepEqual(config.ports, { cometbft_p2p: 26656, cometbft_rpc: 26657, abci: 26658, keygen: 7100, jsonrpc: 7000 });
  assert.deepEqual(config.genesis, { key_buffer_target: 100, max_tx_lifetime_blocks: 1000 });
  assert.equal(config.mode, 'production');
  assert.equal(config.timeout_commit, '500ms');
  assert.equal(config.log_level, 'info');
  assert.equal(config.data_dir, path.join(dir, 'data'));
  assert.equal(config.node_key_file, path.join(dir, 'data', 'node-key.json'));
  assert.equal(config.listen_host, '127.0.0.1');
  assert.deepEqual(config.verifiers, VALID.verifiers, 'the verifiers as written: torus-retrieval applies the presets');
});

test('comments and trailing commas are accepted; plain JSON as the local network writes it too', () => {
  const file = write(`// the node
{
  /* the chain */ "eth_rpc": "http://127.0.0.1:8545",
  "contract": "${CONTRACT}", // the NodeList contract
  "epoch": 2,
  "data_dir": "data",
  "public_host": "127.0.0.1",
  "ports": { "jsonrpc": 7001, },
  "verifiers": { "google": { "preset": "google", "audience": "x", }, },
}
`);
  const config = loadNodeConfig(file, {});
  assert.equal(config.epoch, 2);
  assert.equal(config.ports.jsonrpc, 7001);

  const local = nodeConfig({
    ethRpc: 'http://127.0.0.1:8545', contract: CONTRACT, dataDir: 'node1', publicHost: '127.0.0.1', issuerUrl: 'http://127.0.0.1:7080', keys: 10,
    ports: { cometbft_p2p: 27000, cometbft_rpc: 27001, abci: 27002, keygen: 27003, jsonrpc: 27004 },
  });
  assert.equal(loadNodeConfig(writeJson(local), {}).genesis.key_buffer_target, 10);
});

test('a syntax error is named with its line and column; so is a key written twice', () => {
  const file = write('{\n  "eth_rpc": "http://127.0.0.1:8545"\n  "epoch": 1\n}\n');
  assert.throws(() => loadNodeConfig(file, {}), (error: unknown) => {
    assert.ok(error instanceof Error);
    assert.match(error.message, new RegExp(`^syntax errors in ${file.replaceAll('.', '\\.')}:\\n {2}${file.replaceAll('.', '\\.')}:3:3: comma expected$`));
    return true;
  });
  const twice = write('{\n  "epoch": 1,\n  "epoch": 2,\n}');
  assert.throws(() => loadNodeConfig(twice, {}), /:3:3: "epoch" appears twice/);
  assert.throws(() => loadNodeConfig(write('{ "ports": { "__proto__": { "jsonrpc": 7000 } } }'), {}), /:1:14: "ports\.__proto__": a key named __proto__ is not allowed/);
});

test('each problem names the field and the value, one line each', () => {
  const cases: Array<[string, unknown, string]> = [
    ['verifiers.google.preset', 'gogle', 'verifiers.google.preset: "gogle" is not a known verifier type (google, oidc, dev)'],
    ['ports.jsonrpc', 70000, 'ports.jsonrpc: 70000 is not a valid port (1-65535)'],
    ['ports.jsonrpc', 0, 'ports.jsonrpc: 0 is not a valid port (1-65535)'],
    ['ports.jsonrpc', '7000', 'ports.jsonrpc: "7000" is not a valid port (1-65535)'],
    ['ports.keygen', 7000, 'ports.jsonrpc: 7000 is also the port of ports.keygen: every service needs its own port'],
    ['ports', { jsonrpc: 26656 }, 'ports.jsonrpc: 26656 is also the port of ports.cometbft_p2p (its default): every service needs its own port'],
    ['ports.jsonrcp', 7001, `ports.jsonrcp: unknown field (known: ${PORT_NAMES.join(', ')})`],
    ['surprise', true, 'surprise: unknown field (known: eth_rpc, contract, epoch, data_dir, node_key_file, public_host, listen_host, ports, mode, verifiers, expect_epoch, genesis, timeout_commit, log_level)'],
    ['expect_epoch', { n: 5, k: 4, t: 1 }, 'expect_epoch.k: k must be floor(n/2)+1 = 3 for n=5, got 4'],
    ['expect_epoch', { n: 5, k: 3, t: 2 }, 'expect_epoch.t: t must satisfy t < n/4 (n=5), got 2'],
    ['expect_epoch', { n: 8, k: 5, t: 2 }, 'expect_epoch.t: t must satisfy t < n/4 (n=8), got 2'],
    ['expect_epoch', { n: 5, k: 3 }, 'expect_epoch.t: missing: expected a number of tolerated faults (t < n/4)'],
    ['genesis.key_buffer_target', -1, 'genesis.key_buffer_target: -1 is not a number of keys to keep ready (0-1000000)'],
    ['genesis.max_tx_lifetime_blocks', 0, 'genesis.max_tx_lifetime_blocks: 0 is not a number of blocks (1-1000000)'],
    ['genesis.buffer', 5, 'genesis.buffer: unknown field (known: key_buffer_target, max_tx_lifetime_blocks)'],
    ['contract', '0x123', 'contract: "0x123" is not a contract address (0x and 40 hex digits)'],
    ['contract', CONTRACT.replace('aa3', 'aA3'), `contract: "${CONTRACT.replace('aa3', 'aA3')}" has a wrong EIP-55 checksum (mixed case): copy the address again, or write it in lower case`],
    ['contract', undefined, 'contract: missing: expected a contract address (0x and 40 hex digits)'],
    ['eth_rpc', 'ws://127.0.0.1:8545', 'eth_rpc: "ws://127.0.0.1:8545" is not an http(s) URL of an Ethereum JSON-RPC endpoint'],
    ['epoch', 0, 'epoch: 0 is not an epoch number (1, 2, ...)'],
    ['public_host', 'node one', 'public_host: "node one" is not a host name or IPv4 address'],
    ['public_host', 'node1.example.com', 'listen_host: missing: public_host "node1.example.com" is a name, so listen_host (an IPv4 address to listen on, e.g. 0.0.0.0) is needed'],
    ['mode', 'prod', 'mode: "prod" is not production or development'],
    ['log_level', 'loud', 'log_level: "loud" is not a log level (trace, debug, info, warn, error, fatal, silent)'],
    ['timeout_commit', '1 minute', 'timeout_commit: "1 minute" is not a duration such as 500ms or 1s'],
    ['verifiers', undefined, 'verifiers: missing: expected at least one verifier here or in TORUS_VERIFIERS (torus-retrieval refuses to start without)'],
    ['verifiers.google.audience', undefined, 'verifiers.google.audience: missing'],
    ['verifiers.google.audience', [], 'verifiers.google.audience: [] is too short (at least 1)'],
    ['verifiers.google.max_token_age_seconds', 1.5, 'verifiers.google.max_token_age_seconds: 1.5 is not a whole number'],
    ['verifiers.google.algorithms', ['HS256'], 'verifiers.google.algorithms.0: "HS256" is not one of RS256, RS384, RS512, PS256, PS384, PS512, ES256, ES384, ES512, EdDSA ("none" and HS* are never allowed)'],
    ['verifiers.google.colour', 'blue', 'verifiers.google.colour: unknown field (known: preset, issuer, audience, authorized_party, jwks_uri, verifier_id_claim, require_email_verified, algorithms, max_token_age_seconds, clock_skew_seconds)'],
    ['verifiers.local', { preset: 'dev', issuer: 'https://dev.example', audience: 'torus-dev' }, 'verifiers.local.preset: "dev" is refused in production: the dev preset trusts a development issuer'],
  ];
  for (const [at, value, line] of cases) {
    assert.deepEqual(problems(writeJson(changed(at, value))), [line], `${at} = ${JSON.stringify(value)}`);
  }
});

test('every problem is reported at once, and the heading counts them', () => {
  const bad = changed('verifiers.google.preset', 'gogle', changed('ports.jsonrpc', 70000, changed('expect_epoch', { n: 5, k: 3, t: 2 }, changed('extra', 1))));
  const file = writeJson(bad);
  assert.throws(() => loadNodeConfig(file, {}), (error: unknown) => {
    assert.ok(error instanceof Error);
    assert.equal(error.message, `invalid node configuration ${file} (4 problems):
  ports.jsonrpc: 70000 is not a valid port (1-65535)
  verifiers.google.preset: "gogle" is not a known verifier type (google, oidc, dev)
  expect_epoch.t: t must satisfy t < n/4 (n=5), got 2
  extra: unknown field (known: eth_rpc, contract, epoch, data_dir, node_key_file, public_host, listen_host, ports, mode, verifiers, expect_epoch, genesis, timeout_commit, log_level)`);
    return true;
  });
});

test('the environment overrides the file, and a bad value is reported naming the variable', () => {
  const file = writeJson(VALID);
  const { config, overrides } = readNodeConfig(file, {
    TORUS_PUBLIC_HOST: '10.0.0.7', TORUS_EPOCH: '3', TORUS_PORTS_JSONRPC: '7443', TORUS_LOG_LEVEL: 'debug', TORUS_CONTRACT: '',
  });
  assert.equal(config.public_host, '10.0.0.7');
  assert.equal(config.listen_host, '10.0.0.7');
  assert.equal(config.epoch, 3);
  assert.equal(config.ports.jsonrpc, 7443);
  assert.equal(config.ports.keygen, 7100);
  assert.equal(config.log_level, 'debug');
  assert.equal(config.contract, CONTRACT, 'an empty variable counts as unset');
  assert.deepEqual(overrides.map((o) => `${o.field}=${o.variable}`).sort(),
    ['epoch=TORUS_EPOCH', 'log_level=TORUS_LOG_LEVEL', 'ports.jsonrpc=TORUS_PORTS_JSONRPC', 'public_host=TORUS_PUBLIC_HOST']);

  assert.deepEqual(problems(file, { TORUS_EPOCH: 'two' }), ['TORUS_EPOCH: "two" is not a whole number']);
  assert.deepEqual(problems(file, { TORUS_PORTS_JSONRPC: '70000' }), ['ports.jsonrpc (from TORUS_PORTS_JSONRPC): 70000 is not a valid port (1-65535)']);
  assert.deepEqual(problems(file, { TORUS_PORTS_KEYGEN: '7000' }), ['ports.keygen (from TORUS_PORTS_KEYGEN): 7000 is also the port of ports.jsonrpc: every service needs its own port']);
  assert.deepEqual(problems(file, { TORUS_PORTS_JSONRCP: '7001' }),
    [`TORUS_PORTS_JSONRCP: not a port of the node (the ports are ${PORT_NAMES.map((p) => `TORUS_PORTS_${p.toUpperCase()}`).join(', ')})`]);
  assert.ok(PORT_NAMES.includes('jsonrpc') && PORT_NAMES.includes('cometbft_p2p'));
  assert.deepEqual(problems(file, { TORUS_ETH_RPC: 'localhost:8545' }), ['eth_rpc (from TORUS_ETH_RPC): "localhost:8545" is not an http(s) URL of an Ethereum JSON-RPC endpoint']);
  assert.deepEqual(problems(file, { TORUS_MODE: 'staging' }), ['TORUS_MODE: "staging" is not production or development']);
  assert.deepEqual(problems(file, { TORUS_VERIFIERS: '{"g": {"preset": "gogle", "audience": "x"}}' }),
    ['verifiers.g.preset (from TORUS_VERIFIERS): "gogle" is not a known verifier type (google, oidc, dev)']);
  assert.match(problems(file, { TORUS_VERIFIERS: '{nope' })[0] ?? '', /^TORUS_VERIFIERS: not valid JSON/);
});

test('TORUS_MODE and TORUS_VERIFIERS behave as torus-retrieval reads them', () => {
  const devVerifier = { local: { preset: 'dev', issuer: 'http://127.0.0.1:7080', audience: 'torus-dev' } };
  const development = writeJson({ ...VALID, mode: 'development', verifiers: devVerifier });
  assert.equal(loadNodeConfig(development, {}).mode, 'development');
  // The environment can make a node stricter, never laxer.
  assert.deepEqual(problems(development, { TORUS_MODE: 'production' }), [
    'verifiers.local.preset: "dev" is refused in production: the dev preset trusts a development issuer (production because of TORUS_MODE)',
    'verifiers.local.issuer: "http://127.0.0.1:7080" must be https in production (production because of TORUS_MODE)',
  ]);
  assert.equal(problems(development, { NODE_ENV: 'production' }).length, 2);
  assert.equal(loadNodeConfig(writeJson(VALID), { TORUS_MODE: 'development' }).mode, 'production');

  // TORUS_VERIFIERS replaces the file's verifiers (and is all torus-retrieval reads), so it may be the only one.
  const { config, overrides } = readNodeConfig(writeJson(changed('verifiers', undefined)), { TORUS_VERIFIERS: JSON.stringify(VALID.verifiers) });
  assert.equal(config.verifiers, undefined, 'client ids from the environment stay out of the files the node writes');
  assert.deepEqual(overrides, [{ field: 'verifiers', variable: 'TORUS_VERIFIERS' }]);
});

/** Runs the CLI in-process; returns its exit code, output and how long it took. */
async function run(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string; ms: number }> {
  let stdout = '';
  let stderr = '';
  const started = performance.now();
  const code = await torus(args, { env, stdout: (t) => (stdout += t), stderr: (t) => (stderr += t) });
  return { code, stdout, stderr, ms: performance.now() - started };
}

test('torus node init writes a commented file with every field that loads once the placeholders are filled in', async () => {
  const out = path.join(dir, 'init.jsonc');
  const written = await run(['node', 'init', '--out', out]);
  assert.equal(written.code, 0, written.stderr);
  const text = readFileSync(out, 'utf8');
  assert.match(text, /^\/\/ /, 'commented');
  for (const field of [...Object.keys(NodeConfigSchema.shape), ...PORT_NAMES.map((p) => `"${p}"`), 'key_buffer_target', 'max_tx_lifetime_blocks']) {
    assert.ok(text.includes(field), `the init file describes ${field}`);
  }
  assert.equal(written.stdout, `wrote ${out}: a commented configuration with every field, its default and the values it allows
  epoch 1, data in init-data/, ports cometbft_p2p 26656, cometbft_rpc 26657, abci 26658, keygen 7100, jsonrpc 7000, mode production
still to fill in (torus node start names each one left):
  eth_rpc: fill in the Ethereum JSON-RPC URL, e.g. https://rpc.example.org
  contract: fill in the NodeList contract address, 0x and 40 hex digits
  public_host: fill in the host name or IPv4 address other nodes reach this node at
  verifiers.google.audience: fill in your Google OAuth client id
next:
  torus node key --config ${out}     # creates the node key and prints the address for the contract owner's whitelist
  torus node start --config ${out}   # registers in the contract once whitelisted, then runs the node
`);
  // As written, the loader names each placeholder; torus node key needs none of them.
  assert.deepEqual(problems(out), [
    'eth_rpc: fill in the Ethereum JSON-RPC URL, e.g. https://rpc.example.org',
    'contract: fill in the NodeList contract address, 0x and 40 hex digits',
    'public_host: fill in the host name or IPv4 address other nodes reach this node at',
    'verifiers.google.audience: fill in your Google OAuth client id',
  ]);
  const key = await run(['--json', 'node', 'key', '--config', out]);
  assert.equal(key.code, 0, key.stderr);
  assert.equal((JSON.parse(key.stdout) as { file: string }).file, path.join(dir, 'init-data', 'node-key.json'));

  // Not replaced without --force; with the values given, only the verifier's client id is left to fill in.
  const again = await run(['node', 'init', '--out', out, '--epoch', '2', '--public-host', 'node1.example.com', '--contract', CONTRACT]);
  assert.equal(again.code, 1);
  assert.equal(again.stderr, `torus: ${out} exists; pass --force to replace it\n`);
  assert.equal(readFileSync(out, 'utf8'), text);
  const forced = await run(['node', 'init', '--out', out, '--epoch', '2', '--public-host', 'node1.example.com', '--contract', CONTRACT, '--force'], { TORUS_ETH_RPC: 'https://rpc.example.org' });
  assert.equal(forced.code, 0, forced.stderr);
  const filled = write(readFileSync(out, 'utf8').replace('<fill in: your Google OAuth client id>', '1234-abc.apps.googleusercontent.com'), 'filled.jsonc');
  const config = loadNodeConfig(filled, {});
  assert.equal(config.epoch, 2);
  assert.equal(config.contract, CONTRACT);
  assert.equal(config.eth_rpc, 'https://rpc.example.org', 'from $TORUS_ETH_RPC at init');
  assert.equal(config.public_host, 'node1.example.com');
  assert.equal(config.listen_host, '0.0.0.0', 'a public host that is a name gets a listen address');
  assert.equal(config.data_dir, path.join(dir, 'init-data'));
  assert.deepEqual(config.ports, { cometbft_p2p: 26656, cometbft_rpc: 26657, abci: 26658, keygen: 7100, jsonrpc: 7000 });

  const refused = await run(['node', 'init', '--out', path.join(dir, 'bad-init.jsonc'), '--public-host', 'node one', '--eth-rpc', 'ftp://x']);
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /refusing to write .*bad-init\.jsonc:\n {2}eth_rpc: "ftp:\/\/x" is not an http\(s\) URL.*\n {2}public_host: "node one" is not a host name or IPv4 address\n$/);
  assert.equal(existsSync(path.join(dir, 'bad-init.jsonc')), false);
});

test('torus node start with a broken file fails at once naming the field, before creating a key or calling the contract', async () => {
  // The chain is a closed port: a start that got past validation would wait there, not fail.
  const base = { ...VALID, eth_rpc: 'http://127.0.0.1:9' };
  const broken: Array<[string, Record<string, unknown>, RegExp]> = [
    ['an unknown verifier type', changed('verifiers.google.preset', 'gogle', base), /verifiers\.google\.preset: "gogle" is not a known verifier type \(google, oidc, dev\)/],
    ['a bad port', changed('ports.keygen', 65536, base), /ports\.keygen: 65536 is not a valid port \(1-65535\)/],
    ['k and t that break t < k <= n-2t', changed('expect_epoch', { n: 4, k: 3, t: 1 }, base), /expect_epoch\.t: t must satisfy t < n\/4 \(n=4\), got 1/],
  ];
  for (const [what, value, message] of broken) {
    const dataDir = path.join(dir, `data-${what.replaceAll(' ', '-')}`);
    const file = writeJson({ ...value, data_dir: dataDir });
    const result = await Promise.race([
      run(['node', 'start', '--config', file]),
      new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), 5000).unref()),
    ]);
    assert.ok(result !== undefined, `${what}: torus node start did not fail at once`);
    assert.equal(result.code, 1, what);
    assert.match(result.stderr, /^torus: invalid node configuration .* \(1 problem\):\n/, what);
    assert.match(result.stderr, message, what);
    assert.ok(result.ms < 1000, `${what}: took ${result.ms} ms`);
    assert.equal(existsSync(dataDir), false, `${what}: no data directory, so no key`);
  }

  // The same as a process: the torus binary exits with 1 and the three problems.
  const file = writeJson({ ...changed('verifiers.google.preset', 'gogle', changed('ports.keygen', 65536, changed('expect_epoch', { n: 4, k: 3, t: 1 }, base))), data_dir: 'data-process' });
  const started = Date.now();
  const child = spawnSync(process.execPath, [path.join(REPO_ROOT, 'dist/client/src/cli.js'), 'node', 'start', '--config', file], { encoding: 'utf8', timeout: 60_000, env: { PATH: process.env['PATH'] ?? '' } });
  assert.equal(child.status, 1, `exit status ${String(child.status)} (signal ${String(child.signal)}) after ${Date.now() - started} ms: ${child.stderr}`);
  assert.match(child.stderr, /ports\.keygen: 65536 is not a valid port/);
  assert.match(child.stderr, /verifiers\.google\.preset: "gogle" is not a known verifier type/);
  assert.match(child.stderr, /expect_epoch\.t: t must satisfy t < n\/4/);
  assert.equal(existsSync(path.join(dir, 'data-process')), false);
});

test('expect_epoch that differs from the contract stops the start before the node registers, naming both values', async () => {
  const registry = new FakeRegistry();
  registry.put(registrations(4, { id: 1 }));
  const file = writeJson({ ...VALID, data_dir: 'data-expect', expect_epoch: { n: 7, k: 4, t: 0 } });
  const said: string[] = [];
  await assert.rejects(startNode({
    config: loadNodeConfig(file, {}), log: createLogger('test', 'silent'), say: (line) => said.push(line), registry: () => registry, pollMs: 10,
  }), (error: unknown) => {
    assert.ok(error instanceof Error);
    assert.equal(error.message, `epoch 1 in the contract ${CONTRACT} is not the epoch the configuration expects:
  expect_epoch.n is 7, the contract says 4
  expect_epoch.k is 4, the contract says 3
check the epoch number and the contract, or correct expect_epoch`);
    return true;
  });
  assert.ok(!said.some((line) => line.startsWith('registered')));

  // The same expectation as the contract's epoch passes this check: the start goes on to wait for the whitelist.
  const matching = writeJson({ ...VALID, data_dir: 'data-expect-ok', expect_epoch: { n: 4, k: 3, t: 0 } });
  const whitelisted = registry.isWhitelisted;
  registry.isWhitelisted = async () => false;
  const start = startNode({ config: loadNodeConfig(matching, {}), log: createLogger('test', 'silent'), say: (line) => said.push(line), registry: () => registry, pollMs: 10 });
  const outcome = await Promise.race([start.then(() => 'started', (error: unknown) => String(error)), new Promise<string>((resolve) => setTimeout(() => resolve('waiting'), 1500))]);
  assert.equal(outcome, 'waiting');
  assert.match(said.at(-1) ?? '', /waiting for the contract owner to whitelist/);
  // Once whitelisted it registers (which the fake contract refuses: no test registers).
  registry.isWhitelisted = whitelisted;
  await assert.rejects(start, /no node registers in these tests/);
});
