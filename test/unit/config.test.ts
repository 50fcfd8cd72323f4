import { readFileSync } from 'node:fs';
import { parseEnv } from 'node:util';
import { ConfigError, parseConfig } from '../../src/config.js';

const base = { SLACK_BOT_TOKEN: 'xoxb-1-2-abc', SLACK_SIGNING_SECRET: 'secret' };

test('defaults: HTTP mode on 3000, Katapult production URL, SQLite under ./data, /katapult', () => {
  const c = parseConfig(base);
  expect(c.slack.appToken).toBeNull();
  expect(c.http.port).toBe(3000);
  expect(c.katapult.apiUrl).toBe('https://api.katapult.io/core/v1');
  expect(c.store.url).toMatch(/^sqlite:\/\/.*data\/katapult-chatops\.sqlite$/);
  expect(c.slack.command).toBe('/katapult');
  expect(c.encryptionKey).toBeNull();
  expect(c.logLevel).toBe('info');
  expect(c.maxPerUserPerDay).toBeNull();
});

test('KATAPULT_MAX_PER_USER_PER_DAY: a whole number, or unlimited', () => {
  expect(parseConfig({ ...base, KATAPULT_MAX_PER_USER_PER_DAY: '5' }).maxPerUserPerDay).toBe(5);
  expect(parseConfig({ ...base, KATAPULT_MAX_PER_USER_PER_DAY: 'Unlimited' }).maxPerUserPerDay).toBeNull();
});

test('Socket Mode needs no signing secret; SLACK_API_URL gains a trailing slash', () => {
  const c = parseConfig({
    SLACK_BOT_TOKEN: 'xoxb-1',
    SLACK_APP_TOKEN: 'xapp-1',
    SLACK_API_URL: 'http://127.0.0.1:9/api',
  });
  expect(c.slack.appToken).toBe('xapp-1');
  expect(c.slack.apiUrl).toBe('http://127.0.0.1:9/api/');
});

test('a 32-byte base64 key is accepted', () => {
  const key = Buffer.alloc(32, 7).toString('base64');
  expect(parseConfig({ ...base, TOKEN_ENCRYPTION_KEY: key }).encryptionKey?.length).toBe(32);
});

test.each([
  [{}, 'SLACK_BOT_TOKEN'],
  [{ SLACK_BOT_TOKEN: 'xoxp-user' }, 'SLACK_BOT_TOKEN'],
  [{ SLACK_BOT_TOKEN: 'xoxb-1' }, 'SLACK_SIGNING_SECRET'],
  [{ ...base, SLACK_APP_TOKEN: 'xoxb-wrong' }, 'SLACK_APP_TOKEN'],
  [{ ...base, PORT: 'eighty' }, 'PORT'],
  [{ ...base, PORT: '70000' }, 'PORT'],
  [{ ...base, KATAPULT_API_URL: 'not a url' }, 'KATAPULT_API_URL'],
  [{ ...base, KATAPULT_API_URL: 'ftp://x/core/v1' }, 'KATAPULT_API_URL'],
  [{ ...base, SLACK_API_URL: 'nope' }, 'SLACK_API_URL'],
  [{ ...base, TOKEN_ENCRYPTION_KEY: 'c2hvcnQ=' }, 'TOKEN_ENCRYPTION_KEY'],
  [{ ...base, TOKEN_ENCRYPTION_KEY: '!'.repeat(44) }, 'TOKEN_ENCRYPTION_KEY'],
  [{ ...base, SLACK_COMMAND: 'katapult' }, 'SLACK_COMMAND'],
  [{ ...base, LOG_LEVEL: 'loud' }, 'LOG_LEVEL'],
  [{ ...base, STORE_URL: 'mysql://x' }, 'STORE_URL'],
  [{ ...base, KATAPULT_TIMEOUT_MS: '5' }, 'KATAPULT_TIMEOUT_MS'],
  [{ ...base, KATAPULT_MAX_PER_USER_PER_DAY: '0' }, 'KATAPULT_MAX_PER_USER_PER_DAY'],
  [{ ...base, KATAPULT_MAX_PER_USER_PER_DAY: 'ten' }, 'KATAPULT_MAX_PER_USER_PER_DAY'],
])('%j is refused naming %s, on one line', (env, variable) => {
  let error: unknown;
  try {
    parseConfig(env);
  } catch (e) {
    error = e;
  }
  expect(error).toBeInstanceOf(ConfigError);
  expect((error as ConfigError).variable).toBe(variable);
  expect((error as ConfigError).message.startsWith(`${variable}: `)).toBe(true);
  expect((error as ConfigError).message).not.toContain('\n');
});

