/**
 * Faulty and Byzantine behaviour: crashed nodes, bad dealers, equivocation, bad echoes and readies,
 * replays across keys and epochs, malformed input, restart safety.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { bytesToHex, equalBytes } from '../../core/encoding/bytes.js';
import { commitMatrix, type PointPair } from '../../core/crypto/pedersen.js';
import { Point } from '../../core/crypto/point.js';
import { columnPolynomial, randomBivariate, rowPolynomial } from '../../core/crypto/polynomial.js';
import { Fn, ORDER, randomScalar } from '../../core/crypto/scalar.js';
import { KeygenEngine } from '../src/protocol/engine.js';
import type {
  CommitmentMessage,
  EchoMessage,
  KeygenMessage,
  Output,
  ReadyMessage,
  SendMessage,
  ShareProofMessage,
} from '../src/protocol/messages.js';
import { MemoryDealingStore } from '../src/protocol/store.js';
import { encodeBatch } from '../src/protocol/wire.js';
import { Cluster, checkKey, type ClusterOptions } from './harness.js';

function runCluster(opts: ClusterOptions, keys: readonly bigint[]): Cluster {
  const cluster = new Cluster(opts);
  cluster.start(keys);
  cluster.run();
  return cluster;
}

function assertKeysFine(cluster: Cluster, keys: readonly bigint[]): void {
  assert.deepEqual(cluster.invalidTxs, []);
  assert.deepEqual(cluster.leaks, []);
  for (const keyIndex of keys) checkKey(cluster, keyIndex);
}

/** The messages an output sends to `to`, of one type. */
function sent<T extends KeygenMessage['type']>(out: Output, to: number, type: T): Array<Extract<KeygenMessage, { type: T }>> {
  const batch = out.outbox.find((o) => o.to === to);
  return (batch?.messages ?? []).filter((m): m is Extract<KeygenMessage, { type: T }> => m.type === type);
}

function one<T>(items: readonly T[], what: string): T {
  assert.equal(items.length, 1, `expected one ${what}, got ${items.length}`);
  return items[0] as T;
}

const bump = (x: bigint): bigint => Fn.add(x, 1n);

/** Completed-dealing hashes per node for one key and dealer (from the events). */
function completions(cluster: Cluster, keyIndex: bigint, dealer: number): Map<number, string> {
  const out = new Map<number, string>();
  for (const e of cluster.events) {
    if (e.type === 'dealing-complete' && e.keyIndex === keyIndex && e.dealer === dealer) out.set(e.at, bytesToHex(e.commitmentHash));
  }
  return out;
}

describe('crashed nodes', () => {
  it('n=5: one silent node (t=1) and the others still finish', () => {
    const keys = [1n, 2n];
    const cluster = runCluster({ n: 5, k: 3, t: 1, seed: 21, silent: [5] }, keys);
    assertKeysFine(cluster, keys);
    for (const keyIndex of keys) assert.ok(!cluster.decided.get(keyIndex)?.dealings.some((d) => d.dealer === 5));
    assert.deepEqual(cluster.harmfulRejections(), []);
  });

  it('n=9: two silent nodes (t=2) and the others still finish', () => {
    const keys = [1n];
    const cluster = runCluster({ n: 9, k: 5, t: 2, seed: 22, silent: [4, 9] }, keys);
    assertKeysFine(cluster, keys);
  });

  it('n=5: two silent nodes (more than t) cannot finish, and nothing is decided', () => {
    const keys = [1n];
    const cluster = runCluster({ n: 5, k: 3, t: 1, seed: 23, silent: [4, 5] }, keys);
    assert.equal(cluster.decided.size, 0, 'k+t = 4 readies are impossible with 3 live nodes');
    assert.equal(cluster.published.size, 0);
  });
});

