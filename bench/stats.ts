/** Small numeric helpers for the benchmark: a monotonic clock shared by all threads, percentiles. */

/** process.hrtime in milliseconds: monotonic and the same clock in every thread (and process). */
export const hrMs = (): number => Number(process.hrtime.bigint()) / 1e6;

/** Nearest-rank percentile of the finite values; null when there are none. */
export function percentile(values: ArrayLike<number>, p: number): number | null {
  const sorted = sortedFinite(values);
  return rank(sorted, p);
}

export function sortedFinite(values: ArrayLike<number>): Float64Array {
  const out: number[] = [];
  for (let i = 0; i < values.length; i++) {
    const v = values[i] as number;
    if (Number.isFinite(v)) out.push(v);
  }
  return Float64Array.from(out).sort();
}

/** Nearest-rank percentile of an already sorted array. */
export function rank(sorted: Float64Array, p: number): number | null {
  if (sorted.length === 0) return null;
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index] ?? null;
}

export function median(values: number[]): number | null {
  return percentile(values, 50);
}

export function ratio(a: number | null, b: number | null): number | null {
  if (a === null || b === null || b === 0) return null;
  return a / b;
}

export function round(value: number | null, digits = 2): number | null {
  if (value === null || !Number.isFinite(value)) return null;
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

export const MB = 1024 * 1024;

export function maxOf(values: (number | null)[]): number | null {
  const finite = values.filter((v): v is number => v !== null && Number.isFinite(v));
  return finite.length ? Math.max(...finite) : null;
}

export function minOf(values: (number | null)[]): number | null {
  const finite = values.filter((v): v is number => v !== null && Number.isFinite(v));
  return finite.length ? Math.min(...finite) : null;
}

/** Least-squares slope of `value` against `requests`, scaled to "per 10,000 requests". */
export function slopePer10k<T extends { requests: number }>(
  points: T[],
  value: (p: T) => number,
): number | null {
  if (points.length < 2) return null;
  const n = points.length;
  const mx = points.reduce((a, p) => a + p.requests, 0) / n;
  const my = points.reduce((a, p) => a + value(p), 0) / n;
  let sxy = 0;
  let sxx = 0;
  for (const p of points) {
    sxy += (p.requests - mx) * (value(p) - my);
    sxx += (p.requests - mx) ** 2;
  }
  return sxx === 0 ? null : (sxy / sxx) * 10_000;
}

/** The middle value (the mean of the two middle ones for an even count); null when there is none. */
export function midMedian(values: (number | null)[]): number | null {
  const sorted = values.filter((v): v is number => v !== null && Number.isFinite(v)).sort((a, b) => a - b);
  if (sorted.length === 0) return null;
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}
