/**
 * From the contract's view of one epoch to the network every member runs: the CometBFT genesis, the chain id,
 * the peers and the key-generation addresses. A pure function of on-chain data, so every node derives the
 * same genesis (and genesis hash) with no coordinator:
 *   chain id      torus-<ethereum chain id>-<first 8 hex of the contract address>-e<epoch>
 *   validators    the members' own secp256k1 keys (registered as pubKx/pubKy), in position order, power 1
 *   genesis time  the timestamp of the block that created the epoch
 *   app state     the epoch (n, k, t, members by position = share index), the fixed genesis parameters and,
 *                 when the epoch has a previous epoch on chain, that epoch (`previous`: its chain id and members)
 * A registration that cannot be used (wrong position, key not matching the address, malformed addresses) is
 * an error naming the node: a network built around it could not work.
 */
import { buildGenesis, secp256k1Validator } from '../../core/comet/genesis.js';
import { bytesToHex, hexToBytes } from '../../core/encoding/bytes.js';
import { checksumAddress, compressPublicKey, ethereumAddress, parseAddress } from '../../core/crypto/keys.js';
import { thresholdError } from '../../core/epoch.js';
import type { Committee } from '../../dkg/src/config.js';
import type { EpochOnChain, EpochRegistrations, NodeDetailsOnChain } from './registry.js';

export class NetworkPlanError extends Error {
  override name = 'NetworkPlanError';
}

export interface PlannedMember {
  readonly index: number;
  readonly address: string;
  /** 65-byte uncompressed public key, hex. */
  readonly publicKey: string;
  /** <node id>@host:port for CometBFT's persistent_peers. */
  readonly cometPeer: string;
  readonly keygenAddress: string;
  readonly declaredIp: string;
}

export interface NetworkPlan {
  readonly chainId: string;
  readonly genesis: Record<string, unknown>;
  readonly members: readonly PlannedMember[];
  /** The previous epoch's committee (dkg.json `source`), when the epoch takes over from one. */
  readonly source?: Committee;
}

export interface GenesisParams {
  readonly keyBufferTarget: number;
  readonly maxTxLifetimeBlocks: number;
}

const COMET_PEER = /^[0-9a-f]{40}@[A-Za-z0-9.-]+:\d{1,5}$/;
const KEYGEN_ADDRESS = /^\/(ip4|ip6|dns4|dns6)\/[^/]+\/tcp\/\d{1,5}$/;
const DECLARED_IP = /^[A-Za-z0-9.-]+(:\d{1,5})?$/;

/** A registered key (pubKx, pubKy) as 65 bytes of uncompressed-point hex: 04‖x‖y. */
export function uncompressedKeyHex(pubKx: bigint, pubKy: bigint): string {
  return `04${pubKx.toString(16).padStart(64, '0')}${pubKy.toString(16).padStart(64, '0')}`;
}

export function chainIdFor(ethChainId: bigint, contract: string, epoch: number): string {
  return `torus-${ethChainId}-${contract.slice(2, 10).toLowerCase()}-e${epoch}`;
}

/**
 * The members of an epoch from its on-chain registrations, in position order (= share index). Both the
 * node's own epoch and the previous epoch go through here, so a registration that one would refuse cannot
 * slip in through the other.
 */
export function plannedMembers(epoch: EpochOnChain, details: ReadonlyMap<string, NodeDetailsOnChain>): PlannedMember[] {
  const problem = thresholdError(epoch);
  if (problem !== undefined) throw new NetworkPlanError(`epoch ${epoch.id} has unusable thresholds: ${problem}`);
  if (epoch.nodeList.length !== epoch.n) throw new NetworkPlanError(`epoch ${epoch.id} lists ${epoch.nodeList.length} of ${epoch.n} nodes`);
  return epoch.nodeList.map((address, i): PlannedMember => {
    const index = i + 1;
    const d = details.get(address);
    const who = `node ${index} (${address}) of epoch ${epoch.id}`;
    if (d === undefined) throw new NetworkPlanError(`${who} has no details`);
    if (d.position !== index) throw new NetworkPlanError(`${who} has position ${d.position}, expected ${index}`);
    let publicKey: Uint8Array;
    try {
      publicKey = hexToBytes(uncompressedKeyHex(d.pubKx, d.pubKy));
      compressPublicKey(publicKey);
    } catch (cause) {
      throw new NetworkPlanError(`${who} registered a public key that is not on secp256k1`, { cause });
    }
    if (checksumAddress(ethereumAddress(publicKey)) !== checksumAddress(parseAddress(address))) {
      throw new NetworkPlanError(`${who} registered a public key that is not its address's`);
    }
    if (!COMET_PEER.test(d.tmP2PListenAddress)) throw new NetworkPlanError(`${who}: tmP2PListenAddress ${JSON.stringify(d.tmP2PListenAddress)} is not <node id>@host:port`);
    if (!KEYGEN_ADDRESS.test(d.p2pListenAddress)) throw new NetworkPlanError(`${who}: p2pListenAddress ${JSON.stringify(d.p2pListenAddress)} is not /ip4/HOST/tcp/PORT`);
    if (!DECLARED_IP.test(d.declaredIp)) throw new NetworkPlanError(`${who}: declaredIp ${JSON.stringify(d.declaredIp)} is not host[:port]`);
    return { index, address, publicKey: bytesToHex(publicKey), cometPeer: d.tmP2PListenAddress, keygenAddress: d.p2pListenAddress, declaredIp: d.declaredIp };
  });
}