describe('Byzantine dealers', () => {
  it('a dealer sends one node a bad row: that node rejects it and still completes the dealing via readies', () => {
    const keys = [1n];
    const tamper = (from: number, to: number, m: KeygenMessage): KeygenMessage[] =>
      m.type === 'send' && from === 2 && to === 4 ? [{ ...m, a: [bump(m.a[0] as bigint), ...m.a.slice(1)] }] : [m];
    const cluster = runCluster({ n: 5, k: 3, t: 1, seed: 24, tamper, autoDecide: 'quiet' }, keys);
    assertKeysFine(cluster, keys);
    assert.deepEqual(
      cluster.harmfulRejections().map((r) => `${r.at}<-${r.from}:${r.type}:${r.reason}`),
      ['4<-2:send:bad-polynomials'],
    );
    const done = completions(cluster, 1n, 2);
    assert.equal(done.size, 5, 'every node completed dealing 2');
    assert.equal(new Set(done.values()).size, 1, 'all with the same commitment');
  });

  it('a dealer sends one node a column of the wrong length: rejected as bad dimensions, completed anyway', () => {
    const keys = [1n];
    const tamper = (from: number, to: number, m: KeygenMessage): KeygenMessage[] =>
      m.type === 'send' && from === 1 && to === 3 ? [{ ...m, b: [...m.b, 5n] }] : [m];
    const cluster = runCluster({ n: 5, k: 3, t: 1, seed: 25, tamper, autoDecide: 'quiet' }, keys);
    assertKeysFine(cluster, keys);
    assert.deepEqual(cluster.harmfulRejections().map((r) => `${r.at}<-${r.from}:${r.reason}`), ['3<-1:bad-dimensions']);
    assert.equal(completions(cluster, 1n, 1).size, 5);
  });

  /** Dealer 1 deals a second, unrelated bivariate pair to the nodes in `others`. */
  function equivocate(k: number, others: ReadonlySet<number>) {
    const second = new Map<bigint, { F: bigint[][]; Fp: bigint[][]; C: Point[][] }>();
    return (from: number, to: number, m: KeygenMessage): KeygenMessage[] => {
      if (m.type !== 'send' || from !== 1 || !others.has(to)) return [m];
      let alt = second.get(m.keyIndex);
      if (alt === undefined) {
        const F = randomBivariate(randomScalar(), k);
        const Fp = randomBivariate(randomScalar(), k);
        alt = { F, Fp, C: commitMatrix(F, Fp, k) };
        second.set(m.keyIndex, alt);
      }
      return [{ ...m, commitment: alt.C, a: rowPolynomial(alt.F, to), aPrime: rowPolynomial(alt.Fp, to), b: columnPolynomial(alt.F, to), bPrime: columnPolynomial(alt.Fp, to) }];
    };
  }

  it('an equivocating dealer (4 vs 1 at n=5): only the majority commitment completes, at every node', () => {
    const keys = [1n, 2n];
    const cluster = runCluster({ n: 5, k: 3, t: 1, seed: 26, tamper: equivocate(3, new Set([5])), autoDecide: 'quiet' }, keys);
    assertKeysFine(cluster, keys);
    for (const keyIndex of keys) {
      const done = completions(cluster, keyIndex, 1);
      assert.equal(done.size, 5, 'node 5 completes the majority commitment through a commitment request');
      assert.equal(new Set(done.values()).size, 1);
    }
    // Node 5 had to ask for the majority matrix.
    assert.ok(cluster.timing.get('commitment-request') !== undefined);
  });

  it('an equivocating dealer (3 vs 2 at n=5): no commitment reaches an echo quorum, the key finishes without it', () => {
    const keys = [1n];
    const cluster = runCluster({ n: 5, k: 3, t: 1, seed: 27, tamper: equivocate(3, new Set([4, 5])), autoDecide: 'quiet' }, keys);
    assertKeysFine(cluster, keys);
    assert.equal(completions(cluster, 1n, 1).size, 0);
    assert.deepEqual(cluster.decided.get(1n)?.dealings.map((d) => d.dealer), [2, 3, 4, 5]);
  });

  it('n=9: equivocation 7 vs 2 completes one commitment everywhere; 5 vs 4 completes none', () => {
    const a = runCluster({ n: 9, k: 5, t: 2, seed: 28, tamper: equivocate(5, new Set([8, 9])), autoDecide: 'quiet' }, [1n]);
    assertKeysFine(a, [1n]);
    const doneA = completions(a, 1n, 1);
    assert.equal(doneA.size, 9);
    assert.equal(new Set(doneA.values()).size, 1);
    const b = runCluster({ n: 9, k: 5, t: 2, seed: 29, tamper: equivocate(5, new Set([6, 7, 8, 9])), autoDecide: 'quiet' }, [1n]);
    assertKeysFine(b, [1n]);
    assert.equal(completions(b, 1n, 1).size, 0);
  });
});

