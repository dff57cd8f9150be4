import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { utf8 } from '../../core/encoding/bytes.js';
import { parseGenesisAppState } from '../../abci/src/state/genesis.js';
import { CommitteeSchema } from '../../dkg/src/config.js';
import { chainIdFor, jsonRpcUrl, planNetwork } from '../src/network-plan.js';
import type { EpochOnChain, NodeDetailsOnChain } from '../src/registry.js';
import { CONTRACT, expectedCommittee, registrations, uncompressedKey } from './helpers.js';

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
  assert.equal(appState.previous, undefined, 'an epoch without a previous epoch takes nothing over');
  assert.equal(a.source, undefined);
});

test('an epoch with a previous epoch: the same `previous` in every genesis, and that committee as torus-dkg\'s source', () => {
  const prev = registrations(5, { id: 2, base: 100 });
  const own = registrations(4, { id: 3, prevEpoch: 2 });
  const a = planNetwork({ ethChainId: 31337n, contract: CONTRACT, ...own, previous: prev, params });
  // Another member reads both epochs in other orders: the same genesis, hence the same chain.
  const reversed = (d: ReadonlyMap<string, NodeDetailsOnChain>) => new Map([...d].reverse());
  const b = planNetwork({ ethChainId: 31337n, contract: CONTRACT, epoch: own.epoch, details: reversed(own.details), previous: { epoch: prev.epoch, details: reversed(prev.details) }, params });
  assert.equal(hash(a.genesis), hash(b.genesis));

  const genesis = a.genesis as { app_state: { previous?: unknown } };
  assert.deepEqual(genesis.app_state.previous, {
    chain_id: 'torus-31337-5fbdb231-e2',
    epoch: { id: 2, n: 5, k: 3, t: 1, members: prev.epoch.nodeList.map((address, i) => ({ index: i + 1, public_key: uncompressedKey(prev.details.get(address) as NodeDetailsOnChain) })) },
  });
  const appState = parseGenesisAppState(utf8(JSON.stringify(genesis.app_state)));
  assert.deepEqual(appState.previous?.epoch.members.map((m) => m.address), prev.epoch.nodeList, 'torus-abci accepts `previous`, members in position order');
  assert.equal(appState.epoch.id, 3);

  const source = expectedCommittee('torus-31337-5fbdb231-e2', prev);
  assert.deepEqual(source.members.map((m) => [m.address, m.jsonrpc]), [0, 1, 2, 3, 4].map((i) => [`/ip4/127.0.0.1/tcp/${9100 + i}`, `http://127.0.0.1:${7100 + i}/jrpc`]));
  assert.deepEqual(a.source, source, "the previous members' keys, keygen addresses and JSON-RPC URLs");
  assert.ok(CommitteeSchema.safeParse(a.source).success, 'torus-dkg accepts the source committee');
});

test('a previous epoch that is not full, not the linked one or badly registered is refused, naming it', () => {
  const prev = registrations(5, { id: 2, base: 100 });
  const own = registrations(4, { id: 3, prevEpoch: 2 });
  const plan = (previous?: { epoch: EpochOnChain; details: ReadonlyMap<string, NodeDetailsOnChain> }, epoch = own.epoch) =>
    () => planNetwork({ ethChainId: 1n, contract: CONTRACT, epoch, details: own.details, ...(previous !== undefined ? { previous } : {}), params });
  assert.throws(plan({ ...prev, epoch: { ...prev.epoch, nodeList: prev.epoch.nodeList.slice(0, 4) } }), /epoch 2 lists 4 of 5 nodes/);
  const second = prev.epoch.nodeList[1] as string;
  const broken = (change: Partial<NodeDetailsOnChain>) => ({ epoch: prev.epoch, details: new Map([...prev.details].map(([k, v]) => [k, k === second ? { ...v, ...change } : v])) });
  assert.throws(plan(broken({ p2pListenAddress: '/ip4/10.0.0.1/udp/1' })), new RegExp(`node 2 \\(${second}\\) of epoch 2: p2pListenAddress`));
  assert.throws(plan(broken({ position: 5 })), new RegExp(`node 2 \\(${second}\\) of epoch 2 has position 5`));
  assert.throws(plan({ epoch: prev.epoch, details: new Map([...prev.details].filter(([k]) => k !== second)) }), /node 2 .* of epoch 2 has no details/);
  assert.throws(plan(), /epoch 3 names epoch 2 as its previous epoch/, 'an epoch with a previous epoch is not planned without it');
  assert.throws(plan({ ...prev, epoch: { ...prev.epoch, id: 1 } }), /names epoch 2 as its previous epoch, not epoch 1/);
  assert.throws(plan({ ...prev, epoch: { ...prev.epoch, id: 4 } }, { ...own.epoch, prevEpoch: 4 }), /previous epoch 4 of epoch 3 must come before it/);
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
