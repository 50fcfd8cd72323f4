/**
 * The benchmark runner (`npm run bench`; `npx tsx bench/run.ts --help`). By default the main run: the
 * bot against bare Bolt (bench/baseline-app.mjs) and same-work (bench/same-work-app.mjs) under the
 * same traffic, in the numbered steps below; its report goes to bench/results/latest.json and .md, its
 * summary into docs/benchmarks.md. `--burst N` (bench/burst.ts) and `--workspaces N`
 * (bench/workspaces.ts) are the other scenarios; `--cpu-prof` profiles every target with Node's own.
 */
import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { runBurst } from './burst.js';
import { measureNpmStart } from './npm-start.js';
import { type PhaseContext, type PhaseData, phaseLine, runPhase, type Stage, startHarness } from './phase.js';
import type { Target, TargetName } from './processes.js';
import { launch, type ProbeReport, prepareStore, ROOT, TARGETS } from './processes.js';
import {
  type BenchReport,
  buildReport,
  machineMeter,
  renderMarkdown,
  renderSummary,
  type StoreData,
  updateDocs,
  writeResult,
} from './report.js';
import { runWorkspaces } from './workspaces.js';

export type Kind = 'command' | 'submission';
export type StoreKind = 'sqlite' | 'postgres' | 'redis';

export const DEFAULT_OPTIONS = {
  requests: 2000,
  concurrency: [1, 16, 64],
  katapultLatencyMs: 50,
  rounds: 2,
  warmup: 500,
  leakRequests: 10_000,
  spawnSamples: 3,
  bot: 'dist' as 'dist' | 'src',
  eldResolutionMs: 1,
  bareListeners: 0,
  requestTimeoutSec: 10,
  followTimeoutMs: 20_000,
  out: 'bench/results/latest.json' as string | null,
  docs: 'docs/benchmarks.md' as string | null,
  smoke: false,
  kinds: ['command', 'submission'] as Kind[],
  cpuProfDir: null as string | null,
  deadlineMs: null as number | null,
  stores: ['sqlite', 'postgres', 'redis'] as StoreKind[],
  postgresUrl: 'postgres://postgres@127.0.0.1:5432/katapult_bench',
  redisUrl: 'redis://127.0.0.1:6379/15',
  /** The burst scenario: its size (0: not this scenario) and target. */
  burst: 0,
  target: 'bot' as 'bot' | 'baseline',
  /** The workspaces scenario: its installations (0: not this scenario), and its own settings. */
  workspaces: 0,
  touch: true,
  organization: false,
  redactorLines: 20_000,
};
export type BenchOptions = typeof DEFAULT_OPTIONS;

/** A few hundred requests at one concurrency, the bot run from its sources, no docs written. */
const SMOKE =
  '--requests 150 --concurrency 8 --rounds 1 --warmup 20 --leak-requests 0 --spawn-samples 1 --bot src';
const SMOKE_MORE = '--store sqlite --out bench/results/smoke.json --no-docs --deadline 50';
/** The burst runs on SQLite; the workspaces scenario, 300 requests per phase, 4 rounds, concurrency 8. */
const BURST = '--store sqlite';
const WORKSPACES = '--requests 1200 --rounds 4 --concurrency 8 --warmup 200 --store sqlite';

export class UsageError extends Error {}
type Parse = (raw: string, flag: string) => unknown;
type Log = (line: string) => void;
const count = (min: number) => (raw: string, flag: string) => {
  if (/^\d+$/.test(raw.trim()) && Number(raw) >= min) return Number(raw);
  throw new UsageError(`${flag}: expected a whole number >= ${min}, got "${raw}"`);
};
const oneOf = (...allowed: string[]) => {
  return (raw: string, flag: string) => {
    if (allowed.includes(raw.trim())) return raw.trim();
    throw new UsageError(`${flag}: expected ${allowed.join(' or ')}, got "${raw}"`);
  };
};
const listOf =
  (each: Parse): Parse =>
  (raw, flag) => [...new Set(raw.split(',').map((v) => each(v, flag)))];
const text: Parse = (raw) => raw;