describe('Byzantine echoes and readies', () => {
  for (const [half, field] of [['β', 'beta'], ['α', 'alpha'], ["β'", 'betaPrime'], ["α'", 'alphaPrime']] as const) {
    it(`node 3 corrupts ${half} of all its echoes and readies: all rejected, every key still finishes`, () => {
      const keys = [1n, 2n];
      const tamper = (from: number, _to: number, m: KeygenMessage): KeygenMessage[] =>
        from === 3 && (m.type === 'echo' || m.type === 'ready') ? [{ ...m, pair: { ...m.pair, [field]: bump(m.pair[field]) } }] : [m];
      const cluster = runCluster({ n: 5, k: 3, t: 1, seed: 30, tamper }, keys);
      assertKeysFine(cluster, keys);
      const harmful = cluster.harmfulRejections();
      assert.ok(harmful.length > 0);
      for (const r of harmful) {
        assert.equal(r.from, 3);
        assert.equal(r.reason, 'bad-point-pair');
      }
    });
  }

  it('node 2 signs its readies badly: rejected as bad signatures, every key still finishes', () => {
    const keys = [1n];
    const tamper = (from: number, _to: number, m: KeygenMessage): KeygenMessage[] => {
      if (from !== 2 || m.type !== 'ready') return [m];
      const signature = Uint8Array.from(m.signature);
      signature[10] = (signature[10] as number) ^ 1;
      return [{ ...m, signature }];
    };
    const cluster = runCluster({ n: 5, k: 3, t: 1, seed: 31, tamper }, keys);
    assertKeysFine(cluster, keys);
    const harmful = cluster.harmfulRejections();
    assert.ok(harmful.length > 0);
    for (const r of harmful) assert.deepEqual([r.from, r.type, r.reason], [2, 'ready', 'bad-signature']);
  });
});

/** Five engines driven by hand (no delivery loop), all expecting key 1; node 1 has dealt. */
function handDriven(options: { curveChecksOnly?: boolean } = {}) {
  const cluster = new Cluster({ n: 5, k: 3, t: 1, seed: 40, autoDecide: false, ...(options.curveChecksOnly ? { curveChecksOnly: true } : {}) });
  for (const i of cluster.live) cluster.engine(i).expectKey(1n);
  const dealt = cluster.engine(1).startKey(1n);
  const sendTo = (i: number): SendMessage => one(sent(dealt, i, 'send'), `send to ${i}`);
  /** Node m's echo to node `to` after m received its send. */
  const echoes = new Map<number, Output>();
  const echoOf = (m: number, to: number): EchoMessage => {
    let out = echoes.get(m);
    if (out === undefined) {
      out = m === 1 ? dealt : cluster.engine(m).receive(1, sendTo(m));
      echoes.set(m, out);
    }
    return one(sent(out, to, 'echo'), `echo ${m}->${to}`);
  };
  return { cluster, dealt, sendTo, echoOf };
}

