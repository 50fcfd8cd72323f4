/**
 * Benchmark settings: defaults, `BENCH_*` environment variables, then command-line flags (flags win).
 * `--smoke` switches to a small, quick run that the Jest smoke test also uses.
 */
import { parseArgs } from 'node:util';

export type BotLaunch = 'dist' | 'src';
export type StoreKind = 'sqlite' | 'postgres';

export interface BenchOptions {
  /** Requests per target, request kind and concurrency level (split evenly over the rounds). */
  requests: number;
  concurrency: number[];
  /** Added by the fake Katapult before each answer. */
  katapultLatencyMs: number;
  /** Bot/baseline alternations per concurrency level. */
  rounds: number;
  /** Requests of each kind sent to each target before anything is measured. */
  warmup: number;
  /** The leak check compares memory after warm-up with memory after at least this many requests. */
  leakRequests: number;
  /** Cold starts measured per target (spawn to GET /healthz 200). */
  spawnSamples: number;
  /** `dist`: `node dist/main.js` (needs `npm run build`); `src`: `node --import tsx src/main.ts`. */
  bot: BotLaunch;
  /** Sampling interval of monitorEventLoopDelay in the probe. */
  eldResolutionMs: number;
  /**
   * No-op listeners added to both baselines (as many as the bot registers besides its command
   * listener: 16), to see how much of the bot's per-request cost is Bolt's dispatch over listeners.
   */
  bareListeners: number;
  /** Per-request timeout of the load generator, seconds. */
  requestTimeoutSec: number;
  /** How long to wait for the views.open / chat.postMessage that follow the last request of a phase. */
  followTimeoutMs: number;
  /** JSON report path (relative to the project root), or null for none. */
  out: string | null;
  /** Markdown page updated with the latest table (relative to the project root), or null for none. */
  docs: string | null;
  smoke: boolean;
  /** Request kinds to measure (default both). */
  kinds: ('command' | 'submission')[];
  /** Start both targets with `--cpu-prof` (profiles written here when they stop), or null. */
  cpuProfDir: string | null;
  /** Write each phase's per-request timings as JSON here (for digging into outliers), or null. */
  dumpDir: string | null;
  /** Give up (and clean up) after this long; null for no limit. */
  deadlineMs: number | null;
  /** The stores the bot and the same-work baseline run on, one after the other (same run). */
  stores: StoreKind[];
  /** The PostgreSQL database for `postgres` (its name must contain "bench": it is emptied). */
  postgresUrl: string;
}

export const DEFAULT_OPTIONS: Readonly<BenchOptions> = Object.freeze({
  requests: 2000,
  concurrency: [1, 16, 64],
  katapultLatencyMs: 50,
  rounds: 2,
  warmup: 500,
  leakRequests: 10_000,
  spawnSamples: 3,
  bot: 'dist' as BotLaunch,
  eldResolutionMs: 1,
  bareListeners: 0,
  requestTimeoutSec: 10,
  followTimeoutMs: 20_000,
  out: 'bench/results/latest.json',
  docs: 'docs/benchmarks.md',
  smoke: false,
  kinds: ['command', 'submission'] as ('command' | 'submission')[],
  cpuProfDir: null,
  dumpDir: null,
  deadlineMs: null,
  stores: ['sqlite', 'postgres'] as StoreKind[],
  postgresUrl: 'postgres://postgres@127.0.0.1:5432/katapult_bench',
});

/** A few hundred requests at one concurrency, the bot run from its sources, no files written. */
export const SMOKE_OPTIONS: Readonly<BenchOptions> = Object.freeze({
  ...DEFAULT_OPTIONS,
  requests: 150,
  concurrency: [8],
  rounds: 1,
  warmup: 20,
  leakRequests: 0,
  spawnSamples: 1,
  bot: 'src' as BotLaunch,
  followTimeoutMs: 10_000,
  out: 'bench/results/smoke.json',
  docs: null,
  smoke: true,
  deadlineMs: 50_000,
  stores: ['sqlite'] as StoreKind[],
});

