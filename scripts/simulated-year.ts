/**
 * `npm run year`: the simulated year of issue 20 at full size (support/year-sim.ts), on SQLite,
 * Redis and/or PostgreSQL. Prints the census per kind at checkpoints, the stated bound, the last
 * reconcile pass, the admin trail checks and the heap after GC; exits 1 when a check fails.
 *
 *   npm run year -- --store sqlite|redis|postgres|all --days 365 --per-day 50 [--reconcile-hours 24] [--no-sweep]
 *
 * Redis and PostgreSQL: TEST_REDIS_URL / TEST_POSTGRES_URL (default 127.0.0.1); each run gets an
 * empty Redis database (1–15) or a new PostgreSQL database, removed at the end.
 * Run with `node --expose-gc` (the npm script does) for the heap figures.
 */
import {
  type DayFigures,
  isolatedStoreUrl,
  isTotal,
  simulateYear,
  type YearResult,
} from '../support/year-sim.js';

type Kind = 'sqlite' | 'redis' | 'postgres';

function option(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? (process.argv[i + 1] ?? fallback) : fallback;
}

const days = Number(option('days', '365'));
const perDay = Number(option('per-day', '50'));
const which = option('store', 'sqlite');
const reconcileEveryHours = Number(option('reconcile-hours', '24'));
/** `--no-sweep`: no retention sweep, to see the checks fail. */
const sweep = !process.argv.includes('--no-sweep');
const kinds: Kind[] = which === 'all' ? ['sqlite', 'redis', 'postgres'] : [which as Kind];
const gc = (globalThis as { gc?: () => void }).gc;
const SERVERS = {
  redis: process.env.TEST_REDIS_URL || 'redis://127.0.0.1:6379',
  postgres: process.env.TEST_POSTGRES_URL || 'postgres://postgres@127.0.0.1:5432/test',
};

const mb = (bytes: number | null) => (bytes === null ? 'n/a' : `${(bytes / 1e6).toFixed(2)} MB`);

function table(result: YearResult): string {
  const checkpoints = result.days.filter(
    (d): d is DayFigures & { census: Record<string, number> } =>
      d.census !== undefined &&
      (d.day % Math.max(1, Math.floor(days / 8)) === 0 || d.day === result.days.length - 1),
  );
  const kinds = [...new Set(checkpoints.flatMap((d) => Object.keys(d.census)))].sort();
  const head = [
    'kind'.padEnd(24),
    ...checkpoints.map((d) => `day ${d.day + 1}`.padStart(9)),
    'bound'.padStart(9),
  ];
  const rows = kinds.map((kind) => [
    kind.padEnd(24),
    ...checkpoints.map((d) => String(d.census[kind] ?? 0).padStart(9)),
    String(result.bound[kind] ?? (isTotal(kind) ? '-' : 'NONE')).padStart(9),
  ]);
  const heap = [
    'heap after GC (MB)'.padEnd(24),
    ...checkpoints.map((d) =>
      (d.heapAfterGc === null ? 'n/a' : (d.heapAfterGc / 1e6).toFixed(1)).padStart(9),
    ),
  ];
  return [head, ...rows, heap].map((r) => r.join(' ')).join('\n');
}

function report(kind: Kind, result: YearResult): boolean {
  const r = result.lastReconcile;
  const heapDays = result.days.filter((d) => d.heapAfterGc !== null);
  const lines = [
    `== ${kind}: ${days} days × ${perDay} submissions a day, a reconcile pass every ${reconcileEveryHours} h, ${result.seconds} s`,
    `settings: REQUEST_RETENTION_DAYS=${result.settings.requestRetentionDays} AUDIT_RETENTION_DAYS=${result.settings.auditRetentionDays} AUDIT_MAX_ENTRIES=${result.settings.auditMaxEntries} AUDIT_ADMIN_RETENTION_DAYS=${result.settings.adminRetentionDays}`,
    'stored records per kind (census of the store) at checkpoints, and the stated bound:',
    table(result),
    `over the bound on the last day: ${result.overBound.length ? result.overBound.join(', ') : 'none'}`,
    `last reconcile pass: checked ${r.checked} (fresh ${r.fresh}), Katapult asked about ${r.asked} policies (${r.ahead} with the move ahead, ${r.asked - r.ahead} inside the restore window), ${r.outsideWindow.length} outside the window (move before ${new Date(r.windowStartSeconds * 1000).toISOString()}); ${r.scheduledInYear} policies scheduled in the year`,
    `admin entries: made ${result.admin.made}, in export-audit ${result.admin.exported}, missing from export ${result.admin.missingFromExport.length}, missing from the admin trail ${result.admin.missingFromAdminTrail.length}; /katapult history admin shows ${result.admin.shownInView} (the newest exported: ${result.admin.viewMatchesExport})`,
    ...(result.admin.missingFromExport.length
      ? [`  missing from export: ${result.admin.missingFromExport.slice(0, 10).join(', ')}`]
      : []),
    `heap after GC: day 1 ${mb(heapDays[0]?.heapAfterGc ?? null)}, mid-year ${mb(heapDays[Math.floor(heapDays.length / 2)]?.heapAfterGc ?? null)}, last day ${mb(heapDays.at(-1)?.heapAfterGc ?? null)}; slope first half ${result.heap.firstHalfSlope === null ? 'n/a' : `${(result.heap.firstHalfSlope / 1e3).toFixed(1)} kB/day`}, second half ${result.heap.secondHalfSlope === null ? 'n/a' : `${(result.heap.secondHalfSlope / 1e3).toFixed(1)} kB/day`} (fitted rise over the second half ${mb(result.heap.secondHalfRise)})`,
    `error log lines: ${result.errors.length}${result.errors.length ? `\n  ${result.errors.slice(0, 5).join('\n  ')}` : ''}`,
  ];
  console.log(lines.join('\n'));
  const heapFlat = result.heap.secondHalfRise === null || result.heap.secondHalfRise < 2e6;
  return (
    result.overBound.length === 0 &&
    r.outsideWindow.length === 0 &&
    result.admin.missingFromExport.length === 0 &&
    result.admin.missingFromAdminTrail.length === 0 &&
    result.admin.viewMatchesExport &&
    result.errors.length === 0 &&
    heapFlat
  );
}

let ok = true;
if (!gc) console.log('note: run with node --expose-gc for the heap figures (npm run year does)');
for (const kind of kinds) {
  const isolated = kind === 'sqlite' ? null : await isolatedStoreUrl(kind, SERVERS[kind]);
  try {
    const result = await simulateYear({
      ...(isolated ? { storeUrl: isolated.url } : {}),
      days,
      perDay,
      censusEvery: 1,
      reconcileEveryHours,
      retentionSweeps: sweep,
      ...(gc ? { gc } : {}),
      progress: (line) => {
        if (process.env.YEAR_PROGRESS) console.log(line);
      },
    });
    ok = report(kind, result) && ok;
  } finally {
    await isolated?.drop();
  }
}
console.log(ok ? 'simulated year: every check held' : 'simulated year: a check FAILED');
process.exit(ok ? 0 : 1);
