/**
 * The processes a run measures (the bot, bare Bolt, same-work), each started as `node --import
 * bench/probe.mjs …` in an empty folder with the same environment but its Slack token; and their
 * store. Every child is tracked, so that `killAll` (on any failure and at exit) leaves none behind.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import http from 'node:http';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { createClient } from '@keyv/redis';
import pg from 'pg';
import { FAKE_KATAPULT_VALID_TOKEN } from '../support/fakes/katapult-api.js';
import type { InstrumentedFakes } from './fakes.js';
import type { BenchOptions, StoreKind } from './run.js';
import { hrMs } from './stats.js';

export const ROOT = fileURLToPath(new URL('..', import.meta.url));
const require = createRequire(import.meta.url);
export type TargetName = 'bot' | 'baseline' | 'same-work';
export const TARGETS: readonly TargetName[] = ['bot', 'baseline', 'same-work'];
export const SLACK_TOKENS: Record<TargetName, string> = {
  bot: 'xoxb-bench-bot-0000-1111',
  baseline: 'xoxb-bench-baseline-0000-1111',
  'same-work': 'xoxb-bench-same-work-0000-1111',
};

/** What bench/probe.mjs answers: event-loop delay and peak RSS since the last reset, memory, CPU (µs). */
export interface ProbeReport {
  eld: { p99Ms: number | null; maxMs: number | null };
  rss: number;
  peakRss: number;
  heapUsed: number;
  heapTotal: number;
  external: number;
  /** The target's CPU when asked, before any GC the probe forces. */
  cpu: { user: number; system: number };
  /** The CPU of the GC the probe forced ('gc', 'release'), which no phase is charged. */
  forcedGcCpu: { user: number; system: number };
}
export type Target = Awaited<ReturnType<typeof launch>>;

/** The bots' encryption key, from the run's signing secret, so the load signs modal metadata as the bot does. */
export const benchEncryptionKey = (secret: string) =>
  createHash('sha256').update(`bench-encryption-key:${secret}`).digest();

const live = new Set<ChildProcess>();
const running = (child: ChildProcess) => child.exitCode === null && child.signalCode === null;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** SIGKILLs every child still running. Synchronous, so it can run in an 'exit' handler. */
export function killAll(): void {
  for (const child of live) if (running(child)) child.kill('SIGKILL');
  live.clear();
}
export const liveChildren = () => [...live].filter(running).length;

