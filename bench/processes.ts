/**
 * The processes a run measures: the bot (`node dist/main.js`, or its sources through tsx), bare Bolt
 * (bench/baseline-app.mjs) and same-work (bench/same-work-app.mjs), each started as
 * `node --import bench/probe.mjs …` in an empty folder with the same environment but its Slack token
 * (so the fake Slack can tell whose call it is). `launch` learns the port from the
 * `{"event":"started",…}` line, times spawn → GET /healthz 200 and talks to the probe over IPC. Every
 * child is tracked, so that `killAll` (on any failure and at exit) leaves no process behind.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import http from 'node:http';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath, pathToFileURL } from 'node:url';
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
  cpu: { user: number; system: number };
}

export type Target = Awaited<ReturnType<typeof launch>>;

/** The bots' encryption key, from the run's signing secret, so the load signs modal metadata as the bot does. */
export const benchEncryptionKey = (secret: string) =>
  createHash('sha256').update(`bench-encryption-key:${secret}`).digest();

/** `promise`, or a rejection as soon as `signal` aborts. */
export function abortable<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  let onAbort = () => {};
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => reject(signal.reason);
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
  });
  return Promise.race([promise, aborted]).finally(() => signal.removeEventListener('abort', onAbort));
}

const live = new Set<ChildProcess>();
const running = (child: ChildProcess) => child.exitCode === null && child.signalCode === null;

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

/** Starts one target; `env` is added to (undefined: removed from) the environment every target gets. */
type Env = Record<string, string | undefined>;
type Harness = {
  options: BenchOptions;
  fakes: InstrumentedFakes;
  signingSecret: string;
  signal: AbortSignal;
};
export async function launch(ctx: Harness, name: TargetName, env: Env = {}) {
  const { options } = ctx;
  const cwd = await mkdtemp(path.join(tmpdir(), `katapult-bench-${name}-`));
  const bot = options.bot === 'dist' ? 'dist/main.js' : 'src/main.ts';
  const app = { bot, baseline: 'bench/baseline-app.mjs', 'same-work': 'bench/same-work-app.mjs' }[name];
  if (!existsSync(path.join(ROOT, app))) throw new Error(`${app} is missing: run npm run build first`);
  const tsx =
    name === 'bot' && options.bot === 'src' ? ['--import', pathToFileURL(require.resolve('tsx')).href] : [];
  const profile = options.cpuProfDir
    ? ['--cpu-prof', `--cpu-prof-dir=${path.resolve(ROOT, options.cpuProfDir, name)}`]
    : [];
  const probe = pathToFileURL(path.join(ROOT, 'bench/probe.mjs')).href;
  const args = ['--import', probe, ...profile, ...tsx, path.join(ROOT, app)];
  const allEnv: Record<string, string | undefined> = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    SLACK_BOT_TOKEN: SLACK_TOKENS[name],
    SLACK_SIGNING_SECRET: ctx.signingSecret,
    SLACK_API_URL: ctx.fakes.slack.apiUrl,
    KATAPULT_API_URL: ctx.fakes.katapult.baseUrl,
    KATAPULT_API_TOKEN: FAKE_KATAPULT_VALID_TOKEN,
    PORT: '0',
    TOKEN_ENCRYPTION_KEY: benchEncryptionKey(ctx.signingSecret).toString('base64'),
    LOG_LEVEL: 'info',
    DATA_DIR: path.join(cwd, 'data'),
    BENCH_PROBE: '1',
    BENCH_PROBE_RESOLUTION_MS: String(options.eldResolutionMs),
    BENCH_BARE_LISTENERS: name === 'bot' ? undefined : String(options.bareListeners),
    TSX_TSCONFIG_PATH: options.bot === 'src' ? path.join(ROOT, 'tsconfig.json') : undefined,
    ...env,
  };
  const readyTimeoutMs = options.bot === 'src' ? 40_000 : 20_000;
  const started = hrMs();
  // An empty working folder, so that a developer's .env in the project root cannot change the run.
  const child = spawn(process.execPath, args, {
    cwd,
    env: Object.fromEntries(Object.entries(allEnv).filter(([, v]) => v !== undefined)),
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  live.add(child);
  const logEvents = { stdout: {} as Record<string, number>, stderr: {} as Record<string, number> };
  const stderrTail: string[] = [];
  let onStarted = (_port: number) => {};
  for (const stream of ['stdout', 'stderr'] as const) {
    createInterface({ input: child[stream] as NodeJS.ReadableStream }).on('line', (line) => {
      const event = /"event":"([^"\\]{1,80})"/.exec(line)?.[1] ?? '(other)';
      logEvents[stream][event] = (logEvents[stream][event] ?? 0) + 1;
      if (stream === 'stderr') stderrTail.push(line.slice(0, 500)) > 30 && stderrTail.shift();
      if (event !== 'started') return;
      const { mode, port } = JSON.parse(line) as { mode?: string; port?: unknown };
      if (mode === 'http' && typeof port === 'number') onStarted(port);
    });
  }
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const exitError = () =>
    new Error(
      `${name} exited (code ${child.exitCode}, signal ${child.signalCode})\n${stderrTail.join('\n')}`,
    );
  const stop = async (signal: NodeJS.Signals) => {
    if (running(child)) {
      child.kill(signal);
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    }
    live.delete(child);
    await rm(cwd, { recursive: true, force: true }).catch(() => undefined);
  };

  let port = 0;
  let timer: NodeJS.Timeout | undefined;
  try {
    port = await abortable(
      new Promise<number>((resolve, reject) => {
        const late = () => reject(new Error(`${name}: no started line in ${readyTimeoutMs} ms`));
        timer = setTimeout(late, readyTimeoutMs);
        onStarted = resolve;
        child.once('error', reject);
        exited.then(() => reject(exitError()));
      }),
      ctx.signal,
    );
    while ((await getStatus(`http://127.0.0.1:${port}/healthz`)) !== 200) {
      if (!running(child)) throw exitError();
      if (hrMs() - started > readyTimeoutMs)
        throw new Error(`${name}: GET /healthz not 200 in ${readyTimeoutMs} ms`);
      ctx.signal.throwIfAborted();
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  } catch (error) {
    await stop('SIGKILL');
    throw error;
  } finally {
    clearTimeout(timer);
  }
  const spawnToReadyMs = hrMs() - started;

  let nextId = 0;
  return {
    name,
    pid: child.pid ?? -1,
    /** http://127.0.0.1:<port> */
    baseUrl: `http://127.0.0.1:${port}`,
    spawnToReadyMs,
    /** Event names of the JSON log lines seen on stdout and stderr, counted. */
    logEvents,
    stderrTail,
    /** 'reset' reports, then clears the event-loop histogram and the peak; 'gc' reads memory after a full GC. */
    probe: (op: 'report' | 'reset' | 'gc') =>
      new Promise<ProbeReport>((resolve, reject) => {
        if (!running(child)) return reject(exitError());
        const id = ++nextId;
        const done = (error: Error | null, report?: ProbeReport) => {
          clearTimeout(silence);
          child.off('message', onMessage).off('exit', onExit);
          if (report) resolve(report);
          else reject(error);
        };
        const onMessage = (m: { id?: number; report?: ProbeReport; error?: string }) => {
          if (m?.id === id) done(new Error(`${name} probe: ${m.error}`), m.report);
        };
        const onExit = () => done(exitError());
        const silence = setTimeout(() => done(new Error(`${name}: probe silent for 10 s`)), 10_000);
        child.on('message', onMessage).once('exit', onExit);
        child.send({ type: 'bench:probe', id, op });
      }),
    stop: () => stop('SIGTERM'),
  };
}

