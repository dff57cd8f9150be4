/** Shared test fixtures: an epoch of test node keys, a genesis, and builders of signed transactions. */
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { bytesToHex, utf8 } from '../../core/encoding/bytes.js';
import { NodeSigner } from '../../core/crypto/signature.js';
import { attestKey, buildSignedTx, type TxContext } from '../../core/tx/build.js';
import type { TxBody } from '../../core/tx/types.js';

export const CHAIN_ID = 'torus-test-chain';

export interface TestEpoch {
  readonly id: number;
  readonly n: number;
  readonly k: number;
  readonly t: number;
  readonly signers: readonly NodeSigner[];
}

/** Deterministic test keys: node i has secret key i+1000 (never use such keys outside tests). */
export function testEpoch(n = 5, k = 3, t = 1, id = 1): TestEpoch {
  const signers = Array.from({ length: n }, (_, i) => new NodeSigner(secp256k1.Point.Fn.toBytes(BigInt(1000 + i))));
  return { id, n, k, t, signers };
}

export function genesisBytes(epoch: TestEpoch, keyBufferTarget = 4, maxTxLifetimeBlocks = 50): Uint8Array {
  return utf8(JSON.stringify({
    epoch: {
      id: epoch.id, n: epoch.n, k: epoch.k, t: epoch.t,
      members: epoch.signers.map((s, i) => ({ index: i + 1, public_key: bytesToHex(s.publicKey) })),
    },
    key_buffer_target: keyBufferTarget,
    max_tx_lifetime_blocks: maxTxLifetimeBlocks,
  }));
}

export function ctx(epoch: TestEpoch, signerIndex = 1, chainId = CHAIN_ID): TxContext {
  return { chainId, epoch: BigInt(epoch.id), signerIndex, signer: epoch.signers[signerIndex - 1] as NodeSigner };
}

export function assignTx(epoch: TestEpoch, verifierId: string, expires = 40n, signerIndex = 1, verifier = 'google'): Uint8Array {
  return buildSignedTx(ctx(epoch, signerIndex), { type: 'assign_key', verifier, verifierId }, expires);
}

export interface RandomKey {
  readonly publicKey: Uint8Array;
  readonly commitments: Uint8Array[];
}

export function randomKey(k: number): RandomKey {
  const point = () => secp256k1.getPublicKey(secp256k1.utils.randomSecretKey(), true);
  return { publicKey: point(), commitments: Array.from({ length: k }, point) };
}

/** A RegisterKey body attested by the given 1-based member indexes. */
export function registerBody(epoch: TestEpoch, keyIndex: number, attesters: readonly number[], key: RandomKey = randomKey(epoch.k)): TxBody {
  return {
    type: 'register_key',
    keyIndex: BigInt(keyIndex),
    publicKey: key.publicKey,
    commitments: key.commitments,
    attestations: attesters.map((i) => attestKey(epoch.signers[i - 1] as NodeSigner, i, CHAIN_ID, BigInt(epoch.id), BigInt(keyIndex), key.publicKey, key.commitments)),
  };
}

export function registerTx(epoch: TestEpoch, keyIndex: number, attesters?: readonly number[], key?: RandomKey, expires = 40n): Uint8Array {
  const who = attesters ?? Array.from({ length: epoch.k }, (_, i) => i + 1);
  return buildSignedTx(ctx(epoch, 1), registerBody(epoch, keyIndex, who, key), expires);
}
