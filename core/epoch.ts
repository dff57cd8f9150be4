/**
 * Epoch parameters and the threshold rules every process checks. n nodes; reconstruction threshold k;
 * t tolerated faults in key generation. Generation needs more than 3/4 honest nodes (t < n/4);
 * reconstruction needs more than 1/2 (k = floor(n/2) + 1); the dual-threshold AVSS needs t < k <= n - 2t.
 */

export interface Thresholds {
  readonly n: number;
  readonly k: number;
  readonly t: number;
}

/** The first broken rule: the parameter it is about (for messages that name a field) and what is wrong. */
export interface ThresholdProblem {
  readonly parameter: keyof Thresholds;
  readonly message: string;
}

/** The first broken rule, or undefined when (n, k, t) is valid. */
export function thresholdProblem({ n, k, t }: Thresholds): ThresholdProblem | undefined {
  for (const [parameter, value] of [['n', n], ['k', k], ['t', t]] as const) {
    if (!Number.isSafeInteger(value) || value < 0) return { parameter, message: `${parameter} must be a non-negative integer, got ${value}` };
  }
  if (n < 1) return { parameter: 'n', message: `n must be at least 1, got ${n}` };
  if (k !== Math.floor(n / 2) + 1) return { parameter: 'k', message: `k must be floor(n/2)+1 = ${Math.floor(n / 2) + 1} for n=${n}, got ${k}` };
  if (!(4 * t < n)) return { parameter: 't', message: `t must satisfy t < n/4 (n=${n}), got ${t}` };
  if (!(t < k)) return { parameter: 't', message: `t must be less than k (k=${k}), got ${t}` };
  if (!(k <= n - 2 * t)) return { parameter: 'k', message: `k must satisfy k <= n-2t = ${n - 2 * t}, got ${k}` };
  return undefined;
}

/** Returns a description of the first broken rule, or undefined when (n, k, t) is valid. */
export function thresholdError(thresholds: Thresholds): string | undefined {
  return thresholdProblem(thresholds)?.message;
}

/** The largest t allowed for n nodes. */
export function maxFaults(n: number): number {
  return Math.ceil(n / 4) - 1;
}
