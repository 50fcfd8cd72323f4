/**
 * `rotate-key` against writes made while it runs, on every backend (SQLite, Redis, PostgreSQL): a
 * Katapult token removed between rotate-key's read and its write stays removed, one replaced (an
 * admin's `/katapult token`) keeps its new value, an installation removed (uninstall) or replaced
 * (reinstall) likewise. rotate-key says it left them as they are, and a second run re-seals what is
 * still sealed with an older key.
 *
 * The racing writes come from a second store on the same backend (another replica), and each is
 * made just before rotate-key's write of that record reaches the store, the widest the window gets.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createClient } from '@keyv/redis';
import type { Installation } from '@slack/bolt';
import pg from 'pg';
import { runRotateKey } from '../../src/cli/maintenance.js';
import { parseConfig } from '../../src/config.js';
import { Redactor } from '../../src/log.js';
import { createInstallationStore } from '../../src/slack/platform/installation-store.js';
import { SecretBox } from '../../src/store/crypto.js';
import { openPostgresStore } from '../../src/store/postgres-store.js';
import { openRedisStore } from '../../src/store/redis-store.js';
import { openSqliteStore } from '../../src/store/sqlite-store.js';
import type { Store } from '../../src/store/store.js';
import { createTokenStore } from '../../src/store/token-store.js';
import { describeWithService, serviceUrl } from '../helpers/services.js';

const RUN = `${process.pid}_${randomBytes(4).toString('hex')}`;
const options = { retentionMs: 90 * 86_400_000, maxPerWorkspace: 1000, onError: () => undefined };

interface Backend {
  /** A store of its own on the shared backend, as another process would open it. */
  open(): Promise<Store>;
  cleanup(): Promise<void>;
}

/**
 * `store`, except that `before[key]` runs (once) just before a write of `key` reaches it: a Keyv
 * `set` (what rotate-key used to write with) or a `kvReplaceIfUnchanged` (what it writes with now);
 * or, with `on: 'read'`, just before rotate-key reads the record to re-seal it (`kvGetRaw`).
 */
function racing(
  store: Store,
  before: Record<string, () => Promise<void>>,
  { on = 'write' }: { on?: 'write' | 'read' } = {},
): Store {
  const race = async (key: string) => {
    const act = before[key];
    delete before[key];
    await act?.();
  };
  const bound = (target: object, prop: string | symbol) => {
    const value: unknown = Reflect.get(target, prop, target);
    return typeof value === 'function' ? value.bind(target) : value;
  };
  const kv = new Proxy(store.kv, {
    get(target, prop) {
      if (prop !== 'set' || on !== 'write') return bound(target, prop);
      return async (key: string, ...rest: unknown[]) => {
        await race(key);
        return (target.set as (...args: unknown[]) => Promise<boolean>)(key, ...rest);
      };
    },
  });
  const raced = on === 'write' ? 'kvReplaceIfUnchanged' : 'kvGetRaw';
  return new Proxy(store, {
    get(target, prop) {
      if (prop === 'kv') return kv;
      const value = bound(target, prop);
      if (prop !== raced || typeof value !== 'function') return value;
      return async (key: string, ...rest: unknown[]) => {
        await race(key);
        return value(key, ...rest);
      };
    },
  });
}

const installation = (team: string, botToken: string): Installation<'v2', false> => ({
  team: { id: team, name: team },
  enterprise: undefined,
  user: { id: 'U0INSTALL', token: undefined, scopes: undefined },
  tokenType: 'bot',
  isEnterpriseInstall: false,
  appId: 'A0FAKE001',
  authVersion: 'v2',
  bot: { scopes: ['commands'], token: botToken, userId: 'UBOT00001', id: 'BFAKE0001' },
});

const query = (team: string) => ({ teamId: team, isEnterpriseInstall: false, enterpriseId: undefined });

const stored = (token: string) => ({
  token,
  setBy: 'U0ADMIN01',
  setAt: 1_700_000_000_000,
  organizationName: 'Acme Ops',
  organizationId: 'org_ERQqd1R6O63q4YEA',
});

