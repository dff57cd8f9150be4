/**
 * Hand-over of keys by proactive resharing (crypto.md §2.3), with real cryptography: a source committee
 * generates keys, a target committee takes them over from the source's re-dealings, judged by the ledger's
 * own rules. Checked: public keys unchanged; any k' new shares give the old secret (test oracle); mixes of
 * old and new shares never do; bad re-dealings are excluded; k-1 live source nodes stall the hand-over
 * without producing anything wrong; messages of one epoch or session are refused in another.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { commitMatrix } from '../../core/crypto/pedersen.js';
import { G, mulSecret } from '../../core/crypto/point.js';
import { columnPolynomial, interpolate, rowPolynomial } from '../../core/crypto/polynomial.js';
import { Fn } from '../../core/crypto/scalar.js';
import { checkReshareProposal } from '../../abci/src/state/reshare-rules.js';
import { isFailure } from '../../abci/src/state/keygen-rules.js';
import { sampleDealing, sendMessages } from '../src/protocol/dealing.js';
import type { KeygenMessage, SendMessage } from '../src/protocol/messages.js';
import { MemoryDealingStore } from '../src/protocol/store.js';
import { checkKey, Cluster, combinations, decidedD } from './harness.js';
import { ReshareCluster, type ReshareOptions } from './reshare-harness.js';

function generated(n: number, k: number, t: number, keys: readonly bigint[], seed: number): Cluster {
  const source = new Cluster({ n, k, t, seed, epoch: 1n });
  source.start(keys);
  source.run();
  assert.deepEqual(source.invalidTxs, []);
  return source;
}

function handOver(opts: ReshareOptions, keys: readonly bigint[]): ReshareCluster {
  const target = new ReshareCluster(opts);
  target.start(keys);
  target.run();
  return target;
}

/**
 * The oracle: the key was decided with exactly k_source dealers and published with its old public key; every
 * live target node saved a share that verifies against the new commitment; every k' of them interpolate to
 * the old secret; no k'-1 of them do, and no mix of old and new shares of size max(k, k') does.
 */
function assertTransferred(target: ReshareCluster, keyIndex: bigint, oldSecret: bigint): void {
  const { k } = target.opts;
  const decided = target.decided.get(keyIndex);
  assert.ok(decided, `key ${keyIndex} decided`);
  assert.equal(decided.dealings.length, target.source.opts.k, 'exactly k_source re-dealings are combined');
  assert.ok(target.published.has(keyIndex), `key ${keyIndex} published with its old public key`);
  const newShares = target.live.map((j) => {
    const s = target.share(j, keyIndex);
    assert.notEqual(s, undefined, `target node ${j} saved a share of key ${keyIndex}`);
    return { index: BigInt(j), value: s as bigint };
  });
  let count = 0;
  for (const subset of combinations(newShares, k)) {
    assert.equal(interpolate(subset), oldSecret, `new shares ${subset.map((s) => s.index).join()} give the old secret`);
    if (++count >= 60) break;
  }
  for (const subset of combinations(newShares, k - 1)) {
    if (subset.length > 0) assert.notEqual(interpolate(subset), oldSecret, 'k\'-1 new shares do not give the secret');
  }
  const oldShares = target.source.live.map((i) => ({
    index: BigInt(i),
    value: ((target.source.stores.get(i) as MemoryDealingStore).share(target.source.epoch, keyIndex) as { s: bigint }).s,
  }));
  const size = Math.max(k, target.source.opts.k);
  let mixes = 0;
  for (const fromOld of [1, size - 1]) {
    for (const olds of combinations(oldShares, fromOld)) {
      const used = new Set(olds.map((s) => s.index));
      const news = newShares.filter((s) => !used.has(s.index)).slice(0, size - fromOld);
      if (news.length !== size - fromOld) continue;
      assert.notEqual(interpolate([...olds, ...news]), oldSecret, 'a mix of old and new shares never gives the secret');
      mixes++;
    }
  }
  assert.ok(mixes > 0, 'some mixes were tried');
}

function assertClean(target: ReshareCluster): void {
  assert.deepEqual(target.invalidTxs, [], 'every proposal and publication is valid');
  assert.deepEqual(target.aborts, [], 'no target node aborts a key');
}