test('a bad value is never echoed back (it may be a secret)', () => {
  expect(() => parseConfig({ ...base, TOKEN_ENCRYPTION_KEY: 'super-secret-but-wrong-length' })).toThrow(
    expect.objectContaining({ message: expect.not.stringContaining('super-secret') }),
  );
});

describe('OAuth (multi-workspace) mode', () => {
  const oauthEnv = {
    SLACK_CLIENT_ID: '1.2',
    SLACK_CLIENT_SECRET: 'cs',
    SLACK_STATE_SECRET: 'ss',
    SLACK_SIGNING_SECRET: 'sig',
  };
  test('needs no bot token', () => {
    const c = parseConfig({ ...oauthEnv, TOKEN_ENCRYPTION_KEY: Buffer.alloc(32, 2).toString('base64') });
    expect(c.slack.oauth).toEqual({ clientId: '1.2', clientSecret: 'cs', stateSecret: 'ss' });
    expect(c.slack.botToken).toBeNull();
  });
  test.each([
    [{ ...oauthEnv, KATAPULT_API_TOKEN: 'kt-x' }, 'KATAPULT_API_TOKEN'],
    [{ ...oauthEnv, SLACK_BOT_TOKEN: 'xoxb-1' }, 'SLACK_BOT_TOKEN'],
    [{ ...oauthEnv, SLACK_APP_TOKEN: 'xapp-1' }, 'SLACK_APP_TOKEN'],
    [{ ...oauthEnv, SLACK_STATE_SECRET: '' }, 'SLACK_STATE_SECRET'],
    [{ ...oauthEnv, SLACK_SIGNING_SECRET: '' }, 'SLACK_SIGNING_SECRET'],
    [{ ...oauthEnv }, 'TOKEN_ENCRYPTION_KEY'],
  ])('%j is refused naming %s', (env, variable) => {
    expect(() => parseConfig(env)).toThrow(expect.objectContaining({ variable }));
  });
  const key = Buffer.alloc(32, 1).toString('base64');
  test.each(['redis://127.0.0.1:6379', 'postgres://postgres@127.0.0.1/test', 'sqlite:///tmp/x.sqlite'])(
    'STORE_URL %s is accepted',
    (url) => {
      expect(parseConfig({ ...base, STORE_URL: url, TOKEN_ENCRYPTION_KEY: key }).store.url).toBe(url);
    },
  );
  test.each([
    [{ ...base, STORE_URL: 'redis://127.0.0.1:6379' }],
    [{ ...base, STORE_URL: 'postgres://postgres@127.0.0.1/test' }],
    [oauthEnv],
  ])('a shared store or OAuth without TOKEN_ENCRYPTION_KEY is refused (%j)', (env) => {
    expect(() => parseConfig(env)).toThrow(expect.objectContaining({ variable: 'TOKEN_ENCRYPTION_KEY' }));
  });
});

test('RECONCILE_INTERVAL_MINUTES: hourly by default, 0 turns it off, anything but whole minutes up to a week is refused', () => {
  expect(parseConfig(base).reconcileIntervalMinutes).toBe(60);
  expect(parseConfig({ ...base, RECONCILE_INTERVAL_MINUTES: '0' }).reconcileIntervalMinutes).toBe(0);
  expect(parseConfig({ ...base, RECONCILE_INTERVAL_MINUTES: '15' }).reconcileIntervalMinutes).toBe(15);
  for (const bad of ['-1', '1.5', 'hourly', String(7 * 24 * 60 + 1)]) {
    expect(() => parseConfig({ ...base, RECONCILE_INTERVAL_MINUTES: bad })).toThrow(
      /^RECONCILE_INTERVAL_MINUTES: /,
    );
  }
});

