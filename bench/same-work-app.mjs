/**
 * Baseline "same-work": a bare Bolt app (bench/baseline-app.mjs: same @slack/bolt, same
 * HTTPReceiver, same WebClient) whose submission listener does the work the bot does, written
 * plainly by hand: ack, one idempotency claim in the store, the Katapult schedule call through
 * node-fetch (same URL, same token header as the bot), `chat.postMessage`, the two
 * `chat.scheduleMessage` in that post's thread (reminder an hour before the move, broadcast; restore
 * offer a minute after), with the bot's Block Kit messages written by hand
 * (bench/baseline-payloads.mjs), and one audit row in the store. Same STORE_URL and same driver as
 * the bot: node:sqlite (WAL, synchronous = NORMAL, as the bot sets it), pg (a pool of 10, as the bot's)
 * or @redis/client (one client, as the bot's).
 *
 * The difference between the bot and this app is the bot's overhead; the difference between this
 * app and bench/baseline-app.mjs is the price of the work itself.
 */
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import fetch from 'node-fetch';
import { boltBaseline, env, VIEW } from './baseline-app.mjs';
import {
  refusedMessage,
  reminderMessage,
  restoreOfferMessage,
  scheduledMessage,
} from './baseline-payloads.mjs';

const KATAPULT_URL = (env.KATAPULT_API_URL ?? 'https://api.katapult.io/core/v1').replace(/\/+$/, '');
const KATAPULT_TOKEN = env.KATAPULT_API_TOKEN ?? '';
const STORE_URL =
  env.STORE_URL ?? `sqlite://${path.join(path.resolve(env.DATA_DIR ?? 'data'), 'katapult-chatops.sqlite')}`;
const CLAIM_TTL_MS = 24 * 60 * 60 * 1000;
const REMINDER_LEAD_SECONDS = 60 * 60;
const RESTORE_OFFER_DELAY_SECONDS = 60;
const [AUDIT_MAX, AUDIT_RETENTION_MS] = [10_000, 90 * 86_400_000];

/**
 * Claims and audit rows, in SQLite (sqlite3), PostgreSQL (pg) or Redis (@redis/client): two round
 * trips per submission (Redis: `SET NX PX`, then `MULTI` `LPUSH` `LTRIM` `PEXPIRE` as the bot appends
 * to its audit list, without its second trip that drops entries past retention).
 */
async function openStore(url) {
  if (url.startsWith('sqlite://')) {
    // Node 22 prints a one-line "experimental" warning as node:sqlite loads; the bot drops it too.
    const emit = process.emitWarning;
    process.emitWarning = (warning, ...rest) =>
      /SQLite is an experimental/.test(String(warning)) ? undefined : emit.call(process, warning, ...rest);
    const { DatabaseSync } = await import('node:sqlite').finally(() => {
      process.emitWarning = emit;
    });
    const file = path.resolve(url.slice('sqlite://'.length));
    await mkdir(path.dirname(file), { recursive: true });
    const db = new DatabaseSync(file);
    db.exec('PRAGMA busy_timeout = 5000');
    const run = async (sql, params = []) => Number(db.prepare(sql).run(...params).changes);
    await run('PRAGMA journal_mode = WAL');
    await run('PRAGMA synchronous = NORMAL');
    await run(
      'CREATE TABLE IF NOT EXISTS same_work_claims (key TEXT PRIMARY KEY, expires_at INTEGER NOT NULL)',
    );
    await run(
      'CREATE TABLE IF NOT EXISTS same_work_audit (id INTEGER PRIMARY KEY AUTOINCREMENT, workspace TEXT NOT NULL, at INTEGER NOT NULL, entry TEXT NOT NULL)',
    );
    return {
      claim: async (key) => {
        const t = Date.now();
        const changes = await run(
          'INSERT INTO same_work_claims (key, expires_at) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET expires_at = excluded.expires_at WHERE same_work_claims.expires_at <= ?',
          [key, t + CLAIM_TTL_MS, t],
        );
        return changes === 1;
      },
      audit: (entry) =>
        run('INSERT INTO same_work_audit (workspace, at, entry) VALUES (?, ?, ?)', [
          entry.workspace,
          entry.at,
          JSON.stringify(entry),
        ]),
      close: async () => db.close(),
    };
  }
  if (/^postgres(ql)?:\/\//.test(url)) {
    const { default: pg } = await import('pg');
    const pool = new pg.Pool({ connectionString: url, max: 10, statement_timeout: 15_000 });
    pool.on('error', (error) => log('error', 'store_error', { error: error.message }));
    await pool.query(
      'CREATE TABLE IF NOT EXISTS same_work_claims (key TEXT PRIMARY KEY, expires_at BIGINT NOT NULL)',
    );
    await pool.query(
      'CREATE TABLE IF NOT EXISTS same_work_audit (id BIGSERIAL PRIMARY KEY, workspace TEXT NOT NULL, at BIGINT NOT NULL, entry JSONB NOT NULL)',
    );
    return {
      claim: async (key) => {
        const t = Date.now();
        const result = await pool.query(
          `INSERT INTO same_work_claims AS c (key, expires_at) VALUES ($1, $2)
           ON CONFLICT (key) DO UPDATE SET expires_at = EXCLUDED.expires_at WHERE c.expires_at <= $3 RETURNING key`,
          [key, t + CLAIM_TTL_MS, t],
        );
        return result.rowCount === 1;
      },
      audit: (entry) =>
        pool.query('INSERT INTO same_work_audit (workspace, at, entry) VALUES ($1, $2, $3)', [
          entry.workspace,
          entry.at,
          JSON.stringify(entry),
        ]),
      close: () => pool.end(),
    };
  }
  if (/^rediss?:\/\//.test(url)) {
    // The bot's driver (@keyv/redis is built on it), one client as the bot has, commands as it sends them.
    const { createClient } = await import('@redis/client');
    const client = createClient({ url, disableOfflineQueue: true });
    client.on('error', (error) => log('error', 'store_error', { error: error.message }));
    await client.connect();
    return {
      claim: async (key) =>
        (await client.set(`bench:same-work:claim:${key}`, '1', {
          condition: 'NX',
          expiration: { type: 'PX', value: CLAIM_TTL_MS },
        })) === 'OK',
      // The audit list of the workspace, newest first, capped and expiring (AUDIT_MAX_ENTRIES, 90 days).
      audit: (entry) => {
        const key = `bench:same-work:audit:${entry.workspace}`;
        const list = client.multi().lPush(key, JSON.stringify(entry));
        return list
          .lTrim(key, 0, AUDIT_MAX - 1)
          .pExpire(key, AUDIT_RETENTION_MS)
          .exec();
      },
      close: () => client.close(),
    };
  }
  throw new Error('same-work baseline: STORE_URL must be sqlite://, postgres:// or redis://');
}

