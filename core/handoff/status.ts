/**
 * The end of an epoch hand-off, as the new committee tells the old one. Once the chain of epoch e+1 has
 * taken over every chunk of epoch e's mapping and reshared every key, it records `handoff_in.complete`.
 * Each node of e+1 that reads that from its own chain signs it under HANDOFF_COMPLETE_TAG over
 * `handoffCompleteParts`; a node of epoch e deletes its shares only once t'+1 distinct nodes of e+1 have
 * signed, so at least one honest node of e+1 saw the completion in its BFT state.
 *
 * Every part is fixed-width or length-prefixed (domainMessage length-prefixes each part), so a signature for
 * one chain, epoch or previous epoch never verifies for another.
 */
import { u64be, utf8 } from '../encoding/bytes.js';
import { verifySignature, type NodeSigner } from '../crypto/signature.js';

export const HANDOFF_COMPLETE_TAG = 'torus/handoff/complete/v1';

/** What a node of `epoch` (on chain `chainId`) signs when its chain has taken over all of `previousEpoch`. */
export function handoffCompleteParts(chainId: string, epoch: bigint, previousEpoch: bigint): Uint8Array[] {
  return [utf8(chainId), u64be(epoch), u64be(previousEpoch)];
}

/** This node's statement that `chainId` (epoch `epoch`) has completed taking over `previousEpoch`: 64 bytes r‖s. */
export function signHandoffComplete(signer: NodeSigner, chainId: string, epoch: bigint, previousEpoch: bigint): Uint8Array {
  return signer.sign(HANDOFF_COMPLETE_TAG, handoffCompleteParts(chainId, epoch, previousEpoch));
}

/** Whether `signature` is `publicKey`'s completion statement for exactly this chain, epoch and previous epoch. */
export function verifyHandoffComplete(publicKey: Uint8Array, chainId: string, epoch: bigint, previousEpoch: bigint, signature: Uint8Array): boolean {
  return verifySignature(publicKey, HANDOFF_COMPLETE_TAG, handoffCompleteParts(chainId, epoch, previousEpoch), signature);
}
