/**
 * What a node needs from the NodeList contract, as a narrow interface: the node lifecycle is written (and
 * tested) against this, and `contract-registry.ts` implements it over the ethers bindings.
 */
export interface EpochOnChain {
  readonly id: number;
  readonly n: number;
  readonly k: number;
  readonly t: number;
  /** Registered nodes, in position order (position = index + 1). */
  readonly nodeList: readonly string[];
  readonly prevEpoch: number;
  readonly nextEpoch: number;
  /** Unix seconds of the block that created the epoch: the network's genesis time. */
  readonly createdAt: number;
}

export interface NodeDetailsOnChain {
  /** host:port of the node's JSON-RPC server (the legacy field; fetch-node-details reads its host). */
  readonly declaredIp: string;
  readonly position: number;
  readonly pubKx: bigint;
  readonly pubKy: bigint;
  /** <CometBFT node id>@host:port */
  readonly tmP2PListenAddress: string;
  /** libp2p multiaddr of the key-generation process. */
  readonly p2pListenAddress: string;
}

export interface Registration {
  readonly declaredIp: string;
  readonly pubKx: bigint;
  readonly pubKy: bigint;
  readonly tmP2PListenAddress: string;
  readonly p2pListenAddress: string;
}

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
