/**
 * Waiting for a node's CometBFT and mapping state at process start: the key-generation and retrieval
 * processes both read their chain id and epoch from there, so they cannot disagree with what the BFT enforces.
 */
import { EpochRecord } from '../../abci/src/state/records.js';
import type { Logger } from '../log.js';
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
