/**
 * Typed bindings for the NodeList contract with ethers v6, written by hand over the committed artifact's ABI.
 * Calls are encoded and decoded with the contract's Interface and every decoded value is checked, so callers
 * get plain objects (numbers for epochs, parameters and positions; bigints for key coordinates; EIP-55
 * addresses) and revert errors that name the contract's custom error and what it means.
 */
import {
  Interface,
  JsonRpcProvider,
  NonceManager,
  Wallet,
  getAddress,
  isError,
  type ContractRunner,
  type Log,
  type Provider,
  type Signer,
  type TransactionReceipt,
  type TransactionRequest,
} from 'ethers';
import { loadArtifact } from './artifact.js';

// ----- providers and signers -----

/**
 * A JSON-RPC provider for a NodeList chain. ethers caches identical requests for 250 ms by default, so on an
 * automining chain (anvil) a second transaction sent right after the first reads a stale
 * eth_getTransactionCount and fails with "nonce too low"; `cacheTimeout: -1` turns the cache off.
 * `staticNetwork` detects the chain once instead of before every request. Give `chainId` when known: ethers
 * then never probes the network, and does not log retries while the node is still starting.
 */
export function providerFor(rpcUrl: string, chainId?: number): JsonRpcProvider {
  return new JsonRpcProvider(rpcUrl, chainId, { staticNetwork: true, cacheTimeout: -1 });
}

/**
 * A signer for a 32-byte secret key (hex, optional 0x) that assigns nonces locally, so several transactions
 * can be sent without waiting for each to be mined. The bindings reset it after a failed send (see `write`).
 */
export function walletFor(secretKeyHex: string, provider: Provider): NonceManager {
  const hex = secretKeyHex.startsWith('0x') ? secretKeyHex : `0x${secretKeyHex}`;
  if (!/^0x[0-9a-fA-F]{64}$/.test(hex)) throw new NodeListError('walletFor: the secret key must be 32 bytes of hex', 'walletFor');
  return new NonceManager(new Wallet(hex, provider));
}

// ----- types -----

/** An epoch number as accepted by the bindings; read back as a number. */
export type EpochId = number | bigint;

export interface EpochInfo {
  readonly id: number;
  readonly n: number;
  readonly k: number;
  readonly t: number;
  /** Node addresses in registration order: nodeList[i] has position i + 1. */
  readonly nodeList: readonly string[];
  readonly prevEpoch: number;
  readonly nextEpoch: number;
}

export interface NodeDetails {
  /** "host:port" of the node's JSON-RPC server. */
  readonly declaredIp: string;
  /** 1-based registration order in the epoch. */
  readonly position: number;
  readonly pubKx: bigint;
  readonly pubKy: bigint;
  readonly tmP2PListenAddress: string;
  readonly p2pListenAddress: string;
}

export interface CreateEpochParams {
  readonly epoch: EpochId;
  readonly n: number;
  readonly k: number;
  readonly t: number;
  /** 0 when there is none. */
  readonly prevEpoch?: EpochId;
  /** 0 when there is none. */
  readonly nextEpoch?: EpochId;
}

export interface ListNodeParams {
  readonly declaredIp: string;
  readonly pubKx: bigint;
  readonly pubKy: bigint;
  readonly tmP2PListenAddress: string;
  readonly p2pListenAddress: string;
}

export interface WriteResult {
  readonly hash: string;
  readonly receipt: TransactionReceipt;
}

export interface Deployment {
  readonly address: string;
  readonly txHash: string;
  /** The block the contract was created in: where to start reading its events. */
  readonly blockNumber: number;
}

interface EventBase {
  readonly address: string;
  readonly blockNumber: number;
  readonly transactionHash: string;
  readonly logIndex: number;
}

export type NodeListEvent = EventBase &
  (
    | { readonly name: 'OwnershipTransferred'; readonly previousOwner: string; readonly newOwner: string }
    | { readonly name: 'CurrentEpochChanged'; readonly previous: number; readonly current: number }
    | {
        readonly name: 'EpochCreated';
        readonly epoch: number;
        readonly n: number;
        readonly k: number;
        readonly t: number;
        readonly prevEpoch: number;
        readonly nextEpoch: number;
      }
    | { readonly name: 'EpochLinksUpdated'; readonly epoch: number; readonly prevEpoch: number; readonly nextEpoch: number }
    | { readonly name: 'WhitelistUpdated'; readonly epoch: number; readonly node: string; readonly allowed: boolean }
    | { readonly name: 'NodeListed'; readonly node: string; readonly epoch: number; readonly position: number }
  );

// ----- errors -----