export const USAGE = `Usage: npm run bench -- [options]     (or: npx tsx bench/run.ts [options])

  --requests N           requests per target, kind and concurrency (default ${DEFAULT_OPTIONS.requests})
  --concurrency LIST     comma-separated connection counts (default ${DEFAULT_OPTIONS.concurrency.join(',')})
  --katapult-latency MS  fake Katapult answer delay (default ${DEFAULT_OPTIONS.katapultLatencyMs})
  --rounds N             bot/baseline alternations per concurrency (default ${DEFAULT_OPTIONS.rounds})
  --warmup N             unmeasured requests of each kind per target first (default ${DEFAULT_OPTIONS.warmup})
  --leak-requests N      memory is compared after warm-up and after >= N more requests (default ${DEFAULT_OPTIONS.leakRequests}; 0: no extra soak)
  --spawn-samples N      cold starts timed per target (default ${DEFAULT_OPTIONS.spawnSamples})
  --bot dist|src         run the bot as node dist/main.js (default) or node --import tsx src/main.ts
  --eld-resolution MS    monitorEventLoopDelay resolution in the probe (default ${DEFAULT_OPTIONS.eldResolutionMs})
  --bare-listeners N     add N no-op listeners to both baselines (default 0; 16 = as many as the bot has
                         besides its command): shows the share of Bolt's dispatch over listeners
  --out PATH             JSON report (default ${DEFAULT_OPTIONS.out}); --no-out for none
  --docs PATH            Markdown page to update (default ${DEFAULT_OPTIONS.docs}); --no-docs for none
  --kinds LIST           request kinds to measure: command,submission (default both; handy with --cpu-prof)
  --cpu-prof              run both targets with node --cpu-prof (profiles written when they stop)
  --cpu-prof-dir DIR     where the profiles go (default bench/results/profiles; implies --cpu-prof)
  --dump DIR             write every phase's per-request timings (ms, hrtime) as JSON files into DIR
  --store LIST           stores for the bot and the same-work baseline: sqlite, postgres or both
                         (default ${DEFAULT_OPTIONS.stores.join(',')}; each runs every target again)
  --postgres-url URL     database for postgres (default ${DEFAULT_OPTIONS.postgresUrl};
                         created if missing, emptied first; its name must contain "bench")
  --deadline SEC         abort (and clean up) after SEC seconds
  --smoke                small run: ${SMOKE_OPTIONS.requests} requests, concurrency ${SMOKE_OPTIONS.concurrency.join(',')}, bot from src/, writes ${SMOKE_OPTIONS.out} only
  -h, --help

Environment: BENCH_REQUESTS, BENCH_CONCURRENCY, BENCH_KATAPULT_LATENCY, BENCH_ROUNDS, BENCH_WARMUP,
BENCH_LEAK_REQUESTS, BENCH_SPAWN_SAMPLES, BENCH_BOT, BENCH_STORE, BENCH_POSTGRES_URL set the same
values; flags win.
`;

export class UsageError extends Error {}

function count(name: string, raw: string, min: number): number {
  const value = Number(raw);
  if (!/^\d+$/.test(raw.trim()) || !Number.isSafeInteger(value) || value < min) {
    throw new UsageError(`${name}: expected a whole number >= ${min}, got "${raw}"`);
  }
  return value;
}

function list(name: string, raw: string): number[] {
  const values = raw.split(',').map((part) => count(name, part, 1));
  if (values.length === 0) throw new UsageError(`${name}: expected a comma-separated list`);
  return [...new Set(values)];
}

function launch(name: string, raw: string): BotLaunch {
  if (raw !== 'dist' && raw !== 'src') throw new UsageError(`${name}: expected dist or src, got "${raw}"`);
  return raw;
}

