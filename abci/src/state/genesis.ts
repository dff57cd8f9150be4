/**
 * The application part of the CometBFT genesis (`app_state`): the epoch with its members, the buffer
 * parameters and, for a chain that takes over from an earlier epoch, that epoch (`previous`). It is
 * validated in full at InitChain; a bad genesis stops the chain before it starts.
 */
import { z } from 'zod';
import { bytesToHex, fromUtf8 } from '../../../core/encoding/bytes.js';
import { checksumAddress, ethereumAddress, parsePublicKey } from '../../../core/crypto/keys.js';
import { thresholdError } from '../../../core/epoch.js';
import type { EpochRecord, ParamsRecord, PreviousEpochRecord } from './records.js';

export const DEFAULT_KEY_BUFFER_TARGET = 100;
export const DEFAULT_MAX_TX_LIFETIME_BLOCKS = 1000;

const GenesisEpochSchema = z.object({
  id: z.number().int().positive(),
  n: z.number().int().positive(),
  k: z.number().int().positive(),
  t: z.number().int().nonnegative(),
  members: z.array(z.object({
    index: z.number().int().positive(),
    public_key: z.string().regex(/^(0x)?[0-9a-fA-F]+$/),
  }).strict()),
}).strict();

export const GenesisAppStateSchema = z.object({
  epoch: GenesisEpochSchema,
  /**
   * The epoch this chain takes over from (its own chain id and members, as in the contract). A chain with
   * `previous` starts by receiving that epoch's frozen mapping (MappingTransfer) and keys (resharing); it
   * generates and assigns no keys until then.
   */
  previous: z.object({ chain_id: z.string().min(1), epoch: GenesisEpochSchema }).strict().optional(),
  key_buffer_target: z.number().int().nonnegative().max(1_000_000).default(DEFAULT_KEY_BUFFER_TARGET),
  max_tx_lifetime_blocks: z.number().int().positive().max(1_000_000).default(DEFAULT_MAX_TX_LIFETIME_BLOCKS),
  /**
   * Tests and benchmarks only: accept keys attested by k members (RegisterKey) without key generation.
   * Such keys are known in full to whoever made them; a production chain must leave this off.
   */
  dev_attested_keys: z.boolean().default(false),
}).strict();

export type GenesisAppState = z.input<typeof GenesisAppStateSchema>;

export class GenesisError extends Error {
  override name = 'GenesisError';
}

export interface ValidGenesis {
  readonly epoch: EpochRecord;
  readonly params: ParamsRecord;
  readonly previous?: PreviousEpochRecord;
}

export function parseGenesisAppState(bytes: Uint8Array): ValidGenesis {
  let json: unknown;
  try {
    json = JSON.parse(fromUtf8(bytes));
  } catch (cause) {
    throw new GenesisError('app_state is not valid JSON', { cause });
  }
  const parsed = GenesisAppStateSchema.safeParse(json);
  if (!parsed.success) throw new GenesisError(`invalid app_state: ${z.prettifyError(parsed.error)}`);
  const { key_buffer_target, max_tx_lifetime_blocks, dev_attested_keys } = parsed.data;
  const epoch = validEpoch(parsed.data.epoch, '');
  const params = { key_buffer_target, max_tx_lifetime_blocks, dev_attested_keys };
  if (parsed.data.previous === undefined) return { epoch, params };
  const previous = validEpoch(parsed.data.previous.epoch, 'previous ');
  if (previous.id >= epoch.id) throw new GenesisError(`previous epoch ${previous.id} must come before epoch ${epoch.id}`);
  return { epoch, params, previous: { chain_id: parsed.data.previous.chain_id, epoch: previous } };
}

/** Checks an epoch's thresholds and members (indexes 1..n, valid distinct keys); `what` prefixes the errors. */
function validEpoch(epoch: z.infer<typeof GenesisEpochSchema>, what: string): EpochRecord {
  const broken = thresholdError(epoch);
  if (broken !== undefined) throw new GenesisError(`invalid ${what}epoch thresholds: ${broken}`);
  if (epoch.members.length !== epoch.n) throw new GenesisError(`${what}epoch has n=${epoch.n} but ${epoch.members.length} members`);
  const sorted = [...epoch.members].sort((a, b) => a.index - b.index);
  const seenKeys = new Set<string>();
  const members = sorted.map((member, i) => {
    if (member.index !== i + 1) throw new GenesisError(`${what}member indexes must be 1..${epoch.n} without gaps or duplicates`);
    let publicKey: Uint8Array;
    try {
      publicKey = parsePublicKey(member.public_key);
    } catch (cause) {
      throw new GenesisError(`${what}member ${member.index} has an invalid public key`, { cause });
    }
    const hex = bytesToHex(publicKey);
    if (seenKeys.has(hex)) throw new GenesisError(`${what}member ${member.index} repeats another member's public key`);
    seenKeys.add(hex);
    return { index: member.index, address: checksumAddress(ethereumAddress(publicKey)), public_key: hex };
  });
  return { id: epoch.id, n: epoch.n, k: epoch.k, t: epoch.t, members };
}
