/**
 * The verifiers of a retrieval server by name, built once from the parsed configuration. A login names
 * its verifier; a name that is not here is refused by the caller.
 */
import type { VerifiersConfig } from './config.js';
import { OidcVerifier, type OidcVerifierOptions } from './oidc.js';
import type { IdTokenVerifier } from './types.js';

export class VerifierRegistry {
  /** A Map, not an object: names come from requests and must not reach prototype keys. */
  private readonly verifiers: ReadonlyMap<string, IdTokenVerifier>;

  private constructor(verifiers: ReadonlyMap<string, IdTokenVerifier>) {
    this.verifiers = verifiers;
  }

  static fromConfig(parsed: VerifiersConfig, opts: Pick<OidcVerifierOptions, 'now'> = {}): VerifierRegistry {
    return new VerifierRegistry(new Map(Object.entries(parsed).map(([name, config]) => [name, new OidcVerifier(name, config, opts)])));
  }

  get(name: string): IdTokenVerifier | undefined {
    return this.verifiers.get(name);
  }

  names(): string[] {
    return [...this.verifiers.keys()];
  }
}
