/**
 * The NodeList contract on a real anvil chain: administration, whitelist, registration order and positions,
 * refusals with their reasons, per-epoch details, the legacy read, events.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Wallet } from 'ethers';
import { NodeListContract, NodeListError, nodeListInterface, parseNodeListEvents, type NodeListEvent } from '../src/node-list.js';
import { detailsOf, fundedNodes, startChainWithNodeList, type Chain, type TestNode } from './helpers.js';

let chain: Chain;
// Nodes of epoch 1 (n = 3): created and whitelisted in one order, registered in another (`nodes`), so the
// positions can only come from the registration order.
let createdOrder: TestNode[];
let nodes: TestNode[];
let extra: TestNode; // whitelisted for epoch 1, arrives when the list is full
let stranger: TestNode; // never allowed to register (whitelisted for epoch 2 only briefly, then removed)

before(async () => {
  chain = await startChainWithNodeList();
  const funded = await fundedNodes(chain, 5);
  createdOrder = funded.slice(0, 3);
  nodes = [2, 0, 1].map((i) => funded[i] as TestNode);
  extra = funded[3] as TestNode;
  stranger = funded[4] as TestNode;
});

after(async () => {
  await chain?.close();
});

/** Runs `action`, expects a NodeListError for the contract's custom error `name`, returns it. */
async function refused(action: () => Promise<unknown>, name: string): Promise<NodeListError> {
  try {
    await action();
  } catch (error) {
    assert.ok(error instanceof NodeListError, `expected a NodeListError, got ${String(error)}`);
    assert.equal(error.revert?.name, name, error.message);
    assert.match(error.message, new RegExp(`reverted: ${name}\\(`));
    return error;
  }
  assert.fail(`expected the contract to refuse with ${name}`);
}

function only<N extends NodeListEvent['name']>(events: NodeListEvent[], name: N): Extract<NodeListEvent, { name: N }> {
  assert.equal(events.length, 1, `one event expected, got ${events.map((e) => e.name).join(', ')}`);
  const [event] = events;
  assert.equal(event?.name, name);
  return event as Extract<NodeListEvent, { name: N }>;
}

function node(i: number): TestNode {
  const n = nodes[i];
  assert.ok(n !== undefined);
  return n;
}

test('the legacy read API keeps the selectors fetch-node-details 2.x–4.0.2 calls', () => {
  const iface = nodeListInterface();
  assert.equal(iface.getFunction('currentEpoch()')?.selector, '0x76671808');
  assert.equal(iface.getFunction('getEpochInfo(uint256)')?.selector, '0x135022c2');
  assert.equal(iface.getFunction('getNodeDetails(address)')?.selector, '0xbafb3581');
  // And the outputs it decodes, by position.
  assert.deepEqual(iface.getFunction('getEpochInfo')?.outputs.map((o) => `${o.type} ${o.name}`), [
    'uint256 id', 'uint256 n', 'uint256 k', 'uint256 t', 'address[] nodeList', 'uint256 prevEpoch', 'uint256 nextEpoch',
  ]);
  assert.deepEqual(iface.getFunction('getNodeDetails')?.outputs.map((o) => `${o.type} ${o.name}`), [
    'string declaredIp', 'uint256 position', 'uint256 pubKx', 'uint256 pubKy', 'string tmP2PListenAddress', 'string p2pListenAddress',
  ]);
});

test('the deployer owns the contract; no epoch is current yet', async () => {
  assert.equal(await chain.contract.owner(), chain.owner);
  assert.equal(await chain.contract.currentEpoch(), 0);
  assert.equal(await chain.contract.getEpochInfo(1), null);
  assert.equal(await chain.contract.getEpochCreatedAt(1), null);
  const [event] = await chain.contract.queryEvents({ fromBlock: chain.deployment.blockNumber });
  assert.deepEqual(
    event && { name: event.name, tx: event.transactionHash, ...('newOwner' in event ? { from: event.previousOwner, to: event.newOwner } : {}) },
    { name: 'OwnershipTransferred', tx: chain.deployment.txHash, from: '0x0000000000000000000000000000000000000000', to: chain.owner },
  );
});

