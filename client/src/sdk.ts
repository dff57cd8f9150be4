/**
 * TorusClient: look up, assign and log in to a user's key on a network of nodes speaking the legacy Torus
 * JSON-RPC API. The client trusts no single node: lookups need floor(n/2)+1 identical answers, and a login
 * verifies every share against public commitments that k nodes agree on before interpolating the key (see
 * lookup.ts and reconstruct.ts for the rules; this module does the network choreography).
 *
 * The private key a login returns is kept out of JSON and out of console/inspect output, and is never logged.
 *
 * Nodes are reached through a `NodeTransport` (transport.ts): node:http by default (rpc.ts); a browser passes
 * `fetchTransport` (rpc-fetch.ts). Nothing else here needs Node, so the module also runs in a browser bundle.
 */
import { decodeJwt } from 'jose';
import { z } from 'zod';
import { bytesToHex, utf8 } from '../../core/encoding/bytes.js';
import { keccak256 } from '../../core/crypto/hash.js';
import { checksumAddress, ethereumAddress, publicKeyOf, randomSecretKey } from '../../core/crypto/keys.js';
import { decideLookup, VerifierNotSupportedError, type LookupAnswer, type LookupDecision, type UserKey } from './lookup.js';
import { parseNetwork, type Network, type NetworkNode } from './network.js';
import { NOT_ASSIGNED_MARKER, RPC_INTERNAL_ERROR, type CommitmentParams, type CommitmentResult, type LookupParams, type ShareRequestParams } from './protocol.js';
import { reconstructKey, ReconstructionError, type BadNode, type NodeShareAnswer } from './reconstruct.js';
import { nodeHttpTransport } from './rpc.js';
import { NodeCallError, NodeRpcError, type NodeTransport } from './transport.js';

export type { UserKey } from './lookup.js';
export type { BadNode } from './reconstruct.js';
export type { NodeTransport } from './transport.js';

export const DEFAULT_TIMEOUT_MS = 10_000;
export const DEFAULT_ASSIGN_WAIT_MS = 5_000;

export interface TorusClientOptions {
  /** Deadline of each node call, in ms (default 10000). */
  readonly timeoutMs?: number;
  /** How long `assign` waits for a majority of nodes to show a new assignment (default 5000 ms). */
  readonly assignWaitMs?: number;
  /** Source of the random first node for KeyAssign, in [0, 1); tests pin it. */
  readonly random?: () => number;
  /** How node calls travel; default node:http (`nodeHttpTransport`). Browsers pass `fetchTransport`. */
  readonly transport?: NodeTransport;
}

export interface LoginOptions {
  /** Defaults to the token's `email` claim, else its `sub`. */
  readonly verifierId?: string;
}

/** A node that did not take part: no answer, an error answer, or an invalid one. */
export interface FailedNode {
  readonly index: number;
  readonly stage: 'commitment' | 'share';
  readonly reason: string;
}

export class TorusClientError extends Error {
  override name = 'TorusClientError';
}

/** The user has no key yet; `assign` gives them one. */
export class NotAssignedError extends TorusClientError {
  override name = 'NotAssignedError';
}

/** KeyAssign was refused by every node, or the assignment did not show up at a majority in time. */
export class AssignError extends TorusClientError {
  override name = 'AssignError';
}

/** A login that could not produce a verified key. Lists every node that failed or sent bad data. */
export class LoginError extends TorusClientError {
  override name = 'LoginError';
  readonly failedNodes: readonly FailedNode[];
  readonly badNodes: readonly BadNode[];

  constructor(message: string, details: { failedNodes?: readonly FailedNode[]; badNodes?: readonly BadNode[]; cause?: unknown } = {}) {
    const failedNodes = details.failedNodes ?? [];
    const lines = failedNodes.map((f) => `  node ${f.index} (${f.stage}): ${f.reason}`);
    super(lines.length === 0 ? message : `${message}\n${lines.join('\n')}`, details.cause === undefined ? undefined : { cause: details.cause });
    this.failedNodes = failedNodes;
    this.badNodes = details.badNodes ?? [];
  }
}

