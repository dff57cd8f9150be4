/**
 * Small in-process HTTP servers that answer like retrieval nodes (the legacy Torus JSON-RPC methods plus our
 * ShareRequest extensions), built on the real cryptography, with per-node faults: down (connection refused),
 * hanging methods, HTTP errors, wrong shares, a wrong NodeIndex, late visibility of new assignments. They check
 * what the client sends the way real nodes would (token commitment, signatures from k distinct members, the
 * temporary key), so a client that sends the wrong thing fails the tests. Not a node implementation.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { bytesToHex, utf8 } from '../../core/encoding/bytes.js';
import { keccak256 } from '../../core/crypto/hash.js';
import { publicKeyOf, randomSecretKey } from '../../core/crypto/keys.js';
import { Fn } from '../../core/crypto/scalar.js';
import type { Network } from '../src/network.js';
import { fakeIdToken, lookupResult, makeKey, shareResult, unpaddedHex, type TestKey } from './fixtures.js';

export type Handler = (req: IncomingMessage, body: string, res: ServerResponse) => void | Promise<void>;

export interface Served {
  readonly url: string;
  readonly server: Server;
  close(): Promise<void>;
}

async function readAll(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** An HTTP server on 127.0.0.1, port 0. `close` also drops hanging connections. */
export async function serve(handler: Handler): Promise<Served> {
  const server = createServer((req, res) => {
    readAll(req)
      .then((body) => handler(req, body, res))
      .catch((err: unknown) => {
        res.statusCode = 500;
        res.end(String(err));
      });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    server,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A loopback URL nothing listens on (connection refused). */
export async function deadUrl(): Promise<string> {
  const served = await serve(() => undefined);
  await served.close();
  return served.url;
}

export function sendJson(res: ServerResponse, value: unknown, status = 200): void {
  res.statusCode = status;
  res.setHeader('content-type', 'application/json');
  res.end(JSON.stringify(value));
}

export interface FakeNodeBehaviour {
  /** Nothing listens at the node's endpoint. */
  readonly down?: boolean;
  /** Methods the node never answers. */
  readonly hang?: readonly string[];
  /** Methods answered with this HTTP status and a text body. */
  readonly httpStatus?: Readonly<Record<string, number>>;
  /** Sends s_i + 1 instead of s_i. */
  readonly corruptShare?: boolean;
  /** Answers with NodeIndex + 1. */
  readonly wrongNodeIndex?: boolean;
  /** Sees a new assignment only this many ms after it was made (a node that applies blocks late). */
  readonly assignmentLagMs?: number;
  /** Methods answered only after this many ms. */
  readonly delayMs?: Readonly<Record<string, number>>;
}

interface Assignment {
  readonly key: TestKey;
  readonly at: number;
}

interface RpcRequest {
  readonly method: string;
  readonly id: unknown;
  readonly params: Record<string, unknown>;
}

class RpcFailure extends Error {
  constructor(
    readonly code: number,
    readonly rpcMessage: string,
    readonly data: string,
  ) {
    super(data);
  }
}

export const VERIFIER = 'test-verifier';

/** n fake nodes sharing one "consensus state" (the assignments) and one pool of pre-generated keys. */
export class FakeCluster {
  readonly n: number;
  readonly k: number;
  readonly network: Network;
  /** Every request any node received, in arrival order. */
  readonly requests: Array<{ node: number; method: string; params: Record<string, unknown> }> = [];
  /** Requests the client gave up on (connection closed before an answer), as "node:method". */
  readonly cancelled: string[] = [];
  readonly #assignments = new Map<string, Assignment>();
  readonly #nodeKeys: Uint8Array[];
  readonly #served: Served[];
  readonly #behaviours: Readonly<Record<number, FakeNodeBehaviour>>;
  /** Per node: token commitment -> temporary public key (hex, uncompressed). */
  readonly #commitments: Array<Map<string, string>>;
  #nextKeyIndex = 0x1fn;

  private constructor(n: number, nodeKeys: Uint8Array[], served: Served[], endpoints: string[], behaviours: Readonly<Record<number, FakeNodeBehaviour>>, devIssuer: string | undefined) {
    this.n = n;
    this.k = Math.floor(n / 2) + 1;
    this.#nodeKeys = nodeKeys;
    this.#served = served;
    this.#behaviours = behaviours;
    this.#commitments = endpoints.map(() => new Map());
    this.network = {
      chain_id: 'torus-test',
      epoch: 1,
      n,
      k: this.k,
      nodes: endpoints.map((endpoint, i) => ({ index: i + 1, endpoint, public_key: bytesToHex(publicKeyOf(nodeKeys[i] as Uint8Array)) })),
      ...(devIssuer === undefined ? {} : { dev_issuer: devIssuer }),
    };
  }

  static async start(n: number, behaviours: Readonly<Record<number, FakeNodeBehaviour>> = {}, options: { devIssuer?: boolean } = {}): Promise<FakeCluster> {
    const nodeKeys = Array.from({ length: n }, () => randomSecretKey());
    const served: Served[] = [];
    const endpoints: string[] = [];
    let cluster: FakeCluster | undefined;
    for (let index = 1; index <= n; index++) {
      if (behaviours[index]?.down === true) {
        endpoints.push(`${await deadUrl()}/jrpc`);
        continue;
      }
      const node = index;
      const s = await serve((req, body, res) => (cluster as FakeCluster).handle(node, req, body, res));
      served.push(s);
      endpoints.push(`${s.url}/jrpc`);
    }
    let devIssuer: string | undefined;
    if (options.devIssuer === true) {
      const issuer = await serve((req, body, res) => {
        if (req.method !== 'POST' || req.url !== '/token') return sendJson(res, { error: 'not found' }, 404);
        const { email } = JSON.parse(body) as { email: string };
        sendJson(res, { id_token: fakeIdToken({ email, sub: `sub-${email}` }) });
      });
      served.push(issuer);
      devIssuer = issuer.url;
    }
    cluster = new FakeCluster(n, nodeKeys, served, endpoints, behaviours, devIssuer);
    return cluster;
  }

  async close(): Promise<void> {
    await Promise.all(this.#served.map((s) => s.close()));
  }

  /** Assigns a key directly in the shared state (a user assigned before the test). */
  preassign(verifierId: string): TestKey {
    const key = makeKey(this.n, this.k, this.#nextKeyIndex++);
    this.#assignments.set(verifierId, { key, at: 0 });
    return key;
  }

  assignment(verifierId: string): TestKey | undefined {
    return this.#assignments.get(verifierId)?.key;
  }

  methods(method: string): number[] {
    return this.requests.filter((r) => r.method === method).map((r) => r.node);
  }

  async handle(node: number, req: IncomingMessage, body: string, res: ServerResponse): Promise<void> {
    let request: RpcRequest;
    try {
      request = JSON.parse(body) as RpcRequest;
    } catch {
      return sendJson(res, { jsonrpc: '2.0', error: { code: -32700, message: 'Parse error' }, id: null });
    }
    if (req.method !== 'POST' || !String(req.headers['content-type']).startsWith('application/json')) {
      return sendJson(res, { jsonrpc: '2.0', error: { code: -32600, message: 'Invalid Request' }, id: request.id });
    }
    this.requests.push({ node, method: request.method, params: request.params });
    const behaviour = this.#behaviours[node] ?? {};
    res.on('close', () => {
      if (!res.writableFinished) this.cancelled.push(`${node}:${request.method}`);
    });
    if (behaviour.hang?.includes(request.method) === true) return; // never answered
    const delay = behaviour.delayMs?.[request.method];
    if (delay !== undefined) await new Promise((resolve) => setTimeout(resolve, delay));
    const status = behaviour.httpStatus?.[request.method];
    if (status !== undefined) {
      res.statusCode = status;
      return void res.end('Bad Gateway');
    }
    try {
      sendJson(res, { jsonrpc: '2.0', result: this.#dispatch(node, request.method, request.params, behaviour), id: request.id });
    } catch (err) {
      if (!(err instanceof RpcFailure)) throw err;
      sendJson(res, { jsonrpc: '2.0', error: { code: err.code, message: err.rpcMessage, data: err.data }, id: request.id });
    }
  }

  #visible(verifierId: string, behaviour: FakeNodeBehaviour): TestKey | undefined {
    const a = this.#assignments.get(verifierId);
    if (a === undefined || Date.now() < a.at + (behaviour.assignmentLagMs ?? 0)) return undefined;
    return a.key;
  }

  #dispatch(node: number, method: string, params: Record<string, unknown>, behaviour: FakeNodeBehaviour): unknown {
    const inputError = (data: string): RpcFailure => new RpcFailure(-32602, 'Input Error', data);
    switch (method) {
      case 'VerifierLookupRequest':
      case 'KeyAssign': {
        if (params['verifier'] !== VERIFIER) throw inputError('Verifier not supported');
        const verifierId = params['verifier_id'];
        if (typeof verifierId !== 'string' || verifierId === '') throw inputError('VerifierID is empty');
        if (method === 'KeyAssign' && !this.#assignments.has(verifierId)) {
          this.#assignments.set(verifierId, { key: makeKey(this.n, this.k, this.#nextKeyIndex++), at: Date.now() });
        }
        const key = method === 'KeyAssign' ? this.assignment(verifierId) : this.#visible(verifierId, behaviour);
        if (key === undefined) throw inputError(`Verifier + VerifierID has not yet been assigned: node ${node} has no record`);
        return lookupResult(key);
      }
      case 'CommitmentRequest': {
        const { messageprefix, tokencommitment, temppubx, temppuby, verifieridentifier } = params as Record<string, string>;
        if (messageprefix !== 'mug00') throw new RpcFailure(-32603, 'Internal error', 'Incorrect message prefix');
        if (!/^[0-9a-f]{64}$/.test(tokencommitment ?? '') || !/^[0-9a-f]{64}$/.test(temppubx ?? '') || !/^[0-9a-f]{64}$/.test(temppuby ?? '')) {
          throw inputError('bad commitment parameters');
        }
        const cache = this.#commitments[node - 1] as Map<string, string>;
        if (cache.has(tokencommitment as string)) throw new RpcFailure(-32603, 'Internal error', 'Duplicate token found');
        cache.set(tokencommitment as string, `04${temppubx}${temppuby}`);
        const nodePublic = publicKeyOf(this.#nodeKeys[node - 1] as Uint8Array);
        return {
          signature: `${'ab'.repeat(64)}1b`,
          data: ['mug00', tokencommitment, temppubx, temppuby, verifieridentifier, '1795508663'].join('\x1c'),
          nodepubx: unpaddedHex(nodePublic.subarray(1, 33)),
          nodepuby: unpaddedHex(nodePublic.subarray(33, 65)),
        };
      }
      case 'ShareRequest': {
        if (params['encrypted'] !== 'yes') throw inputError('encrypted must be "yes"');
        const items = params['item'] as Array<Record<string, unknown>> | undefined;
        const item = items?.[0];
        if (items?.length !== 1 || item === undefined) throw inputError('exactly one item expected');
        const idToken = item['idtoken'] as string;
        const verifierId = item['verifier_id'] as string;
        if (item['verifieridentifier'] !== VERIFIER) throw inputError('Verifier not supported');
        const commitment = bytesToHex(keccak256(utf8(idToken)));
        const signatures = item['nodesignatures'] as Array<Record<string, string>>;
        const members = new Set(this.network.nodes.map((m) => BigInt(`0x${m.public_key.slice(2, 66)}`).toString(16)));
        const signers = new Set(signatures.filter((s) => s['data']?.split('\x1c')[1] === commitment && members.has(s['nodepubx'] as string)).map((s) => s['nodepubx']));
        if (signers.size < this.k) throw inputError(`Not enough valid signatures. Only ${signers.size} valid signatures found.`);
        const tempPublicKey = this.#commitments[node - 1]?.get(commitment);
        if (tempPublicKey === undefined) throw inputError('Token commitment and token are not compatible');
        const payload = JSON.parse(Buffer.from(idToken.split('.')[1] ?? '', 'base64url').toString('utf8')) as Record<string, unknown>;
        if (payload['email'] !== verifierId && payload['sub'] !== verifierId) throw inputError('Could not verify params');
        const key = this.#visible(verifierId, behaviour);
        if (key === undefined) throw inputError('Verifier + VerifierID has not yet been assigned');
        const share = key.shares.get(node) as bigint;
        return shareResult(key, node, tempPublicKey, {
          ...(behaviour.corruptShare === true ? { shareValue: Fn.add(share, 1n) } : {}),
          ...(behaviour.wrongNodeIndex === true ? { nodeIndex: node + 1 } : {}),
        });
      }
      default:
        throw new RpcFailure(-32601, 'Method not found', method);
    }
  }
}
