/**
 * What the retrieval server needs from a verifier: given a user's id token and the verifier_id the user
 * claims, either the verified identity or a rejection with a machine-readable reason. The reasons are
 * stable so the JSON-RPC layer can map them to answers and metrics without parsing messages.
 */

export interface VerifiedToken {
  /** The value of the verifier's id claim (e.g. the email), equal to the claimed verifier_id. */
  verifierId: string;
  /** `iat` and `exp` of the token, unix seconds. */
  issuedAt: number;
  expiresAt: number;
}

export interface IdTokenVerifier {
  readonly name: string;
  /** Resolves with the verified identity or rejects with TokenRejectedError. */
  verify(idToken: string, claimedVerifierId: string): Promise<VerifiedToken>;
}

export type TokenRejection =
  | 'malformed'
  | 'bad_signature'
  | 'algorithm_not_allowed'
  | 'wrong_issuer'
  | 'wrong_audience'
  | 'wrong_authorized_party'
  | 'expired'
  | 'not_yet_valid'
  | 'too_old'
  | 'email_not_verified'
  | 'verifier_id_mismatch'
  | 'missing_claim'
  | 'keys_unavailable';

/**
 * A token that was not accepted. Messages are written here, never copied from the token: they end up in
 * logs and answers, and an id token is a bearer credential.
 */
export class TokenRejectedError extends Error {
  override name = 'TokenRejectedError';
  readonly reason: TokenRejection;

  constructor(reason: TokenRejection, message: string, options?: ErrorOptions) {
    super(message, options);
    this.reason = reason;
  }
}
