/**
 * The real entry point (src/main.ts) as a child process, run from an empty folder so a developer's
 * own .env cannot leak into the test. Its JSON log lines are collected; `waitForOutput` resolves as
 * soon as a line it waits for is written, and `port` from the "started" line.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

export interface BotProcess {
  child: ChildProcess;
  output(): string;
  exited: Promise<number | null>;
  /** Resolves with the first match of `pattern` in the output, as soon as it is written (rejects after `timeoutMs`). */
  waitForOutput(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  /** The HTTP port, once the bot logged that it started. */
  port(): Promise<number>;
  kill(): void;
}

export function startBotProcess(env: Record<string, string>, cwd: string): BotProcess {
  const loader = pathToFileURL(path.resolve('node_modules/tsx/dist/loader.mjs')).href;
  const child = spawn(process.execPath, ['--import', loader, path.resolve('src/main.ts')], {
    cwd,
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  /** Each pending `waitForOutput`: its check, and how it fails. */
  const watchers = new Map<() => void, (why: string) => void>();
  let ended: string | null = null;
  const append = (d: Buffer) => {
    out += d.toString();
    for (const check of [...watchers.keys()]) check();
  };
  child.stdout?.on('data', append);
  child.stderr?.on('data', append);
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  // Once its output is all read, a wait for a line the bot never wrote fails at once, and leaves no
  // timer behind (one that lost a `Promise.any` would have kept Jest from exiting for 15 s).
  child.on('close', (code, signal) => {
    ended = `the bot exited (${signal ?? code}) first`;
    for (const fail of [...watchers.values()]) fail(ended);
  });
  const waitForOutput = (pattern: RegExp, timeoutMs = 15_000) =>
    new Promise<RegExpMatchArray>((resolve, reject) => {
      const done = () => {
        watchers.delete(check);
        clearTimeout(timer);
      };
      const check = () => {
        const match = out.match(pattern);
        if (!match) return;
        done();
        resolve(match);
      };
      const fail = (why: string) => {
        done();
        reject(new Error(`no ${pattern} in the bot's output: ${why}:\n${out}`));
      };
      const timer = setTimeout(() => fail(`not within ${timeoutMs} ms`), timeoutMs);
      watchers.set(check, fail);
      check();
      if (ended && watchers.has(check)) fail(ended);
    });
  return {
    child,
    output: () => out,
    exited,
    waitForOutput,
    // Generous (within the tests' own 30 s): starting from the sources (tsx) on a loaded machine
    // has taken over 15 s.
    port: async () => Number((await waitForOutput(/"event":"started".*"port":(\d+)/, 25_000))[1]),
    kill: () => {
      child.kill('SIGKILL');
    },
  };
}

/** Polls `probe` every 25 ms until it gives a value (for a child that is not a BotProcess). */
export async function until<T>(what: string, probe: () => T | undefined, timeoutMs = 15_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
