/**
 * Deciding a key lookup from the nodes' answers, as a pure function so that the majority rules are testable
 * without a network. No single node is trusted with the answer "this user's key is K": the client accepts a
 * result only when floor(n/2)+1 nodes gave the same one (two disjoint majorities cannot exist), and equally for
 * "not assigned".
 *
 * Comparison is canonical: results are compared by value (key index, public key point, address), so hex case or
 * leading zeros do not split a majority; "not assigned" errors are compared by meaning, since nodes promise only
 * that the error data *contains* the marker (the text after it is free-form). Every answer is checked on its own
 * first: an address that is not the EIP-55 address of its public key makes the answer invalid, not a vote.
 */
import { bytesToHex } from '../../core/encoding/bytes.js';
import { checksumAddress, ethereumAddress } from '../../core/crypto/keys.js';
import { parsePoint } from '../../core/crypto/point.js';
import { NOT_ASSIGNED_MARKER, VERIFIER_NOT_SUPPORTED_MARKER, type LookupResult } from './protocol.js';
import { NodeCallError, NodeRpcError } from './transport.js';

/** A user's key as the network reports it. */
export interface UserKey {
  readonly keyIndex: bigint;
  /** 65 bytes, uncompressed (04 ‖ X ‖ Y). */
  readonly publicKey: Uint8Array;
  /** EIP-55 checksummed. */
  readonly address: string;
}

/** What one node answered: its validated result, or why there is none. */
export type LookupAnswer =
  | { readonly index: number; readonly ok: true; readonly result: LookupResult }
  | { readonly index: number; readonly ok: false; readonly error: unknown };

export type LookupDecision =
  | { readonly status: 'assigned'; readonly keys: readonly UserKey[]; readonly agreeing: readonly number[] }
  | { readonly status: 'unassigned'; readonly agreeing: readonly number[] }
  /** No majority yet, but one is still possible from the answers that are missing. */
  | { readonly status: 'pending' }
  | { readonly status: 'failed'; readonly error: LookupError };

/** A lookup that cannot be decided, or that a majority answered with an error. Names each node's answer. */
export class LookupError extends Error {
  override name = 'LookupError';
  readonly nodes: ReadonlyArray<{ readonly index: number; readonly answer: string }>;

  constructor(message: string, nodes: ReadonlyArray<{ index: number; answer: string }>, options?: { cause?: unknown }) {
    super(nodes.length === 0 ? message : `${message}\n${nodes.map((n) => `  node ${n.index}: ${n.answer}`).join('\n')}`, options);
    this.nodes = nodes;
  }
}

/** A majority of nodes does not know the verifier. */
export class VerifierNotSupportedError extends LookupError {
  override name = 'VerifierNotSupportedError';
}

export class InvalidLookupAnswer extends Error {
  override name = 'InvalidLookupAnswer';
}

/** The legacy "majority" threshold, which is also k: floor(n/2)+1. */
export function majority(n: number): number {
  return Math.floor(n / 2) + 1;
}

/** Turns one node's lookup result into keys, checking each point and its address. */
export function parseLookupResult(result: LookupResult): UserKey[] {
  return result.keys.map((key, position) => {
    let publicKey: Uint8Array;
    try {
      publicKey = parsePoint(`04${key.pub_key_X.padStart(64, '0')}${key.pub_key_Y.padStart(64, '0')}`, `keys[${position}] public key`).toBytes(false);
    } catch (cause) {
      throw new InvalidLookupAnswer(`keys[${position}]: public key is not a point on secp256k1`, { cause });
    }
    const expected = checksumAddress(ethereumAddress(publicKey));
    if (key.address !== expected) {
      throw new InvalidLookupAnswer(`keys[${position}]: address ${key.address} is not the EIP-55 address ${expected} of its public key`);
    }
    return { keyIndex: BigInt(`0x${key.key_index}`), publicKey, address: expected };
  });
}