/** An old key, a new one, and the configuration rotate-key runs with (new key, old key kept to open). */
function rotation() {
  const [oldKey, newKey] = [randomBytes(32), randomBytes(32)];
  return {
    oldKey,
    newKey,
    oldBox: new SecretBox(oldKey),
    newBox: new SecretBox(newKey, [oldKey]),
    config: parseConfig({
      SLACK_BOT_TOKEN: 'xoxb-1-2-abc',
      SLACK_SIGNING_SECRET: 'secret',
      TOKEN_ENCRYPTION_KEY: newKey.toString('base64'),
      TOKEN_ENCRYPTION_OLD_KEYS: oldKey.toString('base64'),
    }),
  };
}

/** `setup(n)` gives each test a backend of its own (rotate-key goes over every record there is). */
function rotateKeyRace(setup: (n: number) => Promise<Backend>): void {
  let backend: Backend | undefined;
  let opened: Store[] = [];
  let n = 0;
  const open = async () => {
    if (!backend) throw new Error('no backend outside a test');
    const store = await backend.open();
    opened.push(store);
    return store;
  };

  beforeEach(async () => {
    backend = await setup(++n);
  });
  afterEach(async () => {
    await Promise.all(opened.map((s) => s.close().catch(() => undefined)));
    opened = [];
    await backend?.cleanup();
    backend = undefined;
  });

  test('a record removed or replaced while rotate-key runs stays removed or keeps its new value; a second run re-seals', async () => {
    const { newKey, oldBox, newBox, config } = rotation();
    // `a` is the store rotate-key runs on; `b` another replica, where people act meanwhile.
    const [a, b] = [await open(), await open()];
    const team = (name: string) => `T${name}${RUN.toUpperCase().replace(/_/g, '')}`;
    const [removed, replaced, replacedOld, kept] = ['REMOVED', 'REPLACED', 'REPLACEDOLD', 'KEPT'].map(
      team,
    ) as [string, string, string, string];
    const [uninstalled, reinstalled] = ['UNINSTALLED', 'REINSTALLED'].map(team) as [string, string];
    const tokenOf = (workspace: string) => `kt-${workspace.toLowerCase()}-${randomBytes(6).toString('hex')}`;

    // Everything sealed with the old key, before the rotation.
    const oldTokens = createTokenStore(b.kv, oldBox);
    const first: Record<string, string> = {};
    for (const workspace of [removed, replaced, replacedOld, kept]) {
      first[workspace] = tokenOf(workspace);
      await oldTokens.set(workspace, stored(first[workspace] as string));
    }
    const oldInstalls = createInstallationStore(b.kv, oldBox, new Redactor());
    for (const workspace of [uninstalled, reinstalled])
      await oldInstalls.storeInstallation(installation(workspace, `xoxb-first-${workspace}`));

    // Meanwhile, on replica b: an admin removes a token and sets another (b already runs with the new
    // key), a replica not yet rolled out (old key) replaces one, one workspace uninstalls, one reinstalls.
    const newTokens = createTokenStore(b.kv, newBox);
    const newInstalls = createInstallationStore(b.kv, newBox, new Redactor());
    const second = { [replaced]: tokenOf(replaced), [replacedOld]: tokenOf(replacedOld) };
    const races: Record<string, () => Promise<void>> = {
      [`token:${removed}`]: async () => {
        await newTokens.remove(removed);
      },
      [`token:${replaced}`]: () => newTokens.set(replaced, stored(second[replaced] as string)),
      [`token:${replacedOld}`]: () => oldTokens.set(replacedOld, stored(second[replacedOld] as string)),
      [`installation:${uninstalled}`]: () => newInstalls.deleteInstallation(query(uninstalled)),
      [`installation:${reinstalled}`]: () =>
        newInstalls.storeInstallation(installation(reinstalled, `xoxb-second-${reinstalled}`)),
    };
    const raced = Object.keys(races).sort();

    const lines: string[] = [];
    const code = await runRotateKey(config, racing(a, races), { line: (text) => lines.push(text) });
    expect(Object.keys(races)).toEqual([]); // every race ran

    /** What a replica with only the new key reads now. */
    const state = async () => {
      const tokens = createTokenStore(a.kv, new SecretBox(newKey));
      const installs = createInstallationStore(a.kv, new SecretBox(newKey), new Redactor());
      const tokenState = async (workspace: string) => {
        const sealed = ((await a.kv.get(`token:${workspace}`)) as { sealed?: string } | undefined)?.sealed;
        if (sealed === undefined) return 'absent';
        if (newBox.isStale(sealed)) return `stale: ${newBox.open(sealed, `token:${workspace}`)}`;
        return (await tokens.get(workspace))?.token;
      };
      const installState = async (workspace: string) => {
        const sealed = ((await a.kv.get(`installation:${workspace}`)) as { sealed?: string } | undefined)
          ?.sealed;
        if (sealed === undefined) return 'absent';
        if (newBox.isStale(sealed)) return 'stale';
        return (await installs.fetchInstallation(query(workspace))).bot?.token;
      };
      return {
        [removed]: await tokenState(removed),
        [replaced]: await tokenState(replaced),
        [replacedOld]: await tokenState(replacedOld),
        [kept]: await tokenState(kept),
        [uninstalled]: await installState(uninstalled),
        [reinstalled]: await installState(reinstalled),
      };
    };

    expect(await state()).toEqual({
      [removed]: 'absent',
      [replaced]: second[replaced],
      // Left as the old replica wrote it: the next run re-seals it.
      [replacedOld]: `stale: ${second[replacedOld]}`,
      [kept]: first[kept],
      [uninstalled]: 'absent',
      [reinstalled]: `xoxb-second-${reinstalled}`,
    });
    expect(lines[0]).toMatch(
      new RegExp(`^rotate-key: 1 re-sealed with key ${newBox.currentKeyId}, 0 already current, 0 failed$`),
    );
    expect(lines.slice(1)).toEqual([
      `rotate-key: ${raced.length} records changed while rotating were left as they are (${raced.join(', ')}); run rotate-key again`,
    ]);
    expect(code).toBe(1);

    // The second run: what a replica left sealed with the old key is re-sealed, nothing else changes.
    lines.length = 0;
    expect(await runRotateKey(config, a, { line: (text) => lines.push(text) })).toBe(0);
    expect(lines).toEqual([
      `rotate-key: 1 re-sealed with key ${newBox.currentKeyId}, 3 already current, 0 failed`,
    ]);
    expect(await state()).toEqual({
      [removed]: 'absent',
      [replaced]: second[replaced],
      [replacedOld]: second[replacedOld],
      [kept]: first[kept],
      [uninstalled]: 'absent',
      [reinstalled]: `xoxb-second-${reinstalled}`,
    });
  });

  test('a token removed after rotate-key listed it and before it read it stays removed, and is named', async () => {
    const { oldBox, newBox, config } = rotation();
    const [a, b] = [await open(), await open()];
    const [gone, kept] = ['TGONE0001', 'TKEPT0001'];
    for (const workspace of [gone, kept])
      await createTokenStore(b.kv, oldBox).set(workspace, stored(`kt-${workspace}`));
    const races = {
      [`token:${gone}`]: async () => {
        await createTokenStore(b.kv, newBox).remove(gone);
      },
    };
    const lines: string[] = [];
    const code = await runRotateKey(config, racing(a, races, { on: 'read' }), {
      line: (text) => lines.push(text),
    });
    expect(Object.keys(races)).toEqual([]);
    expect(lines).toEqual([
      `rotate-key: 1 re-sealed with key ${newBox.currentKeyId}, 0 already current, 0 failed`,
      `rotate-key: 1 record changed while rotating was left as it is (token:${gone}); run rotate-key again`,
    ]);
    expect(code).toBe(1);
    expect(await a.kv.get(`token:${gone}`)).toBeUndefined();
    expect((await createTokenStore(a.kv, newBox).get(kept))?.token).toBe(`kt-${kept}`);
  });

  test('many records: removals and replacements on another replica while rotate-key runs are all kept', async () => {
    const { newKey, oldBox, newBox, config } = rotation();
    const [a, b] = [await open(), await open()];
    const workspaces = Array.from({ length: 120 }, (_, i) => `T${String(i).padStart(4, '0')}MANY`);
    for (const workspace of workspaces)
      await createTokenStore(b.kv, oldBox).set(workspace, stored(`kt-first-${workspace}`));
    // Every third token is removed and every fifth set anew (by a replica on the new key), while
    // rotate-key goes over them: both run at once, each write waiting only for the one before it.
    const expected = new Map<string, string | undefined>();
    const meanwhile = async () => {
      const tokens = createTokenStore(b.kv, newBox);
      for (const [i, workspace] of workspaces.entries()) {
        if (i % 3 === 0) {
          await tokens.remove(workspace);
          expected.set(workspace, undefined);
        } else if (i % 5 === 0) {
          await tokens.set(workspace, stored(`kt-second-${workspace}`));
          expected.set(workspace, `kt-second-${workspace}`);
        } else {
          expected.set(workspace, `kt-first-${workspace}`);
        }
        await new Promise((resolve) => setImmediate(resolve));
      }
    };
    const lines: string[] = [];
    const [code] = await Promise.all([
      runRotateKey(config, a, { line: (text) => lines.push(text) }),
      meanwhile(),
    ]);
    expect(lines[0]).toMatch(
      /^rotate-key: \d+ re-sealed with key [0-9a-f]{8}, \d+ already current, 0 failed$/,
    );
    expect(code === 0 || lines[1]?.endsWith('; run rotate-key again')).toBe(true);

    const tokensNow = async () => {
      const only = createTokenStore(a.kv, newBox);
      return new Map(
        await Promise.all(
          workspaces.map(async (w) => {
            const sealed = ((await a.kv.get(`token:${w}`)) as { sealed?: string } | undefined)?.sealed;
            return [w, sealed === undefined ? undefined : (await only.get(w))?.token] as const;
          }),
        ),
      );
    };
    expect(await tokensNow()).toEqual(expected);
    // A second run leaves every token sealed with the new key alone, and changes nothing else.
    lines.length = 0;
    expect(await runRotateKey(config, a, { line: (text) => lines.push(text) })).toBe(0);
    expect(lines).toHaveLength(1);
    const onlyNew = createTokenStore(a.kv, new SecretBox(newKey));
    for (const [workspace, token] of expected) {
      expect(await onlyNew.get(workspace).then((t) => t?.token)).toBe(token);
    }
  });
}

