/**
 * Configuration of the id-token verifiers of the retrieval server: one entry per verifier name (the
 * `verifier` of a Torus login, e.g. "google"). A preset fills in what a provider always uses, so a Google
 * verifier needs only its client id. Validation happens once at start-up and refuses anything that would
 * weaken verification: symmetric or unsigned algorithms always, development issuers and plain-HTTP key
 * sources in production.
 */
import { z } from 'zod';

/**
 * Asymmetric JWS algorithms only. "none" would accept unsigned tokens, and HS* would let anyone holding
 * the key material published as a JWK mint tokens; neither can ever be configured.
 */
export const JWS_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'] as const;
export type JwsAlgorithm = (typeof JWS_ALGORITHMS)[number];

export const GOOGLE_ISSUER = 'https://accounts.google.com';
/** Google documents both forms of `iss` for its id tokens. */
const GOOGLE_ISSUER_ALIAS = 'accounts.google.com';
const GOOGLE_JWKS_URI = 'https://www.googleapis.com/oauth2/v3/certs';

export type VerifierMode = 'production' | 'development';

export const VERIFIER_PRESETS = ['google', 'oidc', 'dev'] as const;

/** One verifier with every preset default applied. */
export interface VerifierConfig {
  preset: (typeof VERIFIER_PRESETS)[number];
  issuer: string;
  /** Every `iss` value accepted; more than `issuer` only for Google's documented alias. */
  accepted_issuers: string[];
  audience: string[];
  authorized_party: string | undefined;
  /** Undefined: read from the issuer's discovery document. */
  jwks_uri: string | undefined;
  verifier_id_claim: string;
  require_email_verified: boolean;
  algorithms: JwsAlgorithm[];
  max_token_age_seconds: number;
  clock_skew_seconds: number;
}

export class VerifierConfigError extends Error {
  override name = 'VerifierConfigError';
}

const httpUrl = z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' });
const algorithm = z.enum(JWS_ALGORITHMS, {
  error: (issue) => `${JSON.stringify(issue.input)} is not one of ${JWS_ALGORITHMS.join(', ')} ("none" and HS* are never allowed)`,
});

/** One verifier as written in the configuration; the output is a VerifierConfig. */
export const VerifierConfigSchema = z
  .strictObject({
    preset: z.enum(VERIFIER_PRESETS, {
      error: (issue) => `${JSON.stringify(issue.input)} is not a known verifier type (${VERIFIER_PRESETS.join(', ')})`,
    }).default('oidc'),
    /** Required except for google. */
    issuer: httpUrl.optional(),
    /** The OAuth client id(s); the token's `aud` must contain one. */
    audience: z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]),
    /** When set, `azp` must equal it. */
    authorized_party: z.string().min(1).optional(),
    /** When absent, read from the issuer's discovery document. */
    jwks_uri: httpUrl.optional(),
    verifier_id_claim: z.string().min(1).optional(),
    require_email_verified: z.boolean().optional(),
    algorithms: z.array(algorithm).min(1).optional(),
    max_token_age_seconds: z.number().int().positive().max(7 * 24 * 3600).default(3600),
    clock_skew_seconds: z.number().int().min(0).max(600).default(60),
  })
  .superRefine((config, ctx) => {
    if (config.preset !== 'google' && config.issuer === undefined) {
      ctx.addIssue({ code: 'custom', path: ['issuer'], message: `issuer is required for the ${config.preset} preset` });
    }
  })
  .transform((config): VerifierConfig => {
    const google = config.preset === 'google';
    const issuer = config.issuer ?? GOOGLE_ISSUER;
    return {
      preset: config.preset,
      issuer,
      accepted_issuers: google && issuer === GOOGLE_ISSUER ? [issuer, GOOGLE_ISSUER_ALIAS] : [issuer],
      audience: typeof config.audience === 'string' ? [config.audience] : config.audience,
      authorized_party: config.authorized_party,
      jwks_uri: config.jwks_uri ?? (google ? GOOGLE_JWKS_URI : undefined),
      verifier_id_claim: config.verifier_id_claim ?? (config.preset === 'oidc' ? 'sub' : 'email'),
      require_email_verified: config.require_email_verified ?? google,
      algorithms: config.algorithms ?? (config.preset === 'dev' ? ['ES256'] : ['RS256']),
      max_token_age_seconds: config.max_token_age_seconds,
      clock_skew_seconds: config.clock_skew_seconds,
    };
  });

