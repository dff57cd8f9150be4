import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { bytesToBigint, utf8 } from '../../core/encoding/bytes.js';
import { checksumAddress, ethereumAddress, publicKeyOf, randomSecretKey } from '../../core/crypto/keys.js';
import { parseGenesisAppState } from '../../abci/src/state/genesis.js';
import { chainIdFor, jsonRpcUrl, planNetwork } from '../src/network-plan.js';
import type { EpochOnChain, NodeDetailsOnChain } from '../src/registry.js';

const CONTRACT = '0x5FbDB2315678afecb367f032d93F642f64180aa3';

function registrations(n: number) {
  const nodes = Array.from({ length: n }, (_, i) => {
    const publicKey = publicKeyOf(randomSecretKey());
    const address = checksumAddress(ethereumAddress(publicKey));
    const details: NodeDetailsOnChain = {
      declaredIp: `127.0.0.1:${7000 + i}`, position: i + 1,
      pubKx: bytesToBigint(publicKey.subarray(1, 33)), pubKy: bytesToBigint(publicKey.subarray(33)),
      tmP2PListenAddress: `${'ab'.repeat(20)}@127.0.0.1:${26000 + i}`, p2pListenAddress: `/ip4/127.0.0.1/tcp/${9000 + i}`,
    };
    return { address, details };
  });
  const epoch: EpochOnChain = { id: 3, n, k: Math.floor(n / 2) + 1, t: Math.ceil(n / 4) - 1, nodeList: nodes.map((x) => x.address), prevEpoch: 2, nextEpoch: 0, createdAt: 1_790_000_000 };
  return { epoch, details: new Map(nodes.map((x) => [x.address, x.details])) };
}

const params = { keyBufferTarget: 10, maxTxLifetimeBlocks: 1000 };
const hash = (value: unknown) => createHash('sha256').update(JSON.stringify(value)).digest('hex');

test('every node derives the same network from the contract: genesis, chain id, members by position', () => {
  const { epoch, details } = registrations(5);
  const a = planNetwork({ ethChainId: 31337n, contract: CONTRACT, epoch, details, params });
  // Another node reads the same data in another order (maps iterate differently): same genesis, byte for byte.
  const b = planNetwork({ ethChainId: 31337n, contract: CONTRACT, epoch, details: new Map([...details].reverse()), params });
  assert.equal(hash(a.genesis), hash(b.genesis));
  assert.equal(a.chainId, 'torus-31337-5fbdb231-e3');
  assert.ok(chainIdFor(2n ** 64n, CONTRACT, 2 ** 31).length <= 50, 'CometBFT chain ids are at most 50 characters');
  assert.deepEqual(a.members.map((m) => m.index), [1, 2, 3, 4, 5]);
  assert.deepEqual(a.members.map((m) => m.address), epoch.nodeList);
  const genesis = a.genesis as { genesis_time: string; validators: Array<{ pub_key: { type: string } }>; consensus_params: { validator: { pub_key_types: string[] } }; app_state: unknown };
  assert.equal(genesis.genesis_time, new Date(1_790_000_000_000).toISOString());
  assert.deepEqual(genesis.consensus_params.validator.pub_key_types, ['secp256k1']);
  assert.ok(genesis.validators.every((v) => v.pub_key.type === 'tendermint/PubKeySecp256k1'));
  const appState = parseGenesisAppState(utf8(JSON.stringify(genesis.app_state)));
  assert.deepEqual(appState.epoch.members.map((m) => m.address), epoch.nodeList, 'torus-abci accepts the app state, members in position order');
  assert.notEqual(hash(planNetwork({ ethChainId: 1n, contract: CONTRACT, epoch, details, params }).genesis), hash(a.genesis), 'another chain gives another network');
});

test('registrations a network cannot be built on are refused, naming the node', () => {
  const { epoch, details } = registrations(5);
  const second = epoch.nodeList[1] as string;
  const broken = (change: Partial<NodeDetailsOnChain>) => new Map([...details].map(([k, v]) => [k, k === second ? { ...v, ...change } : v]));
  const cases: Array<[Partial<NodeDetailsOnChain>, RegExp]> = [
    [{ position: 4 }, /node 2 .* has position 4, expected 2/],
    [{ pubKx: (details.get(epoch.nodeList[0] as string) as NodeDetailsOnChain).pubKx }, /node 2 .*(not on secp256k1|not its address)/],
    [{ tmP2PListenAddress: 'not-a-peer' }, /node 2 .*tmP2PListenAddress/],
    [{ p2pListenAddress: '/ip4/127.0.0.1/udp/1' }, /node 2 .*p2pListenAddress/],
    [{ declaredIp: 'http://x/jrpc' }, /node 2 .*declaredIp/],
  ];
  for (const [change, pattern] of cases) {
    assert.throws(() => planNetwork({ ethChainId: 1n, contract: CONTRACT, epoch, details: broken(change), params }), pattern);
  }
  assert.throws(() => planNetwork({ ethChainId: 1n, contract: CONTRACT, epoch: { ...epoch, nodeList: epoch.nodeList.slice(0, 4) }, details, params }), /lists 4 of 5/);
  assert.throws(() => planNetwork({ ethChainId: 1n, contract: CONTRACT, epoch: { ...epoch, k: 2 }, details, params }), /k must be/);
});

test('JSON-RPC URLs from declared host:port: plain HTTP only on loopback', () => {
  assert.equal(jsonRpcUrl('127.0.0.1:7001'), 'http://127.0.0.1:7001/jrpc');
  assert.equal(jsonRpcUrl('localhost:7001'), 'http://localhost:7001/jrpc');
  assert.equal(jsonRpcUrl('node1.example.com'), 'https://node1.example.com/jrpc');
  assert.equal(jsonRpcUrl('10.0.0.5:443'), 'https://10.0.0.5:443/jrpc');
});
