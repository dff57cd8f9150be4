/**
 * The key-generation engines on a simulated network with the real mapping state machine as the ledger:
 * delays, reordering, duplicates, drops with retransmission, crashes, a restart, Byzantine dealers,
 * echoers/readiers and replays. Every run checks agreement on the ledger's public keys, the shares, that no
 * honest node aborts a key, and that every scheduled key becomes ready.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { bytesToHex } from '../../core/encoding/bytes.js';
import { commitMatrix, type CommitmentMatrix } from '../../core/crypto/pedersen.js';
import { columnPolynomial, randomBivariate, rowPolynomial } from '../../core/crypto/polynomial.js';
import { Fn, randomScalar } from '../../core/crypto/scalar.js';
import type { KeygenMessage } from '../src/protocol/messages.js';
import { MemoryDealingStore } from '../src/protocol/store.js';
import { checkSimKey, Simulation, type SimOptions, type Tamper } from './simulation.js';

const bump = (x: bigint): bigint => Fn.add(x, 1n);

/** Dealer `dealer` sends the nodes in `victims` a row that does not match its commitment. */
function badShares(dealer: number, victims: ReadonlySet<number>): Tamper {
  return (from, to, m) => (m.type === 'send' && from === dealer && victims.has(to) ? [{ ...m, a: [bump(m.a[0] as bigint), ...m.a.slice(1)] }] : [m]);
}

/** A fresh bivariate pair of degree `size` per key, dealt consistently to the nodes in `victims`. */
function alternativeDealing(dealer: number, size: number, victims: ReadonlySet<number>): Tamper {
  const alt = new Map<bigint, { F: bigint[][]; Fp: bigint[][]; C: CommitmentMatrix }>();
  return (from, to, m) => {
    if (m.type !== 'send' || from !== dealer || !victims.has(to)) return [m];
    let d = alt.get(m.keyIndex);
    if (d === undefined) {
      const F = randomBivariate(randomScalar(), size);
      const Fp = randomBivariate(randomScalar(), size);
      d = { F, Fp, C: commitMatrix(F, Fp, size) };
      alt.set(m.keyIndex, d);
    }
    return [{ ...m, commitment: d.C, a: rowPolynomial(d.F, to), aPrime: rowPolynomial(d.Fp, to), b: columnPolynomial(d.F, to), bPrime: columnPolynomial(d.Fp, to) }];
  };
}

/** Node `node` corrupts its echoes and readies: bad β (good α) to even nodes, bad α (good β) to odd ones. */
function badPairs(node: number): Tamper {
  return (from, to, m) => {
    if (from !== node || (m.type !== 'echo' && m.type !== 'ready')) return [m];
    const pair = to % 2 === 0 ? { ...m.pair, beta: bump(m.pair.beta) } : { ...m.pair, alpha: bump(m.pair.alpha) };
    return [{ ...m, pair }];
  };
}

/** Every message also goes out relabelled with another scheduled key index and with the next epoch. */
function replayOwn(keys: number): Tamper {
  return (_from, _to, m) => [m, { ...m, keyIndex: (m.keyIndex + 1n) % BigInt(keys) }, { ...m, epoch: m.epoch + 1n }];
}

/** A Byzantine node forwards what it receives to one other node, relabelled into another key and epoch. */
function replayReceived(n: number, keys: number) {
  return (from: number, self: number, m: KeygenMessage) => {
    const to = ((from + self) % n) + 1;
    return [
      { to, message: { ...m, keyIndex: (m.keyIndex + 1n) % BigInt(keys) } as KeygenMessage },
      { to, message: { ...m, epoch: m.epoch + 1n } as KeygenMessage },
    ];
  };
}

function assertRun(sim: Simulation): void {
  sim.run();
  assert.deepEqual(sim.keyAborts(sim.honest), [], 'no honest node aborts a key');
  const keys: string[] = [];
  for (let κ = 0; κ < sim.opts.keys; κ++) {
    const { publicKey } = checkSimKey(sim, κ);
    keys.push(bytesToHex(publicKey.toBytes(true)));
    // Every honest node derived a share of this ledger key (its share-ready event's g^s lies on it).
    for (const i of sim.honest) {
      if (sim.readyWhileDown.has(κ) && i === sim.opts.crashRestart?.node) continue;
      assert.ok(sim.events.some((e) => e.type === 'share-ready' && e.at === i && e.keyIndex === BigInt(κ)), `node ${i} share-ready for key ${κ}`);
    }
  }
  assert.equal(new Set(keys).size, keys.length, 'distinct keys');
}

