/**
 * @module stats
 * The few statistics the benchmark reports: median, min-max, nearest-rank
 * percentiles and ratios, on plain arrays of numbers (milliseconds, bytes).
 */

export interface Summary {
  n: number;
  median: number;
  min: number;
  max: number;
}

const sorted = (xs: readonly number[]) => [...xs].sort((a, b) => a - b);

function nonEmpty(xs: readonly number[], what: string): void {
  if (xs.length === 0) throw new RangeError(`${what} of no values`);
}

/** The middle value (mean of the two middle ones for an even count). */
export function median(xs: readonly number[]): number {
  nonEmpty(xs, "median");
  const s = sorted(xs);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Nearest-rank percentile, `p` in (0, 100]: the smallest value with at least p% of values at or below it. */
export function percentile(xs: readonly number[], p: number): number {
  nonEmpty(xs, "percentile");
  if (!(p > 0 && p <= 100)) throw new RangeError(`percentile must be in (0, 100], not ${p}`);
  const s = sorted(xs);
  return s[Math.ceil((p / 100) * s.length) - 1]!;
}

export function summarize(xs: readonly number[]): Summary {
  nonEmpty(xs, "summary");
  return { n: xs.length, median: median(xs), min: Math.min(...xs), max: Math.max(...xs) };
}

/** a / b, or NaN when b is 0 (printed as "n/a"). */
export function ratio(a: number, b: number): number {
  return b === 0 ? NaN : a / b;
}

/** Relative difference (a - b) / b. */
export function relDiff(a: number, b: number): number {
  return b === 0 ? NaN : (a - b) / b;
}

/** Megabytes (10^6 bytes) per second. */
export function mbPerSec(bytes: number, ms: number): number {
  return ms <= 0 ? NaN : bytes / 1e6 / (ms / 1000);
}
