/**
 * `npm start` twice, nothing changed in between (issue 22: the second start ready within 3 s on the
 * 2-core machine). A figure, not a gated target. It runs in a scratch folder laid out as a checkout
 * (package files, src/, the tsconfigs, the start scripts, the run's dist/ with its sources' hash, and
 * node_modules linked), so that a developer's .env in the checkout cannot change it; each start is
 * timed from spawn to GET /healthz 200, then stopped with SIGTERM.
 */
import { spawn } from 'node:child_process';
import { cp, mkdtemp, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { FAKE_KATAPULT_VALID_TOKEN } from '../support/fakes/katapult-api.js';
import type { InstrumentedFakes } from './fakes.js';
import { benchEncryptionKey, ROOT, SLACK_TOKENS } from './processes.js';
import { hrMs } from './stats.js';

const COPIED = ['package.json', 'package-lock.json', 'tsconfig.json', 'tsconfig.build.json', 'src', 'dist'];

export type NpmStartFigure = {
  /** spawn → /healthz 200 of each start, ms. */
  startsMs: number[];
  /** Whether each start built dist/ first (it should not: the sources did not change). */
  built: boolean[];
};

type Context = { fakes: InstrumentedFakes; signingSecret: string; signal: AbortSignal };

/** One `npm start` in `dir`: its time to ready and whether it built; stopped before returning. */
async function oneStart(ctx: Context, dir: string): Promise<{ ms: number; built: boolean }> {
  const env = {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? '',
    SLACK_BOT_TOKEN: SLACK_TOKENS.bot,
    SLACK_SIGNING_SECRET: ctx.signingSecret,
    SLACK_API_URL: ctx.fakes.slack.apiUrl,
    KATAPULT_API_URL: ctx.fakes.katapult.baseUrl,
    KATAPULT_API_TOKEN: FAKE_KATAPULT_VALID_TOKEN,
    TOKEN_ENCRYPTION_KEY: benchEncryptionKey(ctx.signingSecret).toString('base64'),
    DATA_DIR: path.join(dir, 'data'),
    PORT: '0',
  };
  const started = hrMs();
  // Its own process group: npm does not pass SIGTERM on to the script it runs.
  const child = spawn('npm', ['start'], { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let out = '';
  for (const stream of [child.stdout, child.stderr]) stream.on('data', (d: Buffer) => (out += d.toString()));
  const closed = new Promise<void>((resolve) => child.once('close', () => resolve()));
  try {
    for (;;) {
      const port = /"event":"started".*"port":(\d+)/.exec(out)?.[1];
      const ok =
        port &&
        (await fetch(`http://127.0.0.1:${port}/healthz`).then(
          (r) => r.ok,
          () => false,
        ));
      if (ok) break;
      if (child.exitCode !== null || hrMs() - started > 60_000)
        throw new Error(`npm start was not ready (exit ${child.exitCode}):\n${out.slice(-2000)}`);
      ctx.signal.throwIfAborted();
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    return { ms: hrMs() - started, built: /katapult-chatops: (building|the sources changed)/.test(out) };
  } finally {
    if (child.pid) process.kill(-child.pid, 'SIGTERM');
    await closed;
  }
}

/** Two starts in a row of the checkout's build (`npm run build` first). */
export async function measureNpmStart(ctx: Context): Promise<NpmStartFigure> {
  const dir = await mkdtemp(path.join(tmpdir(), 'katapult-bench-npm-start-'));
  try {
    for (const file of [...COPIED, 'scripts/start.mjs', 'scripts/start-stamp.mjs'])
      await cp(path.join(ROOT, file), path.join(dir, file), { recursive: true });
    await symlink(path.join(ROOT, 'node_modules'), path.join(dir, 'node_modules'));
    const figure: NpmStartFigure = { startsMs: [], built: [] };
    for (let i = 0; i < 2; i++) {
      const { ms, built } = await oneStart(ctx, dir);
      figure.startsMs.push(Math.round(ms));
      figure.built.push(built);
    }
    return figure;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
