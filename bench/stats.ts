/** Numeric helpers: one monotonic clock for every thread and process, percentiles, rounding, store CPU. */
import { readdirSync, readFileSync } from 'node:fs';

/** process.hrtime in milliseconds: monotonic, and the same clock in every thread and process. */
export const hrMs = (): number => Number(process.hrtime.bigint()) / 1e6;
export const MB = 1024 * 1024;

const finite = (values: ArrayLike<number | null>) =>
  Array.from(values).filter((v): v is number => v !== null && Number.isFinite(v));

/** Nearest-rank percentile of the finite values; null when there are none. */
export function percentile(values: ArrayLike<number | null>, p: number): number | null {
  const sorted = finite(values).sort((a, b) => a - b);
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index] ?? null;
}

/** The middle value (the mean of the two middle ones for an even count); null when there is none. */
export function median(values: (number | null)[]): number | null {
  const sorted = finite(values).sort((a, b) => a - b);
  const [low, high] = [sorted[(sorted.length - 1) >> 1], sorted[sorted.length >> 1]];
  return low === undefined || high === undefined ? null : (low + high) / 2;
}

export const ratio = (a: number | null, b: number | null) =>
  a === null || b === null || b === 0 ? null : a / b;

export function round(value: number | null, digits = 2): number | null {
  if (value === null || !Number.isFinite(value)) return null;
  return Math.round(value * 10 ** digits) / 10 ** digits;
}

export const maxOf = (v: (number | null)[]) => (finite(v).length ? Math.max(...finite(v)) : null);
export const minOf = (v: (number | null)[]) => (finite(v).length ? Math.min(...finite(v)) : null);

/** Least-squares slope of `y` against `x`, scaled to "per 10,000" of x. */
export function slopePer10k(points: { x: number; y: number }[]): number | null {
  if (points.length < 2) return null;
  const mx = points.reduce((a, p) => a + p.x, 0) / points.length;
  const my = points.reduce((a, p) => a + p.y, 0) / points.length;
  const sxx = points.reduce((a, p) => a + (p.x - mx) ** 2, 0);
  return sxx === 0 ? null : (points.reduce((a, p) => a + (p.x - mx) * (p.y - my), 0) / sxx) * 10_000;
}

/** Formatting for the report: ratios as `1.23×`, milliseconds to 3 significant digits, MB to one decimal. */
export const fmtRatio = (r: number | null) => (r === null ? 'n/a' : `${r.toFixed(2)}×`);
export const mb = (v: number | null | undefined) => (v == null ? 'n/a' : v.toFixed(1));
export function ms(v: number | null): string {
  if (v === null || !Number.isFinite(v)) return 'n/a';
  return v.toFixed(Math.abs(v) >= 100 ? 0 : Math.abs(v) >= 10 ? 1 : 2);
}

/**
 * CPU time (ms) of the store servers on this machine, PostgreSQL's and Redis's processes, by pid
 * (Linux's /proc, USER_HZ 100; null elsewhere). A phase counts what each process used during it:
 * those that exit within it are left out. Other users of the same servers would count too.
 */
export function storeServersCpu(): Map<number, number> | null {
  try {
    const cpu = new Map<number, number>();
    for (const pid of readdirSync('/proc').filter((name) => /^\d+$/.test(name))) {
      let stat: string;
      try {
        stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      } catch {
        continue; // ended meanwhile
      }
      const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      if (name !== 'postgres' && name !== 'redis-server') continue;
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      cpu.set(Number(pid), (Number(fields[11]) + Number(fields[12])) * 10);
    }
    return cpu;
  } catch {
    return null;
  }
}

/** What the store servers used between two readings of `storeServersCpu` (ms). */
export const storeServersCpuSince = (
  before: Map<number, number> | null,
  after: Map<number, number> | null,
) => (before && after ? [...after].reduce((sum, [pid, ms]) => sum + ms - (before.get(pid) ?? 0), 0) : null);
