/**
 * What a start loads: the bot (src/main.ts, as in production but from the sources) on SQLite, asked
 * once it has started which CommonJS modules it has loaded (Node's module cache, which also holds
 * those that ES modules imported). The store drivers not configured (PostgreSQL, Redis) and
 * prom-client with its `@opentelemetry/api` (loaded at the first scrape: src/metrics.ts) must not be
 * there; SQLite's driver must, which shows the listing sees drivers.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
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

async function loadedAtStart(): Promise<Set<string>> {
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
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
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
    return packagesIn(JSON.parse(list as string) as string[]);
  } finally {
    child.kill('SIGKILL');
  }
}

test('a start on SQLite loads neither the other stores’ drivers nor prom-client and @opentelemetry/api', async () => {
  const loaded = await loadedAtStart();
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
  ])
    expect(loaded).not.toContain(name);
}, 40_000);