/** A revert decoded with the contract's ABI: the custom error's name and its named arguments. */
export interface DecodedRevert {
  readonly name: string;
  readonly args: Readonly<Record<string, string | bigint | boolean>>;
}

// What each custom error of NodeList.sol means, for messages a person can act on.
const REVERT_MEANINGS: Readonly<Record<string, string>> = {
  NotOwner: 'only the contract owner may do this',
  ZeroAddress: 'the zero address is not allowed here',
  EpochZero: 'epoch 0 is reserved (it means "no epoch")',
  EpochExists: 'the epoch already exists',
  EpochNotFound: 'the epoch does not exist',
  InvalidN: 'n must be at least 1',
  InvalidK: 'k must satisfy 1 <= k <= n',
  InvalidT: 't must be less than n',
  NotWhitelisted: 'the node is not whitelisted for this epoch',
  AlreadyRegistered: 'the node is already registered in this epoch',
  EpochFull: 'the epoch already has n nodes',
  PublicKeyMismatch: "the public key's address is not the sender's: a node can only register its own key",
};

export class NodeListError extends Error {
  override name = 'NodeListError';
  /** The binding method that failed, e.g. "listNode". */
  readonly method: string;
  /** The contract's custom error (or Error(string) as name "Error"), when the call reverted. */
  readonly revert: DecodedRevert | undefined;

  constructor(message: string, method: string, revert?: DecodedRevert, options?: ErrorOptions) {
    super(message, options);
    this.method = method;
    this.revert = revert;
  }
}

// ----- value checks for decoded results (ethers' Result is untyped) -----

function uint(value: unknown, what: string): bigint {
  if (typeof value !== 'bigint' || value < 0n) throw new NodeListError(`unexpected ${what} from the contract: ${String(value)}`, 'decode');
  return value;
}

function small(value: unknown, what: string): number {
  const big = uint(value, what);
  if (big > BigInt(Number.MAX_SAFE_INTEGER)) throw new NodeListError(`${what} ${big} does not fit in a JavaScript number`, 'decode');
  return Number(big);
}

function text(value: unknown, what: string): string {
  if (typeof value !== 'string') throw new NodeListError(`unexpected ${what} from the contract: ${String(value)}`, 'decode');
  return value;
}

function bool(value: unknown, what: string): boolean {
  if (typeof value !== 'boolean') throw new NodeListError(`unexpected ${what} from the contract: ${String(value)}`, 'decode');
  return value;
}

function address(value: unknown, what: string): string {
  return getAddress(text(value, what));
}

function addresses(value: unknown, what: string): string[] {
  if (!Array.isArray(value)) throw new NodeListError(`unexpected ${what} from the contract: not a list`, 'decode');
  return value.map((item: unknown, i) => address(item, `${what}[${i}]`));
}

// ----- argument checks -----

function epochArg(epoch: EpochId, what = 'epoch'): bigint {
  if (typeof epoch === 'number' && !Number.isSafeInteger(epoch)) throw new NodeListError(`${what} must be an integer, got ${epoch}`, 'argument');
  const big = BigInt(epoch);
  if (big < 0n) throw new NodeListError(`${what} must not be negative, got ${big}`, 'argument');
  return big;
}

function countArg(value: number, what: string): bigint {
  if (!Number.isSafeInteger(value) || value < 0) throw new NodeListError(`${what} must be a non-negative integer, got ${value}`, 'argument');
  return BigInt(value);
}

function addressArg(value: string, what: string): string {
  try {
    return getAddress(value);
  } catch (cause) {
    throw new NodeListError(`${what} is not an address (or its EIP-55 checksum is wrong): ${JSON.stringify(value)}`, 'argument', undefined, { cause });
  }
}

// ----- the contract -----

let sharedInterface: Interface | undefined;

/** The contract's ABI as an ethers Interface, from the committed artifact. */
export function nodeListInterface(): Interface {
  // The ABI is passed as JSON text so ethers parses and validates every fragment itself.
  sharedInterface ??= new Interface(JSON.stringify(loadArtifact().abi));
  return sharedInterface;
}

