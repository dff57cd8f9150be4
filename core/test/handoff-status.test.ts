import { test } from 'node:test';
import assert from 'node:assert/strict';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { NodeSigner } from '../crypto/signature.js';
import { bytesToHex } from '../encoding/bytes.js';
import { MAPPING_CHUNK_TAG } from '../handoff/mapping.js';
import { HANDOFF_COMPLETE_TAG, handoffCompleteParts, signHandoffComplete, verifyHandoffComplete } from '../handoff/status.js';

const newNode = new NodeSigner(secp256k1.Point.Fn.toBytes(0x2001n));
const otherNode = new NodeSigner(secp256k1.Point.Fn.toBytes(0x2002n));
const CHAIN = 'torus-test-chain-epoch-2';

test('the completion statement has a fixed encoding: chain id, then epoch and previous epoch as u64', () => {
  assert.equal(HANDOFF_COMPLETE_TAG, 'torus/handoff/complete/v1');
  assert.deepEqual(handoffCompleteParts('c', 2n, 1n).map(bytesToHex), ['63', '0000000000000002', '0000000000000001']);
  assert.throws(() => handoffCompleteParts(CHAIN, -1n, 1n), /not a u64/);
});

test('a completion signature verifies only for its own chain, epoch and previous epoch, and only with its key', () => {
  const signature = signHandoffComplete(newNode, CHAIN, 2n, 1n);
  assert.equal(signature.length, 64);
  assert.equal(verifyHandoffComplete(newNode.publicKey, CHAIN, 2n, 1n, signature), true);

  assert.equal(verifyHandoffComplete(newNode.publicKey, 'torus-test-chain-epoch-3', 2n, 1n, signature), false, 'another chain');
  assert.equal(verifyHandoffComplete(newNode.publicKey, CHAIN, 3n, 1n, signature), false, 'another epoch');
  assert.equal(verifyHandoffComplete(newNode.publicKey, CHAIN, 2n, 0n, signature), false, 'another previous epoch');
  assert.equal(verifyHandoffComplete(newNode.publicKey, CHAIN, 1n, 2n, signature), false, 'epochs swapped');
  assert.equal(verifyHandoffComplete(otherNode.publicKey, CHAIN, 2n, 1n, signature), false, 'another node\'s key');

  const flipped = Uint8Array.from(signature);
  flipped[10] = (flipped[10] as number) ^ 1;
  assert.equal(verifyHandoffComplete(newNode.publicKey, CHAIN, 2n, 1n, flipped), false, 'a changed signature');
  assert.equal(verifyHandoffComplete(newNode.publicKey, CHAIN, 2n, 1n, signature.subarray(0, 63)), false, 'a short signature');

  // The same parts signed for another purpose are not a completion statement.
  const otherPurpose = newNode.sign(MAPPING_CHUNK_TAG, handoffCompleteParts(CHAIN, 2n, 1n));
  assert.equal(verifyHandoffComplete(newNode.publicKey, CHAIN, 2n, 1n, otherPurpose), false, 'another tag');
});
