/**
 * Result codes of mapping transactions (codespace "torus"). Each rejection has its own code and log text so
 * operators and clients can tell them apart. Code 0 is success; codes are part of the public API.
 */
export const CODESPACE = 'torus';

export const TxCode = {
  OK: 0,
  MALFORMED: 1,
  UNSUPPORTED_VERSION: 2,
  TX_TOO_LARGE: 3,
  WRONG_EPOCH: 4,
  UNKNOWN_SIGNER: 5,
  BAD_SIGNATURE: 6,
  REPLAY: 7,
  EXPIRED: 8,
  EXPIRY_TOO_FAR: 9,
  BUFFER_EMPTY: 10,
  KEY_NOT_GENERATING: 11,
  INVALID_KEY: 12,
  INVALID_ATTESTATION: 13,
  INSUFFICIENT_ATTESTATIONS: 14,
  DUPLICATE_PUBLIC_KEY: 15,
  NOT_INITIALISED: 16,
  INVALID_PROPOSAL: 17,
  KEY_NOT_DECIDED: 18,
  INVALID_SHARE_PROOF: 19,
  ATTESTED_KEYS_DISABLED: 20,
  /** The epoch is frozen: no new assignments; the next epoch's nodes take new users. */
  EPOCH_FROZEN: 21,
  INVALID_FREEZE_VOTE: 22,
  DUPLICATE_VOTE: 23,
  /** The chain is still receiving the previous epoch's mapping and keys. */
  HANDOFF_IN_PROGRESS: 24,
  /** A MappingTransfer on a chain whose genesis names no previous epoch. */
  NO_PREVIOUS_EPOCH: 25,
  INVALID_MAPPING_CHUNK: 26,
  DUPLICATE_CHUNK: 27,
  /** A transferred item's key index or user is already in the mapping. */
  MAPPING_CONFLICT: 28,
  KEY_NOT_TRANSFERRED: 29,
} as const;

export type TxCodeValue = (typeof TxCode)[keyof typeof TxCode];

export const QueryCode = {
  OK: 0,
  BAD_REQUEST: 1,
  NOT_FOUND: 2,
  UNKNOWN_PATH: 3,
  HEIGHT_UNAVAILABLE: 4,
} as const;
