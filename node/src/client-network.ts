/** The client network file (client/src/network.ts) of an epoch, read from the NodeList contract. */
import type { Provider } from 'ethers';
import type { NodeListContract } from '../../contracts/src/node-list.js';
import { chainIdFor, jsonRpcUrl, uncompressedKeyHex } from './network-plan.js';

export interface ClientNetworkFile {
  chain_id: string;
  epoch: number;
  n: number;
  k: number;
  nodes: Array<{ index: number; endpoint: string; public_key: string }>;
  dev_issuer?: string;
}

export async function clientNetworkFromContract(contract: NodeListContract, provider: Provider, epochId: number): Promise<ClientNetworkFile> {
  const info = await contract.getEpochInfo(epochId);
  if (info === null) throw new Error(`epoch ${epochId} does not exist in the contract`);
  if (info.nodeList.length < info.n) throw new Error(`epoch ${epochId} lists ${info.nodeList.length} of ${info.n} nodes; export it once all are listed`);
  const nodes = [];
  for (const [i, address] of info.nodeList.entries()) {
    const d = await contract.getNodeDetailsForEpoch(epochId, address);
    if (d === null) throw new Error(`node ${address} of epoch ${epochId} has no details`);
    const publicKey = uncompressedKeyHex(d.pubKx, d.pubKy);
    nodes.push({ index: i + 1, endpoint: jsonRpcUrl(d.declaredIp), public_key: publicKey });
  }
  return { chain_id: chainIdFor((await provider.getNetwork()).chainId, contract.address, epochId), epoch: epochId, n: info.n, k: info.k, nodes };
}