function canonicalKeys(keys: readonly UserKey[]): string {
  return keys.map((k) => `${k.keyIndex.toString(16)}:${bytesToHex(k.publicKey)}`).join(',');
}

function describeKey(key: UserKey): string {
  return `key ${key.keyIndex.toString(16)} ${key.address}`;
}

type Vote =
  | { readonly kind: 'result'; readonly id: string; readonly keys: UserKey[]; readonly text: string }
  | { readonly kind: 'unassigned' | 'unsupported'; readonly id: string; readonly text: string }
  | { readonly kind: 'error'; readonly id: string; readonly text: string; readonly error: NodeRpcError }
  /** Not a vote: the node did not answer, or answered something invalid. */
  | { readonly kind: 'none'; readonly text: string };

function classify(answer: LookupAnswer): Vote {
  if (answer.ok) {
    try {
      const keys = parseLookupResult(answer.result);
      return { kind: 'result', id: `result:${canonicalKeys(keys)}`, keys, text: keys.map(describeKey).join(', ') };
    } catch (err) {
      return { kind: 'none', text: `invalid answer: ${err instanceof Error ? err.message : String(err)}` };
    }
  }
  const { error } = answer;
  if (error instanceof NodeRpcError) {
    const data = error.dataText();
    if (data.includes(NOT_ASSIGNED_MARKER)) return { kind: 'unassigned', id: 'unassigned', text: 'not assigned' };
    if (data.includes(VERIFIER_NOT_SUPPORTED_MARKER)) return { kind: 'unsupported', id: 'unsupported', text: `verifier not supported (${data})` };
    return { kind: 'error', id: `error:${error.code}:${error.rpcMessage}:${data}`, text: error.reason, error };
  }
  if (error instanceof NodeCallError) return { kind: 'none', text: `${error.kind === 'transport' || error.kind === 'timeout' ? 'unreachable: ' : ''}${error.reason}` };
  return { kind: 'none', text: error instanceof Error ? error.message : String(error) };
}

/**
 * Decides from the answers received so far (at most one per node) for a network of n nodes. Call it again
 * after each new answer; it returns 'pending' while a majority is still possible.
 */
export function decideLookup(answers: readonly LookupAnswer[], n: number): LookupDecision {
  const threshold = majority(n);
  const votes = answers.map((answer) => ({ index: answer.index, vote: classify(answer) }));
  const groups = new Map<string, { vote: Vote; nodes: number[] }>();
  for (const { index, vote } of votes) {
    if (vote.kind === 'none') continue;
    const group = groups.get(vote.id) ?? { vote, nodes: [] };
    group.nodes.push(index);
    groups.set(vote.id, group);
  }
  const report = (): Array<{ index: number; answer: string }> =>
    votes.map(({ index, vote }) => ({ index, answer: vote.text })).sort((a, b) => a.index - b.index);

  let largest = 0;
  for (const { vote, nodes } of groups.values()) {
    largest = Math.max(largest, nodes.length);
    if (nodes.length < threshold) continue;
    const agreeing = [...nodes].sort((a, b) => a - b);
    switch (vote.kind) {
      case 'result':
        return { status: 'assigned', keys: vote.keys, agreeing };
      case 'unassigned':
        return { status: 'unassigned', agreeing };
      case 'unsupported':
        return { status: 'failed', error: new VerifierNotSupportedError(`the nodes do not support this verifier (${agreeing.length} of ${n} say so)`, report()) };
      case 'error':
        return { status: 'failed', error: new LookupError(`a majority of nodes (${agreeing.join(', ')}) answered the lookup with an error: ${vote.text}`, report(), { cause: vote.error }) };
    }
  }
  const missing = n - answers.length;
  if (largest + missing >= threshold) return { status: 'pending' };
  return {
    status: 'failed',
    error: new LookupError(
      `cannot decide the lookup: no ${threshold} of ${n} nodes gave the same answer` +
        (missing > 0 ? ` (the ${missing} that have not answered yet could not make up for it)` : ''),
      report(),
    ),
  };
}
