/**
 * The application part of the CometBFT genesis (`app_state`): the epoch with its members and the buffer
 * parameters. It is validated in full at InitChain; a bad genesis stops the chain before it starts.
 */
import { z } from 'zod';
import { bytesToHex, fromUtf8 } from '../../../core/encoding/bytes.js';
import { checksumAddress, ethereumAddress, parsePublicKey } from '../../../core/crypto/keys.js';
import { thresholdError } from '../../../core/epoch.js';
import type { EpochRecord, ParamsRecord } from './records.js';

export const DEFAULT_KEY_BUFFER_TARGET = 100;
export const DEFAULT_MAX_TX_LIFETIME_BLOCKS = 1000;

export const GenesisAppStateSchema = z.object({
  epoch: z.object({
    id: z.number().int().positive(),
    n: z.number().int().positive(),
    k: z.number().int().positive(),
    t: z.number().int().nonnegative(),
    members: z.array(z.object({
      index: z.number().int().positive(),
      public_key: z.string().regex(/^(0x)?[0-9a-fA-F]+$/),
    }).strict()),
  }).strict(),
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
  const { epoch, key_buffer_target, max_tx_lifetime_blocks, dev_attested_keys } = parsed.data;
  const broken = thresholdError(epoch);
  if (broken !== undefined) throw new GenesisError(`invalid epoch thresholds: ${broken}`);
  if (epoch.members.length !== epoch.n) throw new GenesisError(`epoch has n=${epoch.n} but ${epoch.members.length} members`);
  const sorted = [...epoch.members].sort((a, b) => a.index - b.index);
  const seenKeys = new Set<string>();
  const members = sorted.map((member, i) => {
    if (member.index !== i + 1) throw new GenesisError(`member indexes must be 1..${epoch.n} without gaps or duplicates`);
    let publicKey: Uint8Array;
    try {
      publicKey = parsePublicKey(member.public_key);
    } catch (cause) {
      throw new GenesisError(`member ${member.index} has an invalid public key`, { cause });
    }
    const hex = bytesToHex(publicKey);
    if (seenKeys.has(hex)) throw new GenesisError(`member ${member.index} repeats another member's public key`);
    seenKeys.add(hex);
    return { index: member.index, address: checksumAddress(ethereumAddress(publicKey)), public_key: hex };
  });
  return {
    epoch: { id: epoch.id, n: epoch.n, k: epoch.k, t: epoch.t, members },
    params: { key_buffer_target, max_tx_lifetime_blocks, dev_attested_keys },
  };
}