/** Returns null when help was asked for. */
export function parseOptions(
  argv: string[],
  env: Record<string, string | undefined> = process.env,
): BenchOptions | null {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    allowPositionals: false,
    options: {
      requests: { type: 'string' },
      concurrency: { type: 'string' },
      'katapult-latency': { type: 'string' },
      rounds: { type: 'string' },
      warmup: { type: 'string' },
      'leak-requests': { type: 'string' },
      'spawn-samples': { type: 'string' },
      bot: { type: 'string' },
      'eld-resolution': { type: 'string' },
      'bare-listeners': { type: 'string' },
      out: { type: 'string' },
      'no-out': { type: 'boolean' },
      docs: { type: 'string' },
      'no-docs': { type: 'boolean' },
      deadline: { type: 'string' },
      kinds: { type: 'string' },
      'cpu-prof': { type: 'boolean' },
      'cpu-prof-dir': { type: 'string' },
      dump: { type: 'string' },
      smoke: { type: 'boolean' },
      store: { type: 'string' },
      'postgres-url': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) return null;

  const opts: BenchOptions = { ...(values.smoke ? SMOKE_OPTIONS : DEFAULT_OPTIONS) };
  opts.concurrency = [...opts.concurrency];
  opts.kinds = [...opts.kinds];
  opts.stores = [...opts.stores];
  const pick = (flag: string | undefined, envName: string) => flag ?? env[envName]?.trim() ?? undefined;

  const requests = pick(values.requests, 'BENCH_REQUESTS');
  if (requests) opts.requests = count('--requests', requests, 1);
  const concurrency = pick(values.concurrency, 'BENCH_CONCURRENCY');
  if (concurrency) opts.concurrency = list('--concurrency', concurrency);
  const latency = pick(values['katapult-latency'], 'BENCH_KATAPULT_LATENCY');
  if (latency) opts.katapultLatencyMs = count('--katapult-latency', latency, 0);
  const rounds = pick(values.rounds, 'BENCH_ROUNDS');
  if (rounds) opts.rounds = count('--rounds', rounds, 1);
  const warmup = pick(values.warmup, 'BENCH_WARMUP');
  if (warmup) opts.warmup = count('--warmup', warmup, 0);
  const leak = pick(values['leak-requests'], 'BENCH_LEAK_REQUESTS');
  if (leak) opts.leakRequests = count('--leak-requests', leak, 0);
  const spawns = pick(values['spawn-samples'], 'BENCH_SPAWN_SAMPLES');
  if (spawns) opts.spawnSamples = count('--spawn-samples', spawns, 1);
  const bot = pick(values.bot, 'BENCH_BOT');
  if (bot) opts.bot = launch('--bot', bot);
  if (values['eld-resolution']) opts.eldResolutionMs = count('--eld-resolution', values['eld-resolution'], 1);
  if (values['bare-listeners']) opts.bareListeners = count('--bare-listeners', values['bare-listeners'], 0);
  if (values.out) opts.out = values.out;
  if (values['no-out']) opts.out = null;
  if (values.docs) opts.docs = values.docs;
  if (values['no-docs']) opts.docs = null;
  if (values.kinds) {
    const kinds = [...new Set(values.kinds.split(',').map((k) => k.trim()))];
    if (kinds.length === 0 || kinds.some((k) => k !== 'command' && k !== 'submission')) {
      throw new UsageError(`--kinds: expected command, submission or both, got "${values.kinds}"`);
    }
    opts.kinds = kinds as ('command' | 'submission')[];
  }
  if (values['cpu-prof'] || values['cpu-prof-dir'])
    opts.cpuProfDir = values['cpu-prof-dir'] ?? 'bench/results/profiles';
  if (values.dump) opts.dumpDir = values.dump;
  const stores = pick(values.store, 'BENCH_STORE');
  if (stores) {
    const list = [...new Set(stores.split(',').map((k) => k.trim()))];
    if (list.length === 0 || list.some((k) => k !== 'sqlite' && k !== 'postgres')) {
      throw new UsageError(`--store: expected sqlite, postgres or both, got "${stores}"`);
    }
    opts.stores = list as StoreKind[];
  }
  const postgresUrl = pick(values['postgres-url'], 'BENCH_POSTGRES_URL');
  if (postgresUrl) opts.postgresUrl = postgresUrl;
  if (values.deadline) opts.deadlineMs = count('--deadline', values.deadline, 1) * 1000;

  const perRound = Math.floor(opts.requests / opts.rounds);
  const widest = Math.max(...opts.concurrency);
  if (perRound < widest) {
    throw new UsageError(
      `--requests ${opts.requests} over ${opts.rounds} round(s) is ${perRound} per round, fewer than the ${widest} connections`,
    );
  }
  if (opts.warmup > 0 && opts.warmup < widest) {
    throw new UsageError(`--warmup must be 0 or at least the largest concurrency (${widest})`);
  }
  return opts;
}
