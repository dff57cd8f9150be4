/**
 * What the key-generation and retrieval processes read of their node's CometBFT and mapping state besides
 * their own work: the chain id and epoch at start (so they cannot disagree with what the BFT enforces), the
 * key buffer, and whether CometBFT is caught up (their readiness).
 */
import { CountersRecord, EpochRecord } from '../../abci/src/state/records.js';
import { z } from 'zod';
import type { Logger } from '../log.js';
import type { CheckResult } from '../metrics.js';
import { abciQuery, status } from './rpc.js';

export async function waitForMappingEpoch(rpcUrl: string, log: Logger): Promise<{ chainId: string; epoch: EpochRecord }> {
  for (let attempt = 0; ; attempt++) {
    try {
      const { chainId } = await status(rpcUrl);
      const answer = await abciQuery(rpcUrl, '/epoch');
      if (answer.code === 0) return { chainId, epoch: EpochRecord.parse(answer.value) };
      if (attempt % 10 === 0) log.info({ log: answer.log }, 'waiting for the mapping state');
    } catch (err) {
      if (attempt % 10 === 0) log.info({ rpc: rpcUrl, err: err instanceof Error ? err.message : String(err) }, 'waiting for CometBFT');
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

/** The `/buffer` answer: the key buffer target and the mapping's key counters. */
export const KeyBuffer = CountersRecord.extend({ target: CountersRecord.shape.ready });
export type KeyBuffer = z.infer<typeof KeyBuffer>;

export async function readKeyBuffer(rpcUrl: string): Promise<KeyBuffer> {
  const answer = await abciQuery(rpcUrl, '/buffer');
  if (answer.code !== 0) throw new Error(`reading the key buffer failed: ${answer.log}`);
  return KeyBuffer.parse(answer.value);
}

/**
 * A readiness check: this node's CometBFT answers and is not catching up (a node that is still syncing
 * blocks answers from an old state and its transactions wait).
 */
export async function cometCaughtUp(rpcUrl: string): Promise<CheckResult> {
  const comet = await status(rpcUrl);
  return { ok: !comet.catchingUp, detail: { height: comet.height, catching_up: comet.catchingUp } };
}
