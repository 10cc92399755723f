// pass@k with the unbiased estimator (Chen et al. 2021): the chance that at least one of
// k attempts drawn without replacement from n, of which c passed, passes:
//   pass@k = 1 - C(n-c, k) / C(n, k) = 1 - prod_{i=n-c+1..n} (1 - k/i)
// The product form never builds large binomials, so it stays exact-ish for any n.

export function passAtK(n: number, c: number, k: number): number {
  if (!Number.isInteger(n) || !Number.isInteger(c) || !Number.isInteger(k) || n < 0 || c < 0 || c > n || k < 1) {
    throw new RangeError(`pass@k needs integers 0 <= c <= n and k >= 1 (got n=${n}, c=${c}, k=${k})`);
  }
  if (k > n) throw new RangeError(`pass@k is undefined for k=${k} > n=${n}`);
  if (n - c < k) return 1;
  let miss = 1;
  for (let i = n - c + 1; i <= n; i++) miss *= 1 - k / i;
  return 1 - miss;
}

/** pass@1..maxK for one (n, c); null where k > n (not enough judged attempts). */
export function passAtKSeries(n: number, c: number, maxK: number): (number | null)[] {
  const out: (number | null)[] = [];
  for (let k = 1; k <= maxK; k++) out.push(k <= n ? passAtK(n, c, k) : null);
  return out;
}

/** Mean of the non-null values per k (aggregating problems); null where no problem has a value. */
export function meanSeries(series: (number | null)[][], maxK: number): (number | null)[] {
  const out: (number | null)[] = [];
  for (let k = 0; k < maxK; k++) {
    const vals = series.map((s) => s[k]).filter((v): v is number => v !== null && v !== undefined);
    out.push(vals.length ? vals.reduce((a, b) => a + b, 0) / vals.length : null);
  }
  return out;
}
