/**
 * The use cases behind the Slack listeners (src/scheduling/), with fake parts and a fake Slack side:
 * who is refused, what is changed, what is audited and in which order against the answer.
 */
import type { AccessPolicy } from '../../src/access/access-policy.js';
import type { FreezeState } from '../../src/access/freeze.js';
import { auditEntry } from '../../src/audit/entry.js';
import { KatapultApiError } from '../../src/katapult/errors.js';
import type { AppLogger } from '../../src/log.js';
import { FREEZE } from '../../src/messages/approvals.js';
import {
  type AccessChange,
  type AccessOutcome,
  createChangeAccess,
} from '../../src/scheduling/change-access.js';
import { createForgetWorkspace } from '../../src/scheduling/forget-workspace.js';
import { createPendingApprovals, createReadHistory } from '../../src/scheduling/history.js';
import { createReadHome, type HomeViewer } from '../../src/scheduling/home.js';
import type { RequestRecord } from '../../src/scheduling/request-log.js';
import { createRestorePolicy, type RestoreRefusal } from '../../src/scheduling/restore.js';
import { createSetFreeze } from '../../src/scheduling/set-freeze.js';
import { createSetToken, type TokenOutcome } from '../../src/scheduling/set-token.js';
import type { UpcomingDeletion } from '../../src/scheduling/upcoming.js';
import type { AuditEntry } from '../../src/store/store.js';
import type { WorkspaceTokens } from '../../src/tokens/workspace-tokens.js';

const NOW = 1_800_000_000_000;
const logger = { event: () => undefined } as unknown as AppLogger;
const policy = (over: Partial<AccessPolicy> = {}): AccessPolicy => ({
  who: 'admins',
  groupIds: [],
  channelIds: [],
  updatedBy: null,
  updatedAt: null,
  ...over,
});

/** A recorder that notes each entry in `steps` too, to check its order against the answers. */
function recorder(steps: string[]) {
  const entries: AuditEntry[] = [];
  return {
    entries,
    record: async (entry: AuditEntry) => {
      steps.push(`audit ${entry.outcome}`);
      entries.push(entry);
    },
  };
}

describe('auditEntry', () => {
  test('what is not said is null; decidedBy and count only when given', () => {
    const entry = auditEntry({ at: 1, workspace: 'T1', user: 'U1', action: 'freeze', outcome: 'frozen' });
    expect(entry).toEqual({
      at: 1,
      workspace: 'T1',
      user: 'U1',
      channel: null,
      action: 'freeze',
      policyId: null,
      requestedAt: null,
      requestedLocal: null,
      outcome: 'frozen',
      autoMoveToTrashAt: null,
      requestId: null,
      retryNum: null,
      delivery: null,
    });
    expect('decidedBy' in entry || 'count' in entry).toBe(false);
    expect(
      auditEntry({
        at: 1,
        workspace: 'T1',
        user: 'U1',
        action: 'approval',
        outcome: 'denied',
        decidedBy: null,
      }),
    ).toHaveProperty('decidedBy', null);
  });
});

