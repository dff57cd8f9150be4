/**
 * One AVSS dealing (crypto.md §1.2): the dealer's pair of k×k bivariate polynomials (F, F') with F(0,0) the
 * secret and F'(0,0) its blinding, and the `send` message each recipient gets. Shared by key generation
 * (a fresh random secret) and resharing (the dealer's share of an existing key as the secret, dealt over
 * the next committee), so both deal the same way.
 */
import { commitMatrix } from '../../../core/crypto/pedersen.js';
import { assertBivariate, columnPolynomial, randomBivariate, rowPolynomial } from '../../../core/crypto/polynomial.js';
import { assertNonZeroScalar, randomScalar } from '../../../core/crypto/scalar.js';
import type { SendMessage } from './messages.js';
import type { StoredDealing } from './store.js';

/** A source of uniform nonzero scalars; the system CSPRNG unless a test seeds one. */
export type ScalarSource = (() => bigint) | undefined;

export function sampleScalar(random: ScalarSource): bigint {
  return random === undefined ? randomScalar() : assertNonZeroScalar(random(), 'random scalar');
}

function sampleBivariate(secret: bigint, k: number, random: ScalarSource): bigint[][] {
  if (random === undefined) return randomBivariate(secret, k);
  return Array.from({ length: k }, (_, j) => Array.from({ length: k }, (_, l) => (j === 0 && l === 0 ? secret : sampleScalar(random))));
}

/** (F, F') of degree k-1 in each variable with F(0,0) = secret and F'(0,0) = blinding. */
export function sampleDealing(secret: bigint, blinding: bigint, k: number, random: ScalarSource): StoredDealing {
  return { F: sampleBivariate(secret, k, random), Fprime: sampleBivariate(blinding, k, random) };
}

/** The `send` to each of the recipients 1..n: the matrix, the recipient's row and column, and their twins. */
export function sendMessages(dealing: StoredDealing, k: number, n: number, id: { epoch: bigint; keyIndex: bigint; dealer: number }): Array<{ to: number; message: SendMessage }> {
  const { F, Fprime } = dealing;
  assertBivariate(F, k, 'F');
  assertBivariate(Fprime, k, "F'");
  const commitment = commitMatrix(F, Fprime, k);
  const out: Array<{ to: number; message: SendMessage }> = [];
  for (let j = 1; j <= n; j++) {
    out.push({
      to: j,
      message: {
        type: 'send', epoch: id.epoch, keyIndex: id.keyIndex, dealer: id.dealer, commitment,
        a: rowPolynomial(F, j), aPrime: rowPolynomial(Fprime, j), b: columnPolynomial(F, j), bPrime: columnPolynomial(Fprime, j),
      },
    });
  }
  return out;
}
