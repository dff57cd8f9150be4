/** Typed, validated forms of the mapping transactions. Values of these types have passed `decodeSignedTx`. */
import type { MappingAttestation, MappingItem } from '../handoff/mapping.js';

export const TX_VERSION = 1;
export const TX_SIGNATURE_TAG = 'torus/mapping/tx/v1';
export const KEY_ATTESTATION_TAG = 'torus/mapping/key-attestation/v1';

export const LIMITS = {
  /** CheckTx refuses larger transactions before decoding them. */
  maxTxBytes: 64 * 1024,
  maxVerifierBytes: 128,
  maxVerifierIdBytes: 1024,
  maxAttestations: 256,
  maxCommitments: 256,
  /** Dealings per proposal and readies per dealing are at most n; n is at most this. */
  maxNodes: 64,
} as const;

export interface AssignKeyBody {
  readonly type: 'assign_key';
  readonly verifier: string;
  readonly verifierId: string;
}

export interface KeyAttestation {
  readonly nodeIndex: number;
  readonly signature: Uint8Array;
}

export interface RegisterKeyBody {
  readonly type: 'register_key';
  readonly keyIndex: bigint;
  /** 33-byte compressed, validated on-curve and not the identity. */
  readonly publicKey: Uint8Array;
  /** 33-byte compressed points, each validated. */
  readonly commitments: readonly Uint8Array[];
  readonly attestations: readonly KeyAttestation[];
}

export interface ReadyAttestation {
  readonly nodeIndex: number;
  readonly signature: Uint8Array;
}

export interface ProposedDealing {
  readonly dealer: number;
  /** k*k compressed points, row-major; each validated as a point, the count is checked against k by the state. */
  readonly commitment: readonly Uint8Array[];
  readonly readies: readonly ReadyAttestation[];
}

export interface KeygenProposeBody {
  readonly type: 'keygen_propose';
  readonly keyIndex: bigint;
  readonly dealings: readonly ProposedDealing[];
}

/**
 * A hand-off's agreement on which re-dealings of a transferred key the target committee combines: exactly
 * k_source dealings by distinct source-epoch nodes (`dealer` indexes the source epoch), each with its
 * k'×k' matrix and k'+t' ready signatures by target-epoch nodes.
 */
export interface ReshareProposeBody {
  readonly type: 'reshare_propose';
  readonly keyIndex: bigint;
  readonly dealings: readonly ProposedDealing[];
}

export interface ShareProof {
  readonly nodeIndex: number;
  /** g^{s_i}, 33-byte compressed, validated. */
  readonly sharePublic: Uint8Array;
  /** 96 bytes. */
  readonly proof: Uint8Array;
}

export interface KeyPublishBody {
  readonly type: 'key_publish';
  readonly keyIndex: bigint;
  readonly proofs: readonly ShareProof[];
}

/**
 * A member's vote to freeze this epoch and hand its mapping to `nextEpoch`; k+t distinct votes for the same
 * next epoch freeze it.
 */
export interface FreezeVoteBody {
  readonly type: 'freeze_vote';
  readonly nextEpoch: bigint;
}

/**
 * One chunk of the previous epoch's frozen mapping, attested by at least k_previous of its members
 * (`attestations[].nodeIndex` indexes the previous epoch; see core/handoff/mapping.ts).
 */
export interface MappingTransferBody {
  readonly type: 'mapping_transfer';
  readonly chunkIndex: number;
  readonly chunkCount: number;
  readonly endIndex: bigint;
  /** At most CHUNK_SIZE; points validated, strings checked like AssignKey's. */
  readonly items: readonly MappingItem[];
  readonly attestations: readonly MappingAttestation[];
}

export type TxBody = AssignKeyBody | RegisterKeyBody | KeygenProposeBody | KeyPublishBody | FreezeVoteBody | MappingTransferBody | ReshareProposeBody;

export interface TxPayload {
  readonly epoch: bigint;
  readonly signerIndex: number;
  readonly nonce: bigint;
  readonly expiresAtHeight: bigint;
  readonly body: TxBody;
}

export interface SignedTx {
  readonly version: number;
  /** The payload bytes as received: what the signature covers and what identifies a replay. */
  readonly payloadBytes: Uint8Array;
  readonly payload: TxPayload;
  readonly signature: Uint8Array;
}
