// Small statistics shared by the dashboard and the report.

/** Nearest-rank percentile of ascending `sorted` (p in 0..100); undefined when empty. */
export function percentile(sorted: readonly number[], p: number): number | undefined {
  if (sorted.length === 0) return undefined;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1];
}

export type Trend = "improving" | "worsening" | "steady" | "unknown";

/**
 * Recovery time trend: the mean of the newer half of the values against the older half (oldest
 * first). A change under 10 % (or 0.5 s) is "steady"; fewer than 2 values say nothing.
 */
export function trendOf(values: readonly number[]): Trend {
  if (values.length < 2) return "unknown";
  const half = Math.floor(values.length / 2);
  const mean = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
  const older = mean(values.slice(0, half));
  const newer = mean(values.slice(values.length - half));
  const delta = newer - older;
  if (Math.abs(delta) < Math.max(0.5, 0.1 * older)) return "steady";
  return delta < 0 ? "improving" : "worsening";
}
