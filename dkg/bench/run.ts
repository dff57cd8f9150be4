/**
 * bench:dkg — key-generation throughput with all nodes on this one machine, in one run:
 *   n=5 through the full stack (cometbft, torus-abci and torus-dkg per node, libp2p on loopback);
 *   n=9 in the deterministic simulation (real cryptography, the real mapping state machine as ledger);
 *   the crypto-only ceiling of the same engine code for both (all engines in one process, direct delivery).
 *
 *   npm run bench:dkg [-- --rounds 3 --keys5 100 --keys9 12]
 *
 * Ceilings: the n=5 full stack uses every core of the machine, so its ceiling is cores / (CPU seconds per
 * key); the n=9 simulation runs in one process, so its ceiling is 1 / (CPU seconds per key). Figures are
 * medians over rounds; ratios are ratios of medians from this run. Last line: JSON.
 */
import { availableParallelism } from 'node:os';
import { parseArgs } from 'node:util';
import { median } from '../../testnet/src/stats.js';
import { measureFullStack } from './full-stack.js';
import { measureCeiling, measureSimulation } from './simulation.js';

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '3' }, keys5: { type: 'string', default: '100' }, keys9: { type: 'string', default: '12' },
    'in-flight': { type: 'string', default: '40' },
  },
});
const ROUNDS = Number(values.rounds);
const KEYS5 = Number(values.keys5);
const KEYS9 = Number(values.keys9);
const IN_FLIGHT = Number(values['in-flight']);
const CORES = availableParallelism();

const round2 = (x: number) => Math.round(x * 100) / 100;

console.log(`bench:dkg — ${ROUNDS} rounds; n=5 full stack ${KEYS5} keys (${IN_FLIGHT} in flight); n=9 simulation ${KEYS9} keys; ${CORES} cores`);
const n5: number[] = [];
const n5Ceiling: number[] = [];
const n9: number[] = [];
const n9Ceiling: number[] = [];
for (let round = 1; round <= ROUNDS; round++) {
  const full = await measureFullStack(5, KEYS5, 10, IN_FLIGHT);
  n5.push(full.keysPerSecond);
  console.log(`round ${round}: n=5 full stack ${full.keysPerSecond.toFixed(2)} keys/s (${full.keys} keys in ${full.seconds.toFixed(1)} s; CPU s per key: ` +
    `dkg ${full.cpuSecondsPerKey.dkg}, torus-abci ${full.cpuSecondsPerKey.abci}, cometbft ${full.cpuSecondsPerKey.cometbft})`);
  const ceiling5 = await measureCeiling(5, 3, 1, 20);
  n5Ceiling.push(CORES / ceiling5.cpuSecondsPerKey);
  console.log(`round ${round}: n=5 ceiling ${(CORES / ceiling5.cpuSecondsPerKey).toFixed(2)} keys/s (${(ceiling5.cpuSecondsPerKey * 1000).toFixed(0)} ms CPU per key, ${CORES} cores)`);
  const sim = await measureSimulation(9, 5, 2, KEYS9, round);
  n9.push(sim.keysPerSecond);
  const ceiling9 = await measureCeiling(9, 5, 2, 6);
  n9Ceiling.push(ceiling9.keysPerSecond);
  console.log(`round ${round}: n=9 simulation ${sim.keysPerSecond.toFixed(2)} keys/s (${KEYS9} keys in ${sim.seconds.toFixed(1)} s, one process); ` +
    `ceiling ${ceiling9.keysPerSecond.toFixed(2)} keys/s (${(ceiling9.cpuSecondsPerKey * 1000).toFixed(0)} ms CPU per key, one core)`);
}
const result = {
  n5_keys_per_s: round2(median(n5)), n5_ceiling_keys_per_s: round2(median(n5Ceiling)), n5_ratio: round2(median(n5) / median(n5Ceiling)),
  n9_keys_per_s: round2(median(n9)), n9_ceiling_keys_per_s: round2(median(n9Ceiling)), n9_ratio: round2(median(n9) / median(n9Ceiling)),
  rounds: ROUNDS, cores: CORES,
};
console.log(`medians: n=5 ${result.n5_keys_per_s} keys/s of a ${result.n5_ceiling_keys_per_s} ceiling (${result.n5_ratio}); ` +
  `n=9 ${result.n9_keys_per_s} keys/s of a ${result.n9_ceiling_keys_per_s} ceiling (${result.n9_ratio})`);
console.log(JSON.stringify(result));
