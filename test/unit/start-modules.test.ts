/**
 * What a start loads: the bot (src/main.ts, as in production but from the sources) on SQLite, asked
 * once it has started which CommonJS modules it has loaded (Node's module cache, which also holds
 * those that ES modules imported). The store drivers not configured (PostgreSQL, Redis) and
 * prom-client with its `@opentelemetry/api` (loaded at the first scrape: src/metrics.ts) must not be
 * there; SQLite's driver must, which shows the listing sees drivers.
 *
 * And the compile cache the entry turns on (src/main.ts): it holds the bot's modules after a start,
 * and a start where it cannot be written goes on without it, saying nothing.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { type FakeSlack, startFakeSlack } from '../../support/fakes/slack-api.js';
import { BOT_TOKEN, SIGNING_SECRET } from '../../support/harness.js';

/** Preloaded in the bot: on SIGUSR2 it writes the paths in the module cache as one line. */
const LIST_ON_SIGNAL = `data:text/javascript,${encodeURIComponent(`
import { createRequire } from 'node:module';
const cache = createRequire(process.cwd() + '/').cache;
process.on('SIGUSR2', () => process.stderr.write('LOADED ' + JSON.stringify(Object.keys(cache)) + '\\n'));
`)}`;

let slack: FakeSlack;
let dir: string;

beforeAll(async () => {
  slack = await startFakeSlack();
  dir = await mkdtemp(path.join(tmpdir(), 'katapult-chatops-start-'));
});

afterAll(async () => {
  await slack?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** The packages whose files are in `paths` (`node_modules/<name>/…`, scoped names whole). */
function packagesIn(paths: string[]): Set<string> {
  const names = paths.map((p) => /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(p)?.[1]);
  return new Set(names.filter((n): n is string => n !== undefined));
}

/**
 * Starts the bot with `env` added, lists the packages it has loaded once it has started, then stops
 * it: SIGKILL, or SIGTERM (a clean stop, awaited).
 */
async function loadedAtStart(
  env: Record<string, string> = {},
  stop: 'SIGKILL' | 'SIGTERM' = 'SIGKILL',
): Promise<{ loaded: Set<string>; out: string }> {
  const loader = pathToFileURL(path.resolve('node_modules/tsx/dist/loader.mjs')).href;
  const child = spawn(
    process.execPath,
    ['--import', loader, '--import', LIST_ON_SIGNAL, path.resolve('src/main.ts')],
    {
      cwd: dir,
      env: {
        PATH: process.env.PATH ?? '',
        SLACK_BOT_TOKEN: BOT_TOKEN,
        SLACK_SIGNING_SECRET: SIGNING_SECRET,
        SLACK_API_URL: slack.apiUrl,
        KATAPULT_API_URL: 'http://127.0.0.1:9/',
        DATA_DIR: path.join(dir, 'data'),
        TOKEN_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
        PORT: '0',
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  const exited = new Promise((resolve) => child.once('exit', resolve));
  let out = '';
  const seen = (pattern: RegExp) =>
    new Promise<RegExpMatchArray>((resolve, reject) => {
      const check = () => {
        const match = out.match(pattern);
        if (match) resolve(match);
      };
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        check();
      });
      child.stderr.on('data', (d: Buffer) => {
        out += d.toString();
        check();
      });
      child.on('exit', () => reject(new Error(`the bot exited:\n${out}`)));
    });
  try {
    await seen(/"event":"started"/);
    child.kill('SIGUSR2');
    const [, list] = await seen(/^LOADED (.*)$/m);
    return { loaded: packagesIn(JSON.parse(list as string) as string[]), out };
  } finally {
    child.kill(stop);
    await exited;
  }
}

test('a start on SQLite loads neither the other stores’ drivers nor prom-client and @opentelemetry/api', async () => {
  const { loaded } = await loadedAtStart();
  // The listing does see the drivers and packages a start loads.
  expect(loaded).toContain('sqlite3');
  expect(loaded).toContain('@slack/bolt');
  for (const name of [
    'pg',
    '@redis/client',
    '@keyv/redis',
    '@keyv/postgres',
    'prom-client',
    '@opentelemetry/api',
    // Bolt's ExpressReceiver, which only Bolt's index loads (src/slack/bolt.ts takes Bolt's own files).
    'express',
    'mime-db',
  ])
    expect(loaded).not.toContain(name);
}, 40_000);

test('the entry turns on the compile cache before it loads the bot; one that cannot be written changes nothing', async () => {
  // Node's default place, <os.tmpdir()>/node-compile-cache (NODE_COMPILE_CACHE is not set here),
  // written when the bot exits.
  const tmp = path.join(dir, 'tmp');
  await loadedAtStart({ TMPDIR: tmp }, 'SIGTERM');
  const cache = path.join(tmp, 'node-compile-cache');
  const [folder, ...others] = await readdir(cache); // one per Node version and user id
  expect(others).toEqual([]);
  const entries = await readdir(path.join(cache, folder as string));
  // An entry names the module it was compiled from: those of the bot, loaded after the cache was on.
  const texts = await Promise.all(
    entries.map((e) => readFile(path.join(cache, folder as string, e), 'latin1')),
  );
  expect(texts.some((text) => text.includes(pathToFileURL(path.resolve('src/app.ts')).href))).toBe(true);

  // A cache folder that cannot be made (inside a file): the bot starts and writes its log only.
  const notAFolder = path.join(dir, 'not-a-folder');
  await writeFile(notAFolder, '');
  const { out } = await loadedAtStart({ NODE_COMPILE_CACHE: path.join(notAFolder, 'cache') }, 'SIGTERM');
  const lines = out.split('\n').filter((line) => line !== '' && !line.startsWith('LOADED '));
  expect(lines.length).toBeGreaterThan(0);
  for (const line of lines) expect(line).toMatch(/^\{"time":/);
}, 60_000);
