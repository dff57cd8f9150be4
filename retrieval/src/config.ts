/**
 * Configuration of the retrieval process: a JSON file, with the mode and the verifiers also settable from
 * the environment (TORUS_MODE, TORUS_VERIFIERS) so that operators can keep client ids out of files. Paths are
 * relative to the file. Production is the default mode; development (dev issuer, plain-HTTP JWKS) must be
 * asked for, and TORUS_MODE=production overrides a file that asks for it.
 */
import { readJsonFile } from '../../core/json-file.js';
import { HostPortSchema } from '../../core/metrics.js';
import path from 'node:path';
import { z } from 'zod';
import { loadVerifiersFromEnv, parseVerifiersConfig, type VerifierMode, type VerifiersConfig } from './verifiers/config.js';

export const RetrievalConfigSchema = z.object({
  mode: z.enum(['production', 'development']).default('production'),
  /** JSON file {"secret_key": hex}: the node's key; it signs commitments and AssignKey transactions. */
  node_key_file: z.string().min(1),
  /** This process's own LevelDB (commitments and used tokens). */
  data_dir: z.string().min(1),
  listen: HostPortSchema,
  comet_rpc: z.url(),
  /** The key-generation process's share socket (torus-dkg's share_socket). */
  share_socket: z.string().min(1),
  /** Verifiers by name; TORUS_VERIFIERS replaces them when set. */
  verifiers: z.record(z.string(), z.unknown()).optional(),
  signature_window_seconds: z.number().int().min(10).max(86_400).default(600),
  clock_skew_seconds: z.number().int().min(0).max(600).default(60),
  commitment_ttl_seconds: z.number().int().min(10).max(86_400).default(900),
  assignment_wait_ms: z.number().int().min(0).max(30_000).default(3000),
  max_body_bytes: z.number().int().min(1024).max(16 * 1024 * 1024).default(64 * 1024),
  max_batch: z.number().int().min(1).max(1000).default(20),
  cors_origins: z.array(z.string().min(1)).min(1).default(['*']),
  tx_lifetime_blocks: z.number().int().min(1).max(100_000).default(100),
  log_level: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info'),
  /**
   * HOST:PORT for Prometheus /metrics, /healthz and /readyz (core/metrics.ts), apart from the public
   * JSON-RPC port; absent = not served.
   */
  metrics_listen: HostPortSchema.optional(),
}).strict();

export type RetrievalConfig = Omit<z.infer<typeof RetrievalConfigSchema>, 'verifiers' | 'mode'> & {
  mode: VerifierMode;
  verifiers: VerifiersConfig;
};

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/**
 * The mode the server runs in: the configured one, unless TORUS_MODE=production or NODE_ENV=production. The
 * environment can only make a node stricter, so TORUS_MODE=development does not relax a production file.
 * torus node start uses it too, to check the verifiers the way this server will.
 */
export function effectiveMode(configured: VerifierMode, env: Readonly<Record<string, string | undefined>>): VerifierMode {
  const envMode = env['TORUS_MODE'];
  if (envMode !== undefined && envMode !== 'production' && envMode !== 'development') throw new ConfigError(`TORUS_MODE must be production or development, not ${JSON.stringify(envMode)}`);
  return envMode === 'production' || env['NODE_ENV'] === 'production' ? 'production' : configured;
}

export function parseRetrievalConfig(json: unknown, baseDir: string, env: Record<string, string | undefined>): RetrievalConfig {
  const parsed = RetrievalConfigSchema.safeParse(json);
  if (!parsed.success) throw new ConfigError(`invalid retrieval configuration:\n${z.prettifyError(parsed.error)}`);
  const mode = effectiveMode(parsed.data.mode, env);
  const verifiers = loadVerifiersFromEnv(env, mode) ?? (parsed.data.verifiers === undefined ? undefined : parseVerifiersConfig(parsed.data.verifiers, mode));
  if (verifiers === undefined) throw new ConfigError('no verifiers configured: set "verifiers" in the file or TORUS_VERIFIERS');
  const resolve = (p: string) => path.resolve(baseDir, p);
  return {
    ...parsed.data, mode, verifiers,
    node_key_file: resolve(parsed.data.node_key_file), data_dir: resolve(parsed.data.data_dir), share_socket: resolve(parsed.data.share_socket),
  };
}

export function loadRetrievalConfig(file: string, env: Record<string, string | undefined> = process.env): RetrievalConfig {
  const json = readJsonFile(file, (message, cause) => new ConfigError(message, { cause }));
  return parseRetrievalConfig(json, path.dirname(path.resolve(file)), env);
}