describe('resharing to the next committee', () => {
  const keys = [0n, 1n, 2n];

  for (const [from, to, overlap] of [[[5, 3, 1], [5, 3, 1], 3], [[5, 3, 1], [9, 5, 2], 5], [[9, 5, 2], [5, 3, 1], 0]] as const) {
    it(`(${from.join(',')}) -> (${to.join(',')}), ${overlap} operators in both: same public keys, any k' new shares give the old secret`, () => {
      const source = generated(from[0], from[1], from[2], keys, 7 + to[0]);
      const target = handOver({ source, n: to[0], k: to[1], t: to[2], seed: 31, overlap }, keys);
      assertClean(target);
      assert.deepEqual(target.harmfulRejections(), []);
      for (const keyIndex of keys) {
        const { secret, publicKey } = checkKey(source, keyIndex);
        assert.ok(mulSecret(G, secret).equals(publicKey));
        assertTransferred(target, keyIndex, secret);
      }
      for (const j of target.live) for (const keyIndex of keys) assert.equal(target.engine(j).status(keyIndex).phase, 'finished');
    });
  }

  it('the same path refreshes shares with an unchanged committee: new shares, same secret', () => {
    const source = generated(5, 3, 1, [0n], 3);
    const target = handOver({ source, n: 5, k: 3, t: 1, seed: 4, overlap: 5 }, [0n]);
    assertClean(target);
    const { secret } = checkKey(source, 0n);
    assertTransferred(target, 0n, secret);
    for (const j of target.live) {
      assert.notEqual(target.share(j, 0n), (source.stores.get(j) as MemoryDealingStore).share(1n, 0n)?.s, `node ${j}'s share changed`);
    }
  });

  it('an old dealer that re-deals s_i + delta, or with the wrong degree, is excluded and the key still moves', () => {
    const source = generated(5, 3, 1, [0n], 5);
    const shareOf = (i: number) => (source.stores.get(i) as MemoryDealingStore).share(1n, 0n) as { s: bigint; sPrime: bigint };
    // Dealer 2 re-deals s_2 + 1 (a consistent dealing of a wrong secret); dealer 4 deals with degree k' (k'+1 × k'+1).
    const shifted = sendMessages(sampleDealing(Fn.add(shareOf(2).s, 1n), shareOf(2).sPrime, 3, undefined), 3, 5, { epoch: 2n, keyIndex: 0n, dealer: 2 });
    const tooBig = sendMessages(sampleDealing(shareOf(4).s, shareOf(4).sPrime, 4, undefined), 4, 5, { epoch: 2n, keyIndex: 0n, dealer: 4 });
    const replace = (dealer: number, to: number, message: SendMessage): KeygenMessage[] => {
      if (dealer === 2) return [(shifted[to - 1] as { message: SendMessage }).message];
      if (dealer === 4) return [(tooBig[to - 1] as { message: SendMessage }).message];
      return [message];
    };
    const target = handOver({ source, n: 5, k: 3, t: 1, seed: 9, tamperSend: replace }, [0n]);
    assertClean(target);
    const reasons = new Set(target.rejected.filter((r) => r.from === -2 || r.from === -4).map((r) => `${-r.from}:${r.reason}`));
    assert.ok(reasons.has('2:wrong-constant-term'), [...reasons].join());
    assert.ok(reasons.has('4:bad-dimensions'), [...reasons].join());
    const dealers = target.decided.get(0n)?.dealings.map((d) => d.dealer) ?? [];
    assert.ok(!dealers.includes(2) && !dealers.includes(4), `decided dealers ${dealers.join()}`);
    assertTransferred(target, 0n, checkKey(source, 0n).secret);
  });

  it('the ledger rules refuse a proposal with a shifted re-dealing even when its readies are genuine', () => {
    const source = generated(5, 3, 1, [0n], 6);
    const target = handOver({ source, n: 5, k: 3, t: 1, seed: 2 }, [0n]);
    const body = target.decided.get(0n);
    assert.ok(body);
    // A matrix with another C00 (as for s_i + delta) under the same readies: the signatures no longer match,
    // and a proposal listing fewer or more than k_source dealings is refused outright.
    const first = body.dealings[0] as (typeof body.dealings)[number];
    const F = sampleDealing(5n, 6n, 3, undefined);
    const forged = { ...first, commitment: commitMatrix(F.F, F.Fprime, 3).flat().map((p) => p.toBytes(true)) };
    const ctx = [target.targetContext(), target.sourceContext(), target.sourceCommitments(0n)] as const;
    const refused = checkReshareProposal(...ctx, { ...body, dealings: [forged, ...body.dealings.slice(1)] });
    assert.ok(isFailure(refused) && /does not verify|C00/.test(refused.log), JSON.stringify(refused));
    const short = checkReshareProposal(...ctx, { ...body, dealings: body.dealings.slice(1) });
    assert.ok(isFailure(short) && /exactly k=3/.test(short.log), JSON.stringify(short));
    assert.ok(!isFailure(checkReshareProposal(...ctx, body)), 'the genuine proposal passes');
  });

  it('with only k-1 old nodes re-dealing, the hand-over stalls and produces nothing', () => {
    const source = generated(5, 3, 1, [0n], 8);
    const target = handOver({ source, n: 5, k: 3, t: 1, seed: 5, dealers: [1, 4] }, [0n]);
    assertClean(target);
    assert.equal(target.proposals.length, 0, 'no proposal');
    assert.equal(target.decided.size, 0);
    for (const j of target.live) assert.equal(target.share(j, 0n), undefined, `node ${j} saved no share`);
  });

  it('messages of epoch e are refused in e+1, and a proposal of one hand-over is refused in another', () => {
    const source = generated(5, 3, 1, [0n], 10);
    const target = handOver({ source, n: 5, k: 3, t: 1, seed: 12, overlap: 5 }, [0n]);
    // A key-generation send of epoch 1, replayed into the target engines (epoch 2), from a source or a member.
    const dealing = (source.stores.get(1) as MemoryDealingStore).loadDealing(1n, 0n);
    assert.ok(dealing);
    const replayed = (sendMessages(dealing, 3, 5, { epoch: 1n, keyIndex: 0n, dealer: 1 })[1] as { message: SendMessage }).message;
    const fresh = new ReshareCluster({ source, n: 5, k: 3, t: 1, seed: 13 });
    fresh.engine(2).expectReshare(0n, decidedD(source, 0n));
    const outSource = fresh.engine(2).receiveFromSource(1, [replayed]);
    const outMember = fresh.engine(2).receive(1, replayed);
    assert.deepEqual([...outSource.rejected, ...outMember.rejected].map((r) => r.reason), ['wrong-epoch', 'wrong-epoch']);
    // The decided proposal of hand-over 1 -> 2 does not pass as one of 1 -> 3: the readies are bound to the epochs.
    const body = target.decided.get(0n);
    assert.ok(body);
    const other = checkReshareProposal(target.targetContext(3n), target.sourceContext(), target.sourceCommitments(0n), body);
    assert.ok(isFailure(other) && /does not verify/.test(other.log), JSON.stringify(other));
  });

  it('a member cannot pose as a source dealer, and a source node can only deal', () => {
    const source = generated(5, 3, 1, [0n], 14);
    const target = new ReshareCluster({ source, n: 5, k: 3, t: 1, seed: 15 });
    target.start([0n]);
    const share = (source.stores.get(3) as MemoryDealingStore).share(1n, 0n) as { s: bigint; sPrime: bigint };
    const F = sampleDealing(share.s, share.sPrime, 3, undefined);
    const send = { type: 'send', epoch: 2n, keyIndex: 0n, dealer: 3, commitment: commitMatrix(F.F, F.Fprime, 3), a: rowPolynomial(F.F, 1), aPrime: rowPolynomial(F.Fprime, 1), b: columnPolynomial(F.F, 1), bPrime: columnPolynomial(F.Fprime, 1) } as const;
    assert.deepEqual(target.engine(1).receive(3, send).rejected.map((r) => r.reason), ['not-dealer'], 'target member 3 is not source dealer 3');
    const echo = { type: 'commitment-request', epoch: 2n, keyIndex: 0n, dealer: 3, commitmentHash: new Uint8Array(32) } as const;
    assert.deepEqual(target.engine(1).receiveFromSource(3, [echo]).rejected.map((r) => r.reason), ['wrong-sender']);
  });
});
