/** The reconcile decision: what the bot recorded against what Katapult says now. */
import { jest } from '@jest/globals';
import type { webApi } from '@slack/bolt';
import { KatapultApiError } from '../../src/katapult/errors.js';
import { createLogger, Redactor } from '../../src/log.js';
import { createLocks, type Locks } from '../../src/scheduling/locks.js';
import {
  createReconciler,
  decideReconcile,
  dueState,
  type Observed,
  type ReconcileAction,
  type ReconcileSurface,
} from '../../src/scheduling/reconcile.js';
import {
  createUpcomingDeletions,
  KEEP_AFTER_MOVE_SECONDS,
  type UpcomingDeletions,
} from '../../src/scheduling/upcoming.js';
import { reconciledMessage } from '../../src/slack/blocks/followups.js';
import { ACTIONS } from '../../src/slack/ids.js';
import { createReconcileSurface } from '../../src/slack/ports/reconcile-surface.js';
import type { WorkspaceTokens } from '../../src/tokens/workspace-tokens.js';
import { slackRefusal } from '../../support/slack-limits.js';
import { useTempSqliteStore } from '../helpers/temp-store.js';

const NOW = 1_800_000_000;
const AHEAD = NOW + 3600;
const PAST = NOW - 60;

test.each<[string, number, Observed, ReconcileAction]>([
  ['same time: nothing', AHEAD, { kind: 'scheduled', at: AHEAD }, { kind: 'none' }],
  ['moved later', AHEAD, { kind: 'scheduled', at: AHEAD + 600 }, { kind: 'moved', at: AHEAD + 600 }],
  ['moved sooner, still ahead', AHEAD, { kind: 'scheduled', at: NOW + 60 }, { kind: 'moved', at: NOW + 60 }],
  ['cleared', AHEAD, { kind: 'scheduled', at: null }, { kind: 'cleared' }],
  ['due in Katapult, not yet moved: wait', AHEAD, { kind: 'scheduled', at: NOW }, { kind: 'none' }],
  ['policy gone', AHEAD, { kind: 'not_found' }, { kind: 'gone' }],
  ['already in the trash', AHEAD, { kind: 'in_trash' }, { kind: 'trashed_early' }],
  ['after the move, in the trash: kept for the restore offer', PAST, { kind: 'in_trash' }, { kind: 'none' }],
  ['after the move, restored (no move): left alone', PAST, { kind: 'scheduled', at: null }, { kind: 'none' }],
  [
    'after the move, restored with the old time: left alone',
    PAST,
    { kind: 'scheduled', at: PAST - 5 },
    { kind: 'none' },
  ],
  ['after the move, purged: expires by itself', PAST, { kind: 'not_found' }, { kind: 'none' }],
  [
    'after the move, scheduled again outside Slack',
    PAST,
    { kind: 'scheduled', at: AHEAD },
    { kind: 'moved', at: AHEAD },
  ],
])('%s', (_name, at, observed, expected) => {
  expect(decideReconcile({ at }, observed, NOW)).toEqual(expected);
});