/** Every table the bot (src/store/postgres-store.ts) and the same-work app create. */
const DROP_TABLES =
  'DROP TABLE IF EXISTS public.katapult_kv, public.katapult_claims, public.katapult_audit_log, ' +
  'public.katapult_docs, public.same_work_claims, public.same_work_audit';

/** The URL without credentials, for the report. */
const shownUrl = (url: string) => {
  const u = new URL(url);
  return `${u.protocol}//${u.host}${u.pathname}`;
};

/**
 * The store the bot and the same-work baseline share. SQLite: each process's own file in its fresh
 * DATA_DIR (the bot's default STORE_URL; the same-work app computes it the same way). PostgreSQL: one
 * database for both, created if missing and emptied first; its name must contain "bench", so that a
 * mistyped URL cannot empty a real one. Returns the environment the targets get, and the store's name.
 */
export async function prepareStore(kind: StoreKind, url: string) {
  if (kind === 'sqlite')
    return { env: {}, shown: 'sqlite://<DATA_DIR>/katapult-chatops.sqlite (one file per process)' };
  const database = decodeURIComponent(new URL(url).pathname.slice(1));
  if (!/bench/i.test(database) || !/^\w+$/.test(database)) {
    throw new Error(
      `--postgres-url: the database name must contain "bench" (it is emptied), got "${database}"`,
    );
  }
  const query = async (connectionString: string, sql: string, params: string[] = []) => {
    const client = new pg.Client({ connectionString, connectionTimeoutMillis: 3000 });
    await client.connect();
    return client.query(sql, params).finally(() => client.end().catch(() => undefined));
  };
  try {
    const admin = new URL(url);
    admin.pathname = '/postgres';
    const found = await query(admin.href, 'SELECT 1 FROM pg_database WHERE datname = $1', [database]);
    if (found.rowCount === 0) await query(admin.href, `CREATE DATABASE ${database}`);
    await query(url, DROP_TABLES);
  } catch (error) {
    throw new Error(
      `PostgreSQL at ${shownUrl(url)} is not usable (${(error as { code?: string }).code ?? (error as Error).message}): start it, set BENCH_POSTGRES_URL, or run with --store sqlite`,
    );
  }
  return { env: { STORE_URL: url }, shown: shownUrl(url) };
}