describe('restorePolicy', () => {
  const scheduled: UpcomingDeletion = {
    policyId: 'dbp_stored',
    channelId: 'C1',
    at: NOW / 1000,
    scheduledBy: 'U0',
    targetType: null,
    targetId: null,
    reminderMessageId: null,
    restoreMessageId: null,
  };

  function setup(
    over: {
      upcoming?: () => Promise<UpcomingDeletion | null>;
      allowed?: boolean;
      claimed?: boolean;
      restore?: () => Promise<unknown>;
    } = {},
  ) {
    const steps: string[] = [];
    const audit = recorder(steps);
    const restored: string[] = [];
    const claims: string[] = [];
    const refusals: RestoreRefusal[] = [];
    const run = createRestorePolicy({
      tokens: { tokenFor: async () => ({ ok: true, token: 'tok' }) } as unknown as WorkspaceTokens,
      katapult: {
        restoreTrashObject: async (_token, objectId) => {
          restored.push(objectId);
          return (over.restore ?? (async () => ({ requestId: 'req_1' })))() as never;
        },
      },
      upcoming: { get: over.upcoming ?? (async () => scheduled) },
      claims: {
        claim: async (key) => {
          claims.push(key);
          return over.claimed !== true;
        },
      },
      record: audit.record,
      logger,
      now: () => NOW,
    });
    const go = () =>
      run(
        {
          workspaceId: 'T1',
          userId: 'U1',
          channelId: 'C1',
          policyId: 'dbp_button',
          threadTs: '9.9',
          retryNum: 1,
        },
        {
          mayRestore: async () =>
            over.allowed === false ? { allowed: false, reason: 'not_admin' } : { allowed: true },
          refuse: async (reason) => {
            steps.push(`refuse ${reason}`);
            refusals.push(reason);
          },
          busy: async () => void steps.push('busy'),
          announce: async (policyId, result) => {
            steps.push(`announce ${policyId} ${result.ok ? 'ok' : 'failed'}`);
            return 'channel';
          },
        },
      );
    return { go, steps, entries: audit.entries, restored, claims, refusals };
  }

  test('restores the policy the store has, announces, then audits with Katapult’s request ID', async () => {
    const t = setup();
    await t.go();
    expect(t.restored).toEqual(['dbp_stored']);
    expect(t.claims).toEqual(['restore:T1:dbp_stored:9.9']);
    expect(t.steps).toEqual(['announce dbp_stored ok', 'audit restored']);
    expect(t.entries[0]).toMatchObject({
      at: NOW,
      action: 'restore',
      channel: 'C1',
      requestId: 'req_1',
      delivery: 'channel',
      retryNum: 1,
    });
  });

  test('a button that matches no scheduled deletion restores nothing, and says so', async () => {
    const t = setup({ upcoming: async () => null });
    await t.go();
    expect(t.restored).toEqual([]);
    expect(t.steps).toEqual(['refuse not_scheduled_here', 'audit refused:not_scheduled_here']);
  });

  test('a store that cannot say: refused as store trouble', async () => {
    const t = setup({ upcoming: async () => Promise.reject(new Error('down')) });
    await t.go();
    expect(t.steps).toEqual(['refuse store_unavailable', 'audit refused:store_unavailable']);
  });

  test('someone the access policy refuses restores nothing', async () => {
    const t = setup({ allowed: false });
    await t.go();
    expect(t.restored).toEqual([]);
    expect(t.steps).toEqual(['refuse not_admin', 'audit refused:not_admin']);
  });

  test('a second click while one is under way does nothing (and is not audited)', async () => {
    const t = setup({ claimed: true });
    await t.go();
    expect(t.restored).toEqual([]);
    expect(t.steps).toEqual(['busy']);
  });

  test('a Katapult refusal is audited as its code', async () => {
    const t = setup({
      restore: async () => {
        throw new KatapultApiError(404, 'trash_object_not_found', null, {}, 'req_9', 1);
      },
    });
    await t.go();
    expect(t.steps).toEqual(['announce dbp_stored failed', 'audit trash_object_not_found']);
    expect(t.entries[0]?.requestId).toBe('req_9');
  });
});

describe('setToken', () => {
  function setup(
    over: { admin?: boolean; set?: WorkspaceTokens['set']; remove?: WorkspaceTokens['remove'] } = {},
  ) {
    const steps: string[] = [];
    const audit = recorder(steps);
    const shown: TokenOutcome[] = [];
    const calls: string[] = [];
    const tokens = {
      set:
        over.set ??
        (async () => {
          calls.push('set');
          return { ok: true as const, organizationName: 'Acme', last4: 'abcd' };
        }),
      remove:
        over.remove ??
        (async () => {
          calls.push('remove');
          return { ok: true as const, removed: true };
        }),
      status: async () => ({ ok: true as const, status: null, fallback: false }),
    };
    const run = createSetToken({ tokens, record: audit.record, logger, now: () => NOW });
    const go = (token: string | null) =>
      run(
        { workspaceId: 'T1', userId: 'U1', token, retryNum: null },
        {
          isAdmin: async () => over.admin !== false,
          changed: () => void steps.push('changed'),
          show: async (outcome) => {
            steps.push(`show ${outcome.kind}`);
            shown.push(outcome);
          },
        },
      );
    return { go, steps, shown, calls, entries: audit.entries };
  }

  test('someone no longer an admin changes nothing', async () => {
    const t = setup({ admin: false });
    await t.go('new-token-1234');
    expect(t.calls).toEqual([]);
    expect(t.steps).toEqual(['show refused']);
  });

  test('a saved token drops what was cached for the old one, is audited, then shown', async () => {
    const t = setup();
    await t.go('new-token-1234');
    expect(t.steps).toEqual(['changed', 'audit saved', 'show saved']);
    expect(t.entries[0]).toMatchObject({ action: 'token_set', user: 'U1', channel: null });
  });

  test('a refused token keeps the cache and shows the form again with the token as it stands', async () => {
    const t = setup({
      set: async () => ({
        ok: false,
        failure: new KatapultApiError(401, 'invalid_api_token', null, {}, null, 1),
      }),
    });
    await t.go('bad-token-1234');
    expect(t.steps).toEqual(['audit invalid_api_token', 'show not_saved']);
    expect(t.shown[0]).toMatchObject({ kind: 'not_saved', status: { ok: true, status: null } });
  });

  test('a removal is shown, then audited', async () => {
    const t = setup();
    await t.go(null);
    expect(t.calls).toEqual(['remove']);
    expect(t.steps).toEqual(['changed', 'show removed', 'audit removed']);
    expect(t.entries[0]?.action).toBe('token_removed');
  });
});