describe('point-pair checks on both halves', () => {
  for (const curveChecksOnly of [false, true]) {
    it(`a node holding its polynomials rejects good α/bad β and bad α/good β (${curveChecksOnly ? 'curve' : 'scalar'} check)`, () => {
      const { cluster, sendTo, echoOf } = handDriven({ curveChecksOnly });
      const node2 = cluster.engine(2);
      assert.deepEqual(node2.receive(1, sendTo(2)).rejected, []);
      const badBeta = echoOf(3, 2);
      const badAlpha = echoOf(4, 2);
      const out3 = node2.receive(3, { ...badBeta, pair: { ...badBeta.pair, beta: bump(badBeta.pair.beta) } });
      assert.deepEqual(out3.rejected.map((r) => r.reason), ['bad-point-pair']);
      const out4 = node2.receive(4, { ...badAlpha, pair: { ...badAlpha.pair, alpha: bump(badAlpha.pair.alpha) } });
      assert.deepEqual(out4.rejected.map((r) => r.reason), ['bad-point-pair']);
      // Good echoes from 1 and 5 plus its own make 3 valid ones: below the echo threshold of 4, no ready.
      const out1 = node2.receive(1, echoOf(1, 2));
      const out5 = node2.receive(5, echoOf(5, 2));
      assert.deepEqual([...out1.rejected, ...out5.rejected], []);
      assert.equal(sent(out5, 1, 'ready').length, 0);
    });
  }

  it('a node without a send checks buffered echoes on the curve once it gets the matrix', () => {
    const { cluster, echoOf } = handDriven();
    const node5 = cluster.engine(5);
    // Node 5 never gets its send. Echoes from 1..4 arrive first; 3 has a bad β, 4 a bad α.
    const e3 = echoOf(3, 5);
    const e4 = echoOf(4, 5);
    const outs = [
      node5.receive(1, echoOf(1, 5)),
      node5.receive(2, echoOf(2, 5)),
      node5.receive(3, { ...e3, pair: { ...e3.pair, beta: bump(e3.pair.beta) } }),
      node5.receive(4, { ...e4, pair: { ...e4.pair, alpha: bump(e4.pair.alpha) } }),
    ];
    for (const out of outs) assert.deepEqual(out.rejected, []);
    // The fourth pending echo reaches the echo threshold: node 5 asks every sender for the matrix.
    const requests = [1, 2, 3, 4].map((m) => one(sent(outs[3] as Output, m, 'commitment-request'), `request to ${m}`));
    const answer = cluster.engine(1).receive(5, requests[0] as KeygenMessage);
    const commitment = one(sent(answer, 5, 'commitment'), 'commitment');
    const out = node5.receive(1, commitment);
    assert.deepEqual(out.rejected.map((r) => `${r.from}:${r.reason}`).sort(), ['3:bad-point-pair', '4:bad-point-pair']);
    assert.equal(sent(out, 1, 'ready').length, 0, 'two valid echoes are not a quorum');
    // A second answer is late; a matrix nobody asked for (here: for dealer 2's dealing) is unsolicited.
    assert.deepEqual(node5.receive(2, commitment).rejected.map((r) => r.reason), ['late']);
    assert.deepEqual(node5.receive(3, { ...commitment, dealer: 2 }).rejected.map((r) => r.reason), ['unsolicited']);
  });

  it('a node without a send that gets four good echoes batch-checks them and sends ready', () => {
    const { cluster, echoOf } = handDriven();
    const node5 = cluster.engine(5);
    let last: Output | undefined;
    for (const m of [1, 2, 3, 4]) last = node5.receive(m, echoOf(m, 5));
    const answer = cluster.engine(2).receive(5, one(sent(last as Output, 2, 'commitment-request'), 'request'));
    const out = node5.receive(2, one(sent(answer, 5, 'commitment'), 'commitment'));
    assert.deepEqual(out.rejected, []);
    for (const m of [1, 2, 3, 4]) one(sent(out, m, 'ready'), `ready to ${m}`);
  });
});

