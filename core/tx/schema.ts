/**
 * Protobuf schema of the mapping transactions. The text is the single source of truth; it is parsed once at
 * load by protobufjs. Field numbers are part of the consensus format: never renumber, only add.
 */
import protobuf from 'protobufjs';

export const MAPPING_TX_PROTO = `
syntax = "proto3";
package torus.mapping.v1;

// What goes on the wire and into blocks. The signature covers the payload bytes exactly as sent,
// under the domain tag "torus/mapping/tx/v1" and the chain id, so no canonical re-encoding is needed.
message SignedTx {
  uint32 version = 1;
  bytes payload = 2;
  bytes signature = 3;  // 64-byte r||s, low s, ECDSA secp256k1 over SHA-256
}

message TxPayload {
  uint64 epoch = 1;              // must equal the chain's epoch
  uint32 signer_index = 2;       // the signing node's 1-based index in the epoch
  uint64 nonce = 3;              // makes otherwise equal payloads distinct
  uint64 expires_at_height = 4;  // last height at which the tx may be included; bounds the replay record
  oneof body {
    AssignKey assign_key = 10;
    RegisterKey register_key = 11;
    KeygenPropose keygen_propose = 12;
    KeyPublish key_publish = 13;
    FreezeVote freeze_vote = 14;
    MappingTransfer mapping_transfer = 15;
    ReshareProposal reshare_propose = 16;
  }
}

// Assign the next ready key to (verifier, verifier_id); an already assigned pair keeps its key.
message AssignKey {
  string verifier = 1;
  string verifier_id = 2;
}

// A finished distributed key. Until the key-generation proofs exist, the key is accepted on the
// attestations of at least k distinct members of the epoch.
message RegisterKey {
  uint64 key_index = 1;
  bytes public_key = 2;               // 33-byte compressed point
  repeated bytes commitments = 3;     // k compressed points: the combined Pedersen commitment polynomial
  repeated KeyAttestation attestations = 4;
}

message KeyAttestation {
  uint32 node_index = 1;
  bytes signature = 2;  // over "torus/mapping/key-attestation/v1" (see keyAttestationParts)
}

// Key generation, step 1: the set of completed dealings for a key. The first valid proposal decides.
message KeygenPropose {
  uint64 key_index = 1;
  repeated ProposedDealing dealings = 2;   // at least k+t distinct dealers
}

// Hand-over: the re-dealings of a transferred key the new committee combines. Exactly k of the
// previous epoch; each dealer indexes the previous epoch, each ready the current one.
message ReshareProposal {
  uint64 key_index = 1;
  repeated ProposedDealing dealings = 2;
}

message ProposedDealing {
  uint32 dealer = 1;
  repeated bytes commitment = 2;           // k*k compressed points, row-major: C[j][l] at j*k+l
  repeated ReadyAttestation readies = 3;   // at least k+t distinct members
}

message ReadyAttestation {
  uint32 node_index = 1;
  bytes signature = 2;  // over "torus/keygen/ready/v1" (see core/keygen/session.ts readyParts)
}

// Key generation, step 2: k proofs of knowledge of shares of the decided key; fixes its public key.
message KeyPublish {
  uint64 key_index = 1;
  repeated ShareProof proofs = 2;          // exactly k distinct members
}

message ShareProof {
  uint32 node_index = 1;
  bytes share_public = 2;  // g^{s_i}, 33-byte compressed
  bytes proof = 3;         // 96-byte NIZK (core/crypto/nizk.ts) for (g^{s_i}, D(i)) in shareProofContext
}

// Epoch hand-off, old chain: a member's vote to freeze this epoch and hand its mapping to next_epoch.
// k+t distinct votes for the same next epoch freeze it (no new assignments, no new keys).
message FreezeVote {
  uint64 next_epoch = 1;  // must be greater than the chain's epoch
}

// Epoch hand-off, new chain: one chunk of the previous epoch's frozen mapping (core/handoff/mapping.ts).
message MappingTransfer {
  uint32 chunk_index = 1;                   // 0-based, below chunk_count
  uint32 chunk_count = 2;
  uint64 end_index = 3;                     // the previous epoch's next key index at the freeze
  repeated MappingItem items = 4;           // at most CHUNK_SIZE, strictly ascending key_index
  repeated KeyAttestation attestations = 5; // node_index in the PREVIOUS epoch; signatures over
                                            // "torus/handoff/mapping-chunk/v1" (mappingChunkParts)
}

message MappingItem {
  uint64 key_index = 1;
  bytes public_key = 2;             // 33-byte compressed point
  repeated bytes commitments = 3;   // the key's D in the previous epoch: k_previous compressed points
  string verifier = 4;
  string verifier_id = 5;
}
`;

const root = protobuf.parse(MAPPING_TX_PROTO, { keepCase: true }).root;

export const SignedTxType = root.lookupType('torus.mapping.v1.SignedTx');
export const TxPayloadType = root.lookupType('torus.mapping.v1.TxPayload');