function decodeRevertData(iface: Interface, data: string | null | undefined): DecodedRevert | undefined {
  if (typeof data !== 'string' || data.length < 10) return undefined;
  try {
    const custom = iface.parseError(data);
    if (custom !== null) {
      const args: Record<string, string | bigint | boolean> = {};
      custom.fragment.inputs.forEach((input, i) => {
        const value: unknown = custom.args[i];
        args[input.name || String(i)] = typeof value === 'bigint' || typeof value === 'boolean' ? value : String(value);
      });
      return { name: custom.name, args };
    }
  } catch {
    // Not one of ours; fall through to the built-in Error(string) / Panic(uint256) below.
  }
  const builtin = iface.makeError(data, { to: null, data: '0x' });
  if (builtin.revert !== null) {
    const args: Record<string, string | bigint | boolean> = {};
    builtin.revert.args.forEach((value: unknown, i) => {
      args[String(i)] = typeof value === 'bigint' || typeof value === 'boolean' ? value : String(value);
    });
    return { name: builtin.revert.name, args };
  }
  return undefined;
}

function formatRevert(revert: DecodedRevert): string {
  const args = Object.entries(revert.args)
    .map(([name, value]) => `${name}=${String(value)}`)
    .join(', ');
  const meaning = REVERT_MEANINGS[revert.name];
  return `${revert.name}(${args})${meaning === undefined ? '' : `: ${meaning}`}`;
}

/** ethers errors carry a one-line `shortMessage`; their `message` repeats the whole request. */
function shortMessage(error: unknown): string {
  if (typeof error === 'object' && error !== null && 'shortMessage' in error && typeof error.shortMessage === 'string') return error.shortMessage;
  return error instanceof Error ? error.message : String(error);
}

/** Turns whatever ethers threw into a NodeListError that says which call failed and why. */
function toNodeListError(iface: Interface, method: string, error: unknown): NodeListError {
  if (error instanceof NodeListError) return error;
  if (isError(error, 'CALL_EXCEPTION')) {
    const revert = decodeRevertData(iface, error.data);
    if (revert !== undefined) return new NodeListError(`NodeList.${method} reverted: ${formatRevert(revert)}`, method, revert, { cause: error });
    const reason = error.reason ?? error.shortMessage;
    return new NodeListError(`NodeList.${method} reverted: ${reason}`, method, undefined, { cause: error });
  }
  if (isError(error, 'BAD_DATA')) {
    // An eth_call to an address without code returns "0x", which does not decode.
    return new NodeListError(`NodeList.${method} failed: the answer does not decode; is there a NodeList contract at this address on this chain?`, method, undefined, { cause: error });
  }
  return new NodeListError(`NodeList.${method} failed: ${shortMessage(error)}`, method, undefined, { cause: error });
}

function providerOf(runner: ContractRunner): Provider {
  if (runner.provider === null) throw new NodeListError('the runner has no provider', 'runner');
  return runner.provider;
}

/** A NonceManager counts a transaction as sent before it is signed; after a failure its count is ahead of the chain. */
function resetNonces(runner: ContractRunner): void {
  if (runner instanceof NonceManager) runner.reset();
}

async function sendAndWait(runner: ContractRunner, request: TransactionRequest): Promise<WriteResult> {
  if (runner.sendTransaction === undefined) throw new NodeListError('the runner cannot send transactions (it is not a signer)', 'runner');
  try {
    const response = await runner.sendTransaction(request);
    const receipt = await response.wait(1);
    if (receipt === null) throw new NodeListError(`transaction ${response.hash} has no receipt`, 'wait');
    return { hash: response.hash, receipt };
  } catch (error) {
    resetNonces(runner);
    throw error;
  }
}

/** Deploys NodeList from the committed artifact; the signer becomes its owner. */
export async function deployNodeList(signer: Signer): Promise<Deployment> {
  const iface = nodeListInterface();
  try {
    const { hash, receipt } = await sendAndWait(signer, { data: loadArtifact().bytecode });
    if (receipt.contractAddress === null) throw new NodeListError(`deployment ${hash} created no contract`, 'deploy');
    return { address: getAddress(receipt.contractAddress), txHash: hash, blockNumber: receipt.blockNumber };
  } catch (error) {
    throw toNodeListError(iface, 'deploy', error);
  }
}