describe('input validation', () => {
  function fresh(): { cluster: Cluster; send: SendMessage; node2: KeygenEngine } {
    const { cluster, sendTo } = handDriven();
    return { cluster, send: sendTo(2), node2: cluster.engine(2) };
  }
  const reasons = (out: Output) => out.rejected.map((r) => r.reason);

  it('threshold raise and lowering: matrix or polynomials of the wrong size', () => {
    const F = randomBivariate(randomScalar(), 4);
    const Fp = randomBivariate(randomScalar(), 4);
    const big = { commitment: commitMatrix(F, Fp, 4), a: rowPolynomial(F, 2), aPrime: rowPolynomial(Fp, 2), b: columnPolynomial(F, 2), bPrime: columnPolynomial(Fp, 2) };
    for (const change of [
      big,
      (s: SendMessage) => ({ a: [...s.a, 1n] }),
      (s: SendMessage) => ({ aPrime: s.aPrime.slice(0, 2) }),
      () => ({ bPrime: [] }),
      (s: SendMessage) => ({ commitment: s.commitment.slice(0, 2) }),
      (s: SendMessage) => ({ commitment: s.commitment.map((row) => row.slice(0, 2)) }),
    ]) {
      const { send, node2 } = fresh();
      const patch = typeof change === 'function' ? change(send) : change;
      assert.deepEqual(reasons(node2.receive(1, { ...send, ...patch })), ['bad-dimensions']);
    }
  });

  it('identity points, out-of-range scalars, bad hashes and signatures', () => {
    let { send, node2 } = fresh();
    const C = send.commitment.map((row) => [...row]);
    (C[1] as Point[])[2] = Point.ZERO;
    assert.deepEqual(reasons(node2.receive(1, { ...send, commitment: C })), ['bad-point']);
    ({ send, node2 } = fresh());
    assert.deepEqual(reasons(node2.receive(1, { ...send, b: [ORDER, ...send.b.slice(1)] })), ['bad-value']);
    ({ send, node2 } = fresh());
    assert.deepEqual(reasons(node2.receive(1, send)), []);
    const { echoOf, cluster } = handDriven();
    const echo = echoOf(3, 2);
    const engine = cluster.engine(2);
    assert.deepEqual(reasons(engine.receive(3, { ...echo, commitmentHash: echo.commitmentHash.subarray(0, 31) })), ['bad-value']);
    assert.deepEqual(reasons(engine.receive(4, { ...echoOf(4, 2), pair: { ...echo.pair, beta: -1n } })), ['bad-value']);
  });

  it('senders, indexes, keys, epochs and duplicates', () => {
    const { send, node2 } = fresh();
    assert.deepEqual(reasons(node2.receive(0, send)), ['not-member']);
    assert.deepEqual(reasons(node2.receive(6, send)), ['not-member']);
    assert.deepEqual(reasons(node2.receive(3, send)), ['not-dealer']);
    assert.deepEqual(reasons(node2.receive(1, { ...send, dealer: 0 })), ['bad-index']);
    assert.deepEqual(reasons(node2.receive(1, { ...send, dealer: 9 })), ['bad-index']);
    assert.deepEqual(reasons(node2.receive(1, { ...send, keyIndex: 2n })), ['unknown-key']);
    assert.deepEqual(reasons(node2.receive(1, { ...send, epoch: send.epoch + 1n })), ['wrong-epoch']);
    assert.deepEqual(reasons(node2.receive(1, send)), []);
    const again = node2.receive(1, send);
    assert.deepEqual(again.rejected.map((r) => `${r.from}:${r.type}:${r.reason}`), ['1:send:duplicate']);
    assert.deepEqual(again.outbox, [], 'a duplicate send is not echoed again');
  });

  it('the engine never throws on garbage fields', () => {
    const { send } = fresh();
    const epoch = send.epoch;
    const garbage: Array<[number, unknown, string]> = [
      [1, { ...send, commitment: undefined }, 'bad-dimensions'],
      [1, { ...send, commitment: [[1, 2, 3], [1, 2, 3], [1, 2, 3]] }, 'bad-point'],
      [1, { ...send, a: 'x' }, 'bad-dimensions'],
      [1, { ...send, keyIndex: 1 }, 'bad-value'],
      [3, { type: 'echo', epoch, keyIndex: 1n, dealer: 1, commitmentHash: new Uint8Array(32), pair: undefined }, 'bad-value'],
      [3, { type: 'echo', epoch, keyIndex: 1n, dealer: 1, commitmentHash: 'hash', pair: undefined }, 'bad-value'],
      [3, { type: 'ready', epoch, keyIndex: 1n, dealer: 2, commitmentHash: new Uint8Array(32), pair: { alpha: 1n, alphaPrime: 1n, beta: 1n, betaPrime: 1n }, signature: 'sig' }, 'bad-signature'],
      [3, { type: 'share-proof', epoch, keyIndex: 1n, node: 3, sharePublic: 'point', proof: undefined }, 'bad-point'],
      [3, { type: 'nonsense', epoch, keyIndex: 1n }, 'bad-value'],
    ];
    for (const [from, message, reason] of garbage) {
      const { node2 } = fresh();
      assert.deepEqual(reasons(node2.receive(from, message as KeygenMessage)), [reason], JSON.stringify(message, (_k, v: unknown) => (typeof v === 'bigint' ? String(v) : v)).slice(0, 80));
    }
  });
});