export type VerifierConfigInput = z.input<typeof VerifierConfigSchema>;
export type VerifiersConfig = Record<string, VerifierConfig>;

const NAME_RULE = 'names are 1-64 characters of A-Z a-z 0-9 . _ -';
/** Every verifier by name; torus node start validates its configuration's verifiers with it too. */
export const VerifiersSchema = z
  .record(z.string().regex(/^[A-Za-z0-9._-]{1,64}$/), VerifierConfigSchema, {
    error: (issue) => (issue.code === 'invalid_key' ? `invalid verifier name ${JSON.stringify(issue.input)}: ${NAME_RULE}` : undefined),
  })
  .refine((verifiers) => Object.keys(verifiers).length > 0, 'at least one verifier must be configured');

/** JSON.parse makes "__proto__" an own key, which zod drops silently; refuse it rather than lose it. */
function refuseProtoName(json: unknown): void {
  if (typeof json === 'object' && json !== null && Object.hasOwn(json, '__proto__')) {
    throw new VerifierConfigError(`invalid verifier configuration: invalid verifier name "__proto__"`);
  }
}

/** Validates `{ [verifierName]: VerifierConfig }` and applies the presets; throws VerifierConfigError. */
export function parseVerifiersConfig(json: unknown, mode: VerifierMode): VerifiersConfig {
  refuseProtoName(json);
  const parsed = VerifiersSchema.safeParse(json);
  if (!parsed.success) throw new VerifierConfigError(`invalid verifier configuration:\n${z.prettifyError(parsed.error)}`);
  if (mode === 'production') {
    const problems = productionProblems(parsed.data);
    if (problems.length > 0) {
      throw new VerifierConfigError(problems.map((p) => `verifier "${p.verifier}": ${p.field} ${JSON.stringify(p.value)} ${p.rule}`).join('\n'));
    }
  }
  return parsed.data;
}

/** A setting that a valid verifier may have but that production refuses. */
export interface ProductionProblem {
  readonly verifier: string;
  readonly field: 'preset' | 'issuer' | 'jwks_uri';
  readonly value: string;
  /** Follows the value: `"dev" is refused in production ...`. */
  readonly rule: string;
}

/** What production refuses in otherwise valid verifiers: every problem, in order. */
export function productionProblems(verifiers: VerifiersConfig): ProductionProblem[] {
  const problems: ProductionProblem[] = [];
  for (const [verifier, config] of Object.entries(verifiers)) {
    if (config.preset === 'dev') {
      problems.push({ verifier, field: 'preset', value: config.preset, rule: 'is refused in production: the dev preset trusts a development issuer' });
    }
    // Over plain HTTP anyone on the path could substitute the keys and so mint tokens.
    for (const [field, url] of [['issuer', config.issuer], ['jwks_uri', config.jwks_uri]] as const) {
      if (url !== undefined && new URL(url).protocol !== 'https:') problems.push({ verifier, field, value: url, rule: 'must be https in production' });
    }
  }
  return problems;
}

/** The verifiers from TORUS_VERIFIERS (a JSON object as above), or undefined when it is not set. */
export function loadVerifiersFromEnv(env: Record<string, string | undefined>, mode: VerifierMode = 'production'): VerifiersConfig | undefined {
  const json = verifiersJsonFromEnv(env);
  return json === undefined ? undefined : parseVerifiersConfig(json, mode);
}

/** TORUS_VERIFIERS parsed as JSON but not yet validated, or undefined when it is not set. */
export function verifiersJsonFromEnv(env: Readonly<Record<string, string | undefined>>): unknown {
  const text = env['TORUS_VERIFIERS'];
  if (text === undefined) return undefined;
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (cause) {
    throw new VerifierConfigError(`TORUS_VERIFIERS is not valid JSON: ${cause instanceof Error ? cause.message : String(cause)}`);
  }
  refuseProtoName(json);
  return json;
}
