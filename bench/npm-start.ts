/**
 * `npm start` twice, nothing changed (issue 22: the second ready within 3 s here), each from spawn to
 * GET /healthz 200: a figure, not gated. In a copy of the checkout with its build (node_modules
 * linked), so that a developer's .env cannot change it. The fake APIs are the run's.
 */
import { spawn } from 'node:child_process';
import { cp, mkdtemp, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { PhaseContext } from './phase.js';
import { benchEncryptionKey, ROOT, SLACK_TOKENS } from './processes.js';
import { hrMs } from './stats.js';

const COPIED = ['package.json', 'package-lock.json', 'tsconfig.json', 'tsconfig.build.json', 'src', 'dist'];
/** spawn → /healthz 200 of each start (ms), and whether each built first (it should not). */
export type NpmStartFigure = { startsMs: number[]; built: boolean[] };

async function oneStart({ fakes, signingSecret, signal }: PhaseContext, dir: string, figure: NpmStartFigure) {
  const env = { PATH: process.env.PATH ?? '', SLACK_BOT_TOKEN: SLACK_TOKENS.bot, PORT: '0' };
  const key = benchEncryptionKey(signingSecret).toString('base64');
  Object.assign(env, {
    SLACK_SIGNING_SECRET: signingSecret,
    TOKEN_ENCRYPTION_KEY: key,
    DATA_DIR: `${dir}/data`,
  });
  Object.assign(env, { SLACK_API_URL: fakes.slack.apiUrl, KATAPULT_API_URL: fakes.katapult.baseUrl });
  const started = hrMs();
  // A process group of its own: npm does not pass SIGTERM on to the script it runs.
  const child = spawn('npm', ['start'], { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let out = '';
  for (const stream of [child.stdout, child.stderr]) stream.on('data', (d: Buffer) => (out += d.toString()));
  const closed = new Promise((resolve) => child.once('close', resolve));
  try {
    for (let port: string | undefined; ; await new Promise((resolve) => setTimeout(resolve, 5))) {
      port = /"event":"started".*"port":(\d+)/.exec(out)?.[1];
      if (
        port &&
        (await fetch(`http://127.0.0.1:${port}/healthz`).then(
          (r) => r.ok,
          () => false,
        ))
      )
        break;
      if (child.exitCode !== null || hrMs() - started > 60_000)
        throw new Error(`npm start was not ready (exit ${child.exitCode}):\n${out.slice(-2000)}`);
      signal.throwIfAborted();
    }
    figure.startsMs.push(Math.round(hrMs() - started));
    figure.built.push(/katapult-chatops: (building|the sources changed)/.test(out));
  } finally {
    // A group gone already (ESRCH: a start that failed; no pid: NaN, refused) leaves its own error.
    try {
      process.kill(-(child.pid as number), 'SIGTERM');
    } catch {}
    await closed;
  }
}

export async function measureNpmStart(ctx: PhaseContext): Promise<NpmStartFigure> {
  const dir = await mkdtemp(path.join(tmpdir(), 'katapult-bench-npm-start-'));
  try {
    for (const file of [...COPIED, 'scripts/start.mjs', 'scripts/start-stamp.mjs'])
      await cp(path.join(ROOT, file), path.join(dir, file), { recursive: true });
    await symlink(path.join(ROOT, 'node_modules'), path.join(dir, 'node_modules'));
    const figure: NpmStartFigure = { startsMs: [], built: [] };
    for (let i = 0; i < 2; i++) await oneStart(ctx, dir, figure);
    return figure;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
