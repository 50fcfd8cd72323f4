/**
 * A simulated year in production (issue 20): the real bot, in-process, in OAuth mode, against the
 * fake Slack and the fake Katapult, on a given store, with an injected clock moved on day by day.
 * Each day: `perDay` submissions through the real ways in (the schedule form signed as Slack signs
 * it, the Approve and Deny buttons, the Restore button), a mix of successes, Katapult failures,
 * refusals (a channel the access policy leaves out), reschedules, approvals (approved and denied)
 * and one restore; the admin turns approvals on and off around them (two access changes a day).
 * Once in the year the emergency stop (with a submission it refuses), once an uninstall and a
 * reinstall (token and access set again).
 *
 * The bot's own timers follow real time, not the injected clock, so the reconcile and retention
 * timers are off (RECONCILE_INTERVAL_MINUTES=0, RETENTION_SWEEP_MINUTES=0) and the simulation
 * runs them as their timers would on the simulated clock: a reconcile pass every
 * `reconcileEveryHours` (Bot.reconcile), and at the end of each day retention sweeps (the bot's
 * retention module with the bot's settings) until one has gone over everything, as the sweeps
 * every 10 minutes of a day would. The request worker and the approval sweeper keep their own
 * (real-time) timers; nothing here waits for them.
 *
 * Each day ends with a census of the store (support/store-census.ts), and, given `gc`, the heap
 * after a full GC. The end: the last reconcile pass's Katapult reads against the window it must
 * keep to, and every admin entry made against `export-audit` (the CLI, in-process) and
 * `/katapult history admin`.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createRequestLog, type RequestRecord } from '../src/scheduling/request-log.js';
import { createRetention } from '../src/scheduling/retention.js';
import { KEEP_AFTER_MOVE_SECONDS } from '../src/scheduling/upcoming.js';
import { historyLines } from '../src/slack/blocks/history.js';
import { ACTIONS, DENY_VIEW } from '../src/slack/ids.js';
import type { AuditEntry } from '../src/store/store.js';
import { startFakeKatapult } from './fakes/katapult-api.js';
import { FAKE_TEAM_ID, type SlackCall, startFakeSlack } from './fakes/slack-api.js';
import {
  ADMIN,
  BOT_TOKEN,
  CHANNEL,
  type Harness,
  KATAPULT_TOKEN,
  MEMBER,
  pressButton,
  SIGNING_SECRET,
  setWorkspaceToken,
  startHarness,
} from './harness.js';
import { scratchRedis } from './scratch-redis.js';
import { eventBody, postSigned, viewSubmissionBody } from './slack-requests.js';
import { type Census, openCensus } from './store-census.js';

export const DAY_MS = 86_400_000;
/** Days of the fake Slack's messages kept: the longest lead (54 h) + the restore window (7 days) + margin. */
const MESSAGE_DAYS_KEPT = 14;
const HOUR_MS = 3_600_000;
const ADMIN2 = 'U0ADMIN02';
const OTHER_CHANNEL = 'C0ELSE001';
/** Members who submit: a batch of ten comes from ten people (one person's submissions queue on their daily-limit lock). */
const PEOPLE = Array.from({ length: 10 }, (_, i) => `U0USER${String(i).padStart(3, '0')}`);
const TEAM = FAKE_TEAM_ID;
const OAUTH_ENV = {
  SLACK_CLIENT_ID: '123.456',
  SLACK_CLIENT_SECRET: 'client-secret-abcdef',
  SLACK_STATE_SECRET: 'state-secret-0123456789',
};
/** The longest lead of a submission (54 hours) plus a reschedule's 6 hours, rounded up: days. */
const MAX_LEAD_DAYS = 3;
const ADMIN_ACTIONS = new Set([
  'token_set',
  'token_removed',
  'access_changed',
  'approval',
  'freeze',
  'uninstall',
]);

