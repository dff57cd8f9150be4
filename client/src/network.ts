/**
 * The network description a client needs: which nodes serve the epoch, where their JSON-RPC endpoints are,
 * and the threshold. It is a JSON file written by whoever runs the network (the local testnet writes one):
 *
 *   {"chain_id": "...", "epoch": 1, "n": 5, "k": 3,
 *    "nodes": [{"index": 1, "endpoint": "http://127.0.0.1:7001/jrpc", "public_key": "04<128 hex>"}, ...],
 *    "dev_issuer": "http://127.0.0.1:7080"}
 *
 * Everything the client later trusts (the node index of each endpoint is the Shamir x-coordinate of its share,
 * k decides every majority) comes from here, so the file is validated strictly: unknown fields are refused
 * (a misspelt optional field would otherwise be silently ignored) and every error names the field.
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { parsePublicKey } from '../../core/crypto/keys.js';

export class NetworkFileError extends Error {
  override name = 'NetworkFileError';
}

const HttpUrl = z.url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' });

const NodeSchema = z
  .object({
    /** The node's index in the epoch: the x-coordinate of its key shares. */
    index: z.number().int().positive().max(1_000_000),
    /** JSON-RPC endpoint of the node's retrieval server, e.g. http://127.0.0.1:7001/jrpc. */
    endpoint: HttpUrl,
    /** The node's secp256k1 (Ethereum) public key, uncompressed. */
    public_key: z
      .string()
      .regex(/^04[0-9a-fA-F]{128}$/, { error: 'must be "04" followed by 128 hex characters (an uncompressed secp256k1 key)', abort: true })
      .refine((hex) => isPublicKey(hex), 'is not a point on secp256k1'),
  })
  .strict();

export const NetworkSchema = z
  .object({
    chain_id: z.string().min(1),
    epoch: z.number().int().nonnegative(),
    n: z.number().int().positive().max(1000),
    k: z.number().int().positive(),
    nodes: z.array(NodeSchema).min(1),
    /** Development token issuer (`POST <dev_issuer>/token`); absent on real networks. */
    dev_issuer: HttpUrl.optional(),
  })
  .strict()
  .superRefine((net, ctx) => {
    // The client's majority rules are only sound for k = floor(n/2)+1: two disjoint sets of k nodes cannot exist.
    const majority = Math.floor(net.n / 2) + 1;
    if (net.k !== majority) ctx.addIssue({ code: 'custom', path: ['k'], message: `must be floor(n/2)+1 = ${majority} for n = ${net.n}, got ${net.k}` });
    if (net.nodes.length !== net.n) ctx.addIssue({ code: 'custom', path: ['nodes'], message: `lists ${net.nodes.length} nodes but n = ${net.n}` });
    for (const field of ['index', 'endpoint', 'public_key'] as const) {
      const seen = new Map<string, number>();
      net.nodes.forEach((node, position) => {
        const value = field === 'public_key' ? node.public_key.toLowerCase() : String(node[field]);
        const first = seen.get(value);
        if (first !== undefined) {
          ctx.addIssue({ code: 'custom', path: ['nodes', position, field], message: `duplicates nodes[${first}].${field}` });
        } else {
          seen.set(value, position);
        }
      });
    }
  });

export type Network = z.infer<typeof NetworkSchema>;
export type NetworkNode = Network['nodes'][number];

function isPublicKey(hex: string): boolean {
  try {
    parsePublicKey(hex);
    return true;
  } catch {
    return false;
  }
}

/** nodes[3].index, or "(top level)". */
function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const part of path) out += typeof part === 'number' ? `[${part}]` : `${out === '' ? '' : '.'}${String(part)}`;
  return out === '' ? '(top level)' : out;
}

/** Validates an already-parsed JSON value; `source` names it in errors (a file name, "network"). */
export function parseNetwork(json: unknown, source = 'network description'): Network {
  const parsed = NetworkSchema.safeParse(json);
  if (parsed.success) return parsed.data;
  // The local testnet writes its CometBFT layout to network.json next to client.json; say so rather than list 8 issues.
  if (typeof json === 'object' && json !== null && 'chainId' in json && !('chain_id' in json)) {
    throw new NetworkFileError(
      `${source} looks like the testnet's CometBFT layout (it has "chainId"), not a client network description (use client.json) ` +
        `({"chain_id", "epoch", "n", "k", "nodes": [{"index", "endpoint", "public_key"}]})`,
    );
  }
  const issues = parsed.error.issues.map((issue) => `  ${formatPath(issue.path)}: ${issue.message}`);
  throw new NetworkFileError(`invalid ${source}:\n${issues.join('\n')}`, { cause: parsed.error });
}

/**
 * Reads and parses a JSON file. `what` names the file in the errors, which `error` makes:
 * "cannot read <what>: no such file" (or the system's reason) and "<what> is not JSON: <the parser's reason>".
 */
export function readJson(file: string, what: string, error: new (message: string, options: ErrorOptions) => Error): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (cause) {
    const reason = (cause as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : cause instanceof Error ? cause.message : String(cause);
    throw new error(`cannot read ${what}: ${reason}`, { cause });
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (cause) {
    throw new error(`${what} is not JSON: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
  }
}

/** Reads and validates a network description file. */
export function loadNetwork(file: string): Network {
  return parseNetwork(readJson(file, `network file ${file}`, NetworkFileError), `network file ${file}`);
}
