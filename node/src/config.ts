/**
 * A node's configuration file (`torus node start --config FILE`): where the chain and the contract are, which
 * epoch to join, where to keep state, and the host and ports it announces and listens on. Everything about the
 * epoch (n, k, t, the other nodes) comes from the contract. Paths are relative to the file.
 */
import { readJsonFile } from '../../core/json-file.js';
import path from 'node:path';
import { z } from 'zod';

const port = z.number().int().min(1).max(65535);
const host = z.string().regex(/^[A-Za-z0-9.-]+$/, 'a host name or IPv4 address');

export const NodeConfigSchema = z.object({
  /** Ethereum JSON-RPC of the chain that holds the NodeList contract. */
  eth_rpc: z.url(),
  contract: z.string().regex(/^0x[0-9a-fA-F]{40}$/, 'the NodeList contract address'),
  epoch: z.number().int().positive(),
  /** Everything the node keeps: its key (unless node_key_file says otherwise) and each process's state. */
  data_dir: z.string().min(1),
  /** {"secret_key": hex}; created (mode 0600) on first start when missing. */
  node_key_file: z.string().min(1).optional(),
  /** What other nodes and clients use to reach this node. */
  public_host: host,
  /** The IPv4 address the node's servers listen on (default: public_host, which must then be an IPv4 address). */
  listen_host: z.string().regex(/^\d{1,3}(\.\d{1,3}){3}$/, 'an IPv4 address, e.g. 0.0.0.0').optional(),
  ports: z.object({
    cometbft_p2p: port, cometbft_rpc: port, abci: port, keygen: port, jsonrpc: port,
  }).strict(),
  mode: z.enum(['production', 'development']).default('production'),
  /** The retrieval server's verifiers (retrieval/README.md); TORUS_VERIFIERS overrides. */
  verifiers: z.record(z.string(), z.unknown()).optional(),
  /**
   * Genesis parameters. They enter every node's genesis, so all nodes of the epoch must use the same values
   * (a node with other values would derive another genesis and never join); keep the defaults unless the
   * whole epoch agrees.
   */
  genesis: z.object({
    key_buffer_target: z.number().int().min(0).max(1_000_000).default(100),
    max_tx_lifetime_blocks: z.number().int().positive().max(1_000_000).default(1000),
  }).strict().default({ key_buffer_target: 100, max_tx_lifetime_blocks: 1000 }),
  /** CometBFT consensus.timeout_commit. */
  timeout_commit: z.string().regex(/^\d+(ms|s)$/).default('500ms'),
  log_level: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info'),
}).strict();

export type NodeConfig = z.infer<typeof NodeConfigSchema> & { node_key_file: string; listen_host: string };

export class NodeConfigError extends Error {
  override name = 'NodeConfigError';
}

export function loadNodeConfig(file: string): NodeConfig {
  const json = readJsonFile(file, (message, cause) => new NodeConfigError(message, { cause }));
  const parsed = NodeConfigSchema.safeParse(json);
  if (!parsed.success) throw new NodeConfigError(`invalid node configuration in ${file}:\n${z.prettifyError(parsed.error)}`);
  const base = path.dirname(path.resolve(file));
  const dataDir = path.resolve(base, parsed.data.data_dir);
  const ports = Object.values(parsed.data.ports);
  if (new Set(ports).size !== ports.length) throw new NodeConfigError(`invalid node configuration in ${file}: two services on one port`);
  const listenHost = parsed.data.listen_host ?? parsed.data.public_host;
  if (!/^\d{1,3}(\.\d{1,3}){3}$/.test(listenHost)) throw new NodeConfigError(`invalid node configuration in ${file}: public_host is a name, so listen_host (an IPv4 address) is needed`);
  return {
    ...parsed.data,
    data_dir: dataDir,
    node_key_file: parsed.data.node_key_file === undefined ? path.join(dataDir, 'node-key.json') : path.resolve(base, parsed.data.node_key_file),
    listen_host: listenHost,
  };
}