export interface YearSettings {
  /** The bot's STORE_URL; absent: SQLite in a temporary folder. */
  storeUrl?: string;
  days: number;
  perDay: number;
  /** Retention settings given to the bot (defaults: the bot's). */
  requestRetentionDays?: number;
  auditRetentionDays?: number;
  auditMaxEntries?: number;
  /** Between two reconcile passes on the simulated clock (default 24). */
  reconcileEveryHours?: number;
  /** The day of the freeze and of the uninstall (defaults: 20% and 30% into the run). */
  freezeDay?: number;
  uninstallDay?: number;
  /** A census every this many days (default 1); the last day always has one. */
  censusEvery?: number;
  /** A full GC (node --expose-gc): then the heap is sampled after it each day. */
  gc?: () => void;
  /** False: no retention sweep at all (to see the checks fail: what a year without retention keeps). */
  retentionSweeps?: boolean;
  /** Progress lines. */
  progress?: (line: string) => void;
}

export interface DayFigures {
  day: number;
  /** Absent on days without a census. */
  census?: Census;
  /** Heap used after a full GC, bytes (null without `gc`). */
  heapAfterGc: number | null;
  checked: number;
  submissions: number;
}

export interface YearResult {
  days: DayFigures[];
  /** The stated bound per kind, from the settings and the daily rate (never from the number of days). */
  bound: Census;
  /** Kinds over their bound (or without one) on the last day. */
  overBound: string[];
  lastReconcile: {
    checked: number;
    fresh: number;
    /** Policies Katapult was asked about in the last pass. */
    asked: number;
    /** Of those, policies whose move is still ahead (the others are inside the restore window). */
    ahead: number;
    /** Of those, policies whose move is neither ahead nor inside the restore window. */
    outsideWindow: string[];
    /** Policies scheduled through the year. */
    scheduledInYear: number;
    windowStartSeconds: number;
  };
  admin: {
    /** `action:outcome[:policy]` of every admin entry the simulation made. */
    made: number;
    missingFromExport: string[];
    /** Admin entries in the export (approvals included). */
    exported: number;
    /** Lines `/katapult history admin` showed, and whether they are exactly the newest exported admin entries. */
    shownInView: number;
    viewMatchesExport: boolean;
    /** Admin entries made that the view's backing read (the admin trail, unlimited) lacks. */
    missingFromAdminTrail: string[];
  };
  errors: string[];
  heap: { firstHalfSlope: number | null; secondHalfSlope: number | null; secondHalfRise: number | null };
  settings: {
    requestRetentionDays: number;
    auditRetentionDays: number;
    auditMaxEntries: number;
    adminRetentionDays: number;
  };
  seconds: number;
}

interface Scheduled {
  at: number;
  restored: boolean;
}

/** The sim's view of one day's mix, from the rate. */
function mixOf(perDay: number) {
  const tenth = Math.max(1, Math.round(perDay / 10));
  const approvals = tenth;
  const refusals = tenth;
  const failures = tenth;
  const reschedules = tenth;
  const restores = 1;
  const successes = Math.max(1, perDay - approvals - refusals - failures - reschedules - restores);
  return { approvals, refusals, failures, reschedules, restores, successes };
}