/** An epoch as the genesis app_state names it (abci/src/state/genesis.ts): for `epoch` and `previous.epoch` alike. */
function genesisEpoch(epoch: EpochOnChain, members: readonly PlannedMember[]) {
  return { id: epoch.id, n: epoch.n, k: epoch.k, t: epoch.t, members: members.map((m) => ({ index: m.index, public_key: m.publicKey })) };
}

/**
 * Another epoch's committee as torus-dkg needs it for a hand-over (dkg/src/config.ts CommitteeSchema): its
 * chain id, thresholds, and each member's key, key-generation address and JSON-RPC URL.
 */
export function committeeOf(ethChainId: bigint, contract: string, epoch: EpochOnChain, members: readonly PlannedMember[]): Committee {
  return {
    chain_id: chainIdFor(ethChainId, contract, epoch.id),
    epoch: epoch.id, n: epoch.n, k: epoch.k, t: epoch.t,
    members: members.map((m) => ({ index: m.index, public_key: m.publicKey, address: m.keygenAddress, jsonrpc: jsonRpcUrl(m.declaredIp) })),
  };
}

export function planNetwork(input: EpochRegistrations & {
  ethChainId: bigint;
  contract: string;
  /** Required when the epoch names a previous epoch (prevEpoch != 0): its genesis names that epoch too. */
  previous?: EpochRegistrations;
  params: GenesisParams;
}): NetworkPlan {
  const { epoch } = input;
  const members = plannedMembers(epoch, input.details);
  const previous = input.previous === undefined ? undefined : planPrevious(input.ethChainId, input.contract, epoch, input.previous);
  if (previous === undefined && epoch.prevEpoch !== 0) {
    // Planning without it would give a genesis without `previous`, and another chain than the nodes that read it.
    throw new NetworkPlanError(`epoch ${epoch.id} names epoch ${epoch.prevEpoch} as its previous epoch, so the plan needs that epoch's registrations`);
  }
  const chainId = chainIdFor(input.ethChainId, input.contract, epoch.id);
  const genesis = buildGenesis({
    chainId,
    genesisTime: new Date(epoch.createdAt * 1000).toISOString(),
    validators: members.map((m) => secp256k1Validator(compressPublicKey(hexToBytes(m.publicKey)), `node${m.index}`)),
    pubKeyTypes: ['secp256k1'],
    appState: {
      epoch: genesisEpoch(epoch, members),
      ...(previous !== undefined ? { previous: previous.genesis } : {}),
      key_buffer_target: input.params.keyBufferTarget,
      max_tx_lifetime_blocks: input.params.maxTxLifetimeBlocks,
      dev_attested_keys: false,
    },
  });
  return { chainId, genesis, members, ...(previous !== undefined ? { source: previous.source } : {}) };
}

/** The previous epoch's part of a plan: `previous` in the genesis, and `source` for torus-dkg. */
function planPrevious(ethChainId: bigint, contract: string, epoch: EpochOnChain, previous: EpochRegistrations) {
  const prev = previous.epoch;
  if (prev.id !== epoch.prevEpoch) throw new NetworkPlanError(`epoch ${epoch.id} names epoch ${epoch.prevEpoch} as its previous epoch, not epoch ${prev.id}`);
  // torus-abci refuses the same at InitChain; refusing here says so before any process starts.
  if (prev.id >= epoch.id) throw new NetworkPlanError(`previous epoch ${prev.id} of epoch ${epoch.id} must come before it`);
  const members = plannedMembers(prev, previous.details);
  return {
    genesis: { chain_id: chainIdFor(ethChainId, contract, prev.id), epoch: genesisEpoch(prev, members) },
    source: committeeOf(ethChainId, contract, prev, members),
  };
}

/** The JSON-RPC URL of a declared host:port: plain HTTP on loopback only, HTTPS everywhere else. */
export function jsonRpcUrl(declaredIp: string): string {
  const host = declaredIp.split(':')[0] ?? '';
  const loopback = host === 'localhost' || host.startsWith('127.');
  return `${loopback ? 'http' : 'https'}://${declaredIp}/jrpc`;
}
