/** Shared test fixtures: an epoch of test node keys, a genesis, and builders of signed transactions. */
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { bytesToHex, utf8 } from '../../core/encoding/bytes.js';
import { NodeSigner } from '../../core/crypto/signature.js';
import { attestKey, buildSignedTx, type TxContext } from '../../core/tx/build.js';
import type { KeygenProposeBody, KeyPublishBody, ShareProof, TxBody } from '../../core/tx/types.js';
import { Fn, randomScalar } from '../../core/crypto/scalar.js';
import { evaluateBivariate, randomBivariate } from '../../core/crypto/polynomial.js';
import { commitMatrix } from '../../core/crypto/pedersen.js';
import { encodePoint } from '../../core/crypto/point.js';
import { encodeProof, proveShareKnowledge } from '../../core/crypto/nizk.js';
import { commitmentHash, READY_TAG, readyParts, shareProofContext } from '../../core/keygen/session.js';

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

export function genesisBytes(epoch: TestEpoch, keyBufferTarget = 4, maxTxLifetimeBlocks = 50, devAttestedKeys = true): Uint8Array {
  return utf8(JSON.stringify({
    epoch: {
      id: epoch.id, n: epoch.n, k: epoch.k, t: epoch.t,
      members: epoch.signers.map((s, i) => ({ index: i + 1, public_key: bytesToHex(s.publicKey) })),
    },
    key_buffer_target: keyBufferTarget,
    max_tx_lifetime_blocks: maxTxLifetimeBlocks,
    dev_attested_keys: devAttestedKeys,
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

/**
 * A real key-generation outcome computed directly (the test oracle plays every dealer): the proposal of
 * the given dealers with k+t signed readies each, and every node's share, from which publications are made.
 */
export interface KeygenOutcome {
  readonly propose: KeygenProposeBody;
  /** s_i, s'_i for node i (1-based). */
  readonly shares: ReadonlyMap<number, { s: bigint; sPrime: bigint }>;
  /** The secret key: Σ dealers' secrets. */
  readonly secret: bigint;
}

export function keygenOutcome(epoch: TestEpoch, keyIndex: number, dealers: readonly number[], readers?: readonly number[]): KeygenOutcome {
  const { n, k, t } = epoch;
  const who = readers ?? Array.from({ length: k + t }, (_, i) => i + 1);
  const shares = new Map<number, { s: bigint; sPrime: bigint }>();
  for (let i = 1; i <= n; i++) shares.set(i, { s: 0n, sPrime: 0n });
  let secret = 0n;
  const dealings = dealers.map((dealer) => {
    const s = randomScalar();
    secret = Fn.add(secret, s);
    const F = randomBivariate(s, k);
    const Fp = randomBivariate(randomScalar(), k);
    const C = commitMatrix(F, Fp, k);
    for (let i = 1; i <= n; i++) {
      const share = shares.get(i) as { s: bigint; sPrime: bigint };
      shares.set(i, { s: Fn.add(share.s, evaluateBivariate(F, i, 0)), sPrime: Fn.add(share.sPrime, evaluateBivariate(Fp, i, 0)) });
    }
    const id = { epoch: BigInt(epoch.id), keyIndex: BigInt(keyIndex), dealer };
    const parts = readyParts(CHAIN_ID, id, commitmentHash(CHAIN_ID, id, C));
    return {
      dealer,
      commitment: C.flat().map((p) => encodePoint(p)),
      readies: who.map((i) => ({ nodeIndex: i, signature: (epoch.signers[i - 1] as NodeSigner).sign(READY_TAG, parts) })),
    };
  });
  return { propose: { type: 'keygen_propose', keyIndex: BigInt(keyIndex), dealings }, shares, secret };
}

/** Node i's share proof for a decided key. */
export function shareProof(epoch: TestEpoch, keyIndex: number, outcome: KeygenOutcome, nodeIndex: number): ShareProof {
  const share = outcome.shares.get(nodeIndex) as { s: bigint; sPrime: bigint };
  const { statement, proof } = proveShareKnowledge(shareProofContext(CHAIN_ID, BigInt(epoch.id), BigInt(keyIndex), nodeIndex), share.s, share.sPrime);
  return { nodeIndex, sharePublic: encodePoint(statement.gs), proof: encodeProof(proof) };
}

export function publishBody(epoch: TestEpoch, keyIndex: number, outcome: KeygenOutcome, nodes: readonly number[]): KeyPublishBody {
  return { type: 'key_publish', keyIndex: BigInt(keyIndex), proofs: nodes.map((i) => shareProof(epoch, keyIndex, outcome, i)) };
}