/** --flag, the option it sets, how it is read, and what it means. */
const FLAGS: [string, keyof BenchOptions, Parse, string][] = [
  ['requests', 'requests', count(1), 'per target, kind and concurrency, over the rounds'],
  ['concurrency', 'concurrency', listOf(count(1)), 'connection counts, comma-separated'],
  ['katapult-latency', 'katapultLatencyMs', count(0), 'fake Katapult answer delay, ms'],
  ['rounds', 'rounds', count(1), 'bot/baseline alternations per concurrency'],
  ['warmup', 'warmup', count(0), 'unmeasured requests of each kind per target first'],
  ['leak-requests', 'leakRequests', count(0), 'leak-check soak after the measured ones (0: none)'],
  ['spawn-samples', 'spawnSamples', count(1), 'cold starts timed per target'],
  ['bot', 'bot', oneOf('dist', 'src'), 'node dist/main.js, or src/main.ts through tsx'],
  ['store', 'stores', listOf(oneOf('sqlite', 'postgres', 'redis')), 'stores, one after the other'],
  ['postgres-url', 'postgresUrl', text, 'created if missing, emptied: its name must contain "bench"'],
  [
    'redis-url',
    'redisUrl',
    text,
    'its own database (1-15): katapult-chatops:* and bench:* keys deleted, any other key refused',
  ],
  ['kinds', 'kinds', listOf(oneOf('command', 'submission')), 'request kinds to measure'],
  ['eld-resolution', 'eldResolutionMs', count(1), 'monitorEventLoopDelay resolution in the targets, ms'],
  ['bare-listeners', 'bareListeners', count(0), 'no-op listeners for both baselines (the bot has 16)'],
  ['out', 'out', text, 'JSON report, and Markdown beside it (--no-out: none)'],
  ['docs', 'docs', text, 'page whose results block is replaced (--no-docs: none)'],
  ['cpu-prof-dir', 'cpuProfDir', text, 'profile every target with --cpu-prof (--cpu-prof: the default)'],
  ['deadline', 'deadlineMs', (raw, flag) => Number(count(1)(raw, flag)) * 1000, 'give up after SEC seconds'],
  ['burst', 'burst', count(1), 'burst scenario: N submissions at once (bench/burst.ts)'],
  ['target', 'target', oneOf('bot', 'baseline'), 'the burst target'],
  ['workspaces', 'workspaces', count(1), 'workspaces scenario (bench/workspaces.ts)'],
];
const BOOLEANS = ['no-out', 'no-docs', 'cpu-prof', 'smoke', 'no-touch', 'organization'];

export const USAGE = `Usage: npm run bench -- [options]     (or: npx tsx bench/run.ts [options])

${FLAGS.map(([flag, key, , help]) => `  --${flag.padEnd(18)}${help} (${DEFAULT_OPTIONS[key]})`).join('\n')}
  --smoke             a small run: ${SMOKE} ${SMOKE_MORE}
  --no-touch, --organization: see bench/workspaces.ts
Defaults in parentheses; --burst adds ${BURST}, --workspaces ${WORKSPACES}.
`;

/** The defaults, the smoke run's or a scenario's, then the flags; null when help was asked for. */
export function parseOptions(argv: string[]): BenchOptions | null {
  const strings = Object.fromEntries(FLAGS.map(([flag]) => [flag, { type: 'string' as const }]));
  const booleans = Object.fromEntries(BOOLEANS.map((flag) => [flag, { type: 'boolean' as const }]));
  const options = { ...strings, ...booleans, help: { type: 'boolean' as const, short: 'h' } };
  const read = (args: string[]) => parseArgs({ args, options }).values as Record<string, string | boolean>;
  const given = read(argv);
  if (given.help) return null;
  const scenario = given.burst ? BURST : given.workspaces ? WORKSPACES : '';
  const preset = `${given.smoke ? `${SMOKE} ${SMOKE_MORE}` : ''} ${scenario}`.split(' ').filter(Boolean);
  const o: BenchOptions = { ...DEFAULT_OPTIONS, smoke: Boolean(given.smoke) };
  if (given.smoke) o.followTimeoutMs = 10_000;
  // The preset's flags, then the given ones (which win).
  for (const values of [read(preset), given]) {
    for (const [flag, key, parse] of FLAGS)
      if (typeof values[flag] === 'string')
        (o as Record<string, unknown>)[key] = parse(values[flag], `--${flag}`);
    if (values['no-out']) o.out = null;
    if (values['no-docs']) o.docs = null;
    if (values['cpu-prof']) o.cpuProfDir ??= 'bench/results/profiles';
    if (values['no-touch']) o.touch = false;
    if (values.organization) o.organization = true;
  }
  const widest = Math.max(...o.concurrency);
  const perRound = `--requests ${o.requests} over ${o.rounds} round(s)`;
  if (!o.burst && Math.floor(o.requests / o.rounds) < widest)
    throw new UsageError(`${perRound}: fewer per round than the ${widest} connections`);
  if (!o.burst && o.warmup > 0 && o.warmup < widest)
    throw new UsageError(`--warmup must be 0 or at least the largest concurrency (${widest})`);
  return o;
}
export const SMOKE_OPTIONS = parseOptions(['--smoke']) as BenchOptions;

