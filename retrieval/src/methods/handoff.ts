/**
 * The retrieval server's part of an epoch hand-off (beyond the legacy Torus API). Both methods answer from
 * this node's own chain, signed with this node's key, so a collector gathers what k (or t'+1) distinct
 * nodes' committed states say, without trusting any one node:
 *
 * HandoffMappingChunk {chunk}: on the frozen chain of epoch e, a chunk of the frozen mapping with this node's
 * attestation (core/handoff/mapping.ts). A new node of e+1 collects k_e of them per chunk for MappingTransfer.
 *
 * HandoffStatus {}: on the chain of epoch e+1, how far it has taken over epoch e (with `next_awaiting`, the
 * lowest key index not reshared yet, which paces the old nodes' re-dealings); once complete, this node's
 * signed statement of it (core/handoff/status.ts). An old node deletes its shares after t'+1 of them.
 */
import { z } from 'zod';
import { bytesToHex } from '../../../core/encoding/bytes.js';
import { attestMappingChunk, mappingItemFromJson } from '../../../core/handoff/mapping.js';
import { signHandoffComplete } from '../../../core/handoff/status.js';
import { define, ErrorCode, internalError, RpcError } from '../jsonrpc.js';
import type { RetrievalContext } from '../context.js';

/** A chunk index is a u32 in the signed parts. New methods have no legacy clients: unknown fields are refused. */
const ChunkParams = z.object({ chunk: z.number().int().nonnegative().max(0xffff_ffff) }).strict();
const NoParams = z.object({}).strict();

export type HandoffContext = Pick<RetrievalContext, 'signer' | 'selfIndex' | 'epoch' | 'tx' | 'mapping'>;

export function handoffMethods(ctx: HandoffContext) {
  const epoch = ctx.epoch.id;
  return {
    HandoffMappingChunk: define({
      params: ChunkParams,
      async handle({ chunk }) {
        const found = await ctx.mapping.frozenChunk(chunk);
        if (found.kind === 'not-frozen') {
          throw internalError(`epoch ${epoch} is not frozen yet: FreezeVotes by k+t = ${ctx.epoch.k + ctx.epoch.t} members for one next epoch freeze it `
            + `(${found.votes} recorded); ask again after the freeze`);
        }
        if (found.kind === 'no-such-chunk') {
          throw new RpcError(ErrorCode.INVALID_PARAMS, 'Invalid params',
            `chunk ${chunk} does not exist: the frozen mapping of epoch ${epoch} has ${found.chunks} chunk${found.chunks === 1 ? '' : 's'} (0 to ${found.chunks - 1})`);
        }
        const frozen = found.chunk;
        // This node attests only its own chain's mapping; anything else means its CometBFT is not its chain.
        if (frozen.chain_id !== ctx.tx.chainId || frozen.epoch !== epoch || frozen.chunk !== chunk) {
          throw new Error(`asked for chunk ${chunk} of ${ctx.tx.chainId} epoch ${epoch}, the chain answered chunk ${frozen.chunk} of ${frozen.chain_id} epoch ${frozen.epoch}`);
        }
        const { signature } = attestMappingChunk(
          ctx.signer, ctx.selfIndex, { chainId: frozen.chain_id, epoch: BigInt(frozen.epoch) }, BigInt(frozen.next_epoch),
          frozen.chunk, frozen.chunks, BigInt(frozen.end_index), frozen.items.map(mappingItemFromJson),
        );
        return { ...frozen, node_index: ctx.selfIndex, signature: bytesToHex(signature) };
      },
    }),

    HandoffStatus: define({
      params: NoParams,
      async handle() {
        const progress = await ctx.mapping.handoffIn();
        if (progress === undefined) {
          throw internalError(`epoch ${epoch} takes over from no previous epoch: its chain's genesis names none, so there is no hand-off to report`);
        }
        const { previous_epoch, complete, chunks_received, chunk_count, keys_transferred, keys_resharing } = progress;
        // Where the old nodes' re-dealing window stands: they re-deal the keys from here on, a window at a time.
        const nextAwaiting = complete ? null : await ctx.mapping.lowestResharing();
        const status = {
          chain_id: ctx.tx.chainId, epoch, previous_epoch, complete, chunks_received, chunk_count, keys_transferred, keys_resharing,
          next_awaiting: nextAwaiting, node_index: ctx.selfIndex,
        };
        if (!complete) return status;
        const signature = signHandoffComplete(ctx.signer, ctx.tx.chainId, BigInt(epoch), BigInt(previous_epoch));
        return { ...status, signature: bytesToHex(signature) };
      },
    }),
  };
}