describe('nodes that start a key late', () => {
  it('with early messages held, every node finishes even when peers started long before it', () => {
    const keys = [1n, 2n, 3n];
    const cluster = new Cluster({ n: 5, k: 3, t: 1, seed: 70, earlyMessagesPerPeer: 1000 });
    cluster.start(keys, { late: true });
    cluster.run();
    assertKeysFine(cluster, keys);
    assert.deepEqual(cluster.harmfulRejections(), []);
    for (const i of cluster.live) assert.equal(cluster.engine(i).heldMessages(), 0);
  });

  it('without holding, early messages are rejected as unknown-key', () => {
    const cluster = new Cluster({ n: 5, k: 3, t: 1, seed: 70 });
    cluster.start([1n, 2n, 3n], { late: true });
    cluster.run();
    assert.ok(cluster.rejected.some((r) => r.reason === 'unknown-key'));
  });

  it('a full quota drops the oldest held message as unknown-key; the rest are handled on expectKey', () => {
    const { sendTo, echoOf } = handDriven();
    const cluster = new Cluster({ n: 5, k: 3, t: 1, seed: 71, earlyMessagesPerPeer: 2 });
    const node2 = cluster.engine(2);
    // Node 2 has not heard of key 1 yet.
    assert.deepEqual(node2.receive(3, echoOf(3, 2)).rejected, []);
    assert.deepEqual(node2.receive(1, sendTo(2)).rejected, []);
    assert.deepEqual(node2.receive(1, echoOf(1, 2)).rejected, []);
    assert.deepEqual(node2.receive(3, echoOf(4, 2)).rejected, []);
    const full = node2.receive(3, echoOf(5, 2));
    assert.deepEqual(full.rejected.map((r) => `${r.from}:${r.type}:${r.reason}`), ['3:echo:unknown-key']);
    assert.equal(node2.heldMessages(), 4);
    const out = node2.expectKey(1n);
    assert.equal(node2.heldMessages(), 0);
    // The held send is handled: node 2 echoes to everyone.
    for (const j of [1, 3, 4, 5]) one(sent(out, j, 'echo'), `echo to ${j}`);
  });
});

describe('replays across keys and epochs', () => {
  it('messages of key 1 replayed into key 2 or 9, or another epoch, are rejected or never counted', () => {
    const cluster = new Cluster({ n: 5, k: 3, t: 1, seed: 50, autoDecide: false });
    cluster.recordDeliveries = true;
    cluster.start([1n, 2n]);
    cluster.run();
    assert.equal(cluster.decided.size, 2, 'both keys have a valid proposal');
    cluster.decide(1n);
    cluster.run();
    checkKey(cluster, 1n);
    const node2 = cluster.engine(2);
    const to2 = cluster.delivered.filter((d) => d.to === 2 && d.message.keyIndex === 1n);
    const find = (type: KeygenMessage['type'], sender: number, dealer?: number) =>
      to2.find((d) => d.from === sender && d.message.type === type && (dealer === undefined || (d.message.type !== 'share-proof' && d.message.dealer === dealer)))?.message;
    // A dealer other than node 2 whose send and every other node's echo reached node 2 over the network.
    const dealer = [1, 3, 4, 5].find((d) => find('send', d, d) !== undefined && [1, 3, 4, 5].every((m) => find('echo', m, d) !== undefined));
    assert.ok(dealer !== undefined);
    const from = (type: KeygenMessage['type'], sender: number) => find(type, sender, type === 'share-proof' ? undefined : dealer);

    // Epoch: any message relabelled with another epoch.
    const ready3 = from('ready', 3) as ReadyMessage;
    assert.deepEqual(node2.receive(3, { ...ready3, epoch: ready3.epoch + 1n }).rejected.map((r) => r.reason), ['wrong-epoch']);

    // Key 9 is expected but nothing has happened for it yet.
    node2.expectKey(9n);
    assert.deepEqual(node2.receive(3, { ...ready3, keyIndex: 9n }).rejected.map((r) => r.reason), ['bad-signature']);
    const send = from('send', dealer) as SendMessage;
    const notDealer = dealer === 4 ? 5 : 4;
    assert.deepEqual(node2.receive(notDealer, { ...send, keyIndex: 9n }).rejected.map((r) => r.reason), ['not-dealer']);
    // Echoes of key 1 replayed into key 9 are buffered under their (key-1) hash and never counted; the
    // matrix that hashes to it under key 1's context does not under key 9's.
    const echoesFor = [1, 3, 4, 5].map((m) => to2.find((d) => d.from === m && d.message.type === 'echo' && d.message.dealer === dealer)?.message as EchoMessage);
    let last: Output | undefined;
    echoesFor.forEach((e, i) => {
      last = node2.receive([1, 3, 4, 5][i] as number, { ...e, keyIndex: 9n });
      assert.deepEqual(last.rejected, []);
    });
    assert.equal(sent(last as Output, 1, 'ready').length, 0);
    one(sent(last as Output, 3, 'commitment-request'), 'request');
    const replayedMatrix: CommitmentMessage = { type: 'commitment', epoch: cluster.epoch, keyIndex: 9n, dealer, commitment: send.commitment };
    assert.deepEqual(node2.receive(3, replayedMatrix).rejected.map((r) => r.reason), ['commitment-mismatch']);
    assert.deepEqual(node2.status(9n).completedDealers, []);

    // Share proofs: node 2 decides key 2; node 3's proof for key 1 replayed as key 2 fails its context.
    const proof3 = from('share-proof', 3) as ShareProofMessage | undefined;
    assert.ok(proof3 !== undefined);
    const decision = cluster.decided.get(2n);
    assert.ok(decision !== undefined);
    node2.onDecided(2n, decision);
    assert.equal(node2.status(2n).phase, 'share-ready');
    assert.deepEqual(node2.receive(3, { ...proof3, keyIndex: 2n }).rejected.map((r) => r.reason), ['bad-proof']);
    assert.deepEqual(node2.receive(4, { ...proof3, keyIndex: 2n }).rejected.map((r) => r.reason), ['wrong-sender']);
    assert.deepEqual(node2.receive(3, { ...proof3, keyIndex: 2n, epoch: 4n }).rejected.map((r) => r.reason), ['wrong-epoch']);
    // Key 1 is finished at node 2: late messages are benign rejections.
    assert.deepEqual(node2.receive(3, ready3).rejected.map((r) => r.reason), ['key-finished']);
  });
});