test('retention: finished requests a week, a sweep every 10 minutes in batches of 200 by default; 0 minutes turns the sweep off', () => {
  expect(parseConfig(base).retention).toEqual({
    finishedRequestMs: 7 * 86_400_000,
    intervalMs: 10 * 60_000,
    batchSize: 200,
    // The audit trail's windows, by which the sweep removes its documents too.
    auditMs: 90 * 86_400_000,
    adminAuditMs: 400 * 86_400_000,
  });
  const set = parseConfig({
    ...base,
    REQUEST_RETENTION_DAYS: '30',
    RETENTION_SWEEP_MINUTES: '0',
    RETENTION_BATCH_SIZE: '1000',
    AUDIT_RETENTION_DAYS: '30',
    AUDIT_ADMIN_RETENTION_DAYS: '365',
  });
  expect(set.retention).toEqual({
    finishedRequestMs: 30 * 86_400_000,
    intervalMs: 0,
    batchSize: 1000,
    auditMs: 30 * 86_400_000,
    adminAuditMs: 365 * 86_400_000,
  });
  for (const [name, bad] of [
    ['REQUEST_RETENTION_DAYS', '0'],
    ['REQUEST_RETENTION_DAYS', '1.5'],
    ['RETENTION_SWEEP_MINUTES', String(24 * 60 + 1)],
    ['RETENTION_BATCH_SIZE', '5'],
    ['RETENTION_BATCH_SIZE', 'all'],
  ] as const) {
    expect(() => parseConfig({ ...base, [name]: bad })).toThrow(new RegExp(`^${name}: `));
  }
});

test('approvals and the emergency stop: off, 24 hours and not frozen by default; decimals of an hour allowed', () => {
  const c = parseConfig(base);
  expect(c.requireApproval).toBe(false);
  expect(c.approvalTtlMs).toBe(24 * 3_600_000);
  expect(c.frozen).toBe(false);
  const on = parseConfig({
    ...base,
    KATAPULT_REQUIRE_APPROVAL: 'ON',
    APPROVAL_TTL_HOURS: '0.5',
    KATAPULT_FROZEN: 'true',
  });
  expect(on.requireApproval).toBe(true);
  expect(on.approvalTtlMs).toBe(1_800_000);
  expect(on.frozen).toBe(true);
});

test.each([
  ['KATAPULT_REQUIRE_APPROVAL', 'yes'],
  ['KATAPULT_FROZEN', '1'],
  ['APPROVAL_TTL_HOURS', '0'],
  ['APPROVAL_TTL_HOURS', '169'],
  ['APPROVAL_TTL_HOURS', '-1'],
  ['APPROVAL_TTL_HOURS', 'a day'],
])('%s=%s is refused, naming the variable', (name, value) => {
  expect(() => parseConfig({ ...base, [name]: value })).toThrow(ConfigError);
  expect(() => parseConfig({ ...base, [name]: value })).toThrow(name);
});

test('.env.example as shipped is refused: its placeholders are named as placeholders, not taken as tokens', () => {
  const env = parseEnv(readFileSync('.env.example', 'utf8'));
  expect(() => parseConfig(env)).toThrow(ConfigError);
  expect(() => parseConfig(env)).toThrow(/^SLACK_BOT_TOKEN: still holds the placeholder from \.env\.example/);
  expect(() => parseConfig({ ...env, SLACK_BOT_TOKEN: 'xoxb-1-2-abc' })).toThrow(
    /^SLACK_APP_TOKEN: still holds the placeholder from \.env\.example/,
  );
});

