/**
 * A development OpenID issuer: signs id tokens for any email it is asked for, with an ES256 key, and
 * publishes the discovery document and key set a verifier with the `dev` preset reads. It lets a local
 * network and the tests log users in without a real provider. It authenticates nobody, so it must never
 * back a production verifier (the configuration refuses the `dev` preset in production).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import express, { type Express, type NextFunction, type Request, type Response } from 'express';
import { calculateJwkThumbprint, exportJWK, generateKeyPair, importJWK, SignJWT, type CryptoKey, type JWK } from 'jose';
import { z } from 'zod';

export const DEV_AUDIENCE = 'torus-dev';
/** The verifier name local networks give the development issuer. */
export const DEV_VERIFIER = 'torus-dev';
const TOKEN_LIFETIME_SECONDS = 3600;

export interface DevIssuerOptions {
  /** The `iss` of the tokens, also the base URL of the endpoints. */
  issuer: string;
  /** Private JWK file: loaded if present, else created (mode 0600), so tokens survive restarts. */
  keyFile?: string;
}

export interface DevClaims {
  email: string;
  /** Default `dev|<email>`. */
  sub?: string;
  aud: string | string[];
  /** Any other claim, or one of the defaults replaced; a claim set to undefined is left out. */
  [claim: string]: unknown;
}

export interface DevSignOptions {
  /** Unix seconds; defaults: iat now, exp now + 3600, no nbf. */
  iat?: number;
  exp?: number;
  nbf?: number;
}

const PrivateJwkSchema = z.looseObject({ kty: z.literal('EC'), crv: z.literal('P-256'), x: z.string(), y: z.string(), d: z.string() });

const TokenRequestSchema = z.strictObject({
  email: z.email().max(254),
  audience: z.string().min(1).max(256).default(DEV_AUDIENCE),
});

export class DevIssuer {
  readonly issuer: string;
  /** The key's JWK thumbprint (RFC 7638). */
  readonly kid: string;
  private readonly privateKey: CryptoKey;
  private readonly publicJwk: JWK;

  private constructor(issuer: string, kid: string, privateKey: CryptoKey, publicJwk: JWK) {
    this.issuer = issuer;
    this.kid = kid;
    this.privateKey = privateKey;
    this.publicJwk = publicJwk;
  }

  static async create(options: DevIssuerOptions): Promise<DevIssuer> {
    const privateJwk = options.keyFile === undefined ? await newPrivateJwk() : await loadOrCreateKeyFile(options.keyFile);
    const { kty, crv, x, y } = privateJwk;
    const kid = await calculateJwkThumbprint({ kty, crv, x, y });
    const privateKey = await importJWK(privateJwk, 'ES256');
    if (privateKey instanceof Uint8Array) throw new Error('an ES256 JWK imported as a secret');
    return new DevIssuer(options.issuer, kid, privateKey, { kty, crv, x, y, kid, alg: 'ES256', use: 'sig' });
  }

  /** A signed id token (ES256, typ JWT); see DevClaims and DevSignOptions for the defaults. */
  async sign(claims: DevClaims, options: DevSignOptions = {}): Promise<string> {
    const now = Math.floor(Date.now() / 1000);
    const { email, sub, ...overrides } = claims;
    const payload = {
      iss: this.issuer,
      sub: sub ?? `dev|${email}`,
      email,
      email_verified: true,
      iat: options.iat ?? now,
      exp: options.exp ?? now + TOKEN_LIFETIME_SECONDS,
      ...(options.nbf === undefined ? {} : { nbf: options.nbf }),
      ...overrides,
    };
    return new SignJWT(payload).setProtectedHeader({ alg: 'ES256', typ: 'JWT', kid: this.kid }).sign(this.privateKey);
  }

  /** The public key set, as served at /jwks. */
  jwks(): { keys: JWK[] } {
    return { keys: [{ ...this.publicJwk }] };
  }

  /** Discovery, key set and a token endpoint; see the module comment. */
  app(): Express {
    const base = this.issuer.replace(/\/+$/, '');
    const app = express();
    app.disable('x-powered-by');
    app.get('/.well-known/openid-configuration', (_req, res) => {
      res.json({
        issuer: this.issuer,
        jwks_uri: `${base}/jwks`,
        token_endpoint: `${base}/token`,
        response_types_supported: ['id_token'],
        subject_types_supported: ['public'],
        id_token_signing_alg_values_supported: ['ES256'],
      });
    });
    app.get('/jwks', (_req, res) => {
      res.json(this.jwks());
    });
    app.post('/token', express.json({ limit: '16kb' }), async (req: Request, res: Response) => {
      const request = TokenRequestSchema.safeParse(req.body);
      if (!request.success) {
        res.status(400).json({ error: 'invalid_request', error_description: z.prettifyError(request.error) });
        return;
      }
      const idToken = await this.sign({ email: request.data.email, aud: request.data.audience });
      // Token responses must not be cached (RFC 6749, section 5.1).
      res.set('cache-control', 'no-store').json({ id_token: idToken, token_type: 'Bearer', expires_in: TOKEN_LIFETIME_SECONDS });
    });
    // Body-parser errors as OAuth errors instead of Express's HTML page; fixed texts, the body is not echoed.
    app.use((err: unknown, _req: Request, res: Response, _next: NextFunction) => {
      const type = fieldOf(err, 'type');
      if (type === 'entity.too.large') res.status(413).json({ error: 'invalid_request', error_description: 'the body is larger than 16 kB' });
      else if (type === 'entity.parse.failed') res.status(400).json({ error: 'invalid_request', error_description: 'the body is not valid JSON' });
      else res.status(500).json({ error: 'server_error', error_description: 'internal error' });
    });
    return app;
  }
}

function fieldOf(err: unknown, field: string): unknown {
  return typeof err === 'object' && err !== null && field in err ? (err as Record<string, unknown>)[field] : undefined;
}

async function newPrivateJwk(): Promise<z.infer<typeof PrivateJwkSchema>> {
  const { privateKey } = await generateKeyPair('ES256', { extractable: true });
  return PrivateJwkSchema.parse(await exportJWK(privateKey));
}

async function loadOrCreateKeyFile(file: string): Promise<z.infer<typeof PrivateJwkSchema>> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if (!(err instanceof Error && 'code' in err && err.code === 'ENOENT')) throw err;
    const jwk = await newPrivateJwk();
    // 'wx': never overwrite a key another process has just written.
    writeFileSync(file, `${JSON.stringify(jwk)}\n`, { mode: 0o600, flag: 'wx' });
    return jwk;
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new Error(`${file} is not JSON`);
  }
  const jwk = PrivateJwkSchema.safeParse(json);
  if (!jwk.success) throw new Error(`${file} is not a private P-256 JWK:\n${z.prettifyError(jwk.error)}`);
  return jwk.data;
}