/** The outcome of a login. `privateKey` is deliberately absent from `toJSON()` and from inspect output. */
export class LoginResult {
  readonly address: string;
  /** 65 bytes, uncompressed. */
  readonly publicKey: Uint8Array;
  readonly keyIndex: bigint;
  /** Nodes whose share verified. */
  readonly goodNodes: readonly number[];
  /** The k good nodes the key was interpolated from. */
  readonly usedNodes: readonly number[];
  /** Nodes that answered with a share or public values that failed verification. */
  readonly badNodes: readonly BadNode[];
  /** Nodes that did not answer, or answered with an error or an invalid result. */
  readonly failedNodes: readonly FailedNode[];
  readonly #privateKey: Uint8Array;

  constructor(fields: {
    address: string;
    publicKey: Uint8Array;
    privateKey: Uint8Array;
    keyIndex: bigint;
    goodNodes: readonly number[];
    usedNodes: readonly number[];
    badNodes: readonly BadNode[];
    failedNodes: readonly FailedNode[];
  }) {
    this.address = fields.address;
    this.publicKey = fields.publicKey;
    this.#privateKey = fields.privateKey;
    this.keyIndex = fields.keyIndex;
    this.goodNodes = fields.goodNodes;
    this.usedNodes = fields.usedNodes;
    this.badNodes = fields.badNodes;
    this.failedNodes = fields.failedNodes;
  }

  /** The user's 32-byte secp256k1 private key (a private field behind a getter, so it is never enumerated). */
  get privateKey(): Uint8Array {
    return this.#privateKey;
  }

  toJSON(): { address: string; publicKey: string; keyIndex: string; goodNodes: number[]; usedNodes: number[]; badNodes: BadNode[]; failedNodes: FailedNode[] } {
    return {
      address: this.address,
      publicKey: bytesToHex(this.publicKey),
      keyIndex: this.keyIndex.toString(16),
      goodNodes: [...this.goodNodes],
      usedNodes: [...this.usedNodes],
      badNodes: [...this.badNodes],
      failedNodes: [...this.failedNodes],
    };
  }

  /**
   * Node's util.inspect (console.log) calls this under the registered symbol and passes itself, so this module
   * need not import node:util and stays usable in a browser.
   */
  [Symbol.for('nodejs.util.inspect.custom')](_depth: number, options: unknown, inspect: (value: unknown, options: unknown) => string): string {
    return `LoginResult ${inspect({ ...this.toJSON(), privateKey: '[hidden]' }, options)}`;
  }
}

