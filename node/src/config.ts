/**
 * A node's configuration file (`torus node start --config FILE`): where the chain and the contract are, which
 * epoch to join, where to keep state, and the host and ports it announces and listens on. Everything about the
 * epoch (n, k, t, the other nodes) comes from the contract; `expect_epoch` only says what the operator expects
 * it to be. Paths are relative to the file.
 *
 * The file is JSON with comments and trailing commas (JSONC; plain JSON is JSONC). The environment overrides it
 * (`TORUS_<FIELD>` for the top-level fields, `TORUS_PORTS_<NAME>` for the ports; TORUS_MODE and TORUS_VERIFIERS
 * as torus-retrieval reads them), and the result is validated before the node does anything: every problem is
 * reported at once, one line each, naming the field (and the variable, for a value from the environment) and
 * the value, e.g. `ports.jsonrpc: 70000 is not a valid port (1-65535)`.
 */
import path from 'node:path';
import { isAddress } from 'ethers';
import { z } from 'zod';
import { DEFAULT_KEY_BUFFER_TARGET, DEFAULT_MAX_TX_LIFETIME_BLOCKS } from '../../abci/src/state/genesis.js';
import { thresholdProblem } from '../../core/epoch.js';
import { parseJsonc, readJsoncFile } from '../../core/json-file.js';
import { effectiveMode } from '../../retrieval/src/config.js';
import { productionProblems, VerifierConfigSchema, VerifiersSchema, verifiersJsonFromEnv } from '../../retrieval/src/verifiers/config.js';

type Env = Readonly<Record<string, string | undefined>>;

