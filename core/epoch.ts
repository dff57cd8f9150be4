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

/** Returns a description of the first broken rule, or undefined when (n, k, t) is valid. */
export function thresholdError({ n, k, t }: Thresholds): string | undefined {
  for (const [name, value] of [['n', n], ['k', k], ['t', t]] as const) {
    if (!Number.isSafeInteger(value) || value < 0) return `${name} must be a non-negative integer, got ${value}`;
  }
  if (n < 1) return `n must be at least 1, got ${n}`;
  if (k !== Math.floor(n / 2) + 1) return `k must be floor(n/2)+1 = ${Math.floor(n / 2) + 1} for n=${n}, got ${k}`;
  if (!(4 * t < n)) return `t must satisfy t < n/4 (n=${n}), got ${t}`;
  if (!(t < k)) return `t must be less than k (k=${k}), got ${t}`;
  if (!(k <= n - 2 * t)) return `k must satisfy k <= n-2t = ${n - 2 * t}, got ${k}`;
  return undefined;
}

/** The largest t allowed for n nodes. */
export function maxFaults(n: number): number {
  return Math.ceil(n / 4) - 1;
}
