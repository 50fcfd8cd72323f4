/**
 * The real entry point (src/main.ts) as a child process, run from an empty folder so a developer's
 * own .env cannot leak into the test. Its JSON log lines are collected; `port` resolves from the
 * "started" line.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

export interface BotProcess {
  child: ChildProcess;
  output(): string;
  exited: Promise<number | null>;
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
  child.stdout?.on('data', (d: Buffer) => {
    out += d.toString();
  });
  child.stderr?.on('data', (d: Buffer) => {
    out += d.toString();
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return {
    child,
    output: () => out,
    exited,
    port: () =>
      until('the bot to start', () => {
        const port = out.match(/"event":"started".*"port":(\d+)/)?.[1];
        return port ? Number(port) : undefined;
      }),
    kill: () => {
      child.kill('SIGKILL');
    },
  };
}

export async function until<T>(what: string, probe: () => T | undefined, timeoutMs = 15_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
