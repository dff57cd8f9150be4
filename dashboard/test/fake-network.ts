/**
 * A fake network for the dashboard server's tests: per node one HTTP server that answers like a retrieval
 * server (GET /healthz, /readyz) and like CometBFT's JSON-RPC at POST /comet (status, abci_query for /epoch,
 * /buffer and /key, tx_search, header), all from one shared chain state the test changes at will; and the
 * description files (testnet.json with client.json, or a client network file) that point at them.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { bytesToHex, fromUtf8, hexToBytes } from '../../core/encoding/bytes.js';
import { publicKeyOf, randomSecretKey } from '../../core/crypto/keys.js';
import type { TestnetDescription } from '../../testnet/src/contract-testnet.js';

export interface FakeAssignment {
  readonly key_index: number;
  readonly verifier: string;
  readonly verifier_id: string;
  readonly address: string;
  readonly height: number;
  /** False for a repeated KeyAssign of a user who has the key already. */
  readonly created: boolean;
  /** A refused tx (code 10, buffer empty) instead. */
  readonly refused?: boolean;
}

export interface FakeChain {
  chainId: string;
  epoch: { id: number; n: number; k: number; t: number };
  buffer: { target: number; next_index: number; generating: number; ready: number; assigned: number };
  assignments: FakeAssignment[];
  /** Block times by height; heights without one do not exist yet. */
  blockTimes: Map<number, string>;
}

export interface FakeNodeBehaviour {
  /** Status of /healthz (default 200), its body; 'down' = no server at all. */
  health?: number | 'down';
  /** Status of /readyz (default 404: a server without the route). */
  ready?: number;
  readyBody?: unknown;
  height?: number;
  /** Never answer CometBFT calls. */
  cometHangs?: boolean;
}

export interface FakeNode {
  readonly index: number;
  readonly jsonrpc: string;
  readonly comet: string;
  readonly calls: string[];
  behaviour: FakeNodeBehaviour;
  close(): Promise<void>;
}