describe('restart safety', () => {
  it('an engine rebuilt on the same store deals the identical polynomials; a fresh store does not', () => {
    const cluster = new Cluster({ n: 5, k: 3, t: 1, seed: 60, autoDecide: false });
    const store = new MemoryDealingStore();
    const engine = () => new KeygenEngine(cluster.configFor(1, store));
    const frames = (out: Output) => out.outbox.map((o) => bytesToHex(encodeBatch(o.messages)));
    const first = engine().startKey(4n);
    assert.ok(store.loadDealing(cluster.epoch, 4n) !== undefined, 'the dealing is saved by the time startKey returns');
    assert.equal(first.outbox.length, 4);
    const again = engine().startKey(4n);
    assert.deepEqual(frames(again), frames(first));
    const other = new KeygenEngine(cluster.configFor(1, new MemoryDealingStore())).startKey(4n);
    assert.notDeepEqual(frames(other), frames(first));
    // Calling startKey twice on one engine sends nothing new.
    const e = engine();
    e.startKey(5n);
    assert.deepEqual(e.startKey(5n).outbox, []);
  });

  it('a node whose store says it sent ready for another commitment never signs a second one', () => {
    const store = new MemoryDealingStore();
    store.saveReady(3n, 1n, 1, new Uint8Array(32).fill(7));
    const cluster = runCluster({ n: 5, k: 3, t: 1, seed: 61, stores: new Map([[2, store]]), autoDecide: 'quiet' }, [1n]);
    assertKeysFine(cluster, [1n]);
    const errors = cluster.events.filter((e) => e.type === 'dealing-error' && e.at === 2);
    assert.equal(errors.length, 1);
    assert.ok(equalBytes(store.loadReady(3n, 1n, 1) as Uint8Array, new Uint8Array(32).fill(7)));
  });
});

describe('the echo point pair convention', () => {
  it('an echo from m to i carries α = F(m,i) and β = F(i,m)', () => {
    const { cluster, echoOf } = handDriven();
    const F = (cluster.stores.get(1) as MemoryDealingStore).loadDealing(cluster.epoch, 1n)?.F;
    assert.ok(F !== undefined);
    const pair: PointPair = echoOf(3, 2).pair;
    assert.equal(pair.alpha, columnPolynomial(F, 2).reduceRight((acc, c) => Fn.add(Fn.mul(acc, 3n), c), 0n));
    assert.equal(pair.beta, rowPolynomial(F, 2).reduceRight((acc, c) => Fn.add(Fn.mul(acc, 3n), c), 0n));
  });
});
