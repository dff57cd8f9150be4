/**
 * What the dashboard watches, read from a description file, so that it works against any node set:
 *
 * - the local network's `testnet.json` (testnet/src/contract-testnet.ts): every node's JSON-RPC and CometBFT RPC,
 *   and, once the network is up, `client.json` beside it for the login demo;
 * - a client network file (client/src/network.ts: the nodes' JSON-RPC endpoints, indexes and keys) plus CometBFT
 *   RPC URLs given separately, in the file's node order (`--comet URL ...`); nodes without one show no height.
 *
 * The files are read again whenever they change (a rotation rewrites both), so a running dashboard follows the
 * network to its next epoch.
 */
import { statSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { loadNetwork, NetworkFileError, parseNetwork, readJson, type Network } from '../../client/src/network.js';
import { DEV_VERIFIER } from '../../retrieval/src/verifiers/dev-issuer.js';
import { TestnetDescription } from '../../testnet/src/contract-testnet.js';

export class NetworkSourceError extends Error {
  override name = 'NetworkSourceError';
}

export interface WatchedNode {
  /** Share index; 0 for a local-network node that has not registered yet. */
  readonly index: number;
  readonly name: string | null;
  readonly address: string | null;
  /** The retrieval server's JSON-RPC endpoint (…/jrpc); /healthz and /readyz are its siblings. */
  readonly jsonrpc: string;
  readonly cometRpc: string | null;
}

/** The login demo's inputs, or why it cannot run. */
export type LoginSetup = { readonly network: Network; readonly verifier: string } | { readonly problem: string };

export interface NetworkView {
  readonly kind: 'local-network' | 'client-network';
  readonly source: string;
  readonly chainId: string | null;
  readonly nodes: readonly WatchedNode[];
  readonly login: LoginSetup;
}

export interface NetworkSourceOptions {
  /** CometBFT RPC URLs of a client network file's nodes, in the file's node order. */
  readonly comet?: readonly string[];
  /** The development verifier's name for the login demo (default torus-dev); a local network names its own. */
  readonly verifier?: string;
}

const HttpUrl = z.url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' });

/** The files' modification times and sizes: a cheap test for "changed since the last read". */
function fingerprint(files: readonly string[]): string {
  return files
    .map((file) => {
      try {
        const s = statSync(file);
        return `${s.mtimeMs}:${s.size}`;
      } catch {
        return 'missing';
      }
    })
    .join('|');
}

function localNetworkView(file: string, json: unknown, options: NetworkSourceOptions): { view: NetworkView; watched: string[] } {
  if ((options.comet ?? []).length > 0) {
    throw new NetworkSourceError(`${file} is a local network description, which names every node's CometBFT RPC; --comet is for client network files`);
  }
  const parsed = TestnetDescription.safeParse(json);
  if (!parsed.success) throw new NetworkSourceError(`invalid local network description ${file}:\n${z.prettifyError(parsed.error)}`, { cause: parsed.error });
  const d = parsed.data;
  // The local network writes an absolute path; a relative one (an edited file) is taken from testnet.json's directory.
  const clientFile = path.resolve(path.dirname(file), d.client_network);
  let login: LoginSetup;
  let chainId: string | null = null;
  try {
    const network = loadNetwork(clientFile);
    chainId = network.chain_id;
    login = network.dev_issuer === undefined ? { problem: `${clientFile} names no dev_issuer` } : { network, verifier: d.verifier };
  } catch (err) {
    if (!(err instanceof NetworkFileError)) throw err;
    login = { problem: `the network is not up yet (${clientFile} is written once every node has registered): ${err.message}` };
  }
  const nodes = d.nodes.map((node) => ({ index: node.index, name: node.name, address: node.address, jsonrpc: node.jsonrpc, cometRpc: node.cometbft_rpc }));
  return { view: { kind: 'local-network', source: file, chainId, nodes, login }, watched: [file, clientFile] };
}

function clientNetworkView(file: string, json: unknown, options: NetworkSourceOptions): { view: NetworkView; watched: string[] } {
  let network: Network;
  try {
    network = parseNetwork(json, `network file ${file}`);
  } catch (err) {
    if (err instanceof NetworkFileError) throw new NetworkSourceError(err.message, { cause: err });
    throw err;
  }
  const comet = options.comet ?? [];
  if (comet.length > network.nodes.length) {
    throw new NetworkSourceError(`${comet.length} CometBFT RPC URLs given for the ${network.nodes.length} nodes of ${file}; give at most one per node, in the file's node order`);
  }
  comet.forEach((url, i) => {
    const checked = HttpUrl.safeParse(url);
    if (!checked.success) throw new NetworkSourceError(`--comet ${JSON.stringify(url)} (for node ${network.nodes[i]?.index}): ${checked.error.issues[0]?.message ?? 'invalid'}`);
  });
  const nodes = network.nodes.map((node, i) => ({ index: node.index, name: null, address: null, jsonrpc: node.endpoint, cometRpc: comet[i] ?? null }));
  const login: LoginSetup = network.dev_issuer === undefined
    ? { problem: `${file} names no dev_issuer: the login demo needs the network's development issuer` }
    : { network, verifier: options.verifier ?? DEV_VERIFIER };
  return { view: { kind: 'client-network', source: file, chainId: network.chain_id, nodes, login }, watched: [file] };
}

/** Reads the description on demand, again only after one of its files changed. */
export class NetworkSource {
  readonly file: string;
  readonly #options: NetworkSourceOptions;
  #view: NetworkView;
  #watched: string[];
  #fingerprint: string;

  /** Reads the file at once: a wrong file or option is an error before anything starts. */
  constructor(file: string, options: NetworkSourceOptions = {}) {
    this.file = path.resolve(file);
    this.#options = options;
    const first = this.#read();
    this.#view = first.view;
    this.#watched = first.watched;
    this.#fingerprint = fingerprint(this.#watched);
  }

  /** The current description; throws NetworkSourceError when a changed file no longer reads. */
  current(): NetworkView {
    const now = fingerprint(this.#watched);
    if (now === this.#fingerprint) return this.#view;
    const next = this.#read();
    this.#view = next.view;
    this.#watched = next.watched;
    // Taken before the read: a file rewritten during it differs next time and is read again.
    this.#fingerprint = now;
    return this.#view;
  }

  #read(): { view: NetworkView; watched: string[] } {
    const json = readJson(this.file, this.file, NetworkSourceError);
    const isLocalNetwork = typeof json === 'object' && json !== null && 'client_network' in json;
    return isLocalNetwork ? localNetworkView(this.file, json, this.#options) : clientNetworkView(this.file, json, this.#options);
  }
}