test('createEpoch stores the parameters and the creation time, and emits EpochCreated', async () => {
  const { hash, receipt } = await chain.contract.createEpoch({ epoch: 1, n: 3, k: 2, t: 0, nextEpoch: 2 });
  assert.equal(receipt.hash, hash);
  const created = only(parseNodeListEvents(receipt, chain.contract.address), 'EpochCreated');
  assert.deepEqual(
    { epoch: created.epoch, n: created.n, k: created.k, t: created.t, prevEpoch: created.prevEpoch, nextEpoch: created.nextEpoch },
    { epoch: 1, n: 3, k: 2, t: 0, prevEpoch: 0, nextEpoch: 2 },
  );
  assert.equal(created.address, chain.contract.address);
  assert.deepEqual(await chain.contract.getEpochInfo(1), { id: 1, n: 3, k: 2, t: 0, nodeList: [], prevEpoch: 0, nextEpoch: 2 });
  const block = await chain.provider.getBlock(receipt.blockNumber);
  assert.ok(block !== null);
  assert.equal(await chain.contract.getEpochCreatedAt(1), block.timestamp);

  await chain.contract.createEpoch({ epoch: 2, n: 3, k: 2, t: 0, prevEpoch: 1 });
  assert.equal((await chain.contract.getEpochInfo(2))?.prevEpoch, 1);
});

test('createEpoch refuses epoch 0, an existing epoch and impossible (n, k, t), saying which', async () => {
  const c = chain.contract;
  await refused(() => c.createEpoch({ epoch: 0, n: 3, k: 2, t: 0 }), 'EpochZero');
  await refused(() => c.createEpoch({ epoch: 1, n: 5, k: 3, t: 1 }), 'EpochExists');
  await refused(() => c.createEpoch({ epoch: 9, n: 0, k: 0, t: 0 }), 'InvalidN');
  await refused(() => c.createEpoch({ epoch: 9, n: 3, k: 0, t: 0 }), 'InvalidK');
  const tooBigK = await refused(() => c.createEpoch({ epoch: 9, n: 3, k: 4, t: 0 }), 'InvalidK');
  assert.deepEqual(tooBigK.revert?.args, { k: 4n, n: 3n });
  assert.match(tooBigK.message, /k must satisfy 1 <= k <= n/);
  await refused(() => c.createEpoch({ epoch: 9, n: 3, k: 2, t: 3 }), 'InvalidT');
  assert.equal(await c.getEpochInfo(9), null);
  // The owner's NonceManager counted each refused transaction; it was reset, so the owner can still send.
  await c.updateEpochLinks(2, 1, 3);
  assert.deepEqual(await c.getEpochInfo(2), { id: 2, n: 3, k: 2, t: 0, nodeList: [], prevEpoch: 1, nextEpoch: 3 });
});

test('updateEpochLinks changes the links of an existing epoch only, with an event', async () => {
  const { receipt } = await chain.contract.updateEpochLinks(2, 1, 0);
  const event = only(parseNodeListEvents(receipt), 'EpochLinksUpdated');
  assert.deepEqual({ epoch: event.epoch, prevEpoch: event.prevEpoch, nextEpoch: event.nextEpoch }, { epoch: 2, prevEpoch: 1, nextEpoch: 0 });
  await refused(() => chain.contract.updateEpochLinks(7, 1, 0), 'EpochNotFound');
});

test('createEpoch with a previous epoch, then linkNextEpoch: both links, the previous epoch keeping its own', async () => {
  const c = chain.contract;
  await c.createEpoch({ epoch: 20, n: 3, k: 2, t: 0 });
  await c.createEpoch({ epoch: 21, n: 3, k: 2, t: 0, prevEpoch: 20 });
  const { receipt } = await c.linkNextEpoch(20, 21);
  const event = only(parseNodeListEvents(receipt), 'EpochLinksUpdated');
  assert.deepEqual({ epoch: event.epoch, prevEpoch: event.prevEpoch, nextEpoch: event.nextEpoch }, { epoch: 20, prevEpoch: 0, nextEpoch: 21 });
  await c.createEpoch({ epoch: 22, n: 3, k: 2, t: 0, prevEpoch: 21 });
  await c.linkNextEpoch(21, 22);
  const links = await Promise.all([20, 21, 22].map(async (id) => {
    const info = await c.getEpochInfo(id);
    return [id, info?.prevEpoch, info?.nextEpoch];
  }));
  assert.deepEqual(links, [[20, 0, 21], [21, 20, 22], [22, 21, 0]]);
  await assert.rejects(c.linkNextEpoch(23, 24), (error: unknown) => error instanceof NodeListError && /epoch 23 does not exist/.test(error.message));
});

