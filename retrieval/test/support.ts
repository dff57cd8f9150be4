/**
 * Shared by the retrieval network tests and the login benchmark: a 5-node network with key generation,
 * retrieval servers and the development issuer, plus raw JSON-RPC calls and a token minter.
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { abciQuery } from '../../core/comet/rpc.js';
import { keccak256 } from '../../core/crypto/hash.js';
import { publicKeyOf, randomSecretKey } from '../../core/crypto/keys.js';
import { bytesToHex, utf8 } from '../../core/encoding/bytes.js';
import { DEV_VERIFIER, MappingNetwork } from '../../testnet/src/mapping-network.js';
import { DevIssuer, DEV_AUDIENCE } from '../src/verifiers/dev-issuer.js';

export interface LoginNetwork {
  readonly net: MappingNetwork;
  readonly issuer: DevIssuer;
  readonly clientFile: string;
}

/** Waits until key generation has refilled the buffer (nothing generating), e.g. after assignments. */
export async function waitForFullBuffer(net: MappingNetwork, timeoutMs = 180_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const buffer = (await abciQuery(net.node(1).rpcUrl, '/buffer')).value as { generating: number; ready: number; target: number };
    if (buffer.generating === 0 && buffer.ready >= buffer.target) return;
    if (Date.now() > deadline) throw new Error(`the key buffer is not full after ${timeoutMs} ms: ${JSON.stringify(buffer)}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/** Starts the network and waits until `readyKeys` keys are ready for assignment. */
export async function startLoginNetwork(options: { readyKeys: number; dir?: string }): Promise<LoginNetwork> {
  const dir = options.dir ?? mkdtempSync(path.join(tmpdir(), 'torus-login-'));
  const net = await MappingNetwork.open({
    dir, validators: 5, keygen: true, retrieval: true, keyBufferTarget: options.readyKeys, timeoutCommit: '200ms', keygenInFlight: 8,
  });
  await net.start(120_000);
  await waitForFullBuffer(net);
  // The same key file as the running issuer: tests mint tokens it would also have issued, and bad ones.
  const issuer = await DevIssuer.create({ issuer: net.devIssuerUrl, keyFile: path.join(dir, 'dev-issuer-key.json') });
  return { net, issuer, clientFile: path.join(dir, 'client.json') };
}

export function mintToken(issuer: DevIssuer, email: string, overrides: Record<string, unknown> = {}, times: { iat?: number; exp?: number } = {}): Promise<string> {
  return issuer.sign({ email, aud: DEV_AUDIENCE, ...overrides }, times);
}

export interface RpcAnswer {
  result?: unknown;
  error?: { code: number; message: string; data?: string };
}

export async function rpc(endpoint: string, method: string, params: unknown): Promise<RpcAnswer> {
  const res = await fetch(endpoint, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ jsonrpc: '2.0', method, id: 10, params }) });
  if (res.status !== 200) throw new Error(`${method} at ${endpoint}: HTTP ${res.status}`);
  return await res.json() as RpcAnswer;
}

/** A node's CommitmentRequest answer (a type alias, so that it stays plain JSON for the fuzzer's seeds). */
export type NodeCommitmentSignature = { signature: string; data: string; nodepubx: string; nodepuby: string };

/** Commits a token at the given nodes with a fresh temporary key; returns the signatures and the key. */
export async function commitToken(net: MappingNetwork, token: string, nodes = [1, 2, 3, 4, 5], verifier = DEV_VERIFIER) {
  const tempSecret = randomSecretKey();
  const tempPublic = publicKeyOf(tempSecret);
  const params = {
    messageprefix: 'mug00', tokencommitment: bytesToHex(keccak256(utf8(token))),
    temppubx: bytesToHex(tempPublic.subarray(1, 33)), temppuby: bytesToHex(tempPublic.subarray(33)), verifieridentifier: verifier,
  };
  const answers = await Promise.all(nodes.map((i) => rpc(net.node(i).endpoint, 'CommitmentRequest', params)));
  for (const a of answers) assert.ok(a.result, `commitment refused: ${JSON.stringify(a.error)}`);
  return { signatures: answers.map((a) => a.result as NodeCommitmentSignature), params, tempSecret };
}

/** Local stand-ins for torus.js's allow, signer and metadata hosts (torus-client.md §7). */
export async function startTorusJsStubs(): Promise<{ url: string; close: () => Promise<void> }> {
  const server: Server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.setHeader('content-type', 'application/json');
      const url = req.url ?? '';
      if (url.startsWith('/metadata/get')) res.end(JSON.stringify({ message: '' }));
      else if (url.startsWith('/api/allow')) res.end(JSON.stringify({ success: true }));
      else if (url.startsWith('/api/sign')) res.end(JSON.stringify({ 'torus-timestamp': '0', 'torus-nonce': '0', 'torus-signature': '' }));
      else {
        res.statusCode = 404;
        res.end('{}');
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
}
