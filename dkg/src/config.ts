/**
 * Configuration of the key-generation process, from a JSON file. Everything about the epoch (n, k, t,
 * the members' public keys, the chain id) is read from the mapping state instead, so it cannot disagree
 * with what the BFT enforces; the file only says where things are.
 */
import { readJsonFile } from '../../core/json-file.js';
import { HostPortSchema } from '../../core/metrics.js';
import path from 'node:path';
import { z } from 'zod';

/** A peer's libp2p address without its /p2p part, e.g. /ip4/127.0.0.1/tcp/7001. */
const Libp2pAddress = z.string().regex(/^\/(ip4|ip6|dns4|dns6)\/[^/]+\/tcp\/\d{1,5}$/, 'a libp2p address looks like /ip4/HOST/tcp/PORT');

/** Another epoch's committee, as the contract lists it: what a hand-over needs to reach and check it. */
export const CommitteeSchema = z.object({
  /** Its CometBFT chain id (network-plan.ts chainIdFor). */
  chain_id: z.string().min(1),
  epoch: z.number().int().positive(),
  n: z.number().int().positive(),
  k: z.number().int().positive(),
  t: z.number().int().nonnegative(),
  members: z.array(z.object({
    index: z.number().int().positive(),
    /** secp256k1 public key, hex (33 or 65 bytes). */
    public_key: z.string().regex(/^(0x)?[0-9a-fA-F]{66}([0-9a-fA-F]{64})?$/),
    /** Its key-generation libp2p address. */
    address: Libp2pAddress,
    /** Its retrieval server's JSON-RPC URL. */
    jsonrpc: z.url(),
  }).strict()).min(1),
}).strict();
export type Committee = z.infer<typeof CommitteeSchema>;

export const KeygenConfigSchema = z.object({
  /** JSON file {"secret_key": hex}: the node's secp256k1 (Ethereum) key, also its libp2p identity. */
  node_key_file: z.string().min(1),
  /** Where dealings and shares are kept (LevelDB, created with mode 0700). */
  data_dir: z.string().min(1),
  /** Unix socket on which this node's retrieval process reads shares; default <data_dir>/share.sock. */
  share_socket: z.string().min(1).optional(),
  /** libp2p listen multiaddr, e.g. /ip4/0.0.0.0/tcp/7001. */
  listen: z.string().regex(/^\/ip[46]\/[^/]+\/tcp\/\d{1,5}$/, 'listen must look like /ip4/HOST/tcp/PORT'),
  /** This node's CometBFT RPC. */
  comet_rpc: z.url(),
  /** Every member's libp2p address by node index (this node's own entry is ignored). */
  peers: z.array(z.object({ index: z.number().int().positive(), address: Libp2pAddress }).strict()).min(1),
  max_keys_in_flight: z.number().int().min(1).max(1000).default(16),
  tick_ms: z.number().int().min(1).max(10_000).default(20),
  poll_ms: z.number().int().min(10).max(60_000).default(200),
  max_frame_bytes: z.number().int().min(1024).max(64 * 1024 * 1024).default(8 * 1024 * 1024),
  max_bytes_per_second: z.number().int().min(1024).default(64 * 1024 * 1024),
  tx_lifetime_blocks: z.number().int().min(1).max(100_000).default(200),
  /** Delay between the rotating submitters of a key's transactions (see KeygenWorker). */
  tx_stagger_ms: z.number().int().min(0).max(60_000).default(2000),
  log_level: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info'),
  /** HOST:PORT for Prometheus /metrics, /healthz and /readyz (core/metrics.ts); absent = not served. */
  metrics_listen: HostPortSchema.optional(),
  /** This epoch takes the keys of `source` over (its chain's genesis names the same previous epoch). */
  source: CommitteeSchema.optional(),
  /** This epoch hands its keys over to `target` (the next epoch, once all its nodes are listed). */
  target: CommitteeSchema.optional(),
}).strict();

/** The file's settings with every path resolved and defaulted. */
export type KeygenConfig = z.infer<typeof KeygenConfigSchema> & { share_socket: string };

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Reads and validates the file; paths in it are relative to the file's directory. */
export function loadKeygenConfig(file: string): KeygenConfig {
  const json = readJsonFile(file, (message, cause) => new ConfigError(message, { cause }));
  const parsed = KeygenConfigSchema.safeParse(json);
  if (!parsed.success) throw new ConfigError(`invalid configuration in ${file}:\n${z.prettifyError(parsed.error)}`);
  const base = path.dirname(path.resolve(file));
  const dataDir = path.resolve(base, parsed.data.data_dir);
  return {
    ...parsed.data,
    node_key_file: path.resolve(base, parsed.data.node_key_file),
    data_dir: dataDir,
    share_socket: parsed.data.share_socket === undefined ? path.join(dataDir, 'share.sock') : path.resolve(base, parsed.data.share_socket),
  };
}
