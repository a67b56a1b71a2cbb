/** Latency statistics for the load generator and the harness: pure, no I/O. */

/** Latency percentiles in microseconds; all undefined when nothing was measured. */
export interface LatencySummary {
  count: number;
  /** The best (smallest) latency. */
  min?: number;
  p50?: number;
  p90?: number;
  p99?: number;
  p999?: number;
  max?: number;
}

/**
 * Nearest-rank percentile (the smallest value with at least `fraction` of the samples at or
 * below it) of an ascending-sorted array; undefined when empty.
 */
export function percentile(sorted: ArrayLike<number>, fraction: number): number | undefined {
  if (sorted.length === 0) return undefined;
  if (!(fraction >= 0 && fraction <= 1)) throw new RangeError(`fraction ${fraction} outside 0..1`);
  const rank = Math.max(1, Math.ceil(fraction * sorted.length));
  return sorted[rank - 1];
}

/** Rounds to 0.1 µs, enough for kernel timestamps and short in JSON. */
function round(value: number | undefined): number | undefined {
  return value === undefined ? undefined : Math.round(value * 10) / 10;
}

/** Sorts `microseconds` in place and summarises it. */
export function summarizeLatency(microseconds: Float64Array): LatencySummary {
  microseconds.sort();
  const summary: LatencySummary = { count: microseconds.length };
  if (microseconds.length === 0) return summary;
  summary.min = round(microseconds[0]);
  summary.p50 = round(percentile(microseconds, 0.5));
  summary.p90 = round(percentile(microseconds, 0.9));
  summary.p99 = round(percentile(microseconds, 0.99));
  summary.p999 = round(percentile(microseconds, 0.999));
  summary.max = round(microseconds[microseconds.length - 1]);
  return summary;
}

/** Points of an empirical CDF, at most `points` of them, as [µs, fraction ≤] pairs, from sorted samples. */
export function cdfPoints(sorted: ArrayLike<number>, points = 200): [number, number][] {
  const n = sorted.length;
  if (n === 0) return [];
  const out: [number, number][] = [];
  const step = Math.max(1, Math.floor(n / points));
  for (let i = step - 1; i < n; i += step) out.push([sorted[i] ?? 0, (i + 1) / n]);
  const last = out[out.length - 1];
  if (last === undefined || last[1] < 1) out.push([sorted[n - 1] ?? 0, 1]);
  return out;
}

/** "12.3 µs" / "4.56 ms" / "1.23 s" for a microsecond value; "—" when undefined. */
export function formatMicroseconds(value: number | undefined): string {
  if (value === undefined) return '—';
  if (value < 1000) return `${value.toFixed(value < 100 ? 1 : 0)} µs`;
  if (value < 1_000_000) return `${(value / 1000).toFixed(value < 10_000 ? 2 : 1)} ms`;
  return `${(value / 1_000_000).toFixed(2)} s`;
}