/** The verifier id a token names: its `email` claim, else `sub`. The token is decoded, not verified (nodes verify). */
export function verifierIdFromToken(idToken: string): string {
  let payload: Record<string, unknown>;
  try {
    payload = decodeJwt(idToken);
  } catch (cause) {
    throw new TorusClientError(`the id token is not a JWT: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
  }
  for (const claim of ['email', 'sub'] as const) {
    const value = payload[claim];
    if (typeof value === 'string' && value.length > 0) return value;
  }
  throw new TorusClientError('the id token has neither an email nor a sub claim; pass the verifier id explicitly');
}

function requireText(value: string, what: string): string {
  if (typeof value !== 'string' || value.length === 0) throw new TypeError(`${what} must be a non-empty string`);
  return value;
}

function reasonOf(err: unknown): string {
  if (err instanceof NodeCallError) return err.reason;
  return err instanceof Error ? err.message : String(err);
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

type DecidedLookup = Extract<LookupDecision, { status: 'assigned' | 'unassigned' }>;

const DevTokenSchema = z.object({ id_token: z.string().regex(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/, 'must be a JWT') });

export class TorusClient {
  readonly network: Network;
  readonly timeoutMs: number;
  readonly #assignWaitMs: number;
  readonly #random: () => number;
  readonly #transport: NodeTransport;

  constructor(network: Network, options: TorusClientOptions = {}) {
    const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    if (!Number.isSafeInteger(timeoutMs) || timeoutMs <= 0) throw new RangeError(`timeoutMs must be a positive integer, got ${timeoutMs}`);
    const assignWaitMs = options.assignWaitMs ?? DEFAULT_ASSIGN_WAIT_MS;
    if (!Number.isSafeInteger(assignWaitMs) || assignWaitMs < 0) throw new RangeError(`assignWaitMs must be a non-negative integer, got ${assignWaitMs}`);
    // Re-validated even when it did not come from a file: every majority rule relies on k = floor(n/2)+1 and on
    // distinct node indexes.
    this.network = parseNetwork(network, 'network description');
    this.timeoutMs = timeoutMs;
    this.#assignWaitMs = assignWaitMs;
    this.#random = options.random ?? Math.random;
    this.#transport = options.transport ?? nodeHttpTransport;
  }

  /** The user's key as a majority of nodes reports it, or undefined when a majority says it is not assigned. */
  async lookup(verifier: string, verifierId: string): Promise<UserKey | undefined> {
    const decision = await this.#lookupDecision({ verifier: requireText(verifier, 'verifier'), verifier_id: requireText(verifierId, 'verifierId') });
    if (decision.status !== 'assigned') return undefined;
    return decision.keys[0] as UserKey; // the result schema requires at least one key
  }

  /** Returns the user's key, assigning one first if they have none. */
  async assign(verifier: string, verifierId: string): Promise<UserKey> {
    const existing = await this.lookup(verifier, verifierId);
    if (existing !== undefined) return existing;
    const params: LookupParams = { verifier, verifier_id: verifierId };
    const nodes = this.network.nodes;
    // A random first node spreads assignments; the mapping is idempotent, so trying another node after a
    // failure cannot create a second key.
    const draw = this.#random();
    const start = Number.isFinite(draw) && draw > 0 ? Math.min(nodes.length - 1, Math.floor(draw * nodes.length)) : 0;
    const failures: string[] = [];
    let acceptedBy: NetworkNode | undefined;
    for (let step = 0; step < nodes.length && acceptedBy === undefined; step++) {
      const node = nodes[(start + step) % nodes.length] as NetworkNode;
      try {
        await this.#transport.callNode(node.endpoint, 'KeyAssign', params, { timeoutMs: this.timeoutMs });
        acceptedBy = node;
      } catch (err) {
        // A refusal of the request itself (bad input, unknown verifier) would be the same at every node.
        if (err instanceof NodeRpcError && err.code !== RPC_INTERNAL_ERROR) {
          throw new AssignError(`node ${node.index} refused KeyAssign: ${err.reason}`, { cause: err });
        }
        failures.push(`  node ${node.index}: ${reasonOf(err)}`);
      }
    }
    if (acceptedBy === undefined) throw new AssignError(`no node accepted KeyAssign:\n${failures.join('\n')}`);

    // The node answers after the assignment is committed, but other nodes may apply the block a moment later.
    const deadline = Date.now() + this.#assignWaitMs;
    for (;;) {
      let last: unknown;
      try {
        const key = await this.lookup(verifier, verifierId);
        if (key !== undefined) return key;
        last = new Error('a majority of nodes still reports the user as not assigned');
      } catch (err) {
        if (err instanceof VerifierNotSupportedError) throw err;
        last = err;
      }
      const remaining = deadline - Date.now();
      if (remaining <= 0) {
        throw new AssignError(
          `node ${acceptedBy.index} accepted KeyAssign, but no majority of nodes showed the key within ${this.#assignWaitMs} ms: ${reasonOf(last)}`,
          { cause: last },
        );
      }
      await sleep(Math.min(250, remaining));
    }
  }

  /**
   * Logs in with an id token: commit to the token at the nodes, reveal it, and reconstruct the key from
   * verified shares. Nodes that fail or send bad data are reported in the result as long as k good shares remain.
   */
  async login(verifier: string, idToken: string, options: LoginOptions = {}): Promise<LoginResult> {
    requireText(verifier, 'verifier');
    requireText(idToken, 'idToken');
    const verifierId = options.verifierId ?? verifierIdFromToken(idToken);
    requireText(verifierId, 'verifierId');
    // No lookup round first: the share answers carry the key's public values, and the key is the one k nodes
    // agree on there — the threshold a lookup would have — and the interpolated key is checked against it.
    // A fresh temporary key per login: the shares are encrypted to it, so a recorded answer is useless later.
    const tempSecretKey = randomSecretKey();
    try {
      const tempPublicHex = bytesToHex(publicKeyOf(tempSecretKey));
      const commitmentParams: CommitmentParams = {
        messageprefix: 'mug00',
        tokencommitment: bytesToHex(keccak256(utf8(idToken))),
        temppubx: tempPublicHex.slice(2, 66),
        temppuby: tempPublicHex.slice(66, 130),
        verifieridentifier: verifier,
      };
      const { answers, failedNodes } = await this.#commitAndReveal(commitmentParams, (signatures) => ({
        encrypted: 'yes',
        item: [{ verifier_id: verifierId, idtoken: idToken, nodesignatures: signatures, verifieridentifier: verifier }],
      }));
      const unassigned = failedNodes.filter((f) => f.stage === 'share' && f.reason.includes(NOT_ASSIGNED_MARKER)).length;
      if (answers.length < this.network.k && unassigned >= this.network.k) {
        throw new NotAssignedError(`${verifier} user ${JSON.stringify(verifierId)} has no key yet; run \`torus assign ${verifier} ${verifierId}\` first`);
      }

      let reconstructed;
      try {
        reconstructed = reconstructKey({
          answers,
          tempSecretKey,
          k: this.network.k,
          memberIndexes: this.network.nodes.map((n) => n.index),
        });
      } catch (err) {
        if (err instanceof ReconstructionError) {
          throw new LoginError(`login failed: ${err.message}`, { failedNodes, badNodes: err.badNodes, cause: err });
        }
        throw err;
      }
      return new LoginResult({ ...reconstructed, address: checksumAddress(ethereumAddress(reconstructed.publicKey)), failedNodes });
    } finally {
      tempSecretKey.fill(0);
    }
  }

  /** An id token from the network's development issuer (`POST <dev_issuer>/token`). Never on real networks. */
  async devToken(email: string, audience?: string): Promise<string> {
    requireText(email, 'email');
    const issuer = this.network.dev_issuer;
    if (issuer === undefined) throw new TorusClientError('the network description has no dev_issuer');
    const body = audience === undefined ? { email } : { email, audience };
    const answer = await this.#transport.postForJson(`${issuer.replace(/\/+$/, '')}/token`, body, DevTokenSchema, 'dev token', { timeoutMs: this.timeoutMs });
    return answer.id_token;
  }

  /** Queries every node and settles as soon as the answers decide the lookup; the remaining calls are cancelled. */
  #lookupDecision(params: LookupParams): Promise<DecidedLookup> {
    const nodes = this.network.nodes;
    const cancel = new AbortController();
    return new Promise<DecidedLookup>((resolve, reject) => {
      const answers: LookupAnswer[] = [];
      let settled = false;
      const consider = (): void => {
        if (settled) return;
        const decision = decideLookup(answers, nodes.length);
        if (decision.status === 'pending') return;
        settled = true;
        cancel.abort();
        if (decision.status === 'failed') reject(decision.error);
        else resolve(decision);
      };
      for (const node of nodes) {
        this.#transport.callNode(node.endpoint, 'VerifierLookupRequest', params, { timeoutMs: this.timeoutMs, signal: cancel.signal }).then(
          (result) => {
            answers.push({ index: node.index, ok: true, result });
            consider();
          },
          (error: unknown) => {
            answers.push({ index: node.index, ok: false, error });
            consider();
          },
        );
      }
    });
  }

  /**
   * The two rounds of a login. CommitmentRequest goes to every node; the signatures are fixed once
   * floor(3n/4)+1 have arrived (the legacy client's margin, so the nodes see well over k of them), or once every
   * node has answered, failed or timed out with at least k (so a login survives n−k nodes down). ShareRequest
   * then goes to every node that gave a commitment — including one whose commitment arrives while the shares
   * are being collected, since its share may be the one that makes up k — and every ShareRequest is awaited.
   */
  async #commitAndReveal(
    commitmentParams: CommitmentParams,
    shareParamsFor: (signatures: CommitmentResult[]) => ShareRequestParams,
  ): Promise<{ answers: NodeShareAnswer[]; failedNodes: FailedNode[] }> {
    const nodes = this.network.nodes;
    const enough = Math.floor((3 * nodes.length) / 4) + 1;
    const minimum = this.network.k;
    const commitments = new Map<number, CommitmentResult>();
    const failedNodes: FailedNode[] = [];
    const answers: NodeShareAnswer[] = [];
    const shareCalls: Array<Promise<void>> = [];
    const cancelCommitments = new AbortController();
    let shareParams: ShareRequestParams | undefined;
    let finished = false;
    let pending = nodes.length;
    let thresholdMet: () => void = () => undefined;

    const requestShare = (node: NetworkNode, params: ShareRequestParams): void => {
      shareCalls.push(
        this.#transport.callNode(node.endpoint, 'ShareRequest', params, { timeoutMs: this.timeoutMs }).then(
          (result) => void answers.push({ index: node.index, result }),
          (error: unknown) => void failedNodes.push({ index: node.index, stage: 'share', reason: reasonOf(error) }),
        ),
      );
    };
    for (const node of nodes) {
      this.#transport.callNode(node.endpoint, 'CommitmentRequest', commitmentParams, { timeoutMs: this.timeoutMs, signal: cancelCommitments.signal })
        .then(
          (result) => {
            if (finished) return;
            commitments.set(node.index, result);
            if (shareParams !== undefined) requestShare(node, shareParams);
          },
          (error: unknown) => {
            if (!finished) failedNodes.push({ index: node.index, stage: 'commitment', reason: reasonOf(error) });
          },
        )
        .finally(() => {
          pending--;
          thresholdMet();
        });
    }
    await new Promise<void>((resolve) => {
      thresholdMet = () => {
        if (commitments.size >= enough || pending === 0) resolve();
      };
      thresholdMet();
    });

    const signers = nodes.filter((node) => commitments.has(node.index));
    if (signers.length < minimum) {
      finished = true;
      cancelCommitments.abort();
      throw new LoginError(`only ${signers.length} of ${nodes.length} nodes answered CommitmentRequest, at least ${minimum} needed`, {
        failedNodes: failedNodes.sort((a, b) => a.index - b.index),
      });
    }
    shareParams = shareParamsFor(signers.map((node) => commitments.get(node.index) as CommitmentResult));
    for (const node of signers) requestShare(node, shareParams);
    // Late commitments add ShareRequests while we wait; wait until no call is left.
    for (let awaited = 0; awaited < shareCalls.length; ) {
      const batch = shareCalls.slice(awaited);
      awaited = shareCalls.length;
      await Promise.all(batch);
    }
    finished = true;
    cancelCommitments.abort();
    for (const node of nodes) {
      if (!commitments.has(node.index) && !failedNodes.some((f) => f.index === node.index)) {
        failedNodes.push({ index: node.index, stage: 'commitment', reason: 'no answer to CommitmentRequest before the shares were in' });
      }
    }
    failedNodes.sort((a, b) => a.index - b.index || a.stage.localeCompare(b.stage));
    return { answers, failedNodes };
  }
}