function eventFromLog(iface: Interface, log: Log): NodeListEvent | undefined {
  let parsed;
  try {
    parsed = iface.parseLog({ topics: [...log.topics], data: log.data });
  } catch {
    return undefined; // a log of our event's topic but malformed data is not ours
  }
  if (parsed === null) return undefined;
  const a = parsed.args;
  const base: EventBase = { address: getAddress(log.address), blockNumber: log.blockNumber, transactionHash: log.transactionHash, logIndex: log.index };
  switch (parsed.name) {
    case 'OwnershipTransferred':
      return { ...base, name: 'OwnershipTransferred', previousOwner: address(a[0], 'previousOwner'), newOwner: address(a[1], 'newOwner') };
    case 'CurrentEpochChanged':
      return { ...base, name: 'CurrentEpochChanged', previous: small(a[0], 'previous'), current: small(a[1], 'current') };
    case 'EpochCreated':
      return {
        ...base,
        name: 'EpochCreated',
        epoch: small(a[0], 'epoch'),
        n: small(a[1], 'n'),
        k: small(a[2], 'k'),
        t: small(a[3], 't'),
        prevEpoch: small(a[4], 'prevEpoch'),
        nextEpoch: small(a[5], 'nextEpoch'),
      };
    case 'EpochLinksUpdated':
      return { ...base, name: 'EpochLinksUpdated', epoch: small(a[0], 'epoch'), prevEpoch: small(a[1], 'prevEpoch'), nextEpoch: small(a[2], 'nextEpoch') };
    case 'WhitelistUpdated':
      return { ...base, name: 'WhitelistUpdated', epoch: small(a[0], 'epoch'), node: address(a[1], 'node'), allowed: bool(a[2], 'allowed') };
    case 'NodeListed':
      return { ...base, name: 'NodeListed', node: address(a[0], 'node'), epoch: small(a[1], 'epoch'), position: small(a[2], 'position') };
    default:
      return undefined;
  }
}

/**
 * The NodeList events in a receipt, in log order. With `contractAddress`, only that contract's logs are read
 * (another contract could emit an event with the same signature).
 */
export function parseNodeListEvents(receipt: TransactionReceipt, contractAddress?: string): NodeListEvent[] {
  const iface = nodeListInterface();
  const only = contractAddress === undefined ? undefined : addressArg(contractAddress, 'contractAddress');
  const events: NodeListEvent[] = [];
  for (const log of receipt.logs) {
    if (only !== undefined && getAddress(log.address) !== only) continue;
    const event = eventFromLog(iface, log);
    if (event !== undefined) events.push(event);
  }
  return events;
}

export class NodeListContract {
  readonly address: string;
  readonly runner: ContractRunner;
  readonly #iface: Interface;

  /** `runner`: a Provider for reads only, or a Signer (e.g. from `walletFor`) for writes too. */
  constructor(address: string, runner: ContractRunner) {
    this.address = addressArg(address, 'contract address');
    this.runner = runner;
    this.#iface = nodeListInterface();
  }

  /** The same contract with another runner (e.g. another node's signer). */
  connect(runner: ContractRunner): NodeListContract {
    return new NodeListContract(this.address, runner);
  }

  // ----- reads -----

  async owner(): Promise<string> {
    const [owner] = await this.#read('owner', []);
    return address(owner, 'owner');
  }

  async currentEpoch(): Promise<number> {
    const [epoch] = await this.#read('currentEpoch', []);
    return small(epoch, 'currentEpoch');
  }

  /** The epoch's parameters and node list, or null when the epoch was never created. */
  async getEpochInfo(epoch: EpochId): Promise<EpochInfo | null> {
    const r = await this.#read('getEpochInfo', [epochArg(epoch)]);
    const id = small(r[0], 'id');
    if (id === 0) return null;
    return {
      id,
      n: small(r[1], 'n'),
      k: small(r[2], 'k'),
      t: small(r[3], 't'),
      nodeList: addresses(r[4], 'nodeList'),
      prevEpoch: small(r[5], 'prevEpoch'),
      nextEpoch: small(r[6], 'nextEpoch'),
    };
  }

  /** The creation block's timestamp (seconds), or null when the epoch was never created. */
  async getEpochCreatedAt(epoch: EpochId): Promise<number | null> {
    const [createdAt] = await this.#read('getEpochCreatedAt', [epochArg(epoch)]);
    const seconds = small(createdAt, 'createdAt');
    return seconds === 0 ? null : seconds;
  }

  async getNodes(epoch: EpochId): Promise<string[]> {
    const [nodes] = await this.#read('getNodes', [epochArg(epoch)]);
    return addresses(nodes, 'nodes');
  }

  async isWhitelisted(epoch: EpochId, node: string): Promise<boolean> {
    const [allowed] = await this.#read('isWhitelisted', [epochArg(epoch), addressArg(node, 'node')]);
    return bool(allowed, 'isWhitelisted');
  }

  async nodeRegistered(epoch: EpochId, node: string): Promise<boolean> {
    const [registered] = await this.#read('nodeRegistered', [epochArg(epoch), addressArg(node, 'node')]);
    return bool(registered, 'nodeRegistered');
  }

  /** The node's details in that epoch, or null when it is not registered there. */
  async getNodeDetailsForEpoch(epoch: EpochId, node: string): Promise<NodeDetails | null> {
    return this.#details(await this.#read('getNodeDetailsForEpoch', [epochArg(epoch), addressArg(node, 'node')]));
  }