function log(level, event, fields = {}) {
  const line = `${JSON.stringify({ time: new Date().toISOString(), level, name: 'bench-same-work', event, ...fields })}\n`;
  (level === 'error' ? process.stderr : process.stdout).write(line);
}

/** DELETE …/disk_backup_policies/disk_backup_policy/schedule; the policy as Katapult answered, or the error code. */
async function scheduleWithKatapult(policyId, at) {
  const res = await fetch(`${KATAPULT_URL}/disk_backup_policies/disk_backup_policy/schedule`, {
    method: 'DELETE',
    headers: {
      Authorization: `Bearer ${KATAPULT_TOKEN}`,
      Accept: 'application/json',
      'Content-Type': 'application/json',
      'User-Agent': 'katapult-chatops-same-work',
    },
    body: JSON.stringify({ disk_backup_policy: { id: policyId }, timestamp: at }),
    signal: AbortSignal.timeout(10_000),
  });
  const body = await res.json();
  return res.ok
    ? {
        ok: true,
        at: body.disk_backup_policy?.auto_move_to_trash_at ?? at,
        targetId: body.disk_backup_policy?.target?.id ?? body.disk_backup_policy?.target?.value?.id ?? null,
        requestId: res.headers.get('x-request-id'),
      }
    : { ok: false, code: body.error?.code ?? `http_${res.status}` };
}

const store = await openStore(STORE_URL);
const { app, start } = boltBaseline('bench-same-work');

app.view(VIEW.callbackId, async ({ ack, body, view, client }) => {
  const values = view.state.values;
  const policyId = values[VIEW.policyBlock]?.[VIEW.policyAction]?.value?.trim();
  const at = values[VIEW.whenBlock]?.[VIEW.whenAction]?.selected_date_time;
  let channel = null;
  try {
    channel = JSON.parse(view.private_metadata).c ?? null;
  } catch {
    channel = null;
  }
  if (!policyId || typeof at !== 'number' || !channel) {
    await ack({
      response_action: 'errors',
      errors: { [VIEW.policyBlock]: 'Check the policy ID and the time.' },
    });
    return;
  }
  await ack();
  const workspace = body.team?.id ?? body.user.team_id;
  const user = body.user.id;
  try {
    if (!(await store.claim(`submission:${workspace}:${view.id}`))) return;
    const result = await scheduleWithKatapult(policyId, at);
    const posted = await client.chat.postMessage({
      channel,
      ...(result.ok
        ? scheduledMessage({
            user,
            policyId,
            at: result.at,
            targetId: result.targetId,
            requestId: result.requestId,
          })
        : refusedMessage({
            user,
            policyId,
            summary: `Katapult refused (${result.code}).`,
            next: 'Check the policy ID and the time, then try again.',
          })),
      unfurl_links: false,
      unfurl_media: false,
    });
    if (result.ok) {
      // Both held as replies in the post's thread; the reminder also shown in the channel.
      const thread = { channel: posted.channel ?? channel, thread_ts: posted.ts, unfurl_links: false };
      await client.chat.scheduleMessage({
        ...thread,
        post_at: result.at - REMINDER_LEAD_SECONDS,
        ...reminderMessage({ user, policyId, at: result.at }),
        reply_broadcast: true,
      });
      await client.chat.scheduleMessage({
        ...thread,
        post_at: result.at + RESTORE_OFFER_DELAY_SECONDS,
        ...restoreOfferMessage({ policyId, at: result.at }),
        reply_broadcast: false,
      });
    }
    await store.audit({
      at: Date.now(),
      workspace,
      user,
      channel,
      action: 'schedule',
      policyId,
      requestedAt: at,
      outcome: result.ok ? 'scheduled' : result.code,
      autoMoveToTrashAt: result.ok ? result.at : null,
      requestId: result.ok ? result.requestId : null,
    });
  } catch (error) {
    log('error', 'submission_failed', { error: error instanceof Error ? error.message : String(error) });
  }
});

await start(() => store.close());
