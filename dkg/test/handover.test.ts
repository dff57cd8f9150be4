/**
 * The pacing of an old node's re-dealings (dkg/src/handover.ts): a window of keys ahead of the lowest key the
 * new committee still has to take over, so what is in flight stays bounded however many keys move. The
 * hand-over itself runs on real processes in testnet/test/rotation.test.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { REDEALING_WINDOW, redealingWindowEnd } from '../src/handover.js';

test('the re-dealing window follows the lowest key the new committee still waits for', () => {
  // Frozen keys with holes (unassigned indexes are not handed over): 0, 2, 4, ..., 398.
  const frozen = Array.from({ length: 200 }, (_, i) => 2 * i);
  assert.equal(redealingWindowEnd(frozen, 0), REDEALING_WINDOW, 'before any progress: one window');
  assert.equal(redealingWindowEnd(frozen, 200), 100 + REDEALING_WINDOW, 'key 200 is the 101st: 100 below it, then a window');
  assert.equal(redealingWindowEnd(frozen, 201), 101 + REDEALING_WINDOW, 'a frontier in a hole counts the keys below it');
  assert.equal(redealingWindowEnd(frozen, 390), 200, 'never past the end');
  assert.equal(redealingWindowEnd(frozen, 10_000), 200);
  assert.equal(redealingWindowEnd([], 0), 0, 'an empty mapping has nothing to re-deal');
  assert.equal(redealingWindowEnd(frozen, 0, 1), 1, 'a window of one key at a time');
  assert.ok(REDEALING_WINDOW >= 16 && REDEALING_WINDOW <= 1024, 'more than a target works on at once, far below its early-message quota');
});