/** GET `url`: its status, or 0 if the connection failed. */
const getStatus = (url: string) =>
  new Promise<number>((resolve) => {
    const req = http.get(url, { agent: false, timeout: 1000 }, (res) => {
      res.resume().on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('timeout', () => req.destroy()).on('error', () => resolve(0));
  });

type Harness = {
  options: BenchOptions;
  fakes: InstrumentedFakes;
  signingSecret: string;
  signal: AbortSignal;
};

/** Starts one target; `env` is added to (undefined: removed from) the environment every target gets. */
export async function launch(ctx: Harness, name: TargetName, env: Record<string, string | undefined> = {}) {
  const { options: o, fakes, signingSecret } = ctx;
  const app = { bot: o.bot === 'dist' ? 'dist/main.js' : 'src/main.ts', baseline: 'bench/baseline-app.mjs' };
  const file = path.join(ROOT, { ...app, 'same-work': 'bench/same-work-app.mjs' }[name]);
  if (!existsSync(file)) throw new Error(`${file} is missing: run npm run build first`);
  const tsx =
    name === 'bot' && o.bot === 'src' ? ['--import', pathToFileURL(require.resolve('tsx')).href] : [];
  const profile = o.cpuProfDir
    ? ['--cpu-prof', `--cpu-prof-dir=${path.resolve(ROOT, o.cpuProfDir, name)}`]
    : [];
  const probe = path.join(ROOT, 'bench/probe.mjs');
  const args = ['--import', pathToFileURL(probe).href, ...profile, ...tsx, file];
  // An empty working folder, so that a developer's .env in the project root cannot change the run.
  const cwd = await mkdtemp(path.join(tmpdir(), `katapult-bench-${name}-`));
  const all: Record<string, string | undefined> = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    SLACK_BOT_TOKEN: SLACK_TOKENS[name],
    SLACK_SIGNING_SECRET: signingSecret,
    SLACK_API_URL: fakes.slack.apiUrl,
    KATAPULT_API_URL: fakes.katapult.baseUrl,
    KATAPULT_API_TOKEN: FAKE_KATAPULT_VALID_TOKEN,
    PORT: '0',
    TOKEN_ENCRYPTION_KEY: benchEncryptionKey(signingSecret).toString('base64'),
    LOG_LEVEL: 'info',
    DATA_DIR: path.join(cwd, 'data'),
    BENCH_PROBE: '1',
    BENCH_PROBE_RESOLUTION_MS: String(o.eldResolutionMs),
    BENCH_BARE_LISTENERS: name === 'bot' ? undefined : String(o.bareListeners),
    TSX_TSCONFIG_PATH: o.bot === 'src' ? path.join(ROOT, 'tsconfig.json') : undefined,
    ...env,
  };
  const started = hrMs();
  const child = spawn(process.execPath, args, {
    cwd,
    env: Object.fromEntries(Object.entries(all).filter(([, v]) => v !== undefined)),
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  live.add(child);
  const logEvents = { stdout: {} as Record<string, number>, stderr: {} as Record<string, number> };
  const stderrTail: string[] = [];
  let port = 0;
  for (const stream of ['stdout', 'stderr'] as const) {
    createInterface({ input: child[stream] as NodeJS.ReadableStream }).on('line', (line) => {
      const event = /"event":"([^"\\]{1,80})"/.exec(line)?.[1] ?? '(other)';
      logEvents[stream][event] = (logEvents[stream][event] ?? 0) + 1;
      if (stream === 'stderr' && stderrTail.push(line.slice(0, 500)) > 30) stderrTail.shift();
      const started =
        event === 'started' && stream === 'stdout'
          ? (JSON.parse(line) as { mode?: string; port?: unknown })
          : {};
      if (started.mode === 'http' && typeof started.port === 'number') port = started.port;
    });
  }
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const exitError = () =>
    new Error(`${name} exited (${child.exitCode ?? child.signalCode})\n${stderrTail.join('\n')}`);
  const stop = async (signal: NodeJS.Signals) => {
    const force = setTimeout(() => child.kill('SIGKILL'), 5000);
    if (running(child)) child.kill(signal);
    await exited;
    clearTimeout(force);
    live.delete(child);
    await rm(cwd, { recursive: true, force: true }).catch(() => undefined);
  };
  // Ready: the started line is out and GET /healthz answers 200.
  const timeoutMs = o.bot === 'src' ? 40_000 : 20_000;
  try {
    while (port === 0 || (await getStatus(`http://127.0.0.1:${port}/healthz`)) !== 200) {
      if (!running(child)) throw exitError();
      if (hrMs() - started > timeoutMs) throw new Error(`${name} was not ready within ${timeoutMs} ms`);
      ctx.signal.throwIfAborted();
      await sleep(port === 0 ? 1 : 5);
    }
  } catch (error) {
    await stop('SIGKILL');
    throw error;
  }
  return {
    name,
    /** http://127.0.0.1:<port> */
    baseUrl: `http://127.0.0.1:${port}`,
    spawnToReadyMs: hrMs() - started,
    /** Event names of the JSON log lines seen on stdout and stderr, counted. */
    logEvents,
    stderrTail,
    /** 'reset' reports, then clears the event-loop histogram and the peak; 'gc', 'release': bench/probe.mjs. */
    async probe(op: 'report' | 'reset' | 'gc' | 'release'): Promise<ProbeReport> {
      if (!running(child)) throw exitError();
      child.send({ type: 'bench:probe', op });
      const signal = AbortSignal.any([ctx.signal, AbortSignal.timeout(10_000)]);
      const [answer] = (await once(child, 'message', { signal })) as {
        report?: ProbeReport;
        error?: string;
      }[];
      if (!answer?.report) throw new Error(`${name} probe: ${answer?.error}`);
      return answer.report;
    },
    stop: () => stop('SIGTERM'),
  };
}

/** Every table the bot (src/store/postgres-store.ts) and the same-work app create. */
const DROP_TABLES =
  'DROP TABLE IF EXISTS public.katapult_kv, public.katapult_claims, public.katapult_audit_log, ' +
  'public.katapult_docs, public.same_work_claims, public.same_work_audit';
/** The keys the bot (its namespace, src/store/redis-store.ts) and the same-work app write on Redis. */
const REDIS_KEYS = /^(katapult-chatops:|bench:)/;

/**
 * The store the bot and the same-work baseline share. SQLite: each process's own file in its fresh
 * DATA_DIR (the bot's default STORE_URL; the same-work app computes it the same way). PostgreSQL: one
 * database for both, created if missing and emptied first; its name must contain "bench", so that a
 * mistyped URL cannot empty a real one. Redis: a database of its own (not 0, which the tests share),
 * whose bot and same-work keys are deleted first; any other key there stops the run, so that no data
 * of anyone else's is ever deleted (never FLUSHDB nor FLUSHALL). Returns the targets' environment and
 * the store's name.
 */
export async function prepareStore(kind: StoreKind, { postgresUrl, redisUrl }: BenchOptions) {
  if (kind === 'sqlite')
    return { env: {}, shown: 'sqlite://<DATA_DIR>/katapult-chatops.sqlite (one file per process)' };
  const url = kind === 'redis' ? redisUrl : postgresUrl;
  const { protocol, host, pathname } = new URL(url);
  const [database, shown] = [decodeURIComponent(pathname.slice(1)), `${protocol}//${host}${pathname}`];
  const [flag, redis] = [`--${kind}-url`, kind === 'redis'];
  if (redis && !/^([1-9]|1[0-5])$/.test(database))
    throw new Error(`${flag}: name a database of the bench's own, 1 to 15 (e.g. /15), not "${database}"`);
  if (!redis && (!/bench/i.test(database) || !/^\w+$/.test(database)))
    throw new Error(`${flag}: its database must contain "bench" (it is emptied), not "${database}"`);
  try {
    await (redis ? emptyRedis(url, database, flag) : emptyPostgres(url, database));
  } catch (error) {
    const why = (error as { code?: string }).code ?? (error as Error).message;
    throw new Error(`${kind} at ${shown} is not usable (${why}): start it, or run with --store sqlite`);
  }
  return { env: { STORE_URL: url }, shown };
}

async function emptyPostgres(url: string, database: string) {
  const query = async (connectionString: string, sql: string, params: string[] = []) => {
    const client = new pg.Client({ connectionString, connectionTimeoutMillis: 3000 });
    await client.connect();
    return client.query(sql, params).finally(() => client.end().catch(() => undefined));
  };
  const admin = Object.assign(new URL(url), { pathname: '/postgres' }).href;
  const found = await query(admin, 'SELECT 1 FROM pg_database WHERE datname = $1', [database]);
  if (found.rowCount === 0) await query(admin, `CREATE DATABASE ${database}`);
  await query(url, DROP_TABLES);
}

async function emptyRedis(url: string, database: string, flag: string) {
  const client = createClient({ url, socket: { connectTimeout: 3000, reconnectStrategy: false } });
  client.on('error', () => undefined);
  await client.connect();
  try {
    const keys: string[] = [];
    for await (const batch of client.scanIterator({ COUNT: 1000 })) keys.push(...[batch].flat().map(String));
    const foreign = keys.find((key) => !REDIS_KEYS.test(key));
    if (foreign)
      throw new Error(`${flag}: database ${database} holds "${foreign}": not the bench's, left alone`);
    for (let i = 0; i < keys.length; i += 1000) await client.unlink(keys.slice(i, i + 1000));
  } finally {
    client.destroy();
  }
}
