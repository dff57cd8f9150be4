/**
 * Verifies OpenID Connect id tokens for one configured verifier (Google, any OIDC provider, or the
 * development issuer): signature against the issuer's published keys (JWKS), then issuer, audience,
 * authorized party, lifetime and the verifier id. A token that passes proves the provider vouched for
 * the user's verifier_id, which is what lets a node hand out its share of the user's key.
 *
 * Cheap checks on the raw token (shape, algorithm) come first so that garbage and "alg: none" never
 * cause a key fetch; claims are read only after the signature is verified.
 */
import { createRemoteJWKSet, decodeProtectedHeader, errors, jwtVerify, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import { z } from 'zod';
import type { VerifierConfig } from './config.js';
import { TokenRejectedError, type IdTokenVerifier, type TokenRejection, type VerifiedToken } from './types.js';

/** Real id tokens are 1-2 kB; a bound keeps parsing cost flat for anything else. */
const MAX_TOKEN_LENGTH = 16 * 1024;
/** header.payload.signature in base64url; the signature may be empty so "alg: none" gets its own answer. */
const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;
const FETCH_TIMEOUT_MS = 5_000;
/**
 * After a key-set fetch, a token with an unknown kid does not trigger another one for this long: made-up
 * kids cannot turn logins into a flood of requests to the provider, yet a rotated key is seen quickly.
 */
const JWKS_COOLDOWN_MS = 30_000;
/** Providers rotate keys over days; ten minutes keeps a removed key from being trusted for long. */
const JWKS_MAX_AGE_MS = 10 * 60_000;
/** A failed discovery is remembered this long, for the same reason as the cooldown. */
const DISCOVERY_RETRY_MS = 30_000;

const DiscoverySchema = z.object({ issuer: z.string(), jwks_uri: z.url({ protocol: /^https?$/ }) });

/** Where keys come from, named in keys_unavailable messages. */
interface KeySource {
  keys: JWTVerifyGetKey;
  from: string;
}

export interface OidcVerifierOptions {
  /** Current time in unix seconds (tests move it). */
  now?: () => number;
  /** Key source instead of the issuer's JWKS, e.g. jose's createLocalJWKSet in tests. */
  keys?: JWTVerifyGetKey;
}

export class OidcVerifier implements IdTokenVerifier {
  readonly name: string;
  private readonly config: VerifierConfig;
  private readonly now: () => number;
  private keySource: Promise<KeySource> | undefined;

  constructor(name: string, config: VerifierConfig, options: OidcVerifierOptions = {}) {
    this.name = name;
    this.config = config;
    this.now = options.now ?? (() => Math.floor(Date.now() / 1000));
    if (options.keys !== undefined) this.keySource = Promise.resolve({ keys: options.keys, from: 'the injected key set' });
    else if (config.jwks_uri !== undefined) this.keySource = Promise.resolve(remoteKeySet(config.jwks_uri));
  }

  async verify(idToken: string, claimedVerifierId: string): Promise<VerifiedToken> {
    this.checkShape(idToken);
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(idToken, this.getKey, {
        algorithms: this.config.algorithms,
        issuer: this.config.accepted_issuers,
        audience: this.config.audience,
        requiredClaims: ['exp', 'iat'],
        maxTokenAge: this.config.max_token_age_seconds,
        clockTolerance: this.config.clock_skew_seconds,
        currentDate: new Date(this.now() * 1000),
      }));
    } catch (err) {
      throw this.translate(err);
    }
    this.checkClaims(payload, claimedVerifierId);
    // jwtVerify has checked that both are present and numeric (requiredClaims, numeric-date checks).
    return { verifierId: claimedVerifierId, issuedAt: payload.iat as number, expiresAt: payload.exp as number };
  }

  private reject(reason: TokenRejection, what: string): TokenRejectedError {
    return new TokenRejectedError(reason, `verifier "${this.name}" rejected the id token: ${what}`);
  }

  /** Shape and algorithm, from the unverified header. Nothing read from the token is echoed in messages. */
  private checkShape(idToken: string): void {
    if (typeof idToken !== 'string' || idToken.length > MAX_TOKEN_LENGTH || !COMPACT_JWS.test(idToken)) {
      throw this.reject('malformed', 'it is not a compact JWS (three base64url parts separated by dots)');
    }
    let alg: unknown;
    try {
      alg = decodeProtectedHeader(idToken).alg;
    } catch {
      throw this.reject('malformed', 'its header is not base64url-encoded JSON');
    }
    if (typeof alg !== 'string') throw this.reject('malformed', 'its header has no "alg"');
    if (alg.toLowerCase() === 'none') throw this.reject('algorithm_not_allowed', 'unsigned tokens (alg "none") are never accepted');
    if (!(this.config.algorithms as readonly string[]).includes(alg)) {
      throw this.reject('algorithm_not_allowed', `its signing algorithm is not allowed (allowed: ${this.config.algorithms.join(', ')})`);
    }
  }

  /** Claims jose does not check; the payload is authentic by now. */
  private checkClaims(payload: JWTPayload, claimedVerifierId: string): void {
    const { authorized_party, require_email_verified, verifier_id_claim } = this.config;
    if (authorized_party !== undefined) {
      if (payload.azp === undefined) throw this.reject('missing_claim', 'it has no "azp" claim');
      if (payload.azp !== authorized_party) throw this.reject('wrong_authorized_party', 'it was issued to another client ("azp")');
    }
    if (require_email_verified && payload['email_verified'] !== true) {
      throw this.reject('email_not_verified', 'its email is not verified ("email_verified" is not true)');
    }
    const verifierId = payload[verifier_id_claim];
    if (verifierId === undefined) throw this.reject('missing_claim', `it has no "${verifier_id_claim}" claim`);
    if (verifierId !== claimedVerifierId) {
      throw this.reject('verifier_id_mismatch', `its "${verifier_id_claim}" claim is not the claimed verifier id`);
    }
  }

  /** jose's errors to rejection reasons; anything else is a fault of ours and is passed on unchanged. */
  private translate(err: unknown): unknown {
    if (err instanceof TokenRejectedError) return err;
    if (err instanceof errors.JWTExpired) {
      return err.claim === 'iat'
        ? this.reject('too_old', `it was issued more than ${this.config.max_token_age_seconds} s ago`)
        : this.reject('expired', 'it has expired ("exp")');
    }
    if (err instanceof errors.JWTClaimValidationFailed) {
      if (err.reason === 'missing') return this.reject('missing_claim', `it has no "${err.claim}" claim`);
      if (err.reason === 'invalid') return this.reject('malformed', `its "${err.claim}" claim is not a number`);
      switch (err.claim) {
        case 'iss':
          return this.reject('wrong_issuer', `it was issued by another issuer (expected ${this.config.accepted_issuers.join(' or ')})`);
        case 'aud':
          return this.reject('wrong_audience', 'it was issued for another audience ("aud")');
        case 'nbf':
          return this.reject('not_yet_valid', 'it is not valid yet ("nbf")');
        case 'iat':
          return this.reject('not_yet_valid', 'it is issued in the future ("iat")');
        default:
          return this.reject('malformed', `its "${err.claim}" claim failed validation`);
      }
    }
    if (err instanceof errors.JOSEAlgNotAllowed) return this.reject('algorithm_not_allowed', 'its signing algorithm is not allowed');
    if (err instanceof errors.JWSSignatureVerificationFailed) return this.reject('bad_signature', 'its signature does not verify');
    if (err instanceof errors.JWKSNoMatchingKey) return this.reject('bad_signature', 'no key of the issuer matches its header ("kid", "alg")');
    if (err instanceof errors.JWKSMultipleMatchingKeys) {
      return this.reject('bad_signature', 'several keys of the issuer match its header; it must name its key ("kid")');
    }
    if (err instanceof errors.JWSInvalid || err instanceof errors.JWTInvalid || err instanceof errors.JOSENotSupported) {
      return this.reject('malformed', 'it is not a valid signed JWT');
    }
    return err;
  }

  /**
   * The key resolver given to jwtVerify. Failures to obtain keys become keys_unavailable; an unknown or
   * ambiguous kid is about the token and goes on to translate().
   */
  private readonly getKey: JWTVerifyGetKey = async (header, token) => {
    const { keys, from } = await this.keySet();
    try {
      return await keys(header, token);
    } catch (err) {
      if (err instanceof errors.JWKSNoMatchingKey || err instanceof errors.JWKSMultipleMatchingKeys) throw err;
      throw new TokenRejectedError('keys_unavailable', `verifier "${this.name}": the issuer's signing keys from ${from} are unavailable: ${describe(err)}`);
    }
  };

  private keySet(): Promise<KeySource> {
    this.keySource ??= this.discover().catch((err: unknown) => {
      setTimeout(() => {
        this.keySource = undefined;
      }, DISCOVERY_RETRY_MS).unref();
      throw err;
    });
    return this.keySource;
  }

  /** Reads jwks_uri from the issuer's OpenID discovery document (OpenID Connect Discovery 1.0, section 4). */
  private async discover(): Promise<KeySource> {
    const url = `${this.config.issuer.replace(/\/+$/, '')}/.well-known/openid-configuration`;
    const fail = (why: string) => new TokenRejectedError('keys_unavailable', `verifier "${this.name}": OpenID discovery at ${url} failed: ${why}`);
    let response: Response;
    try {
      response = await fetch(url, { redirect: 'manual', signal: AbortSignal.timeout(FETCH_TIMEOUT_MS), headers: { accept: 'application/json' } });
    } catch (err) {
      throw fail(describe(err));
    }
    if (response.status !== 200) throw fail(`HTTP status ${response.status}`);
    let json: unknown;
    try {
      json = await response.json();
    } catch {
      throw fail('the answer is not JSON');
    }
    const document = DiscoverySchema.safeParse(json);
    if (!document.success) throw fail(`the document has no valid issuer and jwks_uri: ${z.prettifyError(document.error)}`);
    // The spec requires the exact issuer; anything else means a misconfiguration or someone else's document.
    if (document.data.issuer !== this.config.issuer) throw fail(`the document is for issuer ${document.data.issuer}, not ${this.config.issuer}`);
    if (new URL(this.config.issuer).protocol === 'https:' && new URL(document.data.jwks_uri).protocol !== 'https:') {
      throw fail('its jwks_uri is not https although the issuer is');
    }
    return remoteKeySet(document.data.jwks_uri);
  }
}

/** jose's remote key set: fetched on first use, cached, refreshed on an unknown kid after the cooldown. */
function remoteKeySet(uri: string): KeySource {
  const keys = createRemoteJWKSet(new URL(uri), { timeoutDuration: FETCH_TIMEOUT_MS, cooldownDuration: JWKS_COOLDOWN_MS, cacheMaxAge: JWKS_MAX_AGE_MS });
  return { keys, from: uri };
}

/** An error's message with its cause's (fetch says only "fetch failed"; the cause says why). */
function describe(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  return err.cause instanceof Error ? `${err.message} (${err.cause.message})` : err.message;
}