test.each([
  [{}, 'SLACK_BOT_TOKEN'],
  [{ SLACK_BOT_TOKEN: 'xoxb-1-2-abc' }, 'SLACK_SIGNING_SECRET'],
])('missing Slack credentials (%j) point a newcomer at `npm run demo`', (env, variable) => {
  expect(() => parseConfig(env)).toThrow(new RegExp(`^${variable}: missing;.*\`npm run demo\``));
});

describe('every mistake in one report', () => {
  test('three wrong settings are reported together, each naming its variable, in one error', () => {
    let error: unknown;
    try {
      parseConfig({ ...base, PORT: 'eighty', LOG_LEVEL: 'loud', KATAPULT_TIMEOUT_MS: '5' });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const { problems, message, variable } = error as ConfigError;
    // Each mistake keeps the wording it has alone; the order is the order they are read in.
    const expected = [
      { variable: 'LOG_LEVEL', expected: 'expected one of debug, info, warn, error' },
      { variable: 'PORT', expected: 'expected a whole number from 0 to 65535' },
      { variable: 'KATAPULT_TIMEOUT_MS', expected: 'expected a whole number from 100 to 120000' },
    ];
    expect(problems).toEqual(expected);
    expect(variable).toBe('LOG_LEVEL');
    expect((error as ConfigError).lines()).toEqual(expected.map((p) => `${p.variable}: ${p.expected}`));
    // The message holds them all, on one line (a log line), starting with the first.
    expect(message).toBe(expected.map((p) => `${p.variable}: ${p.expected}`).join(' | '));
    expect(message).not.toContain('\n');
  });

  test('each alone is the same mistake with the same words', () => {
    for (const [name, value, words] of [
      ['PORT', 'eighty', 'PORT: expected a whole number from 0 to 65535'],
      ['LOG_LEVEL', 'loud', 'LOG_LEVEL: expected one of debug, info, warn, error'],
    ] as const) {
      expect(() => parseConfig({ ...base, [name]: value })).toThrow(
        expect.objectContaining({ message: words, problems: [expect.objectContaining({ variable: name })] }),
      );
    }
  });

  test('one variable is reported once, and a mistake does not bring a second one about another variable', () => {
    const problemsOf = (env: Record<string, string>) => {
      try {
        parseConfig(env);
        return [];
      } catch (e) {
        return (e as ConfigError).problems.map((p) => p.variable);
      }
    };
    // A placeholder app token says nothing about the mode meant: no "signing secret missing" too.
    expect(problemsOf({ SLACK_BOT_TOKEN: 'xoxb-1', SLACK_APP_TOKEN: 'xapp-your-app-token' })).toEqual([
      'SLACK_APP_TOKEN',
    ]);
    // A wrong store is not also taken for a shared store that needs the key.
    expect(problemsOf({ ...base, STORE_URL: 'mysql://x' })).toEqual(['STORE_URL']);
    // A placeholder key: the old keys are not "set without TOKEN_ENCRYPTION_KEY" on top of it.
    const old = Buffer.alloc(32, 3).toString('base64');
    expect(
      problemsOf({ ...base, TOKEN_ENCRYPTION_KEY: 'replace-me', TOKEN_ENCRYPTION_OLD_KEYS: old }),
    ).toEqual(['TOKEN_ENCRYPTION_KEY']);
    // A wrong bot token is one mistake, not "wrong" and "missing".
    expect(problemsOf({ SLACK_BOT_TOKEN: 'xoxp-user', SLACK_SIGNING_SECRET: 's' })).toEqual([
      'SLACK_BOT_TOKEN',
    ]);
  });

  test('.env.example as shipped: its two placeholders, both at once, and nothing else', () => {
    const env = parseEnv(readFileSync('.env.example', 'utf8'));
    expect(() => parseConfig(env)).toThrow(
      expect.objectContaining({
        problems: [
          expect.objectContaining({ variable: 'SLACK_BOT_TOKEN' }),
          expect.objectContaining({ variable: 'SLACK_APP_TOKEN' }),
        ],
      }),
    );
  });
});