describe('changeAccess', () => {
  const change: AccessChange = {
    workspaceId: 'T1',
    userId: 'U1',
    who: 'everyone',
    groupIds: ['S1'],
    channelIds: ['C1', 'C2'],
    allowGuests: true,
    allowExternal: false,
    dailyLimit: 3,
    approval: { mode: 'admins', groupIds: ['S2'] },
    retryNum: null,
  };

  function setup(over: { admin?: boolean; stored?: AccessPolicy; set?: () => Promise<void> } = {}) {
    const steps: string[] = [];
    const audit = recorder(steps);
    const saved: AccessPolicy[] = [];
    const shown: AccessOutcome[] = [];
    const uc = createChangeAccess({
      access: {
        get: async () => over.stored ?? policy(),
        set: async (_w, p) => {
          await over.set?.();
          saved.push(p);
        },
      },
      requiredByDefault: false,
      maxPerUserPerDay: 10,
      record: audit.record,
      logger,
      now: () => NOW,
    });
    const go = (c: Partial<AccessChange> = {}) =>
      uc.change(
        { ...change, ...c },
        {
          isAdmin: async () => over.admin !== false,
          show: async (outcome) => {
            steps.push(`show ${outcome.kind}`);
            shown.push(outcome);
          },
        },
      );
    return { uc, go, steps, saved, shown, entries: audit.entries };
  }

  test('saved as chosen (groups only with "groups"), shown, then audited as one line', async () => {
    const t = setup();
    await t.go();
    expect(t.saved[0]).toEqual({
      who: 'everyone',
      groupIds: [],
      channelIds: ['C1', 'C2'],
      allowGuests: true,
      allowExternal: false,
      maxPerUserPerDay: 3,
      approval: { mode: 'admins', groupIds: [] },
      updatedBy: 'U1',
      updatedAt: NOW,
    });
    expect(t.steps).toEqual(['show saved', 'audit everyone in C1,C2 +guests max/day:3 approval:admins']);
    expect(t.shown[0]).toMatchObject({ dailyLimit: 3 });
  });

  test('an empty limit is the deployment’s; a form without the approval question keeps the stored approval', async () => {
    const t = setup({ stored: policy({ approval: { mode: 'groups', groupIds: ['S9'] } }) });
    await t.go({ who: 'groups', groupIds: ['S1'], dailyLimit: undefined, approval: null });
    expect(t.saved[0]).not.toHaveProperty('maxPerUserPerDay');
    expect(t.saved[0]?.approval).toEqual({ mode: 'groups', groupIds: ['S9'] });
    expect(t.shown[0]).toMatchObject({ dailyLimit: 10 });
    expect(t.entries[0]?.outcome).toBe('groups:S1 in C1,C2 +guests approval:groups:S9');
  });

  test('not an admin, or a store that fails: nothing saved, nothing audited', async () => {
    const notAdmin = setup({ admin: false });
    await notAdmin.go();
    expect(notAdmin.saved).toEqual([]);
    expect(notAdmin.steps).toEqual(['show not_admin']);
    const down = setup({ set: async () => Promise.reject(new Error('down')) });
    await down.go();
    expect(down.steps).toEqual(['show not_saved']);
  });

  test('the form shows the stored policy, the approval that applies and the deployment’s limit', async () => {
    const t = setup({ stored: policy({ approval: { mode: 'groups', groupIds: [] } }) });
    expect(await t.uc.form('T1')).toEqual({
      policy: policy({ approval: { mode: 'groups', groupIds: [] } }),
      approval: { mode: 'admins', groupIds: [] },
      defaultLimit: 10,
    });
  });
});

