/**
 * bench:reshare — keys moved from one committee to the next per second, against keys generated per second
 * for the same committee sizes, both measured in this run with the same engine code and the same harness:
 * all nodes of both committees in one process (real cryptography, every message through the engines,
 * every agreement judged by the ledger's rules), shuffled delivery, all keys in flight.
 *
 *   npm run bench:reshare [-- --rounds 3 --keys 12]
 *
 * Per round and size: a key generation of `keys` keys by the source committee (timed: dkg_keys_per_s), then
 * the hand-over of those keys to a new committee of the same size (timed: reshare_keys_per_s). Medians over
 * rounds; the ratio is the ratio of medians. Last line: JSON.
 */
import { parseArgs } from 'node:util';
import { median } from '../../testnet/src/stats.js';
import { Cluster } from '../test/harness.js';
import { ReshareCluster } from '../test/reshare-harness.js';

const { values } = parseArgs({ options: { rounds: { type: 'string', default: '3' }, keys: { type: 'string', default: '12' } } });
const ROUNDS = Number(values.rounds);
const KEYS = Number(values.keys);
const round2 = (x: number) => Math.round(x * 100) / 100;

function timed<T>(body: () => T): { value: T; seconds: number } {
  const start = performance.now();
  const value = body();
  return { value, seconds: (performance.now() - start) / 1000 };
}

function measure(n: number, k: number, t: number, seed: number): { dkg: number; reshare: number } {
  const keys = Array.from({ length: KEYS }, (_, i) => BigInt(i));
  const generation = timed(() => {
    const source = new Cluster({ n, k, t, seed, epoch: 1n });
    source.start(keys);
    source.run();
    return source;
  });
  const source = generation.value;
  if (source.published.size !== KEYS || source.invalidTxs.length > 0) throw new Error(`key generation finished ${source.published.size} of ${KEYS} keys`);
  const handOver = timed(() => {
    const target = new ReshareCluster({ source, n, k, t, seed: seed + 1 });
    target.start(keys);
    target.run();
    return target;
  });
  const target = handOver.value;
  if (target.published.size !== KEYS || target.invalidTxs.length > 0) throw new Error(`hand-over finished ${target.published.size} of ${KEYS} keys: ${target.invalidTxs.join('; ')}`);
  return { dkg: KEYS / generation.seconds, reshare: KEYS / handOver.seconds };
}

console.log(`bench:reshare — ${ROUNDS} rounds of ${KEYS} keys; (5,3,1) -> (5,3,1) and (9,5,2) -> (9,5,2), all nodes in one process`);
const figures = { n5: { dkg: [] as number[], reshare: [] as number[] }, n9: { dkg: [] as number[], reshare: [] as number[] } };
for (let round = 1; round <= ROUNDS; round++) {
  for (const [name, n, k, t] of [['n5', 5, 3, 1], ['n9', 9, 5, 2]] as const) {
    const r = measure(n, k, t, 100 * round + n);
    figures[name].dkg.push(r.dkg);
    figures[name].reshare.push(r.reshare);
    console.log(`round ${round}: n=${n} key generation ${r.dkg.toFixed(2)} keys/s, hand-over ${r.reshare.toFixed(2)} keys/s (${(r.reshare / r.dkg).toFixed(2)}x)`);
  }
}
const summary = (f: { dkg: number[]; reshare: number[] }) => ({ dkg: round2(median(f.dkg)), reshare: round2(median(f.reshare)), ratio: round2(median(f.reshare) / median(f.dkg)) });
const n5 = summary(figures.n5);
const n9 = summary(figures.n9);
console.log(`medians: n=5 hand-over ${n5.reshare} keys/s vs key generation ${n5.dkg} keys/s (${n5.ratio}x); n=9 ${n9.reshare} vs ${n9.dkg} (${n9.ratio}x); goal >= 0.5x`);
console.log(JSON.stringify({
  reshare_keys_per_s: n5.reshare, dkg_keys_per_s: n5.dkg, ratio: n5.ratio,
  n9_reshare_keys_per_s: n9.reshare, n9_dkg_keys_per_s: n9.dkg, n9_ratio: n9.ratio, rounds: ROUNDS, keys: KEYS,
}));
