// Percentiles for the bench tables (nearest-rank: a p95 of 20 samples is the 19th smallest).
export function percentile(xs: readonly number[], p: number): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))] ?? NaN;
}

export function median(xs: readonly number[]): number {
  return percentile(xs, 50);
}

/** "p50 / p95 ms (n)" with whole milliseconds. */
export function p50p95(xs: readonly number[], unit = "ms"): string {
  if (xs.length === 0) return "no samples";
  return `${Math.round(percentile(xs, 50))} / ${Math.round(percentile(xs, 95))} ${unit} (n=${xs.length})`;
}