describe('setFreeze', () => {
  function setup(before: FreezeState, admin = true) {
    const steps: string[] = [];
    const audit = recorder(steps);
    const said: [string, boolean | undefined][] = [];
    const run = createSetFreeze({
      command: '/katapult',
      freezes: {
        get: async () => before,
        freeze: async () => void steps.push('freeze'),
        unfreeze: async () => void steps.push('unfreeze'),
      },
      record: audit.record,
      logger,
      now: () => NOW,
    });
    const go = (freeze: boolean) =>
      run(
        { workspaceId: 'T1', userId: 'U1', channelId: 'C1', freeze, retryNum: null },
        {
          isAdmin: async () => admin,
          say: async (text, inChannel) => {
            steps.push('say');
            said.push([text, inChannel]);
          },
        },
      );
    return { go, steps, said, entries: audit.entries };
  }

  test('an admin freezes: stored, announced in the channel, then audited', async () => {
    const t = setup({ frozen: false });
    await t.go(true);
    expect(t.steps).toEqual(['freeze', 'say', 'audit frozen']);
    expect(t.said).toEqual([[FREEZE.frozenNow('/katapult'), true]]);
    expect(t.entries[0]).toMatchObject({ action: 'freeze', channel: 'C1' });
  });

  test('nothing changes for a non-admin, a deployment freeze, or no change', async () => {
    const notAdmin = setup({ frozen: false }, false);
    await notAdmin.go(true);
    expect(notAdmin.said).toEqual([[FREEZE.adminsOnly('/katapult'), undefined]]);
    const deployment = setup({ frozen: true, by: 'deployment' });
    await deployment.go(false);
    expect(deployment.said).toEqual([[FREEZE.deploymentWins, undefined]]);
    const already = setup({ frozen: true, by: 'admin', userId: 'U2', at: 1 });
    await already.go(true);
    expect(already.said).toEqual([[FREEZE.alreadyFrozen, undefined]]);
    for (const t of [notAdmin, deployment, already]) expect(t.steps).toEqual(['say']);
  });
});

/** `failing`: how many times each named step fails before it works (a store briefly unavailable). */
function forgetting(singleWorkspace: boolean, failing: Record<string, number> = {}) {
  const calls: string[] = [];
  const logged: unknown[] = [];
  const step = (name: string) => async (workspaceId: string) => {
    calls.push(`${name} ${workspaceId}`);
    if ((failing[name] ?? 0) > 0) {
      failing[name] = (failing[name] ?? 0) - 1;
      throw new Error(`store unavailable (${name})`);
    }
  };
  const forget = createForgetWorkspace({
    deleteInstallation: step('installation'),
    tokens: {
      remove: async (w) => {
        calls.push(`tokens ${w}`);
        return { ok: true, removed: true };
      },
    },
    access: { remove: step('access') },
    freezes: { remove: step('freezes') },
    upcoming: { forget: step('upcoming') },
    requests: { forget: step('requests') },
    dailyLimit: { forget: step('daily') },
    holds: { forget: step('holds') },
    trail: { forget: async (w, options) => void calls.push(`trail ${w} ${JSON.stringify(options)}`) },
    record: async (e) => void calls.push(`audit ${e.workspace} ${e.action}:${e.outcome}`),
    singleWorkspace,
    logger: { event: (...args: unknown[]) => void logged.push(args) } as unknown as AppLogger,
    now: () => NOW,
    retryDelaysMs: [1, 1, 1],
  });
  return { forget, calls, logged };
}

test('forgetWorkspace (OAuth) notes the uninstall, removes the installation, the queued work, then every store, keeping the admin trail', async () => {
  const t = forgetting(false);
  await t.forget('T1');
  // The requests and approval holds go before the tokens and the freeze: nothing queued runs between.
  expect(t.calls).toEqual([
    'audit T1 uninstall:activity_forgotten',
    'installation T1',
    'requests T1',
    'holds T1',
    'tokens T1',
    'access T1',
    'freezes T1',
    'upcoming T1',
    'daily T1',
    'trail T1 {"keepAdmin":true}',
  ]);
  expect(t.logged).toEqual([['info', 'workspace_trail_kept', { workspace: 'T1', kept: 'admin_entries' }]]);
});