  /** The legacy read (what fetch-node-details calls): the node's details in `currentEpoch`, or null. */
  async getNodeDetails(node: string): Promise<NodeDetails | null> {
    return this.#details(await this.#read('getNodeDetails', [addressArg(node, 'node')]));
  }

  /** The contract's events in a block range (default: all), in chain order. */
  async queryEvents(range: { fromBlock?: number; toBlock?: number | 'latest' } = {}): Promise<NodeListEvent[]> {
    try {
      const logs = await providerOf(this.runner).getLogs({ address: this.address, fromBlock: range.fromBlock ?? 0, toBlock: range.toBlock ?? 'latest' });
      return logs.flatMap((log) => eventFromLog(this.#iface, log) ?? []);
    } catch (error) {
      throw toNodeListError(this.#iface, 'queryEvents', error);
    }
  }

  // ----- writes (wait for 1 confirmation) -----

  transferOwnership(newOwner: string): Promise<WriteResult> {
    return this.#write('transferOwnership', [addressArg(newOwner, 'newOwner')]);
  }

  setCurrentEpoch(epoch: EpochId): Promise<WriteResult> {
    return this.#write('setCurrentEpoch', [epochArg(epoch)]);
  }

  createEpoch(p: CreateEpochParams): Promise<WriteResult> {
    return this.#write('createEpoch', [
      epochArg(p.epoch),
      countArg(p.n, 'n'),
      countArg(p.k, 'k'),
      countArg(p.t, 't'),
      epochArg(p.prevEpoch ?? 0, 'prevEpoch'),
      epochArg(p.nextEpoch ?? 0, 'nextEpoch'),
    ]);
  }

  updateEpochLinks(epoch: EpochId, prevEpoch: EpochId, nextEpoch: EpochId): Promise<WriteResult> {
    return this.#write('updateEpochLinks', [epochArg(epoch), epochArg(prevEpoch, 'prevEpoch'), epochArg(nextEpoch, 'nextEpoch')]);
  }

  /**
   * Makes `next` the next epoch of `epoch`, keeping `epoch`'s previous epoch: updateEpochLinks sets both links
   * at once, so the current one is read first. `epoch` must exist (EpochNotFound otherwise).
   */
  async linkNextEpoch(epoch: EpochId, next: EpochId): Promise<WriteResult> {
    const info = await this.getEpochInfo(epoch);
    if (info === null) throw new NodeListError(`NodeList.linkNextEpoch: epoch ${epochArg(epoch)} does not exist`, 'linkNextEpoch');
    return this.updateEpochLinks(epoch, info.prevEpoch, next);
  }

  updateWhitelist(epoch: EpochId, node: string, allowed: boolean): Promise<WriteResult> {
    return this.#write('updateWhitelist', [epochArg(epoch), addressArg(node, 'node'), allowed]);
  }

  /** Lists the signer in an epoch; the signer's address must be the address of (pubKx, pubKy). */
  listNode(epoch: EpochId, p: ListNodeParams): Promise<WriteResult> {
    return this.#write('listNode', [epochArg(epoch), p.declaredIp, p.pubKx, p.pubKy, p.tmP2PListenAddress, p.p2pListenAddress]);
  }

  // ----- plumbing -----

  #details(r: readonly unknown[]): NodeDetails | null {
    const position = small(r[1], 'position');
    if (position === 0) return null;
    return {
      declaredIp: text(r[0], 'declaredIp'),
      position,
      pubKx: uint(r[2], 'pubKx'),
      pubKy: uint(r[3], 'pubKy'),
      tmP2PListenAddress: text(r[4], 'tmP2PListenAddress'),
      p2pListenAddress: text(r[5], 'p2pListenAddress'),
    };
  }

  async #read(method: string, args: readonly unknown[]): Promise<unknown[]> {
    try {
      const data = this.#iface.encodeFunctionData(method, args);
      const request = { to: this.address, data };
      // A Signer's call() fills in `from`; a bare Provider is a runner too.
      const result = this.runner.call !== undefined ? await this.runner.call(request) : await providerOf(this.runner).call(request);
      return [...this.#iface.decodeFunctionResult(method, result)];
    } catch (error) {
      throw toNodeListError(this.#iface, method, error);
    }
  }

  async #write(method: string, args: readonly unknown[]): Promise<WriteResult> {
    try {
      return await sendAndWait(this.runner, { to: this.address, data: this.#iface.encodeFunctionData(method, args) });
    } catch (error) {
      throw toNodeListError(this.#iface, method, error);
    }
  }
}
