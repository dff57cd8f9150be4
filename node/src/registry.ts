/**
 * What a node needs from the NodeList contract, as a narrow interface: the node lifecycle is written (and
 * tested) against this, and `contract-registry.ts` implements it over the ethers bindings.
 */
import type { EpochInfo, ListNodeParams, NodeDetails } from '../../contracts/src/node-list.js';

/** An epoch as the contract holds it, with the timestamp of the block that created it (the genesis time). */
export type EpochOnChain = EpochInfo & { readonly createdAt: number };
export type NodeDetailsOnChain = NodeDetails;
export type Registration = ListNodeParams;

export interface NodeRegistry {
  /** The contract's address, EIP-55. */
  readonly address: string;
  /** The Ethereum chain id. */
  chainId(): Promise<bigint>;
  /** undefined when the epoch was not created. */
  epoch(epoch: number): Promise<EpochOnChain | undefined>;
  details(epoch: number, node: string): Promise<NodeDetailsOnChain | undefined>;
  isWhitelisted(epoch: number, node: string): Promise<boolean>;
  /** Registers the calling node; resolves with the transaction hash once mined. */
  listNode(epoch: number, registration: Registration): Promise<string>;
}

/** An epoch as read from the contract: its info and the details of every listed node. */
export interface EpochRegistrations {
  readonly epoch: EpochOnChain;
  readonly details: ReadonlyMap<string, NodeDetailsOnChain>;
}

/** Reads the details of every node `epoch` lists (a listed node without details is left out; planning names it). */
export async function readRegistrations(registry: NodeRegistry, epoch: EpochOnChain): Promise<EpochRegistrations> {
  const read = await Promise.all(epoch.nodeList.map((node) => registry.details(epoch.id, node)));
  const details = new Map<string, NodeDetailsOnChain>();
  for (const [i, node] of epoch.nodeList.entries()) {
    const d = read[i];
    if (d !== undefined) details.set(node, d);
  }
  return { epoch, details };
}
