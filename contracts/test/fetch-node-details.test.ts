/**
 * Compatibility with the legacy client: @toruslabs/fetch-node-details 4.0.2 (web3 1.x) reads the node list
 * straight from this contract: currentEpoch() → getEpochInfo(epoch) → getNodeDetails(node) for each node.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fetchNodeDetails from '@toruslabs/fetch-node-details';
import { detailsOf, fundedNodes, startChainWithNodeList, type Chain, type TestNode } from './helpers.js';

// The package is CommonJS with an ES-module-style `default` export; from an ES module it arrives as a property.
const NodeDetailManager = fetchNodeDetails.default;

let chain: Chain;
let nodes: TestNode[];
const ports = [7001, 7002, 7003, 7004, 7005];

before(async () => {
  chain = await startChainWithNodeList();
  nodes = await fundedNodes(chain, 5);
  await chain.contract.createEpoch({ epoch: 1, n: 5, k: 3, t: 1 });
  for (const node of nodes) await chain.contract.updateWhitelist(1, node.address, true);
  for (const [i, node] of nodes.entries()) await node.contract.listNode(1, detailsOf(node, `127.0.0.1:${ports[i]}`));
  await chain.contract.setCurrentEpoch(1);
});

after(async () => {
  await chain?.close();
});

test('fetch-node-details 4.0.2 reads epoch, endpoints, public keys and indexes from the contract', async () => {
  // `network` is typed "mainnet" | "ropsten" but any URL that parses is used as the RPC endpoint, hence the cast.
  // web3 refuses a mixed-case address whose EIP-55 checksum is wrong; ours is checksummed (lowercase works too).
  const manager = new NodeDetailManager({ network: chain.anvil.rpcUrl as 'mainnet', proxyAddress: chain.contract.address });
  // Positional arguments: skip = false (read the contract), skipPostEpochCheck = false.
  const details = await manager.getNodeDetails(false, false);
  // On any error it silently returns its built-in mainnet list with updated = false.
  assert.equal(details.updated, true, 'fetch-node-details fell back to its mainnet list: the contract read failed');
  assert.equal(details.currentEpoch, '1');
  assert.equal(details.nodeListAddress, chain.contract.address);
  // The port of declaredIp is dropped: every node becomes https://<host>/jrpc.
  assert.deepEqual(details.torusNodeEndpoints, Array(5).fill('https://127.0.0.1/jrpc'));
  assert.deepEqual(details.torusIndexes, [1, 2, 3, 4, 5]);
  assert.equal(details.torusNodePub.length, 5);
  for (const [i, pub] of details.torusNodePub.entries()) {
    const node = nodes[i];
    assert.ok(node !== undefined);
    // Lowercase hex without 0x and without leading zeros.
    assert.match(pub.X, /^[0-9a-f]+$/);
    assert.match(pub.Y, /^[0-9a-f]+$/);
    assert.equal(BigInt(`0x${pub.X}`), node.pubKx, `X of node ${i + 1}`);
    assert.equal(BigInt(`0x${pub.Y}`), node.pubKy, `Y of node ${i + 1}`);
  }
});

test('fetch-node-details also accepts the lowercase contract address, and agrees with the bindings', async () => {
  const manager = new NodeDetailManager({ network: chain.anvil.rpcUrl as 'mainnet', proxyAddress: chain.contract.address.toLowerCase() });
  const details = await manager.getNodeDetails(false, false);
  assert.equal(details.updated, true);
  const info = await chain.contract.getEpochInfo(1);
  assert.ok(info !== null);
  for (const [i, address] of info.nodeList.entries()) {
    const ours = await chain.contract.getNodeDetails(address);
    assert.equal(ours?.position, details.torusIndexes[i], 'the index fetch-node-details gives is the position the nodes use');
    assert.equal(`https://${ours?.declaredIp.split(':')[0]}/jrpc`, details.torusNodeEndpoints[i]);
  }
});

test('why updated must be checked: a failed read silently returns the mainnet list', async () => {
  // An address without a contract: the calls fail to decode, and the 2021 mainnet defaults come back.
  const manager = new NodeDetailManager({ network: chain.anvil.rpcUrl as 'mainnet', proxyAddress: chain.owner.toLowerCase() });
  const details = await manager.getNodeDetails(false, false);
  assert.equal(details.updated, false);
  assert.equal(details.currentEpoch, '19');
  assert.equal(details.torusNodeEndpoints.length, 9);
});