test('the whitelist is per epoch and emits WhitelistUpdated', async () => {
  for (const n of [...createdOrder, extra]) {
    const { receipt } = await chain.contract.updateWhitelist(1, n.address, true);
    const event = only(parseNodeListEvents(receipt), 'WhitelistUpdated');
    assert.deepEqual({ epoch: event.epoch, node: event.node, allowed: event.allowed }, { epoch: 1, node: n.address, allowed: true });
  }
  await chain.contract.updateWhitelist(2, node(0).address, true);
  assert.equal(await chain.contract.isWhitelisted(1, node(1).address), true);
  assert.equal(await chain.contract.isWhitelisted(2, node(1).address), false, 'whitelisted for epoch 1 only');
  assert.equal(await chain.contract.isWhitelisted(1, stranger.address), false);
  // Revoking works, and is an event too.
  await chain.contract.updateWhitelist(2, stranger.address, true);
  const { receipt } = await chain.contract.updateWhitelist(2, stranger.address, false);
  assert.equal(only(parseNodeListEvents(receipt), 'WhitelistUpdated').allowed, false);
  assert.equal(await chain.contract.isWhitelisted(2, stranger.address), false);
  await refused(() => chain.contract.updateWhitelist(0, stranger.address, true), 'EpochZero');
});

test('a node that is not whitelisted, or for an epoch that does not exist, is refused', async () => {
  await refused(() => stranger.contract.listNode(1, detailsOf(stranger, '10.0.0.9:443')), 'NotWhitelisted');
  await refused(() => stranger.contract.listNode(2, detailsOf(stranger, '10.0.0.9:443')), 'NotWhitelisted');
  await refused(() => node(0).contract.listNode(5, detailsOf(node(0), '10.0.0.1:443')), 'EpochNotFound');
});

test("registering someone else's public key is refused", async () => {
  // node(1) declares node(0)'s key: the key's address is not the sender's.
  const error = await refused(() => node(1).contract.listNode(1, detailsOf(node(0), '10.0.0.2:443')), 'PublicKeyMismatch');
  assert.deepEqual(error.revert?.args, { sender: node(1).address, keyAddress: node(0).address });
});

test('positions follow registration order, and getNodes lists nodes in that order', async () => {
  for (const [i, n] of nodes.entries()) {
    const { receipt } = await n.contract.listNode(1, detailsOf(n, `10.0.0.${i + 1}:443`));
    const event = only(parseNodeListEvents(receipt, chain.contract.address), 'NodeListed');
    assert.deepEqual({ node: event.node, epoch: event.epoch, position: event.position }, { node: n.address, epoch: 1, position: i + 1 });
    assert.equal(await chain.contract.nodeRegistered(1, n.address), true);
  }
  const addresses = nodes.map((n) => n.address);
  assert.deepEqual(await chain.contract.getNodes(1), addresses);
  assert.deepEqual((await chain.contract.getEpochInfo(1))?.nodeList, addresses);
  for (const [i, n] of nodes.entries()) {
    assert.deepEqual(await chain.contract.getNodeDetailsForEpoch(1, n.address), { ...detailsOf(n, `10.0.0.${i + 1}:443`), position: i + 1 });
  }
  assert.equal(await chain.contract.nodeRegistered(1, extra.address), false);
  assert.equal(await chain.contract.getNodeDetailsForEpoch(1, extra.address), null);
});

test('a duplicate registration is refused', async () => {
  const error = await refused(() => node(0).contract.listNode(1, detailsOf(node(0), '10.9.9.9:443')), 'AlreadyRegistered');
  assert.match(error.message, /already registered in this epoch/);
  assert.equal((await chain.contract.getNodeDetailsForEpoch(1, node(0).address))?.declaredIp, '10.0.0.1:443', 'unchanged');
});

test('a whitelisted node is refused once the epoch has n nodes', async () => {
  const error = await refused(() => extra.contract.listNode(1, detailsOf(extra, '10.0.0.4:443')), 'EpochFull');
  assert.deepEqual(error.revert?.args, { epoch: 1n, n: 3n });
  assert.equal((await chain.contract.getNodes(1)).length, 3);
});

test('details are per epoch: a node in epochs 1 and 2 keeps both records', async () => {
  const first = node(0);
  const inEpoch2 = { ...detailsOf(first, '192.168.1.1:8443'), tmP2PListenAddress: 'tcp://192.168.1.1:36656' };
  await first.contract.listNode(2, inEpoch2);
  assert.deepEqual(await chain.contract.getNodeDetailsForEpoch(2, first.address), { ...inEpoch2, position: 1 });
  assert.deepEqual(await chain.contract.getNodeDetailsForEpoch(1, first.address), { ...detailsOf(first, '10.0.0.1:443'), position: 1 });
  // Duplicate in an epoch that is not full is refused too (not only because of EpochFull ordering).
  await refused(() => first.contract.listNode(2, inEpoch2), 'AlreadyRegistered');
});

