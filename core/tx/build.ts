/** Building signed mapping transactions: what the retrieval and key-generation processes submit. */
import { randomBytes } from 'node:crypto';
import type { NodeSigner } from '../crypto/signature.js';
import { encodePayload, encodeSignedTx, keyAttestationParts, txSignatureParts } from './codec.js';
import { KEY_ATTESTATION_TAG, TX_SIGNATURE_TAG, type KeyAttestation, type TxBody } from './types.js';

export interface TxContext {
  readonly chainId: string;
  readonly epoch: bigint;
  readonly signerIndex: number;
  readonly signer: NodeSigner;
}

export function randomNonce(): bigint {
  return randomBytes(8).readBigUInt64BE();
}

export function buildSignedTx(ctx: TxContext, body: TxBody, expiresAtHeight: bigint, nonce: bigint = randomNonce()): Uint8Array {
  const payloadBytes = encodePayload({ epoch: ctx.epoch, signerIndex: ctx.signerIndex, nonce, expiresAtHeight, body });
  const signature = ctx.signer.sign(TX_SIGNATURE_TAG, txSignatureParts(ctx.chainId, payloadBytes));
  return encodeSignedTx(payloadBytes, signature);
}

export function attestKey(
  signer: NodeSigner, nodeIndex: number, chainId: string, epoch: bigint, keyIndex: bigint,
  publicKey: Uint8Array, commitments: readonly Uint8Array[],
): KeyAttestation {
  const signature = signer.sign(KEY_ATTESTATION_TAG, keyAttestationParts(chainId, epoch, keyIndex, publicKey, commitments));
  return { nodeIndex, signature };
}
