/**
 * The compose network (testnet/docker-compose.yml) as a Docker user runs it: the image is built locally (from
 * a base made of this machine's Node.js, since no registry can be reached here), the containers come up on a
 * private network, a new user logs in through the published ports, two node containers are killed and logins
 * go on, they come back and catch up, the whole network is stopped and started, the user keeps the key and
 * the buffer refills. Needs a Docker engine and docker-compose: `.ci/run` installs and starts them and sets
 * TORUS_REQUIRE_DOCKER=1; elsewhere the test is skipped, saying why, when no engine answers.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { abciQuery, status } from '../../core/comet/rpc.js';
import { REPO_ROOT } from '../../core/comet/binary.js';
import { freePorts } from '../../core/ports.js';
import { NodeListContract, providerFor } from '../../contracts/src/node-list.js';
import { clientNetworkFromContract } from '../../node/src/client-network.js';
import { loadNetwork } from '../../client/src/network.js';
import { TorusClient } from '../../client/src/sdk.js';
import { DEV_VERIFIER } from '../../retrieval/src/verifiers/dev-issuer.js';
import { waitFor } from './helpers.js';

const run = promisify(execFile);
const N = 5;
const KEYS = 6;
const COMPOSE_FILE = path.join(REPO_ROOT, 'testnet/docker-compose.yml');
const BASE_IMAGE = 'torus-base:local';

function dockerProblem(): string | undefined {
  try {
    execFileSync('docker', ['info'], { stdio: 'ignore', timeout: 20_000 });
  } catch {
    return 'no Docker engine answers `docker info`';
  }
  try {
    execFileSync('docker-compose', ['version'], { stdio: 'ignore' });
  } catch {
    return 'docker-compose is not installed';
  }
  return undefined;
}

const problem = dockerProblem();
if (problem !== undefined && process.env['TORUS_REQUIRE_DOCKER'] === '1') throw new Error(`the Docker test is required here, but ${problem}`);


describe('the docker-compose network', { timeout: 1_500_000, skip: problem }, () => {
  const project = `torustest${process.pid}`;
  let env: NodeJS.ProcessEnv = process.env;
  let up = false;
  const compose = (...args: string[]) => run('docker-compose', ['-p', project, '-f', COMPOSE_FILE, ...args], { env, cwd: REPO_ROOT, maxBuffer: 64 * 1024 * 1024 });
  after(async () => {
    if (up) await compose('down', '-v').catch(() => undefined);
  });

  it('logs a new user in; survives two killed nodes, which catch up; keeps the key across a full stop and start', async () => {
    const inspected = await run('docker', ['image', 'inspect', BASE_IMAGE]).then(() => true, () => false);
    if (!inspected) await run('bash', [path.join(REPO_ROOT, 'testnet/docker/base-from-host.sh'), BASE_IMAGE]);
    const ports = await freePorts(2 + 2 * N);
    const jrpc = (i: number) => ports[1 + i] as number;
    const comet = (i: number) => ports[1 + N + i] as number;
    env = {
      ...process.env, TORUS_BASE_IMAGE: BASE_IMAGE, TORUS_KEYS: String(KEYS),
      TORUS_CHAIN_PORT: String(ports[0]), TORUS_ISSUER_PORT: String(ports[1]),
      ...Object.fromEntries(Array.from({ length: N }, (_, i) => [[`TORUS_JRPC_PORT_${i + 1}`, String(jrpc(i + 1))], [`TORUS_COMET_PORT_${i + 1}`, String(comet(i + 1))]]).flat()),
    };
    up = true;
    await compose('up', '-d', '--build');
    for (let i = 1; i <= N; i++) {
      await waitFor(`node${i}'s JSON-RPC`, 600_000, async () => ((await fetch(`http://127.0.0.1:${jrpc(i)}/healthz`)).ok ? true : undefined));
    }

    const buffer = async () => (await abciQuery(`http://127.0.0.1:${comet(1)}`, '/buffer')).value as { ready: number; generating: number; assigned: number };
    await waitFor('the first key buffer', 600_000, async () => {
      const b = await buffer();
      return b.ready >= KEYS && b.generating === 0 ? b : undefined;
    });

    // The client file: the contract's view, with each node's container address replaced by its published port.
    const work = mkdtempSync(path.join(tmpdir(), 'torus-docker-'));
    await run('docker', ['cp', `${project}_setup_1:/shared/setup.json`, path.join(work, 'setup.json')]);
    const { contract } = JSON.parse(readFileSync(path.join(work, 'setup.json'), 'utf8')) as { contract: string };
    const provider = providerFor(`http://127.0.0.1:${ports[0]}`);
    const network = await clientNetworkFromContract(new NodeListContract(contract, provider), provider, 1);
    const containerOf = new Map<number, number>();
    for (const node of network.nodes) {
      const container = Number(/172\.28\.0\.1(\d):7000/.exec(node.endpoint)?.[1]);
      containerOf.set(node.index, container);
      node.endpoint = `http://127.0.0.1:${jrpc(container)}/jrpc`;
    }
    const clientFile = path.join(work, 'client.json');
    writeFileSync(clientFile, JSON.stringify({ ...network, dev_issuer: `http://127.0.0.1:${ports[1]}` }));
    const client = () => new TorusClient(loadNetwork(clientFile));
    const token = (email: string) => client().devToken(email);

    const email = 'alice@example.com';
    const assigned = await client().assign(DEV_VERIFIER, email);
    const first = await client().login(DEV_VERIFIER, await token(email));
    assert.equal(first.address, assigned.address);
    assert.equal((await client().lookup(DEV_VERIFIER, email))?.address, assigned.address);

    await compose('kill', 'node4', 'node5');
    const during = await client().login(DEV_VERIFIER, await token(email));
    assert.equal(during.address, assigned.address);
    const killed = [...containerOf].filter(([, container]) => container >= 4).map(([index]) => index).sort();
    assert.deepEqual([...new Set(during.failedNodes.map((f) => f.index))].sort(), killed);
    await compose('start', 'node4', 'node5');
    const target = (await status(`http://127.0.0.1:${comet(1)}`)).height;
    for (const i of [4, 5]) {
      await waitFor(`node${i} catching up to ${target}`, 300_000, async () => ((await status(`http://127.0.0.1:${comet(i)}`)).height >= target ? true : undefined));
    }

    await compose('stop');
    await compose('start');
    for (let i = 1; i <= N; i++) {
      await waitFor(`node${i} back`, 300_000, async () => ((await fetch(`http://127.0.0.1:${jrpc(i)}/healthz`)).ok ? true : undefined));
    }
    assert.equal((await client().login(DEV_VERIFIER, await token(email))).address, assigned.address, 'the same key after a restart');
    const bob = await client().assign(DEV_VERIFIER, 'bob@example.com');
    assert.notEqual(bob.address, assigned.address);
    await waitFor('the buffer refilled', 300_000, async () => {
      const b = await buffer();
      return b.ready >= KEYS && b.generating === 0 && b.assigned === 2 ? b : undefined;
    });
  });
});