test('getNodeDetails(address) answers for currentEpoch, which only the owner sets, to an existing epoch', async () => {
  const first = node(0);
  assert.equal(await chain.contract.getNodeDetails(first.address), null, 'no current epoch yet');
  const { receipt } = await chain.contract.setCurrentEpoch(1);
  const changed = only(parseNodeListEvents(receipt), 'CurrentEpochChanged');
  assert.deepEqual({ previous: changed.previous, current: changed.current }, { previous: 0, current: 1 });
  assert.equal(await chain.contract.currentEpoch(), 1);
  assert.equal((await chain.contract.getNodeDetails(first.address))?.declaredIp, '10.0.0.1:443');
  assert.equal((await chain.contract.getNodeDetails(node(2).address))?.position, 3);

  await chain.contract.setCurrentEpoch(2);
  assert.equal((await chain.contract.getNodeDetails(first.address))?.declaredIp, '192.168.1.1:8443');
  assert.equal(await chain.contract.getNodeDetails(node(2).address), null, 'node 3 is not in epoch 2');
  await refused(() => chain.contract.setCurrentEpoch(42), 'EpochNotFound');
  await chain.contract.setCurrentEpoch(1);
});

test('administration by anyone but the owner is refused with NotOwner(caller)', async () => {
  const intruder = node(1).contract;
  const caller = node(1).address;
  const errors = [
    await refused(() => intruder.createEpoch({ epoch: 3, n: 1, k: 1, t: 0 }), 'NotOwner'),
    await refused(() => intruder.updateWhitelist(1, caller, true), 'NotOwner'),
    await refused(() => intruder.setCurrentEpoch(2), 'NotOwner'),
    await refused(() => intruder.transferOwnership(caller), 'NotOwner'),
    await refused(() => intruder.updateEpochLinks(1, 0, 3), 'NotOwner'),
  ];
  for (const error of errors) {
    assert.deepEqual(error.revert?.args, { caller });
    assert.match(error.message, /only the contract owner may do this/);
  }
  assert.equal(await chain.contract.getEpochInfo(3), null);
  assert.equal(await chain.contract.currentEpoch(), 1);
  assert.equal(await chain.contract.owner(), chain.owner);
});

test('transferOwnership hands over administration, with an event', async () => {
  const heir = node(2);
  const { receipt } = await chain.contract.transferOwnership(heir.address);
  const event = only(parseNodeListEvents(receipt), 'OwnershipTransferred');
  assert.deepEqual({ from: event.previousOwner, to: event.newOwner }, { from: chain.owner, to: heir.address });
  await refused(() => chain.contract.setCurrentEpoch(2), 'NotOwner');
  await refused(() => heir.contract.transferOwnership('0x0000000000000000000000000000000000000000'), 'ZeroAddress');
  await heir.contract.transferOwnership(chain.owner);
  assert.equal(await chain.contract.owner(), chain.owner);
});

test('queryEvents returns the history in chain order', async () => {
  const events = await chain.contract.queryEvents({ fromBlock: chain.deployment.blockNumber });
  const listed = events.filter((e) => e.name === 'NodeListed').map((e) => (e.name === 'NodeListed' ? `${e.epoch}:${e.position}:${e.node}` : ''));
  assert.deepEqual(listed, [...nodes.map((n, i) => `1:${i + 1}:${n.address}`), `2:1:${node(0).address}`]);
  const order = events.map((e) => [e.blockNumber, e.logIndex] as const);
  assert.deepEqual(order, [...order].sort((a, b) => a[0] - b[0] || a[1] - b[1]));
  assert.equal(events.filter((e) => e.name === 'OwnershipTransferred').length, 3);
});

test('errors that are not reverts are readable too', async () => {
  // No contract at this address: the eth_call answer "0x" does not decode.
  const nowhere = new NodeListContract(Wallet.createRandom().address, chain.provider);
  await assert.rejects(nowhere.currentEpoch(), (error: unknown) => error instanceof NodeListError && /is there a NodeList contract at this address/.test(error.message));
  // A provider cannot send.
  await assert.rejects(chain.contract.connect(chain.provider).setCurrentEpoch(1), /not a signer/);
  // A wrong EIP-55 checksum is refused before anything is sent (flip the case of the first letter).
  const letter = chain.owner.slice(2).search(/[a-fA-F]/) + 2;
  const flipped = chain.owner[letter] === chain.owner[letter]?.toUpperCase() ? chain.owner[letter]?.toLowerCase() : chain.owner[letter]?.toUpperCase();
  const bad = `${chain.owner.slice(0, letter)}${flipped ?? ''}${chain.owner.slice(letter + 1)}`;
  await assert.rejects(chain.contract.isWhitelisted(1, bad), /EIP-55 checksum/);
  await assert.rejects(chain.contract.getEpochInfo(-1), /must not be negative/);
});