test.each<Exclude<ReconcileAction, { kind: 'none' }>>([
  { kind: 'moved', at: AHEAD },
  { kind: 'cleared' },
  { kind: 'gone' },
  { kind: 'trashed_early' },
])(
  'the channel note ($kind) fits Slack with any policy id, and offers Restore only when trashed',
  (action) => {
    const note = reconciledMessage({ policyId: `dbp_${'x*_`<&'.repeat(2_000)}`, was: AHEAD }, action);
    expect(
      slackRefusal('chat.postMessage', { channel: 'C1', text: note.text, blocks: note.blocks }),
    ).toBeNull();
    expect(JSON.stringify(note.blocks).includes(ACTIONS.restore)).toBe(action.kind === 'trashed_early');
  },
);

describe('the periodic pass', () => {
  const reconcilerCountingPasses = (intervalMs: number) => {
    let passes = 0;
    const reconciler = createReconciler({
      upcoming: {
        page: async () => {
          passes++;
          return [];
        },
      } as unknown as UpcomingDeletions,
      locks: {} as Locks,
      tokens: {} as WorkspaceTokens,
      katapult: {
        getDiskBackupPolicy: async () => ({ autoMoveToTrashAt: null }),
        identify: async () => ({ organizations: [] }),
      },
      surface: {} as ReconcileSurface,
      logger: createLogger({ level: 'error', redactor: new Redactor(), sink: () => undefined }),
      now: Date.now,
      intervalMs,
      track: (work) => work(),
    });
    return { reconciler, passes: () => passes };
  };
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  test('comes within one interval of the start, then every interval, and not after stop', async () => {
    const { reconciler, passes } = reconcilerCountingPasses(60_000);
    reconciler.start();
    await jest.advanceTimersByTimeAsync(29_000);
    expect(passes()).toBe(0);
    await jest.advanceTimersByTimeAsync(31_000);
    expect(passes()).toBe(1);
    await jest.advanceTimersByTimeAsync(60_000);
    expect(passes()).toBe(2);
    reconciler.stop();
    await jest.advanceTimersByTimeAsync(600_000);
    expect(passes()).toBe(2);
  });

  test('RECONCILE_INTERVAL_MINUTES=0: never', async () => {
    const { reconciler, passes } = reconcilerCountingPasses(0);
    reconciler.start();
    await jest.advanceTimersByTimeAsync(86_400_000);
    expect(passes()).toBe(0);
    reconciler.stop();
  });
});

/**
 * A 404 is Katapult saying "this token cannot see that policy": it means "gone" only when Katapult
 * also confirms that the token reaches the policy's organization. These run the real reconciler on
 * a real (SQLite) index against a Katapult stub whose policies are visible only to tokens of their
 * organization, as the real API's are.
 */
describe('a 404 is believed only when the token reaches the policy’s organization', () => {
  const store = useTempSqliteStore();
  const WS = 'T0RECON01';
  const T0 = NOW * 1000;
  const NAMES: Record<string, string> = { org_acme: 'Acme Ops', org_globex: 'Globex', org_other: 'Other' };

  function world() {
    let nowMs = T0;
    const upcoming = createUpcomingDeletions(store().docs);
    const reads: string[] = [];
    const spied: UpcomingDeletions = {
      ...upcoming,
      get: (workspaceId, policyId) => {
        reads.push(policyId);
        return upcoming.get(workspaceId, policyId);
      },
    };
    /** Which organizations each token reaches (what /users/current would say now). */
    const reach = new Map<string, string[]>([
      ['kt-acme-0001', ['org_acme']],
      ['kt-globex-0002', ['org_globex']],
      ['kt-globex-0003', ['org_globex']],
    ]);
    const policies = new Map<string, { organization: string; at: number | null }>();
    const token = { value: 'kt-acme-0001', setBy: 'U0ADMIN01', setAt: NOW - 86_400, orgs: ['org_acme'] };
    const setToken = (value: string, setBy: string) => {
      Object.assign(token, { value, setBy, setAt: Math.floor(nowMs / 1000), orgs: reach.get(value) ?? [] });
    };
    let fallback = false;
    const gets: string[] = [];
    const identified: string[] = [];
    const told: { userId: string | null; policyId: string }[] = [];
    const dropped: string[] = [];
    const notes: string[] = [];
    const unproven: string[] = [];
    const logs: string[] = [];
    const tokens = {
      tokenFor: async () => ({ ok: true, token: token.value }),
      status: async () =>
        fallback
          ? { ok: true, status: null, fallback: true }
          : {
              ok: true,
              fallback: false,
              status: {
                last4: token.value.slice(-4),
                setBy: token.setBy,
                setAt: token.setAt,
                organizationId: token.orgs[0] ?? null,
                organizationName: token.orgs.map((id) => NAMES[id]).join(', ') || null,
              },
            },
    } as unknown as WorkspaceTokens;
    const notFound = () => new KatapultApiError(404, 'disk_backup_policy_not_found', null, {}, null, 1);
    const deps = {
      upcoming: spied,
      locks: createLocks(store().docs),
      tokens,
      katapult: {
        async getDiskBackupPolicy(t: string, policyId: string) {
          gets.push(policyId);
          const policy = policies.get(policyId);
          if (!policy || !(reach.get(t) ?? []).includes(policy.organization)) throw notFound();
          return { autoMoveToTrashAt: policy.at };
        },
        async identify(t: string) {
          identified.push(t);
          return { organizations: (reach.get(t) ?? []).map((id) => ({ id, name: NAMES[id] ?? id })) };
        },
      },
      surface: {
        rehold: async () => undefined,
        dropHeld: async (_w: string, record: { policyId: string }) => {
          dropped.push(record.policyId);
          return true;
        },
        note: async (_w: string, record: { policyId: string }, action: { kind: string }) => {
          notes.push(`${record.policyId}:${action.kind}`);
        },
        tellUnproven: async (_w: string, notice: { record: { policyId: string }; userId: string | null }) => {
          told.push({ userId: notice.userId, policyId: notice.record.policyId });
        },
      },
      onUnproven: (workspaceId: string) => unproven.push(workspaceId),
      logger: createLogger({ level: 'debug', redactor: new Redactor(), sink: (line) => logs.push(line) }),
      now: () => nowMs,
      intervalMs: 0,
      track: <T>(work: () => Promise<T>) => work(),
    };
    const reconciler = createReconciler(deps as unknown as Parameters<typeof createReconciler>[0]);

    /** What the bot writes when Katapult accepts a schedule (run-request.ts), made now. */
    const schedule = async (
      policyId: string,
      at: number,
      options: { organization?: string; requestCreatedAt?: number | null } = {},
    ) => {
      policies.set(policyId, { organization: options.organization ?? 'org_acme', at });
      const requestCreatedAt = options.requestCreatedAt === undefined ? nowMs : options.requestCreatedAt;
      await upcoming.put(WS, {
        policyId,
        channelId: 'C0OPS0001',
        at,
        scheduledBy: 'U0ALICE01',
        targetType: 'VirtualMachine',
        targetId: 'vm_1',
        reminderMessageId: `Q_${policyId}_reminder`,
        restoreMessageId: `Q_${policyId}_restore`,
        heldIn: 'C0OPS0001',
        ...(requestCreatedAt === null ? {} : { requestCreatedAt }),
      });
    };
    return {
      reconciler,
      upcoming,
      policies,
      reach,
      schedule,
      setToken,
      useFallbackToken: () => {
        fallback = true;
      },
      advance: (ms: number) => {
        nowMs += ms;
      },
      reads,
      gets,
      identified,
      told,
      dropped,
      notes,
      unproven,
      logs,
    };
  }

  test('the token replaced by another organization’s: nothing is dropped, the person who set it is told once per token, every such 404 is counted', async () => {
    const w = world();
    w.advance(60_000);
    await w.schedule('dbp_acme_1', NOW + 86_400);
    await w.schedule('dbp_acme_2', NOW + 2 * 86_400);
    await w.reconciler.sweep(); // Katapult shows both to the Acme token
    w.advance(60_000);
    w.setToken('kt-globex-0002', 'U0BOB0001');

    for (let pass = 0; pass < 3; pass++) {
      w.advance(60_000);
      const summary = await w.reconciler.sweep();
      expect(summary).toMatchObject({ changed: 0, unproven: 2 });
    }
    expect(w.dropped).toEqual([]);
    expect(w.notes).toEqual([]);
    expect(await w.upcoming.get(WS, 'dbp_acme_1')).toMatchObject({
      reminderMessageId: 'Q_dbp_acme_1_reminder',
      restoreMessageId: 'Q_dbp_acme_1_restore',
    });
    expect(w.told).toEqual([{ userId: 'U0BOB0001', policyId: 'dbp_acme_1' }]);
    expect(w.unproven).toEqual(Array(6).fill(WS));
    expect(w.logs.filter((l) => l.includes('reconcile_policy_unproven'))).toHaveLength(6);

    // Another token (of the same wrong organization): told again, once.
    w.advance(60_000);
    w.setToken('kt-globex-0003', 'U0CAROL01');
    await w.reconciler.sweep();
    await w.reconciler.sweep();
    expect(w.told).toEqual([
      { userId: 'U0BOB0001', policyId: 'dbp_acme_1' },
      { userId: 'U0CAROL01', policyId: 'dbp_acme_1' },
    ]);

    // The Acme token back: Katapult shows them again, nothing was lost.
    w.advance(60_000);
    w.setToken('kt-acme-0001', 'U0ADMIN01');
    expect(await w.reconciler.sweep()).toMatchObject({ changed: 0, unproven: 0 });
    expect(w.dropped).toEqual([]);
  });

  test('a real 404 (Katapult confirms the token still reaches the policy’s organization) is gone after two passes, as before', async () => {
    const w = world();
    w.advance(60_000);
    await w.schedule('dbp_gone', NOW + 86_400);
    await w.reconciler.sweep();
    w.policies.delete('dbp_gone');
    w.identified.length = 0;

    expect(await w.reconciler.sweep()).toMatchObject({ changed: 0, unproven: 0 });
    expect(w.dropped).toEqual([]);
    expect(await w.reconciler.sweep()).toMatchObject({ changed: 1, unproven: 0 });
    expect(w.dropped).toEqual(['dbp_gone']);
    expect(w.notes).toEqual(['dbp_gone:gone']);
    expect(await w.upcoming.get(WS, 'dbp_gone')).toBeNull();
    // Each 404 was checked against whom the token belongs to.
    expect(w.identified).toEqual(['kt-acme-0001', 'kt-acme-0001']);
    expect(w.told).toEqual([]);
    expect(w.unproven).toEqual([]);
  });

  test('scheduled with the current token and deleted before any pass: the 404 is proven by Katapult naming the same organizations for the token as when it was set', async () => {
    const w = world();
    w.advance(60_000);
    await w.schedule('dbp_quick', NOW + 86_400);
    w.policies.delete('dbp_quick');
    await w.reconciler.sweep();
    expect((await w.reconciler.sweep()).changed).toBe(1);
    expect(w.dropped).toEqual(['dbp_quick']);
    expect(w.identified.length).toBeGreaterThan(0);
  });

  test('the same token no longer reaching the organization it had when it was set: kept, told, counted', async () => {
    const w = world();
    w.advance(60_000);
    await w.schedule('dbp_left', NOW + 86_400);
    await w.schedule('dbp_left_unseen', NOW + 86_400);
    await w.reconciler.sweep();
    w.policies.delete('dbp_left_unseen'); // seen once, then really deleted...
    w.reach.set('kt-acme-0001', ['org_other']); // ...but the token's user was moved out of Acme meanwhile
    for (let pass = 0; pass < 3; pass++) await w.reconciler.sweep();
    expect(w.dropped).toEqual([]);
    expect(w.told).toEqual([{ userId: 'U0ADMIN01', policyId: expect.any(String) }]);
    expect(w.unproven.length).toBe(6);
  });

  test('records from before this change (no organization known, no request time): kept on a 404 unless a pass saw the policy first', async () => {
    const w = world();
    w.advance(60_000);
    await w.schedule('dbp_old_missing', NOW + 86_400, { requestCreatedAt: null });
    w.policies.delete('dbp_old_missing');
    await w.schedule('dbp_old_seen', NOW + 86_400, { requestCreatedAt: null });

    await w.reconciler.sweep(); // dbp_old_seen: Katapult shows it to this token, so its organization is known
    await w.reconciler.sweep();
    await w.reconciler.sweep();
    expect(w.dropped).toEqual([]);
    expect(await w.upcoming.get(WS, 'dbp_old_missing')).not.toBeNull();
    expect(w.told).toEqual([{ userId: 'U0ADMIN01', policyId: 'dbp_old_missing' }]);
    expect(w.unproven).toEqual([WS, WS, WS]);

    w.policies.delete('dbp_old_seen');
    await w.reconciler.sweep();
    await w.reconciler.sweep();
    expect(w.dropped).toEqual(['dbp_old_seen']);
    expect(await w.upcoming.get(WS, 'dbp_old_missing')).not.toBeNull();
  });

  test('the deployment’s fallback token (nobody set it): the note goes to the record’s channel', async () => {
    const w = world();
    w.useFallbackToken();
    w.advance(60_000);
    await w.schedule('dbp_fallback', NOW + 86_400);
    w.policies.delete('dbp_fallback');
    await w.reconciler.sweep();
    await w.reconciler.sweep();
    expect(w.dropped).toEqual([]);
    expect(w.told).toEqual([{ userId: null, policyId: 'dbp_fallback' }]);
  });

  test('a record whose move is past the restore window is neither read nor checked; one inside it still is', async () => {
    const w = world();
    await w.schedule('dbp_long_past', NOW - KEEP_AFTER_MOVE_SECONDS - 3600);
    await w.schedule('dbp_recent_past', NOW - 3600);
    await w.schedule('dbp_ahead', NOW + 3600);
    const summary = await w.reconciler.sweep();
    expect(summary.checked).toBe(2);
    expect(w.gets.sort()).toEqual(['dbp_ahead', 'dbp_recent_past']);
    expect(w.reads).not.toContain('dbp_long_past');
  });
});

describe('telling an admin about a 404 that could not be proven', () => {
  const record = (policyId: string) => ({
    policyId,
    channelId: 'C0OPS0001',
    at: AHEAD,
    scheduledBy: 'U0ALICE01',
    targetType: null,
    targetId: null,
    reminderMessageId: null,
    restoreMessageId: null,
  });
  const surfaceWith = (answer: (channel: string) => Promise<unknown>) => {
    const posts: { channel: string; text: string; blocks: unknown }[] = [];
    const client = {
      chat: {
        postMessage: async (args: { channel: string; text: string; blocks: unknown }) => {
          posts.push(args);
          return answer(args.channel);
        },
      },
    } as unknown as webApi.WebClient;
    const logs: string[] = [];
    const surface = createReconcileSurface(
      {
        upcoming: {} as UpcomingDeletions,
        logger: createLogger({ level: 'debug', redactor: new Redactor(), sink: (l) => logs.push(l) }),
        reminderLeadSeconds: 3600,
        now: () => NOW * 1000,
      },
      async () => client,
    );
    return { surface, posts, logs };
  };

  test('privately to whoever set the token, in plain words Slack accepts with any policy id', async () => {
    const { surface, posts } = surfaceWith(async (channel) => ({ ok: true, channel, ts: '1.1' }));
    const policyId = `dbp_${'x*_`<&'.repeat(2_000)}`;
    await surface.tellUnproven('T0RECON01', { record: record(policyId), userId: 'U0ADMIN01' });
    expect(posts).toHaveLength(1);
    const [post] = posts;
    expect(post?.channel).toBe('U0ADMIN01');
    expect(slackRefusal('chat.postMessage', post as never)).toBeNull();
    expect(post?.text).toContain('another Katapult organization');
    expect(JSON.stringify(post?.blocks)).toContain('So nothing was withdrawn');
    expect(JSON.stringify(post?.blocks)).toContain('set a token of the policy');
  });

  test('a direct message Slack refuses: said in the record’s channel instead; nobody set the token: the channel', async () => {
    const refused = Object.assign(new Error('An API error occurred: channel_not_found'), {
      code: 'slack_webapi_platform_error',
      data: { ok: false, error: 'channel_not_found' },
    });
    const { surface, posts, logs } = surfaceWith(async (channel) => {
      if (channel.startsWith('U')) throw refused;
      return { ok: true, channel, ts: '1.1' };
    });
    await surface.tellUnproven('T0RECON01', { record: record('dbp_one'), userId: 'U0ADMIN01' });
    expect(posts.map((p) => p.channel)).toEqual(['U0ADMIN01', 'C0OPS0001']);
    expect(logs.some((l) => l.includes('reconcile_unproven_note_failed'))).toBe(true);

    posts.length = 0;
    await surface.tellUnproven('T0RECON01', { record: record('dbp_two'), userId: null });
    expect(posts.map((p) => p.channel)).toEqual(['C0OPS0001']);
  });
});

describe('dueState: what a request message shows once time has passed', () => {
  const at = 10_000;
  const lead = 3600;
  const rec = (shown?: 'scheduled' | 'reminder_due' | 'moved' | 'restored') => ({
    at,
    reminderMessageId: 'Q1',
    ...(shown ? { shown } : {}),
  });
  const scheduled: Observed = { kind: 'scheduled', at };
  const trash: Observed = { kind: 'in_trash' };
  test.each([
    ['before the reminder', rec(), scheduled, at - lead - 1, null],
    ['the reminder is due', rec(), scheduled, at - lead, 'reminder_due'],
    ['already said so', rec('reminder_due'), scheduled, at - 10, null],
    [
      'Katapult moves it at another time',
      rec(),
      { kind: 'scheduled', at: at + 5 } as Observed,
      at - 10,
      null,
    ],
    ['moved, in the trash', rec('reminder_due'), trash, at + 1, 'moved'],
    ['in the trash before its time (reconcile says so itself)', rec(), trash, at - 1, null],
    ['restored stays restored', rec('restored'), trash, at + 1, null],
    ['moved is not said twice', rec('moved'), trash, at + 100, null],
  ])('%s', (_what, record, observed, now, expected) => {
    expect(dueState(record, observed, now, lead)).toBe(expected);
  });
  test('no reminder state without a reminder lead or a held reminder', () => {
    expect(dueState(rec(), scheduled, at - 10, 0)).toBeNull();
    expect(dueState({ ...rec(), reminderMessageId: null }, scheduled, at - 10, lead)).toBeNull();
  });
});