/** The bound per kind the run must stay under, whatever its length. */
export function statedBound(
  perDay: number,
  s: { requestRetentionDays: number; auditRetentionDays: number; auditMaxEntries: number },
): Census {
  const mix = mixOf(perDay);
  const requestsPerDay = perDay + 2; // the freeze day's refused one, slack
  const scheduledPerDay = mix.successes + mix.approvals + mix.reschedules;
  // The sweep runs once a simulated day: a record may outlive its term by up to a day.
  const lag = 1;
  const keepAfterMoveDays = KEEP_AFTER_MOVE_SECONDS / 86_400;
  return {
    'docs:request': requestsPerDay * (s.requestRetentionDays + lag + 1),
    'docs:upcoming': scheduledPerDay * (MAX_LEAD_DAYS + keepAfterMoveDays + lag),
    'docs:upcoming-checked': scheduledPerDay * (MAX_LEAD_DAYS + keepAfterMoveDays + lag + 1),
    // A place per policy and a marker per request, for 24 hours.
    'docs:daily': 2 * requestsPerDay * (1 + lag),
    'docs:lock': 20,
    'docs:approval_hold': mix.approvals * (1 + lag),
    // One per Katapult token, kept a year (NOTICE_KEEP_MS) by the sweep.
    'docs:upcoming-notices': 10,
    // Trimmed as they are appended (src/audit/trail.ts): the newest 200 per workspace; the sweep
    // removes those older than AUDIT_RETENTION_DAYS.
    'docs:refusal': 200,
    'docs:audit_failure': 200,
    // Kept AUDIT_ADMIN_RETENTION_DAYS (400; then the sweep removes them): under the 10,000 cap per workspace.
    'docs:audit_admin': 10_000,
    'docs:audit_approval': s.auditMaxEntries,
    'docs:audit_decision': s.auditMaxEntries,
    // At most two entries a request (its outcome; a restore, an approved run) for the retention
    // plus the day being written (entries go as new ones are appended).
    audit_log: Math.min(s.auditMaxEntries, 2 * requestsPerDay * (s.auditRetentionDays + lag + 1)),
    claims: requestsPerDay * (1 + lag),
    // Redis: a claim is dropped by Redis at its TTL (on Redis's clock, which the simulation does not move); none may lack one.
    claims_without_ttl: 0,
    // Per workspace: its token, access policy, freeze, installation; the schema version.
    'kv:token': 1,
    'kv:access': 1,
    'kv:freeze': 1,
    'kv:meta': 2,
    'kv:migration': 2,
    'kv:installation': 2,
    'kv:installations': 2,
    // Redis: the index sets (per collection, and per partition: workspace, person).
    'redis:index_keys': 200,
  };
}

/**
 * Kinds without a bound of their own: totals (Redis keys), keys of other users of the database, and
 * Redis claims, which expire on Redis's real clock while the simulated days pass in seconds.
 */
export function isTotal(kind: string): boolean {
  return kind === 'redis:keys' || kind === 'redis:foreign_keys' || kind === 'redis:claims_expiring';
}