test('forgetWorkspace tries a failed step again from where it failed (Slack sends the event once); the last failure is thrown', async () => {
  const t = forgetting(false, { requests: 2, freezes: 1 });
  await t.forget('T1');
  expect(t.calls.filter((c) => c === 'requests T1')).toHaveLength(3);
  expect(t.calls.filter((c) => c === 'freezes T1')).toHaveLength(2);
  // Once each: the audit entry and the steps before the one that failed.
  expect(t.calls.filter((c) => c.startsWith('audit') || c.startsWith('installation'))).toHaveLength(2);
  expect(t.calls.at(-1)).toBe('trail T1 {"keepAdmin":true}');

  const down = forgetting(false, { upcoming: 9 });
  await expect(down.forget('T1')).rejects.toThrow('store unavailable (upcoming)');
  expect(down.calls.filter((c) => c === 'upcoming T1')).toHaveLength(4);
  expect(down.calls).not.toContain('daily T1');
});

test('forgetWorkspace (single workspace) keeps the whole trail and says so', async () => {
  const t = forgetting(true);
  await t.forget('T1');
  expect(t.calls[0]).toBe('audit T1 uninstall:trail_kept');
  expect(t.calls.filter((c) => c.startsWith('trail'))).toEqual([]);
  expect(t.calls).toContain('requests T1');
  expect(t.logged).toEqual([['info', 'workspace_trail_kept', { workspace: 'T1', kept: 'whole_trail' }]]);
});

describe('reading', () => {
  const waiting = (id: string, expiresAt: number, state: RequestRecord['state'] = 'awaiting_approval') =>
    ({ id, state, approval: { expiresAt } }) as RequestRecord;
  const pending = createPendingApprovals({
    requests: {
      since: async () => [waiting('a', NOW - 1), waiting('b', NOW + 1), waiting('c', NOW + 1, 'pending')],
    },
    now: () => NOW,
  });

  test('pending approvals are those still waiting and not yet expired', async () => {
    expect((await pending('T1')).map((r) => r.id)).toEqual(['b']);
  });

  test('the history is for admins only', async () => {
    const read = createReadHistory({ trail: { recent: async () => [] }, pending });
    expect(await read('T1', { isAdmin: async () => false })).toEqual({ allowed: false });
    expect(await read('T1', { isAdmin: async () => true })).toMatchObject({ allowed: true, entries: [] });
  });

  function home(viewer: Partial<HomeViewer>, access: AccessPolicy = policy()) {
    const failed: string[] = [];
    const listed: unknown[] = [];
    const item = (policyId: string) => ({ policyId }) as UpcomingDeletion;
    const read = createReadHome({
      tokens: { status: async () => ({ ok: false, failure: { kind: 'store_unavailable' } }) },
      access: { get: async () => access },
      freezes: { get: async () => ({ frozen: false }) },
      upcoming: {
        list: async (_w, options) => {
          listed.push(options);
          return [item('1'), item('2'), item('3')];
        },
      },
      trail: { recent: async () => [] },
      pending,
      requiredByDefault: false,
      now: () => NOW,
    });
    const run = () =>
      read(
        { workspaceId: 'T1', offset: 4, pageSize: 2 },
        {
          profile: async () => ({ isAdmin: false }),
          mayDecide: async () => false,
          mayScheduleIn: async () => false,
          partFailed: (part) => void failed.push(part),
          ...viewer,
        },
      );
    return { run, failed, listed };
  }

  test('App Home: an admin sees a page of upcoming deletions and the history; a part that fails is left out', async () => {
    const t = home({ profile: async () => ({ isAdmin: true }) });
    const view = await t.run();
    expect(view.upcoming).toEqual({ items: [{ policyId: '1' }, { policyId: '2' }], more: true });
    expect(t.listed).toEqual([{ fromSeconds: NOW / 1000 - 7 * 86_400, limit: 3, offset: 4 }]);
    expect(view.history).toEqual([]);
    expect(view.token).toBeNull();
    expect(t.failed).toEqual(['token']);
    expect(view.pending).toBeNull();
  });

  test('App Home: someone allowed nowhere sees neither schedules nor history; an approver sees what waits', async () => {
    const plain = await home({}).run();
    expect(plain.upcoming).toBeNull();
    expect(plain.history).toBeNull();
    const approver = await home({ mayDecide: async () => true, mayScheduleIn: async () => true }).run();
    expect(approver.upcoming?.items).toHaveLength(2);
    expect(approver.history).toBeNull();
    expect(approver.pending?.map((r) => r.id)).toEqual(['b']);
  });
});