describe('rotate-key races: SQLite', () => {
  rotateKeyRace(async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'katapult-rotate-race-'));
    const url = `sqlite://${path.join(dir, 'store.sqlite')}`;
    return {
      open: () => openSqliteStore(url, options),
      cleanup: () => rm(dir, { recursive: true, force: true }),
    };
  });
});

describeWithService('redis', 'rotate-key races: Redis', () => {
  rotateKeyRace(async (n) => {
    const url = serviceUrl('redis');
    const namespace = `katapult-chatops-rotate-${RUN}-${n}`;
    return {
      open: () => openRedisStore(url, { ...options, namespace }),
      async cleanup() {
        const client = createClient({ url });
        client.on('error', () => undefined);
        await client.connect();
        const keys: string[] = [];
        for await (const batch of client.scanIterator({ MATCH: `${namespace}:*`, COUNT: 500 })) {
          keys.push(...batch);
        }
        if (keys.length > 0) await client.del(keys);
        client.destroy();
      },
    };
  });
});

describeWithService('postgres', 'rotate-key races: PostgreSQL', () => {
  rotateKeyRace(async (n) => {
    const url = serviceUrl('postgres');
    const schema = `katapult_rotate_${RUN}_${n}`;
    return {
      open: () => openPostgresStore(url, { ...options, schema }),
      async cleanup() {
        const pool = new pg.Pool({ connectionString: url, max: 1 });
        await pool.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
        await pool.end();
      },
    };
  });
});
