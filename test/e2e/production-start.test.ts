/**
 * A production install: a checkout's files (sources, package.json, package-lock.json, the start
 * scripts) in a folder of its own, built with `npm run build`, its dependencies with the dev ones
 * pruned (`npm prune --omit=dev`, no native rebuild). Then `node dist/main.js` with SQLite and the
 * fake Slack answers /healthz, and `katapult-chatops check` runs as the package's bin (dist/cli.js,
 * executed directly). `npm start` there, with no TypeScript left, starts the existing build, also
 * when a source changed since. Nothing at run time may import a dev dependency.
 */
import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { appendFile, cp, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { type FakeKatapult, startFakeKatapult } from '../../support/fakes/katapult-api.js';
import { type FakeSlack, startFakeSlack } from '../../support/fakes/slack-api.js';
import { BOT_TOKEN, SIGNING_SECRET } from '../../support/harness.js';
import { until } from '../helpers/bot-process.js';

const run = promisify(execFile);

let dir: string;
let slack: FakeSlack;
let katapult: FakeKatapult;

beforeAll(async () => {
  slack = await startFakeSlack();
  katapult = await startFakeKatapult();
  dir = await mkdtemp(path.join(tmpdir(), 'katapult-chatops-prod-'));
  const files = ['package.json', 'package-lock.json', 'tsconfig.json', 'tsconfig.build.json', 'src'];
  for (const file of [...files, 'scripts/start.mjs', 'scripts/start-stamp.mjs'])
    await cp(file, path.join(dir, file), { recursive: true });
  // Hard links: fast, and pruning in the copy only unlinks (the shared tree is untouched). The
  // one file npm rewrites in place is copied for real.
  const modules = path.join(dir, 'node_modules');
  await run('cp', ['-al', `${path.resolve('node_modules')}/.`, modules]);
  await run('cp', ['--remove-destination', path.resolve('node_modules/.package-lock.json'), modules]);
  // tsc, then the bin made executable and the sources' hash noted (scripts/start-stamp.mjs).
  await run('npm', ['run', 'build', '--silent'], { cwd: dir });
  await run('npm', ['prune', '--omit=dev', '--offline', '--no-audit', '--no-fund', '--ignore-scripts'], {
    cwd: dir,
  });
}, 240_000);

afterAll(async () => {
  await slack?.close();
  await katapult?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** What the bot needs to start: SQLite in the folder, the fakes. */
function botEnv(): Record<string, string> {
  return {
    PATH: `${path.dirname(process.execPath)}${path.delimiter}${process.env.PATH ?? ''}`,
    SLACK_BOT_TOKEN: BOT_TOKEN,
    SLACK_SIGNING_SECRET: SIGNING_SECRET,
    SLACK_API_URL: slack.apiUrl,
    KATAPULT_API_URL: katapult.baseUrl,
    DATA_DIR: path.join(dir, 'data'),
    TOKEN_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
    PORT: '0',
  };
}

/**
 * Runs `command` in the pruned folder, waits for the bot's "started" line, passes the port to
 * `check`, then sends SIGTERM to its process group (npm does not pass it on to the script it runs);
 * resolves with the output and the exit code once every process of the group closed its output.
 */
async function startAndStop(
  command: string,
  args: string[],
  check: (port: number) => Promise<void>,
): Promise<{ out: string; code: number | null }> {
  const child = spawn(command, args, {
    cwd: dir,
    env: botEnv(),
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => {
    out += d.toString();
  });
  child.stderr.on('data', (d: Buffer) => {
    out += d.toString();
  });
  const closed = new Promise<number | null>((resolve) => child.on('close', resolve));
  try {
    const port = await until(
      'the bot to start',
      () => out.match(/"event":"started".*"port":(\d+)/)?.[1],
      20_000,
    ).catch((error: Error) => {
      throw new Error(`${error.message}; output:\n${out}`);
    });
    await check(Number(port));
  } finally {
    if (child.pid) process.kill(-child.pid, 'SIGTERM');
  }
  const code = await closed;
  return { out, code };
}

async function expectHealthy(port: number): Promise<void> {
  const res = await fetch(`http://127.0.0.1:${port}/healthz`);
  expect(res.status).toBe(200);
  expect(await res.json()).toMatchObject({ ok: true, store: 'ok' });
}

test('the pruned install has no dev dependency, and `node dist/main.js` starts and answers /healthz', async () => {
  const manifest = JSON.parse(await readFile('package.json', 'utf8')) as {
    devDependencies: Record<string, string>;
    bin: Record<string, string>;
  };
  for (const dev of ['typescript', 'tsx', 'jest', '@biomejs/biome']) {
    expect(manifest.devDependencies[dev]).toBeDefined();
    await expect(readFile(path.join(dir, 'node_modules', dev, 'package.json'))).rejects.toThrow();
  }
  const { code } = await startAndStop(process.execPath, ['dist/main.js'], async (port) => {
    await expectHealthy(port);
    expect((await fetch(`http://127.0.0.1:${port}/metrics`)).status).toBe(200);

    // The bin entry runs as a program of its own (shebang, executable), as an installed package's does.
    const bin = manifest.bin['katapult-chatops'] ?? 'missing';
    const check = await run(path.join(dir, bin), ['check'], { cwd: dir, env: botEnv() }).catch(
      (error: { stdout?: string; code?: number }) => ({ stdout: error.stdout ?? '', code: error.code }),
    );
    expect(check.stdout).toMatch(/^ok +store +reachable/m);
    expect(check.stdout).toMatch(/^check passed/m);
  });
  expect(code).toBe(0);
}, 60_000);

test('`npm start` after the prune starts the existing build (no TypeScript), also once a source changed', async () => {
  // npm itself ends on the signal; the bot stops as on any SIGTERM.
  const stopped = /"event":"stopped".*"drained":true/;
  const unchanged = await startAndStop('npm', ['start'], expectHealthy);
  expect(unchanged.out).not.toMatch(/katapult-chatops: (building|the sources changed)/);
  expect(unchanged.out).toMatch(stopped);

  await appendFile(path.join(dir, 'src', 'main.ts'), '\n// changed after the build\n');
  const changed = await startAndStop('npm', ['start'], expectHealthy);
  expect(changed.out).toContain(
    'katapult-chatops: the sources changed since dist/ was built, and TypeScript is not installed: starting the existing build',
  );
  expect(changed.out).toMatch(stopped);
}, 60_000);