/** Waits for `probe` to hold, polling with a deadline (for what no event announces). */
async function until(what: string, probe: () => Promise<boolean> | boolean, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

function buttons(call: SlackCall): { action_id: string; value: string }[] {
  const blocks = (call.args.blocks ?? []) as {
    type: string;
    elements?: { action_id: string; value: string }[];
  }[];
  return blocks.filter((b) => b.type === 'actions').flatMap((b) => b.elements ?? []);
}

function slope(points: [number, number][]): number | null {
  if (points.length < 2) return null;
  const n = points.length;
  const mx = points.reduce((s, [x]) => s + x, 0) / n;
  const my = points.reduce((s, [, y]) => s + y, 0) / n;
  const num = points.reduce((s, [x, y]) => s + (x - mx) * (y - my), 0);
  const den = points.reduce((s, [x]) => s + (x - mx) ** 2, 0);
  return den === 0 ? null : num / den;
}

export async function simulateYear(settings: YearSettings): Promise<YearResult> {
  const started = Date.now();
  const say = settings.progress ?? (() => undefined);
  const retentionSettings = {
    requestRetentionDays: settings.requestRetentionDays ?? 7,
    auditRetentionDays: settings.auditRetentionDays ?? 90,
    auditMaxEntries: settings.auditMaxEntries ?? 10_000,
    adminRetentionDays: 400,
  };
  let clock = Date.now();
  const now = () => clock;
  const tmp = await mkdtemp(path.join(tmpdir(), 'katapult-year-'));
  const storeUrl = settings.storeUrl ?? `sqlite://${path.join(tmp, 'year.sqlite')}`;
  const slack = await startFakeSlack();
  const katapult = await startFakeKatapult({ now });
  const env: Record<string, string> = {
    ...OAUTH_ENV,
    STORE_URL: storeUrl,
    LOG_LEVEL: 'info',
    RECONCILE_INTERVAL_MINUTES: '0',
    RETENTION_SWEEP_MINUTES: '0',
    // A run that failed (a store or Katapult timeout on a loaded machine) is taken over once its
    // lease lapses: seconds here rather than the default 40, so a day settles while the test waits.
    REQUEST_LEASE_MS: '5000',
    REQUEST_SWEEP_MS: '500',
    REQUEST_RETENTION_DAYS: String(retentionSettings.requestRetentionDays),
    AUDIT_RETENTION_DAYS: String(retentionSettings.auditRetentionDays),
    AUDIT_MAX_ENTRIES: String(retentionSettings.auditMaxEntries),
    AUDIT_ADMIN_RETENTION_DAYS: String(retentionSettings.adminRetentionDays),
  };
  const h = await startHarness({ env, now, slack, katapult, dataDir: tmp });
  const addPeople = () => {
    slack.users.set(ADMIN2, { tz: 'UTC', is_admin: true });
    for (const id of PEOPLE) slack.users.set(id, { tz: 'Europe/Berlin' });
  };
  addPeople();
  const census = await openCensus(storeUrl);
  const { bot } = h;
  const requests = createRequestLog(bot.store.docs);
  const retention = createRetention({
    docs: bot.store.docs,
    claims: bot.store,
    now,
    logger: bot.logger,
    settings: {
      finishedRequestMs: retentionSettings.requestRetentionDays * DAY_MS,
      auditMs: retentionSettings.auditRetentionDays * DAY_MS,
      adminAuditMs: retentionSettings.adminRetentionDays * DAY_MS,
      intervalMs: 0,
      batchSize: 200,
    },
  });
  const mix = mixOf(settings.perDay);
  const reconcileStepMs = (settings.reconcileEveryHours ?? 24) * HOUR_MS;
  const freezeDay = settings.freezeDay ?? Math.floor(settings.days * 0.2);
  const uninstallDay = settings.uninstallDay ?? Math.floor(settings.days * 0.3);
  const censusEvery = settings.censusEvery ?? 1;
  const scheduled = new Map<string, Scheduled>();
  const adminMade: string[] = [];
  const errors: string[] = [];
  const days: DayFigures[] = [];
  let scheduledInYear = 0;
  let seq = 0;
  const tick = () => {
    clock += 1000;
  };
  const events = `${h.baseUrl}/slack/events`;

  /** Everything under way finished: no active request, nothing in flight. */
  const settle = async () => {
    await until('the requests to finish', async () => (await requests.pending()).count === 0, 90_000);
    if (!(await bot.idle(30_000))) throw new Error('the bot did not settle');
  };
  const press = (actionId: string, value: string, userId: string, messageTs = '1700000000.000200') =>
    pressButton(h, { actionId, value, userId, messageTs });
  const command = async (text: string) => {
    const before = slack.callsTo('response_url').length;
    tick();
    await h.command({ text, user_id: ADMIN, response_url: slack.responseUrl('cmd') });
    const replies = await slack.waitFor('response_url', before + 1, 30_000);
    await bot.idle(30_000);
    return replies.at(-1) as SlackCall;
  };
  const setAccess = async (approval: 'off' | 'admins') => {
    tick();
    const res = await h.submitAccess({ who: 'everyone', channels: [CHANNEL], approval, limit: '1000' });
    if (res.status !== 200) throw new Error(`access form answered ${res.status}`);
    await until('the access policy', async () => {
      const raw = await bot.store.kv.get(`access:${TEAM}`);
      const policy = (typeof raw === 'string' ? JSON.parse(raw) : raw) as
        | { approval?: { mode?: string } }
        | undefined;
      return (policy?.approval?.mode ?? 'off') === approval;
    });
    await bot.idle(30_000);
    adminMade.push('access_changed');
  };
  const install = async () => {
    const page = await fetch(`${h.baseUrl}/slack/install`);
    const state = (await page.text()).match(/state=([^&"]+)/)?.[1];
    const cookie = page.headers.get('set-cookie')?.split(';')[0] ?? '';
    const done = await fetch(`${h.baseUrl}/slack/oauth_redirect?code=code-${TEAM}&state=${state}`, {
      headers: { cookie },
    });
    if (done.status !== 200 || !state) throw new Error(`the install answered ${done.status}`);
  };
  const setUp = async () => {
    await install();
    tick();
    await setWorkspaceToken(h, KATAPULT_TOKEN);
    adminMade.push('token_set:saved');
    await setAccess('off');
  };
  let turn = 0;
  const submit = async (policyId: string, at: number, channelId = CHANNEL) => {
    const userId = PEOPLE[turn++ % PEOPLE.length] as string;
    tick();
    const res = await h.submitSchedule({ policyId, at: Math.floor(at / 1000), channelId, userId });
    if (res.status !== 200) throw new Error(`a submission answered ${res.status}`);
  };
  const succeed = async (policyId: string, at: number) => {
    await submit(policyId, at);
    scheduled.set(policyId, { at: Math.floor(at / 1000), restored: false });
    scheduledInYear++;
  };

  const approvalsRound = async (day: number) => {
    await setAccess('admins');
    const before = slack.calls.length;
    const asked: string[] = [];
    for (let i = 0; i < mix.approvals; i++) {
      const policyId = `dbp_y${day}a${i}`;
      asked.push(policyId);
      await submit(policyId, clock + (30 + 24 * (i % 2)) * HOUR_MS);
    }
    await settle();
    const ids = slack.calls
      .slice(before)
      .filter((c) => c.method === 'chat.postMessage')
      .flatMap((c) =>
        buttons(c)
          .filter((b) => b.action_id === ACTIONS.approve)
          .map((b) => b.value),
      );
    if (ids.length !== mix.approvals)
      throw new Error(`expected ${mix.approvals} approval requests, saw ${ids.length}`);
    for (const policyId of asked) adminMade.push(`approval:requested:${policyId}`);
    for (const [i, id] of ids.entries()) {
      const record = (await requests.get(id)) as RequestRecord;
      const policyId = record.policies[0]?.policyId as string;
      tick();
      if (i % 3 === 2) {
        const opened = slack.callsTo('views.open').length;
        await press(ACTIONS.deny, id, ADMIN2);
        const view = (await slack.waitFor('views.open', opened + 1, 30_000)).at(-1)?.args.view as {
          private_metadata: string;
        };
        tick();
        await postSigned(
          events,
          SIGNING_SECRET,
          viewSubmissionBody({
            callbackId: DENY_VIEW.callbackId,
            userId: ADMIN2,
            privateMetadata: view.private_metadata,
            values: {
              [DENY_VIEW.reasonBlock]: {
                [DENY_VIEW.reasonAction]: { type: 'plain_text_input', value: 'not now' },
              },
            },
          }),
        );
        adminMade.push(`approval:denied:${policyId}`);
      } else {
        await press(ACTIONS.approve, id, ADMIN2);
        adminMade.push(`approval:approved:${policyId}`);
        const at = record.atSeconds;
        scheduled.set(policyId, { at, restored: false });
        scheduledInYear++;
      }
      await until('the decision', async () => {
        const r = await requests.get(id);
        return (
          r !== null && r.state !== 'awaiting_approval' && r.state !== 'pending' && r.state !== 'calling'
        );
      });
    }
    await settle();
    await setAccess('off');
  };

  const restoreOne = async () => {
    const nowSeconds = Math.floor(clock / 1000);
    const candidate = [...scheduled].find(
      ([, s]) => !s.restored && s.at < nowSeconds - 3600 && s.at > nowSeconds - 40 * 3600,
    );
    if (!candidate) return 0;
    const [policyId, s] = candidate;
    s.restored = true;
    const before = slack.callsTo('chat.postMessage').length;
    tick();
    await press(ACTIONS.restore, policyId, MEMBER, `1700000000.${String(++seq).padStart(6, '0')}`);
    await slack.waitFor('chat.postMessage', before + 1, 30_000);
    await bot.idle(30_000);
    return 1;
  };

  const dayOfActivity = async (day: number): Promise<number> => {
    let submissions = 0;
    if (day === freezeDay) {
      await command('freeze');
      adminMade.push('freeze:frozen');
      await submit(`dbp_y${day}frozen`, clock + 30 * HOUR_MS);
      await settle();
      await command('unfreeze');
      adminMade.push('freeze:unfrozen');
      submissions++;
    }
    if (day === uninstallDay) {
      const forgotten = () => h.logs.filter((l) => l.includes('"workspace_forgotten"')).length;
      const before = forgotten();
      tick();
      await postSigned(
        events,
        SIGNING_SECRET,
        eventBody({ type: 'app_uninstalled', event_ts: '1700000000.000100' }, TEAM),
        {
          contentType: 'application/json',
        },
      );
      await until('the uninstall', () => forgotten() > before);
      await bot.idle(30_000);
      adminMade.push('uninstall:activity_forgotten');
      // Its upcoming deletions went with it: the reconciler no longer checks them.
      scheduled.clear();
      await setUp();
    }
    // Successes (leads of 6, 30 and 54 hours), failures, refusals and reschedules, ten at a time.
    const work: (() => Promise<void>)[] = [];
    for (let i = 0; i < mix.successes; i++)
      work.push(() => succeed(`dbp_y${day}s${i}`, clock + (6 + 24 * (i % 3)) * HOUR_MS));
    for (let i = 0; i < mix.failures; i++)
      work.push(() => submit(`missing_y${day}f${i}`, clock + 30 * HOUR_MS));
    for (let i = 0; i < mix.refusals; i++)
      work.push(() => submit(`dbp_y${day}r${i}`, clock + 30 * HOUR_MS, OTHER_CHANNEL));
    const nowSeconds = Math.floor(clock / 1000);
    const ahead = [...scheduled].filter(
      ([, s]) => s.at > nowSeconds + 3 * 3600 && s.at < nowSeconds + 2 * 86_400,
    );
    for (const [policyId, s] of ahead.slice(0, mix.reschedules)) {
      work.push(() => succeed(policyId, (s.at + 6 * 3600) * 1000));
      scheduledInYear--; // the same policy, at another time
    }
    for (let i = 0; i < work.length; i += 10) {
      await Promise.all(work.slice(i, i + 10).map((w) => w()));
      await settle();
    }
    submissions += work.length;
    await approvalsRound(day);
    submissions += mix.approvals;
    submissions += await restoreOne();
    return submissions;
  };

  /** What changed in the fakes' and the bot's logs: errors kept, the rest dropped (bounded memory). */
  const drainLogs = () => {
    for (const line of h.logs) {
      if (line.includes('"level":"error"') || line.includes('"level":"fatal"'))
        errors.push(line.slice(0, 400));
      for (const secret of [
        KATAPULT_TOKEN,
        BOT_TOKEN,
        SIGNING_SECRET,
        h.encryptionKey,
        slack.botTokenFor(TEAM),
      ])
        if (line.includes(secret)) errors.push(`a secret in a log line: ${line.slice(0, 120)}`);
    }
    h.logs.length = 0;
  };

  const messageKeys = new Set<string>();
  const messageDays: string[][] = [];
  const forgetOld = () => {
    const nowSeconds = Math.floor(clock / 1000);
    for (const [policyId, s] of scheduled) {
      if (s.at < nowSeconds - KEEP_AFTER_MOVE_SECONDS - 86_400) {
        scheduled.delete(policyId);
        // A restored policy stays in Katapult; later someone deletes it (the fake stays bounded).
        if (s.restored) katapult.removePolicy(policyId);
      }
    }
    // The fake Slack keeps every message posted (as Slack does), in this process: a message the bot
    // can no longer touch (older than the longest lead plus the restore window and a margin) is
    // dropped, so that the heap measured is the bot's, not the fake's growing channel history.
    const fresh = [...slack.messages.keys()].filter((key) => !messageKeys.has(key));
    for (const key of fresh) messageKeys.add(key);
    messageDays.push(fresh);
    while (messageDays.length > MESSAGE_DAYS_KEPT)
      for (const key of messageDays.shift() ?? []) {
        slack.messages.delete(key);
        messageKeys.delete(key);
      }
  };

  let lastPass: YearResult['lastReconcile'] | null = null;
  try {
    await setUp();
    const start = clock;
    for (let day = 0; day < settings.days; day++) {
      clock = Math.max(clock, start + day * DAY_MS);
      const submissions = await dayOfActivity(day);
      let checked = 0;
      const endOfDay = start + (day + 1) * DAY_MS;
      const last = day === settings.days - 1;
      for (
        let t = Math.ceil((clock - start) / reconcileStepMs) * reconcileStepMs + start;
        t <= endOfDay;
        t += reconcileStepMs
      ) {
        clock = Math.max(clock, t);
        const lastOfYear = last && t + reconcileStepMs > endOfDay;
        if (lastOfYear) katapult.reset();
        const summary = await bot.reconcile();
        checked += summary.checked;
        if (lastOfYear) {
          const windowStartSeconds = Math.floor(clock / 1000) - KEEP_AFTER_MOVE_SECONDS;
          const asked = new Set(
            katapult.requests
              .filter((r) => r.method === 'GET' && r.path.includes('disk_backup_polic'))
              .flatMap((r) => Object.values(r.query))
              .filter((id) => id.startsWith('dbp_') || id.startsWith('missing')),
          );
          lastPass = {
            checked: summary.checked,
            fresh: summary.fresh,
            asked: asked.size,
            ahead: [...asked].filter((id) => (scheduled.get(id)?.at ?? 0) > Math.floor(clock / 1000)).length,
            outsideWindow: [...asked].filter((id) => {
              const s = scheduled.get(id);
              return !s || s.at < windowStartSeconds;
            }),
            scheduledInYear,
            windowStartSeconds,
          };
        }
      }
      clock = Math.max(clock, endOfDay);
      if (settings.retentionSweeps !== false)
        for (let i = 0; i < 100 && !(await retention.sweep()).complete; i++);
      forgetOld();
      const figures: DayFigures = { day, heapAfterGc: null, checked, submissions };
      if (day % censusEvery === 0 || last || day === settings.days - 1)
        figures.census = await census.counts();
      slack.reset();
      addPeople();
      if (!last) katapult.reset();
      drainLogs();
      if (settings.gc) {
        settings.gc();
        figures.heapAfterGc = process.memoryUsage().heapUsed;
      }
      days.push(figures);
      say(
        `day ${day + 1}/${settings.days}: ${submissions} submissions, reconcile checked ${checked}` +
          (figures.census
            ? `, requests ${figures.census['docs:request'] ?? 0}, upcoming ${figures.census['docs:upcoming'] ?? 0}`
            : '') +
          (figures.heapAfterGc ? `, heap ${(figures.heapAfterGc / 1e6).toFixed(1)} MB` : ''),
      );
    }

    const admin = await adminChecks(h, env, adminMade);
    const bound = statedBound(settings.perDay, retentionSettings);
    const finalCensus = days.at(-1)?.census ?? {};
    const overBound = Object.entries(finalCensus)
      .filter(([kind, n]) => !isTotal(kind) && (bound[kind] === undefined || n > (bound[kind] as number)))
      .map(([kind, n]) => `${kind}=${n} (bound ${bound[kind] ?? 'none'})`);
    drainLogs();
    const heapPoints = days
      .filter((d) => d.heapAfterGc !== null)
      .map((d) => [d.day, d.heapAfterGc as number] as [number, number]);
    const half = Math.floor(settings.days / 2);
    const secondHalf = heapPoints.filter(([d]) => d >= half);
    const secondHalfSlope = slope(secondHalf);
    return {
      days,
      bound,
      overBound,
      lastReconcile: lastPass ?? {
        checked: 0,
        fresh: 0,
        asked: 0,
        ahead: 0,
        outsideWindow: [],
        scheduledInYear,
        windowStartSeconds: 0,
      },
      admin,
      errors,
      heap: {
        firstHalfSlope: slope(heapPoints.filter(([d]) => d < half)),
        secondHalfSlope,
        secondHalfRise:
          secondHalfSlope === null ? null : secondHalfSlope * Math.max(0, secondHalf.length - 1),
      },
      settings: retentionSettings,
      seconds: Math.round((Date.now() - started) / 1000),
    };
  } finally {
    await census.close().catch(() => undefined);
    await h.stop();
    await slack.close();
    await katapult.close();
    await rm(tmp, { recursive: true, force: true });
  }
}

/** Every admin entry made is in `export-audit` and the admin trail; the admin view shows the newest of them. */
async function adminChecks(
  h: Harness,
  env: Record<string, string>,
  made: string[],
): Promise<YearResult['admin']> {
  const { runCli } = await import('../src/cli.js');
  const lines: string[] = [];
  const out = { line: (text: string) => lines.push(text) };
  const cliEnv = {
    ...env,
    SLACK_SIGNING_SECRET: SIGNING_SECRET,
    SLACK_API_URL: h.slack.apiUrl,
    KATAPULT_API_URL: h.katapult.baseUrl,
    DATA_DIR: h.dataDir,
    TOKEN_ENCRYPTION_KEY: h.encryptionKey,
  };
  const code = await runCli(['export-audit', '--workspace', TEAM], cliEnv, out, out);
  if (code !== 0) throw new Error(`export-audit exited ${code}: ${lines.slice(-3).join(' | ')}`);
  const exported = lines.map((l) => JSON.parse(l) as AuditEntry).filter((e) => ADMIN_ACTIONS.has(e.action));
  // An access change's outcome describes the policy saved: the action is what is counted.
  const keyOf = (e: AuditEntry) =>
    e.action === 'access_changed'
      ? e.action
      : `${e.action}:${e.outcome}${e.action === 'approval' ? `:${e.policyId}` : ''}`;
  const missing = (have: AuditEntry[]) => {
    const left = new Map<string, number>();
    for (const e of have) left.set(keyOf(e), (left.get(keyOf(e)) ?? 0) + 1);
    const lacking: string[] = [];
    for (const key of made) {
      const n = left.get(key) ?? 0;
      if (n === 0) lacking.push(key);
      else left.set(key, n - 1);
    }
    return lacking;
  };
  const { createAuditTrail } = await import('../src/audit/trail.js');
  const trail = createAuditTrail(h.bot.store.audit, h.bot.store.docs, { retentionMs: 400 * DAY_MS });
  const adminTrail = await trail.admin(TEAM, 1_000_000);
  // The admin view, as an admin asks for it.
  const before = h.slack.callsTo('response_url').length;
  await h.command({ text: 'history admin', user_id: ADMIN, response_url: h.slack.responseUrl('admin') });
  const reply = (await h.slack.waitFor('response_url', before + 1, 30_000)).at(-1) as SlackCall;
  const sections = ((reply.args.blocks ?? []) as { type: string; text?: { text: string } }[])
    .filter((b) => b.type === 'section')
    .map((b) => b.text?.text ?? '');
  const shown = sections.slice(1).flatMap((t) => t.split('\n'));
  const newest = [...exported].sort((a, b) => b.at - a.at).slice(0, shown.length);
  const expected = historyLines(newest).flatMap((b) =>
    String((b as { text?: { text: string } }).text?.text ?? '').split('\n'),
  );
  return {
    made: made.length,
    missingFromExport: missing(exported),
    exported: exported.length,
    shownInView: shown.length,
    viewMatchesExport:
      shown.length > 0 && JSON.stringify([...shown].sort()) === JSON.stringify([...expected].sort()),
    missingFromAdminTrail: missing(adminTrail),
  };
}

/** A fresh database (PostgreSQL) or Redis database for one run, and its removal. */
export async function isolatedStoreUrl(
  kind: 'redis' | 'postgres',
  serverUrl: string,
): Promise<{ url: string; drop(): Promise<void> }> {
  if (kind === 'postgres') {
    const pg = (await import('pg')).default;
    const name = `katapult_year_${process.pid}_${randomBytes(3).toString('hex')}`;
    const admin = new pg.Pool({ connectionString: serverUrl, max: 1 });
    await admin.query(`CREATE DATABASE ${name}`);
    const url = new URL(serverUrl);
    url.pathname = `/${name}`;
    return {
      url: url.toString(),
      async drop() {
        await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
        await admin.end();
      },
    };
  }
  return scratchRedis(serverUrl);
}
