/**
 * `torus epoch create --prev` and `torus epoch status` against a real chain (anvil): one command links both
 * epochs, refusals leave nothing half done, and the status is read without the admin key.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { main as torus } from '../../client/src/cli.js';
import { startAnvil, type Anvil } from '../../contracts/src/anvil.js';
import { NodeListContract, providerFor, walletFor } from '../../contracts/src/node-list.js';
import { parseSecretKey, publicKeyOf } from '../../core/crypto/keys.js';
import { bytesToBigint } from '../../core/encoding/bytes.js';
import { runTorus } from '../../testnet/test/helpers.js';

let anvil: Anvil;
let env: Record<string, string>;
let contract: NodeListContract;

before(async () => {
  anvil = await startAnvil();
  env = { TORUS_ETH_RPC: anvil.rpcUrl, TORUS_ADMIN_KEY: anvil.accounts[0]?.secretKey as string };
  env['TORUS_CONTRACT'] = (JSON.parse(await runTorus(['--json', 'contract', 'deploy'], env)) as { contract: string }).contract;
  contract = new NodeListContract(env['TORUS_CONTRACT'], providerFor(anvil.rpcUrl, anvil.chainId));
});

after(async () => {
  await anvil?.stop();
});

/** Runs a command expected to fail; returns its error output. */
async function refused(args: string[], withEnv: Record<string, string | undefined> = env): Promise<string> {
  let stderr = '';
  const code = await torus(args, { env: withEnv, stdout: () => undefined, stderr: (t) => (stderr += t) });
  assert.notEqual(code, 0, `torus ${args.join(' ')} should have failed`);
  return stderr;
}

const links = async (id: number) => {
  const info = await contract.getEpochInfo(id);
  return info === null ? null : { prev: info.prevEpoch, next: info.nextEpoch };
};

test('epoch create --prev P creates the epoch and sets P\'s next epoch, printing both transactions', async () => {
  await runTorus(['epoch', 'create', '--epoch', '1', '--n', '4', '--k', '3', '--t', '0'], env);
  const out = await runTorus(['epoch', 'create', '--epoch', '2', '--n', '5', '--k', '3', '--t', '1', '--prev', '1'], env);
  assert.match(out, /^created epoch 2 \(n=5, k=3, t=1, prev 1, next 0\)\ntransaction {2}0x[0-9a-f]{64}\nepoch 1's next epoch is now 2\ntransaction {2}0x[0-9a-f]{64}\n$/);
  const [first, second] = [...out.matchAll(/0x[0-9a-f]{64}/g)].map((m) => m[0]);
  assert.notEqual(first, second);
  assert.deepEqual(await links(1), { prev: 0, next: 2 });
  assert.deepEqual(await links(2), { prev: 1, next: 0 });

  // Epoch 3 after epoch 2: epoch 2 keeps its previous epoch.
  const json = JSON.parse(await runTorus(['--json', 'epoch', 'create', '--epoch', '3', '--n', '5', '--k', '3', '--t', '1', '--prev', '2'], env)) as Record<string, unknown>;
  assert.equal(json['prev_epoch'], 2);
  assert.match(String(json['prev_link_transaction']), /^0x[0-9a-f]{64}$/);
  assert.deepEqual(await links(2), { prev: 1, next: 3 });
});

test('epoch create refuses a --prev that is missing, not earlier, or already handing over, and creates nothing', async () => {
  assert.match(await refused(['epoch', 'create', '--epoch', '9', '--n', '4', '--k', '3', '--t', '0', '--prev', '8']), /--prev 8: epoch 8 does not exist/);
  assert.match(await refused(['epoch', 'create', '--epoch', '9', '--n', '4', '--k', '3', '--t', '0', '--prev', '9']), /only from an earlier epoch/);
  assert.match(await refused(['epoch', 'create', '--epoch', '9', '--n', '4', '--k', '3', '--t', '0', '--prev', '1']), /epoch 1 already hands its keys over to epoch 2/);
  assert.equal(await links(9), null);
  assert.deepEqual(await links(1), { prev: 0, next: 2 });
});

test('epoch status prints n, k, t, the links and the listed nodes, without the admin key', async () => {
  const readOnly = { TORUS_ETH_RPC: env['TORUS_ETH_RPC'], TORUS_CONTRACT: env['TORUS_CONTRACT'] };
  const account = anvil.accounts[1] as { address: string; secretKey: string };
  await runTorus(['epoch', 'set-current', '--epoch', '2'], env);
  await runTorus(['whitelist', 'add', '--epoch', '2', account.address], env);
  const publicKey = publicKeyOf(parseSecretKey(account.secretKey));
  await contract.connect(walletFor(account.secretKey, providerFor(anvil.rpcUrl, anvil.chainId))).listNode(2, {
    declaredIp: '127.0.0.1:7001', pubKx: bytesToBigint(publicKey.subarray(1, 33)), pubKy: bytesToBigint(publicKey.subarray(33)),
    tmP2PListenAddress: `${'ab'.repeat(20)}@127.0.0.1:26656`, p2pListenAddress: '/ip4/127.0.0.1/tcp/9001',
  });
  assert.equal(await runTorus(['epoch', 'status', '--epoch', '2'], readOnly),
    `epoch 2: n=5, k=3, t=1 (the current epoch)\nprevious epoch 1, next epoch 3\n1 of 5 nodes listed (4 missing)\n  1  ${account.address}  127.0.0.1:7001\n`);
  const status = JSON.parse(await runTorus(['--json', 'epoch', 'status', '--epoch', '1'], readOnly)) as Record<string, unknown>;
  assert.deepEqual(status, { epoch: 1, n: 4, k: 3, t: 0, prev_epoch: 0, next_epoch: 2, current: false, listed: 0, nodes: [] });
  assert.match(await refused(['epoch', 'status', '--epoch', '7'], readOnly), /epoch 7 does not exist in the contract/);
});
