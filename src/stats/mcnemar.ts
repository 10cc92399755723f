// The exact McNemar test (pure): for paired pass/fail outcomes only the discordant pairs
// carry information — `b` pairs where A passed and B failed, `c` where B passed and A failed.
// Under "A and B are equally good" each discordant pair goes either way with probability
// 1/2, so min(b, c) is binomial(b + c, 1/2); the two-sided p-value is twice its lower tail,
// capped at 1. Exact, so it is valid for the handful of pairs a loop of local-model runs gives
// (the chi-square approximation is not, below ~25 discordant pairs).

/** P(X <= k) for X ~ binomial(n, 1/2), summed in log space so large n does not overflow. */
export function binomialHalfCdf(k: number, n: number): number {
  if (k < 0) return 0;
  if (k >= n) return 1;
  let logC = 0; // log C(n, 0)
  let total = 0;
  const logHalfN = n * Math.log(0.5);
  for (let i = 0; i <= k; i++) {
    if (i > 0) logC += Math.log(n - i + 1) - Math.log(i);
    total += Math.exp(logC + logHalfN);
  }
  return Math.min(1, total);
}

export interface McNemarResult {
  /** Pairs where A passed and B failed. */
  a_only: number;
  /** Pairs where B passed and A failed. */
  b_only: number;
  discordant: number;
  /** Two-sided exact p-value; 1 when there is no discordant pair. */
  p_value: number;
  /**
   * The smallest p-value this many discordant pairs could ever give (all going one way):
   * when it is not below alpha, no outcome of these pairs could tell A from B.
   */
  min_attainable_p: number;
}

export function exactMcNemar(aOnly: number, bOnly: number): McNemarResult {
  if (!Number.isInteger(aOnly) || !Number.isInteger(bOnly) || aOnly < 0 || bOnly < 0) {
    throw new RangeError(`McNemar needs non-negative integer counts (got ${aOnly}, ${bOnly})`);
  }
  const n = aOnly + bOnly;
  const p = n === 0 ? 1 : Math.min(1, 2 * binomialHalfCdf(Math.min(aOnly, bOnly), n));
  const minP = n === 0 ? 1 : Math.min(1, 2 * Math.pow(0.5, n));
  return { a_only: aOnly, b_only: bOnly, discordant: n, p_value: p, min_attainable_p: minP };
}
