/**
 * Starts the bot and the baseline as child processes (`node --import bench/probe.mjs …`), learns
 * their port from the `{"event":"started","port":N}` line on stdout, times spawn to GET /healthz 200,
 * talks to the probe over IPC, and stops them. Every child is tracked so that `killAll` (run on any
 * failure and at exit) leaves no process behind.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import http from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { hrMs } from './stats.js';

/** The bot, the bare Bolt baseline (`baseline`) and the same-work baseline. */
export type TargetName = 'bot' | 'baseline' | 'same-work';

export interface ProbeReport {
  eld: {
    resolutionMs: number;
    count: number;
    p50Ms: number | null;
    p99Ms: number | null;
    maxMs: number | null;
    meanMs: number | null;
  };
  rss: number;
  peakRss: number;
  heapUsed: number;
  heapTotal: number;
  external: number;
  arrayBuffers: number;
  /** The memory figures were read after a full GC. */
  afterGc: boolean;
  uptimeMs: number;
  /** Cumulative CPU time of the process (all threads), microseconds. */
  cpu: { user: number; system: number };
}

export interface LaunchSpec {
  name: TargetName;
  /** Arguments after `node --import <probe>`. */
  args: string[];
  env: Record<string, string>;
  readyTimeoutMs: number;
}

export interface Target {
  readonly name: TargetName;
  readonly pid: number;
  readonly port: number;
  /** http://127.0.0.1:<port> */
  readonly baseUrl: string;
  readonly spawnToStartedMs: number;
  readonly spawnToReadyMs: number;
  /** Event names of the JSON log lines seen on stdout and stderr, counted. */
  readonly logEvents: { stdout: Record<string, number>; stderr: Record<string, number> };
  /** Last stderr lines, for error messages. */
  stderrTail(): string[];
  probe(op: 'report' | 'reset' | 'gc'): Promise<ProbeReport>;
  stop(): Promise<void>;
}

const live = new Set<ChildProcess>();

/** SIGKILLs every child still running. Synchronous, so it can run in an 'exit' handler. */
export function killAll(): void {
  for (const child of live) {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
  live.clear();
}

export function liveChildren(): number {
  let n = 0;
  for (const child of live) if (child.exitCode === null && child.signalCode === null) n++;
  return n;
}

/** GET `url`, resolving with the status code, or 0 if the connection failed. */
function getStatus(url: string, timeoutMs: number): Promise<number> {
  return new Promise((resolve) => {
    const req = http.get(url, { agent: false, timeout: timeoutMs }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(0));
  });
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const EVENT = /"event":"([^"\\]{1,80})"/;

class LineSplitter {
  private rest = '';
  constructor(private readonly onLine: (line: string) => void) {}
  push(chunk: string): void {
    const text = this.rest + chunk;
    const lines = text.split('\n');
    this.rest = lines.pop() ?? '';
    for (const line of lines) if (line) this.onLine(line);
  }
}

