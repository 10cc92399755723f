// Wilson score interval for a binomial proportion (pure). Right for the small samples this
// harness lives with: it stays inside [0, 1] and is not degenerate at 0 or n successes,
// where the textbook normal ("Wald") interval collapses to a point.
const Z95 = 1.959963984540054;

/** Wilson score interval for `k` successes in `n` trials (95 % by default); null without trials. */
export function wilsonInterval(k: number, n: number, z = Z95): [number, number] | null {
  if (n <= 0) return null;
  const p = k / n;
  const z2 = z * z;
  const centre = (p + z2 / (2 * n)) / (1 + z2 / n);
  const half = (z / (1 + z2 / n)) * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n));
  const round = (x: number) => Math.round(Math.min(1, Math.max(0, x)) * 10000) / 10000;
  return [round(centre - half), round(centre + half)];
}
