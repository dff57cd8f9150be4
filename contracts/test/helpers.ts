/** Test helpers: a chain with a deployed NodeList, and node identities with funded signers. */
import { parseEther, type JsonRpcProvider, type NonceManager } from 'ethers';
import { checksumAddress, ethereumAddress, publicKeyOf, randomSecretKey } from '../../core/crypto/keys.js';
import { bytesToBigint, bytesToHex } from '../../core/encoding/bytes.js';
import { startAnvil, type Anvil } from '../src/anvil.js';
import { NodeListContract, deployNodeList, providerFor, walletFor, type ListNodeParams } from '../src/node-list.js';

export interface Chain {
  readonly anvil: Anvil;
  readonly provider: JsonRpcProvider;
  /** anvil account 0: deploys and owns the contract, funds the nodes. */
  readonly ownerSigner: NonceManager;
  readonly owner: string;
  /** The contract with the owner's signer. */
  readonly contract: NodeListContract;
  readonly deployment: { address: string; txHash: string; blockNumber: number };
  close(): Promise<void>;
}

export async function startChainWithNodeList(): Promise<Chain> {
  const anvil = await startAnvil();
  try {
    const provider = providerFor(anvil.rpcUrl, anvil.chainId);
    const first = anvil.accounts[0];
    if (first === undefined) throw new Error('anvil has no accounts');
    const ownerSigner = walletFor(first.secretKey, provider);
    const deployment = await deployNodeList(ownerSigner);
    return {
      anvil,
      provider,
      ownerSigner,
      owner: first.address,
      contract: new NodeListContract(deployment.address, ownerSigner),
      deployment,
      async close() {
        provider.destroy();
        await anvil.stop();
      },
    };
  } catch (error) {
    await anvil.stop();
    throw error;
  }
}

/** A node identity: a fresh secp256k1 key, its Ethereum address and public key coordinates. */
export interface TestNode {
  readonly secretKey: string;
  readonly address: string;
  readonly pubKx: bigint;
  readonly pubKy: bigint;
  readonly signer: NonceManager;
  /** The contract with this node's signer. */
  readonly contract: NodeListContract;
}

export function newNode(chain: Chain): TestNode {
  const secret = randomSecretKey();
  const publicKey = publicKeyOf(secret); // 65 bytes: 0x04 ‖ x ‖ y
  const signer = walletFor(bytesToHex(secret), chain.provider);
  return {
    secretKey: bytesToHex(secret),
    address: checksumAddress(ethereumAddress(publicKey)),
    pubKx: bytesToBigint(publicKey.subarray(1, 33)),
    pubKy: bytesToBigint(publicKey.subarray(33, 65)),
    signer,
    contract: chain.contract.connect(signer),
  };
}

/** Creates nodes and sends each 1 ETH from the owner (for gas). */
export async function fundedNodes(chain: Chain, count: number): Promise<TestNode[]> {
  const nodes = Array.from({ length: count }, () => newNode(chain));
  // Sent back to back: the NonceManager numbers them without waiting for each to be mined.
  const sent = [];
  for (const node of nodes) sent.push(await chain.ownerSigner.sendTransaction({ to: node.address, value: parseEther('1') }));
  await Promise.all(sent.map((tx) => tx.wait(1)));
  return nodes;
}

/** Registration details for a node, with listen addresses derived from `declaredIp` ("host:port"). */
export function detailsOf(node: TestNode, declaredIp: string): ListNodeParams {
  const host = declaredIp.split(':')[0] ?? declaredIp;
  return {
    declaredIp,
    pubKx: node.pubKx,
    pubKy: node.pubKy,
    tmP2PListenAddress: `tcp://${host}:26656`,
    p2pListenAddress: `/ip4/${host}/tcp/4001`,
  };
}
