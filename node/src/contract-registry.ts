/** The node's view of the NodeList contract (registry.ts) over the ethers bindings in contracts/. */
import { getAddress } from 'ethers';
import { bytesToHex } from '../../core/encoding/bytes.js';
import { NodeListContract, providerFor, walletFor } from '../../contracts/src/node-list.js';
import type { EpochOnChain, NodeDetailsOnChain, NodeRegistry, Registration } from './registry.js';

export function contractRegistry(ethRpc: string, contractAddress: string, secretKey: Uint8Array): NodeRegistry {
  const provider = providerFor(ethRpc);
  const contract = new NodeListContract(getAddress(contractAddress), walletFor(bytesToHex(secretKey), provider));
  return {
    address: contract.address,
    chainId: async () => (await provider.getNetwork()).chainId,
    epoch: async (epoch: number): Promise<EpochOnChain | undefined> => {
      const [info, createdAt] = await Promise.all([contract.getEpochInfo(epoch), contract.getEpochCreatedAt(epoch)]);
      if (info === null) return undefined;
      return { ...info, createdAt: createdAt ?? 0 };
    },
    details: async (epoch: number, node: string): Promise<NodeDetailsOnChain | undefined> => (await contract.getNodeDetailsForEpoch(epoch, node)) ?? undefined,
    isWhitelisted: (epoch: number, node: string) => contract.isWhitelisted(epoch, node),
    listNode: async (epoch: number, registration: Registration) => (await contract.listNode(epoch, registration)).hash,
  };
}