interface Shape {
  readonly n: number;
  readonly k: number;
  readonly t: number;
  readonly keys: number;
}

const SHAPES: readonly Shape[] = [
  { n: 5, k: 3, t: 1, keys: 3 },
  { n: 9, k: 5, t: 2, keys: 2 },
];

const NETWORK = { pDrop: 0.05, pDup: 0.05, maxDelay: 4, blockEvery: 3 } as const;

for (const shape of SHAPES) {
  const { n, t, keys } = shape;
  const base = (seed: number): SimOptions => ({ ...shape, ...NETWORK, seed: seed * 100 + n });
  const victims = (count: number) => new Set(Array.from({ length: count }, (_, j) => n - j));

  describe(`simulation n=${n} k=${shape.k} t=${t}, ${keys} keys, real ledger`, () => {
    it('all honest', () => {
      const sim = new Simulation(base(1));
      assertRun(sim);
      assert.ok(sim.stats.framesDropped > 0, 'some frames were dropped and re-sent');
      assert.deepEqual(sim.rejected.filter((r) => !['key-finished', 'late', 'not-decided', 'duplicate'].includes(r.reason)), []);
    });

    it(`${t} crashed from the start`, () => {
      const crashed = Array.from({ length: t }, (_, j) => 2 + j * 3);
      const sim = new Simulation({ ...base(2), crashed });
      assertRun(sim);
      for (let κ = 0; κ < keys; κ++) {
        for (const c of crashed) assert.ok(!sim.keyRecord(κ)?.dealers?.includes(c), `crashed node ${c} is not a decided dealer`);
      }
    });

    it('a node crashes mid-dealing and restarts on its store', () => {
      const node = 3;
      const sim = new Simulation({ ...base(3), crashRestart: { node, at: 7, restartAt: 12 }, maxKeysInFlight: 1 });
      while (sim.tick <= 7) sim.step();
      const store = sim.stores.get(node) as MemoryDealingStore;
      assert.ok(store.dealings.size > 0, 'the node had dealt before the crash');
      assert.equal(store.shares.size, 0, 'and held no final share yet');
      const dealt = new Map([...store.dealings].map(([key, d]) => [key, d.F[0]?.[0]]));
      assertRun(sim);
      // It dealt the same polynomials again after the restart, and finished every key still pending then.
      for (const [key, s] of dealt) assert.equal(store.dealings.get(key)?.F[0]?.[0], s);
      assert.ok(sim.readyWhileDown.size < keys, 'some key was still pending at the restart');
      assert.equal(store.shares.size, keys - sim.readyWhileDown.size);
    });

    it('Byzantine dealer: bad shares to some nodes', () => {
      const sim = new Simulation({ ...base(4), byzantine: [1], tamper: badShares(1, victims(t + 1)) });
      assertRun(sim);
      assert.ok(sim.rejected.some((r) => r.from === 1 && r.type === 'send' && r.reason === 'bad-polynomials'));
    });

    it('Byzantine dealer: two commitments to different nodes', () => {
      const sim = new Simulation({ ...base(5), byzantine: [1], tamper: alternativeDealing(1, shape.k, victims(t)) });
      assertRun(sim);
    });

    it('Byzantine dealer: an oversized matrix', () => {
      const sim = new Simulation({ ...base(6), byzantine: [2], tamper: alternativeDealing(2, shape.k + 1, victims(t + 1)) });
      assertRun(sim);
      assert.ok(sim.rejected.some((r) => r.from === 2 && r.type === 'send' && r.reason === 'bad-dimensions'));
    });

    it('Byzantine echoer/readier: good α with bad β, and bad α with good β', () => {
      const sim = new Simulation({ ...base(7), byzantine: [4], tamper: badPairs(4) });
      assertRun(sim);
      assert.ok(sim.rejected.some((r) => r.from === 4 && r.reason === 'bad-point-pair'));
    });

    it('valid messages replayed into another key index and another epoch', () => {
      const sim = new Simulation({ ...base(8), byzantine: [n], tamper: replayOwn(keys), forwardReceived: replayReceived(n, keys) });
      assertRun(sim);
      assert.ok(sim.rejected.some((r) => r.reason === 'wrong-epoch'));
    });
  });
}
