/**
 * The ABCI 2.0 methods an application implements. The socket server owns Echo and Flush; everything else
 * is delegated here. Methods may be async; the server still runs them one at a time.
 */
import type {
  RequestApplySnapshotChunk, RequestCheckTx, RequestExtendVote, RequestFinalizeBlock, RequestInfo, RequestInitChain,
  RequestLoadSnapshotChunk, RequestOfferSnapshot, RequestPrepareProposal, RequestProcessProposal, RequestQuery,
  RequestVerifyVoteExtension, ResponseApplySnapshotChunk, ResponseCheckTx, ResponseCommit, ResponseExtendVote,
  ResponseFinalizeBlock, ResponseInfo, ResponseInitChain, ResponseListSnapshots, ResponseLoadSnapshotChunk,
  ResponseOfferSnapshot, ResponsePrepareProposal, ResponseProcessProposal, ResponseQuery, ResponseVerifyVoteExtension,
} from 'cosmjs-types/tendermint/abci/types';

import type { DeepPartial } from 'cosmjs-types/helpers';

type MaybePromise<T> = T | Promise<T>;
type Partialish<T> = DeepPartial<T>;

export interface AbciApplication {
  info(request: RequestInfo): MaybePromise<Partialish<ResponseInfo>>;
  initChain(request: RequestInitChain): MaybePromise<Partialish<ResponseInitChain>>;
  query(request: RequestQuery): MaybePromise<Partialish<ResponseQuery>>;
  checkTx(request: RequestCheckTx): MaybePromise<Partialish<ResponseCheckTx>>;
  prepareProposal(request: RequestPrepareProposal): MaybePromise<Partialish<ResponsePrepareProposal>>;
  processProposal(request: RequestProcessProposal): MaybePromise<Partialish<ResponseProcessProposal>>;
  finalizeBlock(request: RequestFinalizeBlock): MaybePromise<Partialish<ResponseFinalizeBlock>>;
  commit(): MaybePromise<Partialish<ResponseCommit>>;
  extendVote(request: RequestExtendVote): MaybePromise<Partialish<ResponseExtendVote>>;
  verifyVoteExtension(request: RequestVerifyVoteExtension): MaybePromise<Partialish<ResponseVerifyVoteExtension>>;
  listSnapshots(): MaybePromise<Partialish<ResponseListSnapshots>>;
  offerSnapshot(request: RequestOfferSnapshot): MaybePromise<Partialish<ResponseOfferSnapshot>>;
  loadSnapshotChunk(request: RequestLoadSnapshotChunk): MaybePromise<Partialish<ResponseLoadSnapshotChunk>>;
  applySnapshotChunk(request: RequestApplySnapshotChunk): MaybePromise<Partialish<ResponseApplySnapshotChunk>>;
}