/** Steps 2 to 6 on one store; every target started is stopped when it returns or throws. */
async function measureStore(ctx: PhaseContext, store: StoreKind, log: Log): Promise<StoreData> {
  const { options: o } = ctx;
  const { env, shown: storeUrl } = await prepareStore(store, o);
  const [phases, running, stopped] = [[] as PhaseData[], new Map<TargetName, Target>(), [] as Target[]];
  const spawnSamples: Record<TargetName, number[]> = { bot: [], baseline: [], 'same-work': [] };
  const stop = async (target: Target) => {
    running.delete(target.name);
    stopped.push(target);
    await target.stop();
  };
  const phase = async (target: Target, kind: Kind, c: number, n: number, stage: Stage, round = 0) => {
    phases.push(await runPhase(ctx, target, { kind, concurrency: c, stage, round }, n));
    log(`${store} ${phaseLine(phases.at(-1) as PhaseData)}`);
  };
  const probeAll = async () => {
    const out: Partial<Record<TargetName, ProbeReport>> = {};
    for (const [name, target] of running) out[name] = await target.probe('release');
    return out;
  };
  const kindsOf = (name: TargetName) => o.kinds.filter((k) => name !== 'same-work' || k === 'submission');
  try {
    // 2. Cold starts, alternating, each in a fresh data folder; the last three stay up.
    for (let i = 0; i < o.spawnSamples; i++) {
      for (const name of TARGETS) {
        const target = await launch(ctx, name, env);
        running.set(name, target);
        spawnSamples[name].push(target.spawnToReadyMs);
        log(`${store} ${name}: spawn → /healthz 200 in ${target.spawnToReadyMs.toFixed(0)} ms`);
        if (i < o.spawnSamples - 1) await stop(target);
      }
    }
    const targets = TARGETS.map((name) => running.get(name) as Target);
    const widest = Math.max(...o.concurrency);
    // 3. Warm-up at the widest concurrency, then the memory reference point.
    for (const target of o.warmup > 0 ? targets : [])
      for (const kind of kindsOf(target.name)) await phase(target, kind, widest, o.warmup, 'warmup');
    const afterWarmup = await probeAll();
    // 4. Measured phases: per level and round, each target (every other round reversed), each of its kinds.
    for (const c of o.concurrency)
      for (let r = 1; r <= o.rounds; r++)
        for (const target of r % 2 ? targets : [...targets].reverse())
          for (const kind of kindsOf(target.name))
            await phase(target, kind, c, Math.floor(o.requests / o.rounds), 'measure', r);
    // 5. Leak check: `leakRequests` more per target (both kinds) at the widest concurrency, in chunks,
    // bot and bare Bolt in turn, memory read after a full GC after each chunk.
    const chunk = Math.max(widest, Math.min(500, Math.floor(o.leakRequests / (10 * o.kinds.length))));
    const sent = { bot: 0, baseline: 0, 'same-work': 0 };
    while (sent.bot < o.leakRequests) {
      for (const target of targets.slice(0, 2)) {
        for (const kind of o.kinds) {
          const amount = Math.max(widest, Math.min(chunk, o.leakRequests - sent[target.name]));
          await phase(target, kind, widest, amount, 'soak');
          sent[target.name] += amount;
        }
      }
    }
    const after = await probeAll();
    // 6. Stop them.
    for (const target of targets) await stop(target);
    const logEvents: StoreData['logEvents'] = {};
    for (const { name, logEvents: seen } of stopped) {
      const events = logEvents[name] ?? { stdout: {}, stderr: {} };
      for (const stream of ['stdout', 'stderr'] as const)
        for (const [event, n] of Object.entries(seen[stream]))
          events[stream][event] = (events[stream][event] ?? 0) + n;
      logEvents[name] = events;
    }
    return { store, storeUrl, phases, spawnSamples, afterWarmup, after, logEvents };
  } finally {
    await Promise.allSettled([...running.values()].map((t) => t.stop()));
  }
}