function send(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

const base64Json = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64');

function cometAnswer(chain: FakeChain, node: FakeNode, method: string, params: Record<string, unknown>): { result?: unknown; error?: unknown } {
  switch (method) {
    case 'status':
      return { result: {
        node_info: { id: `node${node.index}`, network: chain.chainId, version: '0.38.25' },
        sync_info: { latest_block_height: String(node.behaviour.height ?? 1), latest_app_hash: '', latest_block_time: chain.blockTimes.get(node.behaviour.height ?? 1) ?? new Date().toISOString(), catching_up: false },
      } };
    case 'abci_query': {
      const data = typeof params['data'] === 'string' && params['data'] !== '' ? JSON.parse(fromUtf8(hexToBytes(params['data']))) as Record<string, unknown> : {};
      const ok = (value: unknown) => ({ result: { response: { code: 0, log: 'ok', value: base64Json(value), height: String(node.behaviour.height ?? 1) } } });
      if (params['path'] === '/epoch') return ok({ ...chain.epoch, members: [] });
      if (params['path'] === '/buffer') return ok(chain.buffer);
      if (params['path'] === '/key') {
        const assignment = chain.assignments.find((a) => a.key_index === data['key_index'] && a.created);
        if (assignment === undefined) return { result: { response: { code: 2, log: 'not found' } } };
        return ok({ index: assignment.key_index, epoch: 1, status: 'assigned', assigned_to: { verifier: assignment.verifier, verifier_id: assignment.verifier_id } });
      }
      return { result: { response: { code: 3, log: 'unknown path' } } };
    }
    case 'tx_search': {
      const txs = [...chain.assignments].reverse().map((a) => ({
        hash: 'AB'.repeat(32), height: String(a.height), index: 0, tx: '',
        tx_result: a.refused === true
          ? { code: 10, log: 'buffer empty', data: null, events: [] }
          : {
              code: 0, log: 'assigned',
              data: base64Json({ key_index: a.key_index, public_key: '02'.padEnd(66, '1'), address: a.address, created: a.created }),
              events: [{ type: 'torus.assign', attributes: [
                { key: 'key_index', value: String(a.key_index), index: true },
                { key: 'verifier', value: a.verifier, index: true },
                { key: 'created', value: String(a.created), index: false },
              ] }],
            },
      }));
      return { result: { txs: txs.slice(0, Number(params['per_page'] ?? 30)), total_count: String(txs.length) } };
    }
    case 'header': {
      const time = chain.blockTimes.get(Number(params['height']));
      if (time === undefined) return { error: { code: -32603, message: 'Internal error', data: `height ${String(params['height'])} must be less than or equal to the current blockchain height` } };
      return { result: { header: { height: String(params['height']), time } } };
    }
    default:
      return { error: { code: -32601, message: 'Method not found' } };
  }
}

/** A node on 127.0.0.1; with health 'down' its URLs point at a closed port. */
export async function startFakeNode(chain: FakeChain, index: number, behaviour: FakeNodeBehaviour = {}): Promise<FakeNode> {
  const calls: string[] = [];
  const node: FakeNode = { index, jsonrpc: '', comet: '', calls, behaviour, close: async () => undefined };
  const server = createServer((req, res) => {
    void readBody(req).then((text) => {
      if (req.method === 'GET' && req.url === '/healthz') {
        calls.push('healthz');
        const status = typeof node.behaviour.health === 'number' ? node.behaviour.health : 200;
        return send(res, status, status === 200 ? { ok: true, detail: {} } : { ok: false, detail: { comet: 'no answer' } });
      }
      if (req.method === 'GET' && req.url === '/readyz') {
        calls.push('readyz');
        const status = node.behaviour.ready ?? 404;
        return send(res, status, node.behaviour.readyBody ?? (status === 404 ? { error: 'not found' } : { ready: status === 200, failed: [], checks: {} }));
      }
      if (req.method === 'POST' && req.url === '/comet') {
        const body = JSON.parse(text) as { id: number; method: string; params: Record<string, unknown> };
        calls.push(body.method);
        if (node.behaviour.cometHangs === true) return undefined;
        return send(res, 200, { jsonrpc: '2.0', id: body.id, ...cometAnswer(chain, node, body.method, body.params) });
      }
      send(res, 404, { error: 'not found' });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const close = () => new Promise<void>((resolve) => {
    server.closeAllConnections();
    server.close(() => resolve());
  });
  Object.assign(node, { jsonrpc: `${url}/jrpc`, comet: `${url}/comet`, close });
  if (behaviour.health === 'down') await close();
  return node;
}

/** A valid uncompressed public key for a node of a client network file. */
export function nodePublicKey(): string {
  return bytesToHex(publicKeyOf(randomSecretKey()));
}

/** testnet.json and client.json in `dir` for these nodes, as the local network writes them. */
export function writeLocalNetwork(dir: string, chain: FakeChain, nodes: readonly FakeNode[], devIssuer: string): string {
  const clientFile = path.join(dir, 'client.json');
  const description: Omit<TestnetDescription, 'retired'> = {
    dir, chain_rpc: 'http://127.0.0.1:1', eth_chain_id: 31337, contract: `0x${'5'.repeat(40)}`,
    epoch: chain.epoch.id, n: chain.epoch.n, k: chain.epoch.k, t: chain.epoch.t, key_buffer_target: chain.buffer.target, base_port: 26600,
    dev_issuer: devIssuer, verifier: 'torus-dev', client_network: clientFile,
    nodes: nodes.map((node) => ({
      name: `node${node.index}`, index: node.index, address: `0x${String(node.index).repeat(40)}`, public_key: nodePublicKey(),
      jsonrpc: node.jsonrpc, cometbft_rpc: node.comet, config: path.join(dir, `node${node.index}.json`), data_dir: path.join(dir, `node${node.index}`), logs: {},
    })),
  };
  writeFileSync(path.join(dir, 'testnet.json'), `${JSON.stringify(description, null, 2)}\n`);
  writeClientNetwork(clientFile, chain, nodes, devIssuer);
  return path.join(dir, 'testnet.json');
}

/** A client network file for these nodes. */
export function writeClientNetwork(file: string, chain: FakeChain, nodes: readonly FakeNode[], devIssuer?: string): string {
  writeFileSync(file, `${JSON.stringify({
    chain_id: chain.chainId, epoch: chain.epoch.id, n: nodes.length, k: Math.floor(nodes.length / 2) + 1,
    nodes: nodes.map((node) => ({ index: node.index, endpoint: node.jsonrpc, public_key: nodePublicKey() })),
    ...(devIssuer === undefined ? {} : { dev_issuer: devIssuer }),
  }, null, 2)}\n`);
  return file;
}