/** A value as messages show it: JSON, cut short. */
function shown(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

/** The message of a field's every check: `70000 is not a valid port (1-65535)`, or `missing: expected ...`. */
function expecting(what: string) {
  return (issue: { readonly input?: unknown }): string => (issue.input === undefined ? `missing: expected ${what}` : `${shown(issue.input)} is not ${what}`);
}

function wholeNumber(what: string, min: number, max?: number) {
  const error = expecting(what);
  const atLeast = z.number({ error }).int({ error }).min(min, { error });
  return max === undefined ? atLeast : atLeast.max(max, { error });
}

function text(what: string, pattern: RegExp) {
  const error = expecting(what);
  return z.string({ error }).regex(pattern, { error });
}

const port = wholeNumber('a valid port (1-65535)', 1, 65535);
/** A dotted-quad IPv4 address (shape only). */
export const IPV4 = /^\d{1,3}(\.\d{1,3}){3}$/;
const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;
const MODES = ['production', 'development'] as const;

/** The defaults of the ports (also the Docker network's and node/README.md's). */
export const DEFAULT_PORTS = { cometbft_p2p: 26656, cometbft_rpc: 26657, abci: 26658, keygen: 7100, jsonrpc: 7000 } as const;

const PortsSchema = z.object({
  cometbft_p2p: port.default(DEFAULT_PORTS.cometbft_p2p),
  cometbft_rpc: port.default(DEFAULT_PORTS.cometbft_rpc),
  abci: port.default(DEFAULT_PORTS.abci),
  keygen: port.default(DEFAULT_PORTS.keygen),
  jsonrpc: port.default(DEFAULT_PORTS.jsonrpc),
  /** Prometheus /metrics, /healthz and /readyz of torus-abci, torus-dkg, torus-retrieval (on listen_host); absent = not served. */
  metrics_abci: port.optional(),
  metrics_dkg: port.optional(),
  metrics_retrieval: port.optional(),
}).strict();

/**
 * Two services on one port would fail only when the second starts. Each clash is reported at the port more
 * likely to be the mistake (one from the environment before one in the file before a default; else the later
 * one), naming the other and whether that one is a default.
 */
function portClashes(ports: Readonly<Record<string, number | undefined>>, written: Readonly<Record<string, unknown>>, fromEnv: (name: string) => boolean): Array<{ name: string; message: string }> {
  const weight = (name: string) => (fromEnv(name) ? 2 : name in written ? 1 : 0);
  const clashes: Array<{ name: string; message: string }> = [];
  const owner = new Map<number, string>();
  for (const [name, value] of Object.entries(ports)) {
    if (value === undefined) continue;
    const first = owner.get(value);
    if (first === undefined) {
      owner.set(value, name);
      continue;
    }
    const [at, other] = weight(name) >= weight(first) ? [name, first] : [first, name];
    clashes.push({ name: at, message: `${value} is also the port of ports.${other}${other in written ? '' : ' (its default)'}: every service needs its own port` });
  }
  return clashes;
}

const ExpectEpochSchema = z.object({
  n: wholeNumber('a number of nodes (1 or more)', 1),
  k: wholeNumber('a reconstruction threshold (floor(n/2)+1)', 1),
  t: wholeNumber('a number of tolerated faults (t < n/4)', 0),
}).strict().superRefine((thresholds, ctx) => {
  const problem = thresholdProblem(thresholds);
  if (problem !== undefined) ctx.addIssue({ code: 'custom', path: [problem.parameter], input: thresholds[problem.parameter], message: problem.message });
});

const GenesisSchema = z.object({
  key_buffer_target: wholeNumber('a number of keys to keep ready (0-1000000)', 0, 1_000_000).default(DEFAULT_KEY_BUFFER_TARGET),
  max_tx_lifetime_blocks: wholeNumber('a number of blocks (1-1000000)', 1, 1_000_000).default(DEFAULT_MAX_TX_LIFETIME_BLOCKS),
}).strict();

const contractError = expecting('a contract address (0x and 40 hex digits)');

export const NodeConfigSchema = z.object({
  /** Ethereum JSON-RPC of the chain that holds the NodeList contract. */
  eth_rpc: z.url({ protocol: /^https?$/, error: expecting('an http(s) URL of an Ethereum JSON-RPC endpoint') }),
  contract: z.string({ error: contractError }).regex(/^0x[0-9a-fA-F]{40}$/, { error: contractError, abort: true })
    // A mixed-case address carries an EIP-55 checksum; a wrong one means a mistyped address.
    .refine((address) => isAddress(address), { error: (issue) => `${shown(issue.input)} has a wrong EIP-55 checksum (mixed case): copy the address again, or write it in lower case` }),
  epoch: wholeNumber('an epoch number (1, 2, ...)', 1),
  /** Everything the node keeps: its key (unless node_key_file says otherwise) and each process's state. */
  data_dir: text('a directory', /./),
  /** {"secret_key": hex}; created (mode 0600) on first start when missing. */
  node_key_file: text('a file name', /./).optional(),
  /** What other nodes and clients use to reach this node. */
  public_host: text('a host name or IPv4 address', /^[A-Za-z0-9.-]+$/),
  /** The IPv4 address the node's servers listen on (default: public_host, which must then be an IPv4 address). */
  listen_host: text('an IPv4 address to listen on, e.g. 0.0.0.0', IPV4).optional(),
  ports: PortsSchema.prefault({}),
  /** TORUS_MODE=production (or NODE_ENV=production) overrides development, never the other way round. */
  mode: z.enum(MODES, { error: expecting(MODES.join(' or ')) }).default('production'),
  /** The retrieval server's verifiers (retrieval/README.md), checked with its schema; TORUS_VERIFIERS replaces them. */
  verifiers: VerifiersSchema.optional(),
  /** What the operator expects the contract's epoch to be: checked against the threshold rules now, and against the contract at start. */
  expect_epoch: ExpectEpochSchema.optional(),
  /**
   * Genesis parameters. They enter every node's genesis, so all nodes of the epoch must use the same values
   * (a node with other values would derive another genesis and never join); keep the defaults unless the
   * whole epoch agrees.
   */
  genesis: GenesisSchema.prefault({}),
  /** CometBFT consensus.timeout_commit. */
  timeout_commit: text('a duration such as 500ms or 1s', /^\d+(ms|s)$/).default('500ms'),
  log_level: z.enum(LOG_LEVELS, { error: expecting(`a log level (${LOG_LEVELS.join(', ')})`) }).default('info'),
}).strict();

export type NodeConfig = Omit<z.output<typeof NodeConfigSchema>, 'verifiers' | 'node_key_file' | 'listen_host'> & {
  node_key_file: string;
  listen_host: string;
  /**
   * The verifiers as the file writes them: torus-retrieval applies the presets itself. Undefined when only
   * TORUS_VERIFIERS gives them (the retrieval process reads that variable too; it never goes into a file).
   */
  verifiers: Record<string, unknown> | undefined;
};

/** A value taken from the environment instead of the file. */
export interface EnvOverride {
  readonly variable: string;
  /** The field it sets, e.g. `ports.jsonrpc`. */
  readonly field: string;
}

export interface LoadedNodeConfig {
  readonly config: NodeConfig;
  readonly overrides: readonly EnvOverride[];
}

export class NodeConfigError extends Error {
  override name = 'NodeConfigError';
}

/** One problem of a configuration: `${field}: ${message}`. */
export interface ConfigProblem {
  /** A field (`ports.jsonrpc`, with ` (from TORUS_PORTS_JSONRPC)` when the environment gave it) or a variable. */
  readonly field: string;
  readonly message: string;
  /** A `<fill in: ...>` placeholder of `torus node init` that is still there. */
  readonly fillIn: boolean;
}

const problemLine = (p: ConfigProblem) => `${p.field}: ${p.message}`;

/** The variable that overrides a field: TORUS_EPOCH, TORUS_PORTS_JSONRPC. */
const envVariableOf = (field: string): string => `TORUS_${field.replaceAll('.', '_').toUpperCase()}`;

/** The top-level fields the environment can set, and whether their value is a whole number. */
const SCALAR_OVERRIDES = {
  eth_rpc: false, contract: false, epoch: true, data_dir: false, node_key_file: false, public_host: false, listen_host: false,
  timeout_commit: false, log_level: false,
} as const satisfies Partial<Record<keyof typeof NodeConfigSchema.shape, boolean>>;

export const PORT_NAMES = Object.keys(PortsSchema.shape);

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

interface Overridden {
  /** The file's value with the environment applied; what is validated. */
  readonly merged: unknown;
  /** field (`epoch`, `ports.jsonrpc`, `verifiers`, `mode`) -> the variable that set it. */
  readonly sources: ReadonlyMap<string, string>;
  readonly problems: ConfigProblem[];
}

/**
 * Applies the environment to the file's value. Empty variables count as unset (as the operator commands treat
 * them). TORUS_MODE follows torus-retrieval (production wins, development never relaxes a production file), and
 * TORUS_VERIFIERS replaces the verifiers, as torus-retrieval, which inherits the environment, will use them.
 */
function applyEnvironment(raw: unknown, env: Env): Overridden {
  const sources = new Map<string, string>();
  const problems: ConfigProblem[] = [];
  if (!isRecord(raw)) return { merged: raw, sources, problems };
  const merged: Record<string, unknown> = { ...raw };
  const valueOf = (variable: string, wholeNumber: boolean): unknown => {
    const value = env[variable] as string;
    if (!wholeNumber) return value;
    if (/^\d{1,15}$/.test(value)) return Number(value);
    problems.push({ field: variable, message: `${shown(value)} is not a whole number`, fillIn: false });
    return undefined;
  };
  const set = (variable: string) => env[variable] !== undefined && env[variable] !== '';

  for (const [field, wholeNumber] of Object.entries(SCALAR_OVERRIDES)) {
    const variable = envVariableOf(field);
    if (!set(variable)) continue;
    const value = valueOf(variable, wholeNumber);
    if (value === undefined) continue;
    merged[field] = value;
    sources.set(field, variable);
  }
  for (const variable of Object.keys(env).filter((name) => name.startsWith('TORUS_PORTS_')).sort()) {
    if (!set(variable)) continue;
    const name = variable.slice('TORUS_PORTS_'.length).toLowerCase();
    if (!PORT_NAMES.includes(name)) {
      problems.push({ field: variable, message: `not a port of the node (the ports are ${PORT_NAMES.map((p) => envVariableOf(`ports.${p}`)).join(', ')})`, fillIn: false });
      continue;
    }
    const value = valueOf(variable, true);
    if (value === undefined) continue;
    // A ports value that is not an object is reported as it is; the variable cannot repair it.
    if (merged['ports'] === undefined || isRecord(merged['ports'])) {
      merged['ports'] = { ...merged['ports'], [name]: value };
      sources.set(`ports.${name}`, variable);
    }
  }
  const fileMode = merged['mode'];
  if (fileMode === undefined || fileMode === 'production' || fileMode === 'development') {
    try {
      const mode = effectiveMode(fileMode ?? 'production', env);
      if (mode !== (fileMode ?? 'production')) {
        merged['mode'] = mode;
        sources.set('mode', env['TORUS_MODE'] === 'production' ? 'TORUS_MODE' : 'NODE_ENV');
      }
    } catch {
      problems.push({ field: 'TORUS_MODE', message: `${shown(env['TORUS_MODE'])} is not production or development`, fillIn: false });
    }
  }
  try {
    const verifiers = verifiersJsonFromEnv(env);
    if (verifiers !== undefined) {
      merged['verifiers'] = verifiers;
      sources.set('verifiers', 'TORUS_VERIFIERS');
    }
  } catch (error) {
    problems.push({ field: 'TORUS_VERIFIERS', message: error instanceof Error ? error.message.replace(/^TORUS_VERIFIERS is /, '') : String(error), fillIn: false });
  }
  return { merged, sources, problems };
}

/** "an object", "a whole number", "a string": what zod's `expected` names, in a sentence. */
function kind(expected: string): string {
  if (expected === 'int') return 'a whole number';
  return /^[aeiou]/.test(expected) ? `an ${expected}` : `a ${expected}`;
}

/** A generic message for the issues of schemas without their own (the verifiers'), in the same form. */
const describeIssue: z.core.$ZodErrorMap = (issue) => {
  const value = issue.input;
  if (value === undefined) return issue.code === 'invalid_type' ? `missing: expected ${kind(issue.expected)}` : 'missing';
  switch (issue.code) {
    case 'invalid_type':
      return `${shown(value)} is not ${kind(issue.expected)}`;
    case 'invalid_value':
      return `${shown(value)} is not one of ${issue.values.map((v) => shown(v)).join(', ')}`;
    case 'too_small':
      return `${shown(value)} is too ${issue.origin === 'number' ? 'small' : 'short'} (at least ${String(issue.minimum)})`;
    case 'too_big':
      return `${shown(value)} is too ${issue.origin === 'number' ? 'large' : 'long'} (at most ${String(issue.maximum)})`;
    case 'invalid_format':
      return `${shown(value)} is not a valid ${issue.format}`;
    case 'invalid_union':
      return `${shown(value)} has none of the allowed forms`;
    default:
      return undefined;
  }
};

/** The fields an object of the configuration may have, for "unknown field" messages. */
function knownFields(at: readonly PropertyKey[]): string[] | undefined {
  const [first, second] = at;
  if (at.length === 0) return Object.keys(NodeConfigSchema.shape);
  if (at.length === 1 && first === 'ports') return PORT_NAMES;
  if (at.length === 1 && first === 'genesis') return Object.keys(GenesisSchema.shape);
  if (at.length === 1 && first === 'expect_epoch') return Object.keys(ExpectEpochSchema.shape);
  if (at.length === 2 && first === 'verifiers' && typeof second === 'string') return Object.keys(VerifierConfigSchema.in.shape);
  return undefined;
}

const PLACEHOLDER = /^<fill in: (.*)>$/s;

/** Every `<fill in: ...>` left in the value, by path. */
function placeholders(value: unknown, at: string[] = []): Array<{ at: string[]; what: string }> {
  if (typeof value === 'string') {
    const match = PLACEHOLDER.exec(value);
    return match === null ? [] : [{ at, what: match[1] as string }];
  }
  if (Array.isArray(value)) return value.flatMap((item, i) => placeholders(item, [...at, String(i)]));
  if (isRecord(value)) return Object.entries(value).flatMap(([key, item]) => placeholders(item, [...at, key]));
  return [];
}

/** Names a field, and the variable its value came from: `ports.jsonrpc (from TORUS_PORTS_JSONRPC)`. */
function labelling(sources: ReadonlyMap<string, string>) {
  return (at: readonly PropertyKey[]): string => {
    const field = at.map(String).join('.');
    const source = sources.get(at.slice(0, 2).map(String).join('.')) ?? sources.get(String(at[0]));
    return source === undefined ? field || '(the file)' : `${field} (from ${source})`;
  };
}

interface Validated {
  readonly data: z.output<typeof NodeConfigSchema> | undefined;
  readonly problems: ConfigProblem[];
  readonly sources: ReadonlyMap<string, string>;
}

/** Applies the environment to the file's value and validates the result: every problem, in the order found. */
export function validateNodeConfig(raw: unknown, env: Env): Validated {
  const { merged, sources, problems } = applyEnvironment(raw, env);
  const label = labelling(sources);
  const blanks = placeholders(merged);
  for (const blank of blanks) problems.push({ field: label(blank.at), message: `fill in ${blank.what}`, fillIn: true });
  const underBlank = (at: readonly PropertyKey[]) => blanks.some((b) => b.at.every((key, i) => String(at[i]) === key));

  const parsed = NodeConfigSchema.safeParse(merged, { error: describeIssue, reportInput: true });
  for (const issue of parsed.success ? [] : parsed.error.issues) {
    if (issue.code === 'unrecognized_keys') {
      const known = knownFields(issue.path);
      for (const key of issue.keys) {
        problems.push({ field: label([...issue.path, key]), message: `unknown field${known === undefined ? '' : ` (known: ${known.join(', ')})`}`, fillIn: false });
      }
    } else if (!underBlank(issue.path)) {
      problems.push({ field: label(issue.path), message: issue.message, fillIn: false });
    }
  }

  // Checks across fields, each once the fields it reads are valid, so that all problems show at once.
  if (isRecord(merged)) {
    const publicHost = NodeConfigSchema.shape.public_host.safeParse(merged['public_host']);
    if (publicHost.success && !IPV4.test(publicHost.data) && merged['listen_host'] === undefined) {
      problems.push({ field: 'listen_host', message: `missing: public_host ${shown(publicHost.data)} is a name, so listen_host (an IPv4 address to listen on, e.g. 0.0.0.0) is needed`, fillIn: false });
    }
    if (merged['verifiers'] === undefined) {
      problems.push({ field: 'verifiers', message: 'missing: expected at least one verifier here or in TORUS_VERIFIERS (torus-retrieval refuses to start without)', fillIn: false });
    }
    const writtenPorts = merged['ports'] ?? {};
    if (isRecord(writtenPorts)) {
      // Each valid port (written or default) takes part, also when another port is invalid.
      const validPorts = Object.fromEntries(PORT_NAMES.map((name) => [name, PortsSchema.shape[name as keyof typeof PortsSchema.shape].safeParse(writtenPorts[name]).data]));
      for (const clash of portClashes(validPorts, writtenPorts, (name) => sources.has(`ports.${name}`))) problems.push({ field: label(['ports', clash.name]), message: clash.message, fillIn: false });
    }
    const mode = NodeConfigSchema.shape.mode.safeParse(merged['mode']);
    if (isRecord(merged['verifiers']) && mode.success && mode.data === 'production') {
      const why = sources.has('mode') ? ` (production because of ${sources.get('mode') as string})` : '';
      // Verifier by verifier, so that one with a schema problem does not hide another's production problem.
      for (const [name, written] of Object.entries(merged['verifiers'])) {
        const verifier = VerifierConfigSchema.safeParse(written);
        for (const p of verifier.success ? productionProblems({ [name]: verifier.data }) : []) {
          problems.push({ field: label(['verifiers', p.verifier, p.field]), message: `${shown(p.value)} ${p.rule}${why}`, fillIn: false });
        }
      }
    }
  }
  return { data: parsed.success && problems.length === 0 ? parsed.data : undefined, problems, sources };
}

/** Paths in the file are relative to it; the node key defaults to <data_dir>/node-key.json. */
function resolvePaths(file: string, dataDir: string, nodeKeyFile: string | undefined): { data_dir: string; node_key_file: string } {
  const base = path.dirname(path.resolve(file));
  const resolved = path.resolve(base, dataDir);
  return { data_dir: resolved, node_key_file: nodeKeyFile === undefined ? path.join(resolved, 'node-key.json') : path.resolve(base, nodeKeyFile) };
}

const configError = (message: string, cause: unknown) => new NodeConfigError(message, { cause });

/** Reads, overrides and validates the configuration; throws NodeConfigError with every problem, one per line. */
export function readNodeConfig(file: string, env: Env = process.env): LoadedNodeConfig {
  const raw = readJsoncFile(file, configError);
  const { data, problems, sources } = validateNodeConfig(raw, env);
  if (data === undefined) {
    throw new NodeConfigError(`invalid node configuration ${file} (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n  ${problems.map(problemLine).join('\n  ')}`);
  }
  const fileVerifiers = isRecord(raw) && isRecord(raw['verifiers']) ? raw['verifiers'] : undefined;
  const config: NodeConfig = {
    ...data,
    ...resolvePaths(file, data.data_dir, data.node_key_file),
    listen_host: data.listen_host ?? data.public_host,
    verifiers: fileVerifiers,
  };
  return { config, overrides: [...sources].map(([field, variable]) => ({ field, variable })) };
}

export function loadNodeConfig(file: string, env: Env = process.env): NodeConfig {
  return readNodeConfig(file, env).config;
}

/**
 * Only where the node key is (`torus node key`, which may run before the rest is filled in): data_dir and
 * node_key_file, with their environment overrides.
 */
export function loadNodeKeyFile(file: string, env: Env = process.env): string {
  const { merged, sources } = applyEnvironment(readJsoncFile(file, configError), env);
  const location = z.object({ data_dir: NodeConfigSchema.shape.data_dir, node_key_file: NodeConfigSchema.shape.node_key_file });
  const parsed = location.safeParse(merged, { error: describeIssue });
  if (!parsed.success) {
    const label = labelling(sources);
    throw new NodeConfigError(`invalid node configuration ${file}:\n  ${parsed.error.issues.map((issue) => `${label(issue.path)}: ${issue.message}`).join('\n  ')}`);
  }
  return resolvePaths(file, parsed.data.data_dir, parsed.data.node_key_file).node_key_file;
}

/** Validates configuration text at hand (torus node init checks what it is about to write). */
export function nodeConfigTextProblems(text: string, name: string, env: Env): ConfigProblem[] {
  return validateNodeConfig(parseJsonc(text, name, configError), env).problems;
}
