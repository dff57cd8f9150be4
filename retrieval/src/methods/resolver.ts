/**
 * The account resolver: VerifierLookupRequest, KeyAssign and KeyLookupRequest (torus-node.md §2.3–2.5).
 * No login is needed; keys are assigned ahead of time from the ready buffer.
 *
 * torus.js decides "new user" when a majority of nodes return the same error object, and accepts a lookup
 * when a majority return the same result object, so both are deterministic functions of committed state:
 * no node-specific text, no timestamps.
 */
import { z } from 'zod';
import { define, ErrorCode, inputError, internalError, RpcError } from '../jsonrpc.js';
import type { RetrievalContext } from '../context.js';
import type { UserKey } from '../mapping.js';
import type { IdTokenVerifier } from '../verifiers/types.js';
import { HexCoordinate, VerifierParams } from './params.js';
import { bigHex, legacyPoint } from './format.js';
import { TxCode } from '../../../abci/src/state/codes.js';

export const NOT_ASSIGNED = 'Verifier + VerifierID has not yet been assigned';
export const VERIFIER_NOT_SUPPORTED = 'Verifier not supported';

/** Legacy "Input Error" spelling for the unassigned case: clients compare the whole error object. */
const notAssigned = () => new RpcError(ErrorCode.INVALID_PARAMS, 'Input Error', NOT_ASSIGNED);

/** What the resolver's methods use of the node: its verifiers, its mapping state and its transaction identity. */
export type ResolverContext = Pick<RetrievalContext, 'verifiers' | 'mapping' | 'tx'>;

/** The named verifier, after the legacy node's input checks. */
export function checkVerifier(ctx: Pick<RetrievalContext, 'verifiers'>, verifier: string, verifierId: string): IdTokenVerifier {
  if (verifierId.length === 0) throw inputError('VerifierID is empty');
  const found = ctx.verifiers.get(verifier);
  if (found === undefined) throw inputError(VERIFIER_NOT_SUPPORTED);
  return found;
}

function lookupResult(keys: readonly UserKey[]) {
  return {
    keys: keys.map((key) => {
      const { X, Y } = legacyPoint(key.public_key);
      return { key_index: bigHex(key.key_index), pub_key_X: X, pub_key_Y: Y, address: key.address };
    }),
  };
}

export function resolverMethods(ctx: ResolverContext) {
  return {
    VerifierLookupRequest: define({
      params: VerifierParams,
      async handle({ verifier, verifier_id: verifierId }) {
        checkVerifier(ctx, verifier, verifierId);
        const keys = await ctx.mapping.keysOf(verifier, verifierId);
        if (keys === undefined || keys.length === 0) throw notAssigned();
        return lookupResult(keys);
      },
    }),

    KeyAssign: define({
      params: VerifierParams,
      async handle({ verifier, verifier_id: verifierId }) {
        checkVerifier(ctx, verifier, verifierId);
        let outcome;
        try {
          outcome = await ctx.mapping.assign(ctx.tx, verifier, verifierId);
        } catch (cause) {
          throw internalError(`key assignment error: ${cause instanceof Error ? cause.message : String(cause)}`);
        }
        if (outcome.code === TxCode.BUFFER_EMPTY) throw internalError('key assignment error: no key is ready yet; try again in a few seconds');
        // A frozen epoch (or a chain still taking one over) refuses new users; the chain's log names the epoch
        // to ask instead, and it is the same at every node, so it goes to the wallet exactly as committed.
        if (outcome.code === TxCode.EPOCH_FROZEN || outcome.code === TxCode.HANDOFF_IN_PROGRESS) throw internalError(outcome.log);
        if (outcome.code !== TxCode.OK) throw internalError(`key assignment error: ${outcome.log}`);
        const keys = await ctx.mapping.keysOf(verifier, verifierId);
        if (keys === undefined || keys.length === 0) throw internalError('key assignment error: the committed assignment is not visible yet');
        return lookupResult(keys);
      },
    }),

    KeyLookupRequest: define({
      params: z.object({ pub_key_X: HexCoordinate, pub_key_Y: HexCoordinate }),
      async handle({ pub_key_X: x, pub_key_Y: y }) {
        let uncompressed: string;
        try {
          uncompressed = `04${x.padStart(64, '0')}${y.padStart(64, '0')}`.toLowerCase();
          legacyPoint(uncompressed);
        } catch {
          throw inputError('pubkey is not a point on secp256k1');
        }
        const key = await ctx.mapping.keyByPublicKey(uncompressed);
        if (key === undefined) throw inputError('no log of public key');
        if (key.assigned_to === undefined || key.public_key === undefined) throw inputError('no key assignment found for public key');
        return {
          Index: bigHex(key.index),
          PublicKey: legacyPoint(key.public_key),
          Threshold: 1,
          Verifiers: { [key.assigned_to.verifier]: [key.assigned_to.verifier_id] },
        };
      },
    }),
  };
}
