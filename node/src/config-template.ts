/**
 * The commented configuration `torus node init` writes: every field, its default, what it is and which values
 * it allows. What only the operator can know (the chain, the contract, the public host, the verifiers' client
 * ids) is written as a `<fill in: ...>` placeholder unless given, and the loader names each one until it is
 * replaced, so the file loads as it is once they are.
 */
import { DEFAULT_KEY_BUFFER_TARGET, DEFAULT_MAX_TX_LIFETIME_BLOCKS } from '../../abci/src/state/genesis.js';
import { DEFAULT_PORTS, IPV4, PORT_NAMES } from './config.js';

export interface TemplateValues {
  readonly epoch: number;
  readonly public_host?: string | undefined;
  readonly contract?: string | undefined;
  readonly eth_rpc?: string | undefined;
  /** Relative to the configuration file. */
  readonly data_dir: string;
}

/** What each port is for. */
const PORT_DOCS: Readonly<Record<string, string>> = {
  cometbft_p2p: 'CometBFT peer-to-peer, for the other nodes (registered in the contract)',
  cometbft_rpc: "CometBFT RPC, for this node's processes and clients (on listen_host)",
  abci: 'torus-abci, for CometBFT (always on 127.0.0.1)',
  keygen: 'torus-dkg key generation (libp2p), for the other nodes (registered)',
  jsonrpc: 'torus-retrieval JSON-RPC, for wallets (registered)',
  metrics_abci: "optional: torus-abci's /metrics, /healthz, /readyz (on listen_host); absent: not served",
  metrics_dkg: "optional: torus-dkg's /metrics, /healthz, /readyz; absent: not served",
  metrics_retrieval: "optional: torus-retrieval's /metrics, /healthz, /readyz; absent: not served",
};

/** Examples for the optional ports, which have no default; a port without one is shown as PORT. */
const PORT_EXAMPLES: Readonly<Record<string, number>> = { metrics_abci: 9101, metrics_dkg: 9102, metrics_retrieval: 9103 };

const json = (value: unknown) => JSON.stringify(value);

export function nodeConfigTemplate(values: TemplateValues): string {
  const or = (value: string | undefined, placeholder: string) => json(value ?? `<fill in: ${placeholder}>`);
  const portLines = PORT_NAMES.map((name) => {
    const known = name in DEFAULT_PORTS;
    const line = known ? `${json(name)}: ${DEFAULT_PORTS[name as keyof typeof DEFAULT_PORTS]},` : `// ${json(name)}: ${PORT_EXAMPLES[name] ?? 'PORT'},`;
    return `    ${line.padEnd(30)}// ${PORT_DOCS[name] ?? 'see node/README.md'}`;
  });
  // A name cannot be bound, so a public host that is a name needs a listen address.
  const publicIsName = values.public_host !== undefined && !IPV4.test(values.public_host);
  return `// A torus node's configuration, written by \`torus node init\`; \`torus node start --config FILE\` runs the node.
// Every field is described in node/README.md. This is JSON with comments: // and /* */ comments and trailing
// commas are allowed. Relative paths are relative to this file. A field that is commented out is optional and
// shows its default or an example. Replace every "<fill in: ...>"; torus node start names each one left.
//
// The environment overrides this file: TORUS_<FIELD> a top-level field (TORUS_ETH_RPC, TORUS_CONTRACT,
// TORUS_EPOCH, TORUS_PUBLIC_HOST, TORUS_LISTEN_HOST, TORUS_DATA_DIR, TORUS_NODE_KEY_FILE, TORUS_TIMEOUT_COMMIT,
// TORUS_LOG_LEVEL), TORUS_PORTS_<NAME> a port (TORUS_PORTS_JSONRPC, ...), TORUS_MODE=production (or
// NODE_ENV=production) forces production mode, and TORUS_VERIFIERS (a JSON object) replaces "verifiers".
{
  // Required. The Ethereum JSON-RPC URL (http or https) of the chain that holds the NodeList contract.
  "eth_rpc": ${or(values.eth_rpc, 'the Ethereum JSON-RPC URL, e.g. https://rpc.example.org')},
  // Required. The NodeList contract's address, 0x and 40 hex digits (torus contract deploy prints it).
  "contract": ${or(values.contract, 'the NodeList contract address, 0x and 40 hex digits')},
  // Required. The epoch this node joins: 1, 2, ... Its n, k, t and the other nodes come from the contract.
  "epoch": ${values.epoch},
  // Optional: what you expect the contract's epoch to be, checked before the node registers. n nodes,
  // reconstruction threshold k = floor(n/2)+1, t tolerated faults with t < n/4 (so t < k <= n-2t). Absent: not
  // checked.
  // "expect_epoch": { "n": 5, "k": 3, "t": 1 },
  // Required. Where the node keeps its key, each process's state and its logs; one directory per node.
  "data_dir": ${json(values.data_dir)},
  // Optional. The node key {"secret_key": hex}, created with mode 0600 on first start. Default:
  // <data_dir>/node-key.json.
  // "node_key_file": ${json(`${values.data_dir}/node-key.json`)},
  // Required. The host name or IPv4 address other nodes and clients reach this node at. It is registered in
  // the contract with the registered ports below, and registrations are final.
  "public_host": ${or(values.public_host, 'the host name or IPv4 address other nodes reach this node at')},
  // ${publicIsName ? 'Required here, as public_host is a name' : 'Optional'}. The IPv4 address the servers listen on, e.g. 0.0.0.0 (every interface).
  // Default: public_host, which must then be an IPv4 address.
  ${publicIsName ? '' : '// '}"listen_host": "0.0.0.0",
  // The ports, 1-65535, each different. Defaults as written; the commented ones are optional (examples shown).
  "ports": {
${portLines.join('\n')}
  },
  // "production" (default) or "development". Development allows the dev verifier preset and plain-HTTP
  // issuers; TORUS_MODE=production or NODE_ENV=production forces production.
  "mode": "production",
  // Required, here or in TORUS_VERIFIERS (which replaces this). The id-token verifiers of logins by name
  // (1-64 of A-Z a-z 0-9 . _ -). "preset": "google" needs only "audience" (your OAuth client id); "oidc" needs
  // "issuer" (https) and "audience"; "dev" trusts a development issuer and is refused in production. Other
  // fields (verifier_id_claim, algorithms, ...): retrieval/README.md.
  "verifiers": {
    "google": { "preset": "google", "audience": "<fill in: your Google OAuth client id>" },
  },
  // Genesis parameters. They enter every node's genesis, so every node of the epoch must use the same values.
  "genesis": {
    ${`"key_buffer_target": ${DEFAULT_KEY_BUFFER_TARGET},`.padEnd(32)}// keys generated ahead of time, ready to assign (0-1000000)
    ${`"max_tx_lifetime_blocks": ${DEFAULT_MAX_TX_LIFETIME_BLOCKS},`.padEnd(32)}// how far ahead, in blocks, a transaction may set its expiry (1-1000000)
  },
  // CometBFT's consensus.timeout_commit: a duration such as 500ms or 1s.
  "timeout_commit": "500ms",
  // trace, debug, info (default), warn, error, fatal or silent.
  "log_level": "info",
}
`;
}