export async function launch(spec: LaunchSpec, probeUrl: string): Promise<Target> {
  const cwd = await mkdtemp(path.join(tmpdir(), `katapult-bench-${spec.name}-`));
  const env = { ...spec.env, DATA_DIR: spec.env.DATA_DIR ?? path.join(cwd, 'data') };
  const started = hrMs();
  // cwd is an empty folder so that a developer's .env in the project root cannot change the run.
  const child = spawn(process.execPath, ['--import', probeUrl, ...spec.args], {
    cwd,
    env,
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  live.add(child);

  const logEvents = { stdout: {} as Record<string, number>, stderr: {} as Record<string, number> };
  const tail: string[] = [];
  const countEvent = (bucket: Record<string, number>, line: string) => {
    const event = EVENT.exec(line)?.[1] ?? '(other)';
    bucket[event] = (bucket[event] ?? 0) + 1;
  };
  let onStarted: ((port: number) => void) | null = null;
  const stdout = new LineSplitter((line) => {
    countEvent(logEvents.stdout, line);
    if (onStarted && line.includes('"started"')) {
      try {
        const parsed = JSON.parse(line) as { event?: unknown; mode?: unknown; port?: unknown };
        if (parsed.event === 'started' && parsed.mode === 'http' && typeof parsed.port === 'number') {
          onStarted(parsed.port);
        }
      } catch {
        // not JSON: ignore
      }
    }
  });
  const stderr = new LineSplitter((line) => {
    countEvent(logEvents.stderr, line);
    tail.push(line.slice(0, 500));
    if (tail.length > 30) tail.shift();
  });
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => stdout.push(chunk));
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => stderr.push(chunk));

  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const describeExit = () =>
    `${spec.name} exited (code ${child.exitCode}, signal ${child.signalCode})${tail.length ? `:\n${tail.join('\n')}` : ''}`;

  const cleanupDir = () => rm(cwd, { recursive: true, force: true }).catch(() => undefined);
  const forceStop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited;
    live.delete(child);
    await cleanupDir();
  };

  let port: number;
  let spawnToStartedMs: number;
  let spawnToReadyMs: number;
  try {
    port = await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(
        () =>
          reject(new Error(`${spec.name} did not print its started line within ${spec.readyTimeoutMs} ms`)),
        spec.readyTimeoutMs,
      );
      onStarted = (p) => {
        clearTimeout(timer);
        onStarted = null;
        resolve(p);
      };
      child.once('error', (error) => {
        clearTimeout(timer);
        reject(error);
      });
      exited.then(() => {
        clearTimeout(timer);
        reject(new Error(describeExit()));
      });
    });
    spawnToStartedMs = hrMs() - started;
    const healthz = `http://127.0.0.1:${port}/healthz`;
    for (;;) {
      if (child.exitCode !== null || child.signalCode !== null) throw new Error(describeExit());
      if (hrMs() - started > spec.readyTimeoutMs) {
        throw new Error(`${spec.name}: GET /healthz did not answer 200 within ${spec.readyTimeoutMs} ms`);
      }
      if ((await getStatus(healthz, 1000)) === 200) break;
      await sleep(5);
    }
    spawnToReadyMs = hrMs() - started;
  } catch (error) {
    await forceStop();
    throw error;
  }

  let nextId = 0;
  const pending = new Map<number, { resolve: (r: ProbeReport) => void; reject: (e: Error) => void }>();
  child.on('message', (msg: unknown) => {
    const m = msg as { type?: unknown; id?: unknown; ok?: unknown; report?: ProbeReport; error?: unknown };
    if (m?.type !== 'bench:probe' || typeof m.id !== 'number') return;
    const waiter = pending.get(m.id);
    if (!waiter) return;
    pending.delete(m.id);
    if (m.ok && m.report) waiter.resolve(m.report);
    else waiter.reject(new Error(`${spec.name} probe: ${String(m.error)}`));
  });
  exited.then(() => {
    for (const waiter of pending.values()) waiter.reject(new Error(describeExit()));
    pending.clear();
  });

  return {
    name: spec.name,
    pid: child.pid ?? -1,
    port,
    baseUrl: `http://127.0.0.1:${port}`,
    spawnToStartedMs,
    spawnToReadyMs,
    logEvents,
    stderrTail: () => [...tail],
    probe(op) {
      if (child.exitCode !== null || child.signalCode !== null)
        return Promise.reject(new Error(describeExit()));
      const id = ++nextId;
      return new Promise<ProbeReport>((resolve, reject) => {
        const timer = setTimeout(() => {
          pending.delete(id);
          reject(new Error(`${spec.name}: the probe did not answer "${op}" within 10 s (was it preloaded?)`));
        }, 10_000);
        pending.set(id, {
          resolve: (r) => {
            clearTimeout(timer);
            resolve(r);
          },
          reject: (e) => {
            clearTimeout(timer);
            reject(e);
          },
        });
        child.send({ type: 'bench:probe', id, op });
      });
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
        await exited;
        clearTimeout(timer);
      }
      live.delete(child);
      await cleanupDir();
    },
  };
}
