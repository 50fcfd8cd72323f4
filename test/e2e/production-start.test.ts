/**
 * A production install: the built tree (dist, package.json, package-lock.json) in a folder of its
 * own, its dependencies with the dev ones pruned (`npm prune --omit=dev`, no native rebuild), then
 * `node dist/main.js` with SQLite and the fake Slack answers /healthz, and `katapult-chatops check`
 * runs as the package's bin (dist/cli.js, executed directly). Nothing at run time may import a dev
 * dependency.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { cp, mkdtemp, readFile, rm } from 'node:fs/promises';
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
  await run(process.execPath, [
    path.resolve('node_modules/typescript/bin/tsc'),
    '-p',
    'tsconfig.build.json',
    '--outDir',
    path.join(dir, 'dist'),
  ]);
  for (const file of ['package.json', 'package-lock.json']) await cp(file, path.join(dir, file));
  // What `npm run build` does after tsc: the bin becomes executable.
  await run('npm', ['run', 'postbuild', '--silent'], { cwd: dir });
  // Hard links: fast, and pruning in the copy only unlinks (the shared tree is untouched). The
  // one file npm rewrites in place is copied for real.
  const modules = path.join(dir, 'node_modules');
  await run('cp', ['-al', `${path.resolve('node_modules')}/.`, modules]);
  await run('cp', ['--remove-destination', path.resolve('node_modules/.package-lock.json'), modules]);
  await run('npm', ['prune', '--omit=dev', '--offline', '--no-audit', '--no-fund', '--ignore-scripts'], {
    cwd: dir,
  });
}, 240_000);

afterAll(async () => {
  await slack?.close();
  await katapult?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

test('the pruned install has no dev dependency, and `node dist/main.js` starts and answers /healthz', async () => {
  const manifest = JSON.parse(await readFile('package.json', 'utf8')) as {
    devDependencies: Record<string, string>;
    bin: Record<string, string>;
  };
  for (const dev of ['typescript', 'tsx', 'jest', '@biomejs/biome']) {
    expect(manifest.devDependencies[dev]).toBeDefined();
    await expect(readFile(path.join(dir, 'node_modules', dev, 'package.json'))).rejects.toThrow();
  }
  const { spawn } = await import('node:child_process');
  const env = {
    PATH: `${path.dirname(process.execPath)}${path.delimiter}${process.env.PATH ?? ''}`,
    SLACK_BOT_TOKEN: BOT_TOKEN,
    SLACK_SIGNING_SECRET: SIGNING_SECRET,
    SLACK_API_URL: slack.apiUrl,
    KATAPULT_API_URL: katapult.baseUrl,
    DATA_DIR: path.join(dir, 'data'),
    TOKEN_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
    PORT: '0',
  };
  const child = spawn(process.execPath, ['dist/main.js'], {
    cwd: dir,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => {
    out += d.toString();
  });
  child.stderr.on('data', (d: Buffer) => {
    out += d.toString();
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
  try {
    const port = await until(
      'the bot to start',
      () => out.match(/"event":"started".*"port":(\d+)/)?.[1],
      20_000,
    ).catch((error: Error) => {
      throw new Error(`${error.message}; output:\n${out}`);
    });
    const res = await fetch(`http://127.0.0.1:${port}/healthz`);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ ok: true, store: 'ok' });
    expect((await fetch(`http://127.0.0.1:${port}/metrics`)).status).toBe(200);

    // The bin entry runs as a program of its own (shebang, executable), as an installed package's does.
    const bin = manifest.bin['katapult-chatops'] ?? 'missing';
    const check = await run(path.join(dir, bin), ['check'], { cwd: dir, env }).catch(
      (error: { stdout?: string; code?: number }) => ({ stdout: error.stdout ?? '', code: error.code }),
    );
    expect(check.stdout).toMatch(/^ok +store +reachable/m);
    expect(check.stdout).toMatch(/^check passed/m);
  } finally {
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  }
}, 60_000);
