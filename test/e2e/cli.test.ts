/**
 * The operator CLI against a store the real bot wrote (SQLite), the fake Slack Web API and the fake
 * Katapult API: `check` passes on a good configuration and names the failing check for a wrong
 * key, an unreachable store and a revoked Katapult token; `rotate-key` re-seals so that a start
 * with only the new key opens every stored token; `export-audit` and `migrate`.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { type AddressInfo, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { runCli } from '../../src/cli.js';
import { BOT_SCOPES } from '../../src/slack/scopes.js';
import { FAKE_TEAM_ID } from '../../support/fakes/slack-api.js';
import {
  ADMIN,
  BOT_TOKEN,
  type Harness,
  inMinutes,
  KATAPULT_TOKEN,
  SIGNING_SECRET,
  startHarness,
} from '../../support/harness.js';
import { describeWithService, serviceUrl } from '../helpers/services.js';
import { useSharedHarness } from '../helpers/shared-harness.js';

const shared = useSharedHarness();
let h: Harness;
let env: Record<string, string>;

beforeAll(async () => {
  h = shared.h;
  await h.submitSchedule({ policyId: 'dbp_audit', at: inMinutes(30), userId: ADMIN });
  await h.bot.idle();
  env = {
    SLACK_BOT_TOKEN: BOT_TOKEN,
    SLACK_SIGNING_SECRET: SIGNING_SECRET,
    SLACK_API_URL: h.slack.apiUrl,
    KATAPULT_API_URL: h.katapult.baseUrl,
    KATAPULT_TIMEOUT_MS: '1500',
    DATA_DIR: h.dataDir,
    TOKEN_ENCRYPTION_KEY: h.encryptionKey,
  };
});

async function cli(args: string[], extra: Record<string, string> = {}) {
  const lines: string[] = [];
  const out = { line: (text: string) => lines.push(text) };
  const code = await runCli(args, { ...env, ...extra }, out, out);
  const text = lines.join('\n');
  // Nothing an operator sees may hold a secret.
  for (const secret of [
    KATAPULT_TOKEN,
    BOT_TOKEN,
    SIGNING_SECRET,
    env.TOKEN_ENCRYPTION_KEY ?? '',
    extra.TOKEN_ENCRYPTION_KEY ?? '',
  ]) {
    if (secret) expect(text).not.toContain(secret);
  }
  return { code, text, lines };
}

const grantScopes = (scopes: readonly string[]) =>
  h.slack.fail('auth.test', {
    status: 200,
    body: { ok: true, team_id: FAKE_TEAM_ID, user_id: 'UBOT00001', bot_id: 'BFAKE0001' },
    headers: { 'x-oauth-scopes': scopes.join(',') },
  });

describe('check', () => {
  test('a good configuration passes, one line per check, exit 0', async () => {
    grantScopes(BOT_SCOPES);
    const { code, lines, text } = await cli(['check']);
    expect(code).toBe(0);
    for (const name of ['config', 'slack', 'slack scopes', 'store', 'schema', 'key', 'katapult']) {
      expect(lines.some((l) => new RegExp(`^ok +${name} `).test(l))).toBe(true);
    }
    expect(text).toContain(`workspace ${FAKE_TEAM_ID}: token accepted`);
    expect(lines.at(-1)).toMatch(/^check passed/);
  });

  test('a scope missing from the bot token fails the scopes check, naming the scope', async () => {
    grantScopes(BOT_SCOPES.filter((s) => s !== 'usergroups:read'));
    const { code, text } = await cli(['check']);
    expect(code).toBe(1);
    expect(text).toMatch(/^FAIL slack scopes +missing usergroups:read/m);
    expect(text).toMatch(/check failed: slack scopes$/);
  });

  test('a wrong key fails the key check', async () => {
    const { code, text } = await cli(['check'], { TOKEN_ENCRYPTION_KEY: randomBytes(32).toString('base64') });
    expect(code).toBe(1);
    expect(text).toMatch(/^FAIL key +1 of \d+ sealed values do not open/m);
    expect(text).toMatch(/check failed: key$/);
  });

  test('an unreachable store fails the store check', async () => {
    const { code, text } = await cli(['check'], {
      STORE_URL: 'postgres://katapult:pw-secret@127.0.0.1:1/none',
    });
    expect(code).toBe(1);
    expect(text).toMatch(/^FAIL store +could not connect to the store at postgres:\/\/127\.0\.0\.1:1\/none/m);
    expect(text).not.toContain('pw-secret');
    expect(text).toMatch(/check failed: store$/);
  });

  test('a SQLite database that is not there yet is reported, not created', async () => {
    const file = path.join(h.dataDir, 'not-yet', 'deeper', 'bot.sqlite');
    const { code, text } = await cli(['check'], { STORE_URL: `sqlite://${file}` });
    expect(code).toBe(0);
    expect(text).toMatch(/^warn store +no SQLite database at .*bot\.sqlite yet: the bot creates it/m);
    expect(text).toMatch(/check passed with \d+ warnings?; the store checks were skipped$/);
    expect(existsSync(path.dirname(path.dirname(file)))).toBe(false);
  });

  test('with no SQLite database yet, KATAPULT_API_TOKEN (which needs no store) is still checked', async () => {
    const file = path.join(h.dataDir, 'not-yet-2', 'bot.sqlite');
    const refused = await cli(['check'], {
      STORE_URL: `sqlite://${file}`,
      KATAPULT_API_TOKEN: 'kt-refused-0001',
    });
    expect(refused.code).toBe(1);
    expect(refused.text).toMatch(/^FAIL katapult +KATAPULT_API_TOKEN: token refused or unusable/m);
    expect(refused.text).toMatch(/check failed: katapult$/);
    const accepted = await cli(['check'], {
      STORE_URL: `sqlite://${file}`,
      KATAPULT_API_TOKEN: KATAPULT_TOKEN,
    });
    expect(accepted.code).toBe(0);
    expect(accepted.text).toMatch(/^ok +katapult +KATAPULT_API_TOKEN: token accepted/m);
    expect(existsSync(path.dirname(file))).toBe(false);
  });

  test('a revoked Katapult token fails the katapult check, naming the workspace', async () => {
    h.katapult.setTokens({});
    try {
      const { code, text } = await cli(['check']);
      expect(code).toBe(1);
      expect(text).toMatch(
        new RegExp(
          `^FAIL katapult +workspace ${FAKE_TEAM_ID}: token refused or unusable \\(invalid_api_token\\)`,
          'm',
        ),
      );
      expect(text).toMatch(/check failed: katapult$/);
    } finally {
      h.katapult.setTokens({ [KATAPULT_TOKEN]: 'Acme Ops' });
    }
  });

  test('a placeholder left from .env.example fails the config check and says so', async () => {
    const { code, text } = await cli(['check'], { SLACK_BOT_TOKEN: 'xoxb-your-bot-token' });
    expect(code).toBe(1);
    expect(text).toContain('FAIL config');
    expect(text).toContain('placeholder from .env.example');
  });
});

describe('export-audit and migrate', () => {
  test('export-audit prints the workspace entries as JSON lines, filtered by --since', async () => {
    const all = await cli(['export-audit', '--workspace', FAKE_TEAM_ID]);
    expect(all.code).toBe(0);
    const entries = all.lines.map(
      (l) => JSON.parse(l) as { workspace: string; action: string; policyId: string },
    );
    expect(entries.some((e) => e.action === 'schedule' && e.policyId === 'dbp_audit')).toBe(true);
    expect(entries.every((e) => e.workspace === FAKE_TEAM_ID)).toBe(true);
    const discovered = await cli(['export-audit']);
    expect(discovered.lines).toEqual(all.lines);
    const none = await cli(['export-audit', `--since=${new Date(Date.now() + 60_000).toISOString()}`]);
    // No JSON line; the one line says why (on stderr: this helper collects both streams).
    expect(none.lines).toEqual([
      expect.stringMatching(/^export-audit: nothing to export: no audit entries since /),
    ]);
    expect((await cli(['export-audit', '--since', 'yesterday'])).code).toBe(2);
  });

  test('migrate reports the store up to date (the bot migrated it on start)', async () => {
    const { code, text } = await cli(['migrate']);
    expect(code).toBe(0);
    expect(text).toMatch(/store schema version 1: up to date/);
  });
});

describe('usage', () => {
  test('`<command> --help` prints the usage and runs nothing; an option a command does not take is refused', async () => {
    const newKey = randomBytes(32).toString('base64');
    // With both keys set, a real rotate-key would re-seal; --help must not.
    for (const args of [
      ['rotate-key', '--help'],
      ['migrate', '-h'],
      ['check', '--help'],
      ['export-audit', '--help'],
    ]) {
      const { code, text } = await cli(args, {
        TOKEN_ENCRYPTION_KEY: newKey,
        TOKEN_ENCRYPTION_OLD_KEYS: h.encryptionKey,
      });
      expect({ args, code }).toEqual({ args, code: 0 });
      expect(text).toMatch(/^usage: katapult-chatops <command>/);
      expect(text).not.toMatch(/\d+ re-sealed|store schema version|check passed/);
    }
    // The stored token is still sealed with the harness's key: nothing was rotated.
    expect((await cli(['check'])).text).toMatch(/^ok +key /m);
    const stray = await cli(['rotate-key', '--dry-run']);
    expect(stray.code).toBe(2);
    expect(stray.text).toContain('rotate-key takes no options (got "--dry-run")');
  });
});

describe('rotate-key', () => {
  test('re-seals with the new key; a start with only the new key opens the stored token', async () => {
    const oldKey = h.encryptionKey;
    const newKey = randomBytes(32).toString('base64');
    const rotated = await cli(['rotate-key'], {
      TOKEN_ENCRYPTION_KEY: newKey,
      TOKEN_ENCRYPTION_OLD_KEYS: oldKey,
    });
    expect(rotated.code).toBe(0);
    expect(rotated.text).toMatch(/rotate-key: 1 re-sealed with key [0-9a-f]{8}, 0 already current, 0 failed/);
    // The old key no longer opens anything; the new one alone opens everything.
    expect((await cli(['check'], { TOKEN_ENCRYPTION_KEY: oldKey })).text).toMatch(/^FAIL key/m);
    grantScopes(BOT_SCOPES);
    expect((await cli(['check'], { TOKEN_ENCRYPTION_KEY: newKey })).code).toBe(0);

    const again = await startHarness({
      dataDir: h.dataDir,
      encryptionKey: newKey,
      slack: h.slack,
      katapult: h.katapult,
    });
    try {
      h.katapult.reset();
      await again.submitSchedule({ policyId: 'dbp_rotated', at: inMinutes(30), userId: ADMIN });
      await again.bot.idle();
      const call = h.katapult.requests.find((r) => r.method === 'DELETE');
      expect(call?.headers.authorization).toBe(`Bearer ${KATAPULT_TOKEN}`);
    } finally {
      await again.bot.stop();
    }
  });
});

describeWithService('redis', 'check against Redis', () => {
  test('reports Redis persistence (a warning, not a failure, when AOF is off)', async () => {
    const { text } = await cli(['check'], { STORE_URL: serviceUrl('redis') });
    expect(text).toMatch(/^(ok|warn) +redis persistence +(AOF is on|AOF is off)/m);
    expect(text).not.toMatch(/^FAIL redis/m);
  });
});

describe('operator polish', () => {
  const version = (JSON.parse(readFileSync('package.json', 'utf8')) as { version: string }).version;
  const loader = pathToFileURL(path.resolve('node_modules/tsx/dist/loader.mjs')).href;
  let emptyDir: string;
  beforeAll(async () => {
    emptyDir = await mkdtemp(path.join(tmpdir(), 'katapult-chatops-cli-'));
  });
  afterAll(async () => {
    await rm(emptyDir, { recursive: true, force: true });
  });

  /** The real entry point as a process, from an empty folder (no .env), with only `env`. */
  const spawnEntry = (file: string, args: string[], processEnv: Record<string, string> = {}) =>
    new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      execFile(
        process.execPath,
        ['--import', loader, path.resolve(file), ...args],
        { cwd: emptyDir, env: { PATH: process.env.PATH ?? '', ...processEnv }, timeout: 30_000 },
        (error, stdout, stderr) => resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
      );
    });

  /** A loopback port nothing listens on. */
  const closedPort = async () => {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    await new Promise((resolve) => server.close(resolve));
    return port;
  };

  test("--version: the CLI and the bot print package.json's version and nothing else", async () => {
    expect(await cli(['--version'])).toMatchObject({ code: 0, lines: [version] });
    for (const file of ['src/cli.ts', 'src/main.ts']) {
      expect({ file, ...(await spawnEntry(file, ['--version'])) }).toEqual({
        file,
        code: 0,
        stdout: `${version}\n`,
        stderr: '',
      });
    }
  }, 60_000);

  test('check reports every configuration mistake at once, one FAIL line each', async () => {
    const { code, lines } = await cli(['check'], {
      PORT: 'eighty',
      LOG_LEVEL: 'loud',
      KATAPULT_TIMEOUT_MS: '5',
    });
    expect(code).toBe(1);
    expect(lines).toEqual([
      'FAIL config             LOG_LEVEL: expected one of debug, info, warn, error',
      'FAIL config             PORT: expected a whole number from 0 to 65535',
      'FAIL config             KATAPULT_TIMEOUT_MS: expected a whole number from 100 to 120000',
      'check failed: config',
    ]);
  });

  test("the bot's start reports every configuration mistake at once, one line each, exit 1", async () => {
    const start = await spawnEntry('src/main.ts', [], {
      SLACK_BOT_TOKEN: BOT_TOKEN,
      PORT: 'eighty',
      LOG_LEVEL: 'loud',
      KATAPULT_TIMEOUT_MS: '5',
      DATA_DIR: path.join(emptyDir, 'data'),
    });
    expect(start.code).toBe(1);
    expect(start.stdout).toBe('');
    expect(start.stderr.trimEnd().split('\n')).toEqual([
      expect.stringMatching(
        /^katapult-chatops: configuration error: SLACK_SIGNING_SECRET: missing; HTTP mode/,
      ),
      'katapult-chatops: configuration error: LOG_LEVEL: expected one of debug, info, warn, error',
      'katapult-chatops: configuration error: PORT: expected a whole number from 0 to 65535',
      'katapult-chatops: configuration error: KATAPULT_TIMEOUT_MS: expected a whole number from 100 to 120000',
    ]);
  }, 60_000);

  test('export-audit with nothing to export: no JSON line on stdout, one line on stderr saying why, exit 0', async () => {
    const out: string[] = [];
    const err: string[] = [];
    const code = await runCli(
      ['export-audit', '--workspace', 'T0NOTHING1'],
      env,
      { line: (text) => out.push(text) },
      { line: (text) => err.push(text) },
    );
    expect({ code, out, err }).toEqual({
      code: 0,
      out: [],
      err: ['export-audit: nothing to export: no audit entries for T0NOTHING1'],
    });
  });

  test("stderr carries only the CLI's own lines: no raw Slack Web client warning when Slack is unreachable", async () => {
    const processEnv = {
      SLACK_BOT_TOKEN: BOT_TOKEN,
      SLACK_SIGNING_SECRET: SIGNING_SECRET,
      SLACK_API_URL: `http://127.0.0.1:${await closedPort()}/api/`,
      DATA_DIR: path.join(emptyDir, 'data'),
    };
    const check = await spawnEntry('src/cli.ts', ['check'], processEnv);
    expect(check.code).toBe(1);
    expect(check.stdout).toMatch(/^FAIL slack +could not reach the Slack API/m);
    expect(check.stderr).toBe('');
    // export-audit asks Slack which workspace the bot token is (no stored workspace here).
    const exported = await spawnEntry('src/cli.ts', ['export-audit'], processEnv);
    expect(exported).toEqual({
      code: 0,
      stdout: '',
      stderr:
        'export-audit: nothing to export: no workspace found in the store or from SLACK_BOT_TOKEN (name one with --workspace)\n',
    });
  }, 60_000);
});
