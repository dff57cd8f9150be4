/**
 * CometBFT genesis documents for our chains, in one place: the local test networks (ed25519 validator keys
 * made by `cometbft init`) and networks formed from the NodeList contract (validators are the nodes' own
 * secp256k1 keys, registered on chain, so every node derives the same document with no coordinator).
 */
import { createHash } from 'node:crypto';
import { ripemd160 } from '@noble/hashes/legacy.js';
import type { GenesisAppState } from '../../abci/src/state/genesis.js';

export interface GenesisValidator {
  readonly address: string;
  readonly pub_key: { readonly type: string; readonly value: string };
  readonly power: string;
  readonly name: string;
}

export interface GenesisOptions {
  readonly chainId: string;
  /** RFC 3339; must be the same at every node. */
  readonly genesisTime: string;
  readonly validators: readonly GenesisValidator[];
  readonly pubKeyTypes: readonly ('ed25519' | 'secp256k1')[];
  readonly appState: GenesisAppState;
}

export function buildGenesis(options: GenesisOptions): Record<string, unknown> {
  return {
    genesis_time: options.genesisTime,
    chain_id: options.chainId,
    initial_height: '1',
    consensus_params: {
      // 4 MiB blocks keep a FinalizeBlock frame well under torus-abci's 8 MiB frame limit.
      block: { max_bytes: '4194304', max_gas: '-1' },
      evidence: { max_age_num_blocks: '100000', max_age_duration: '172800000000000', max_bytes: '1048576' },
      validator: { pub_key_types: [...options.pubKeyTypes] },
      version: { app: '1' },
      abci: { vote_extensions_enable_height: '0' },
    },
    validators: options.validators,
    app_hash: '',
    app_state: options.appState,
  };
}

/** A secp256k1 validator (CometBFT's tendermint/PubKeySecp256k1): address = RIPEMD-160(SHA-256(compressed key)). */
export function secp256k1Validator(compressedPublicKey: Uint8Array, name: string): GenesisValidator {
  if (compressedPublicKey.length !== 33) throw new Error('a secp256k1 validator key must be 33 bytes (compressed)');
  const address = Buffer.from(ripemd160(createHash('sha256').update(compressedPublicKey).digest())).toString('hex').toUpperCase();
  return { address, pub_key: { type: 'tendermint/PubKeySecp256k1', value: Buffer.from(compressedPublicKey).toString('base64') }, power: '1', name };
}

/** CometBFT's priv_validator_key.json for a secp256k1 secret key. */
export function secp256k1PrivValidatorKey(secretKey: Uint8Array, compressedPublicKey: Uint8Array): Record<string, unknown> {
  const validator = secp256k1Validator(compressedPublicKey, '');
  return {
    address: validator.address,
    pub_key: validator.pub_key,
    priv_key: { type: 'tendermint/PrivKeySecp256k1', value: Buffer.from(secretKey).toString('base64') },
  };
}
