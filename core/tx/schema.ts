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
`;

const root = protobuf.parse(MAPPING_TX_PROTO, { keepCase: true }).root;

export const SignedTxType = root.lookupType('torus.mapping.v1.SignedTx');
export const TxPayloadType = root.lookupType('torus.mapping.v1.TxPayload');