export type Hooks = { log?: Log; signal?: AbortSignal };

/** The main run (the smoke test's entry point). */
export async function runBenchmark(options: BenchOptions, hooks: Hooks = {}): Promise<BenchReport> {
  const log = hooks.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const [startedAt, finishMachine] = [new Date(), machineMeter()];
  // 1. The fakes and the load generator.
  const ctx = await startHarness(options, hooks.signal);
  try {
    const stores: StoreData[] = [];
    for (const store of options.stores) stores.push(await measureStore(ctx, store, log));
    // 7. Aggregate and judge.
    const cpuMs = (r: ProbeReport) => (r.cpu.user + r.cpu.system) / 1000;
    const targetsCpuMs = stores.flatMap((s) => Object.values(s.after)).reduce((n, r) => n + cpuMs(r), 0);
    const machine = finishMachine(targetsCpuMs, Date.now() - startedAt.getTime());
    const run = { startedAt, machine, strayCalls: { ...ctx.fakes.stray } };
    // 8. `npm start` twice on the build, nothing changed (bench/npm-start.ts; not in a run from src/).
    return buildReport(
      options,
      stores,
      options.bot === 'dist' ? { ...run, npmStart: await measureNpmStart(ctx) } : run,
    );
  } finally {
    await ctx.close();
  }
}

/** Points at the profiles written since `since` (open them in Chrome DevTools or VS Code). */
async function pointAtProfiles(dir: string, since: number) {
  const files = (await readdir(dir, { recursive: true }).catch(() => [])).map((f) => path.join(dir, f));
  for (const file of files.filter((f) => f.endsWith('.cpuprofile')))
    if ((await stat(file)).mtimeMs >= since) process.stderr.write(`profile: ${path.relative(ROOT, file)}\n`);
}

async function cli(): Promise<number> {
  let options: BenchOptions | null;
  try {
    options = parseOptions(process.argv.slice(2));
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n\n${USAGE}`);
    const usage =
      error instanceof UsageError || (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS');
    return usage ? 2 : 1;
  }
  if (!options) {
    process.stdout.write(USAGE);
    return 0;
  }
  const controller = new AbortController();
  for (const signal of ['SIGINT', 'SIGTERM'] as const)
    process.once(signal, () => {
      process.stderr.write(`\n${signal}: stopping the benchmark and its processes…\n`);
      controller.abort(new Error(`interrupted by ${signal}`));
    });
  const [started, written, hooks] = [Date.now(), [] as string[], { signal: controller.signal }];
  const json = (data: unknown) => `${JSON.stringify(data, null, 2)}\n`;
  let failed = false;
  if (options.burst) {
    for (const store of options.stores) {
      const result = json(await runBurst(options, store, controller.signal));
      process.stdout.write(result);
      written.push(await writeResult(`bench/results/burst-${options.target}-${store}.json`, result));
    }
  } else if (options.workspaces) {
    const result = json(await runWorkspaces(options, hooks));
    process.stdout.write(result);
    written.push(await writeResult('bench/results/workspaces.json', result));
  } else {
    const report = await runBenchmark(options, hooks);
    const markdown = renderMarkdown(report);
    process.stdout.write(`\n${markdown}\n`);
    if (options.out) written.push(await writeResult(options.out, json(report)));
    if (options.out) written.push(await writeResult(options.out.replace(/(\.json)?$/, '.md'), markdown));
    if (options.docs) written.push(await updateDocs(options.docs, renderSummary(report).join('\n')));
    failed = report.problems.length > 0;
  }
  if (written.length) process.stderr.write(`wrote ${written.join(', ')}\n`);
  if (options.cpuProfDir) await pointAtProfiles(path.resolve(ROOT, options.cpuProfDir), started);
  return options.smoke && failed ? 1 : 0;
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  process.exitCode = await cli().catch((error: Error) => {
    process.stderr.write(`benchmark failed: ${error.stack}${error.cause ? `\n${error.cause}` : ''}\n`);
    return 1;
  });
}
