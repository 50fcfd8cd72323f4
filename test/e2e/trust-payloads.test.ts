/**
 * Values the bot gets back from Slack carry no authority of their own: the Restore button restores
 * only a deletion this workspace scheduled (looked up in the store), a modal whose signed metadata
 * was altered, or signed for another form, another workspace or too long ago, is refused, and App
 * Home shows upcoming deletions only to people who may schedule. A payload missing what Slack
 * always sends still gets an answer.
 */

import { createHmac, hkdfSync, randomBytes } from 'node:crypto';
import {
  ACCESS_VIEW,
  ACTIONS,
  DENY_VIEW,
  SCHEDULE_VIEW,
  SHORTCUTS,
  TOKEN_VIEW,
} from '../../src/slack/ids.js';
import { NOT_SCHEDULED_HERE } from '../../src/slack/listeners/actions/restore.js';
import { FAKE_TEAM_ID } from '../../support/fakes/slack-api.js';
import {
  ADMIN,
  CHANNEL,
  inMinutes,
  KATAPULT_TOKEN,
  MEMBER,
  openedMetadata,
  SIGNING_SECRET,
  sealedMetadata,
  signedMetadata,
} from '../../support/harness.js';
import {
  blockActionBody,
  eventBody,
  messageActionBody,
  postSigned,
  viewSubmissionBody,
} from '../../support/slack-requests.js';
import { pressButton, submitDenyReason } from '../helpers/approvals.js';
import { auditTrailOf } from '../helpers/audit-trail.js';
import { useSharedHarness } from '../helpers/shared-harness.js';

// Admins only: MEMBER may not schedule anywhere.
const shared = useSharedHarness({ env: { KATAPULT_DEFAULT_ACCESS: 'admins' } });
const RESTORE_PATH = '/trash_objects/trash_object/restore';
/** Lets the work the last request started finish (Bot.idle), so that what did not happen can be checked. */
const settle = async () => expect(await shared.h.bot.idle()).toBe(true);

beforeEach(() => {
  shared.h.katapult.setTokens({ [KATAPULT_TOKEN]: 'Acme Ops' });
});

async function scheduleAsAdmin(policyId: string) {
  const { h } = shared;
  await h.submitSchedule({ policyId, at: inMinutes(120), userId: ADMIN });
  await h.slack.waitFor('chat.postMessage');
  await h.bot.idle();
  h.slack.reset();
}

const pressRestore = (value: string, messageTs: string) =>
  postSigned(
    `${shared.h.baseUrl}/slack/events`,
    SIGNING_SECRET,
    blockActionBody({
      actionId: ACTIONS.restore,
      value,
      userId: ADMIN,
      channelId: CHANNEL,
      messageTs,
      responseUrl: shared.h.slack.responseUrl('restore'),
    }),
  );

test('a Restore button carrying another object ID is refused; the scheduled policy is restored', async () => {
  const { h } = shared;
  const [policy, other] = h.katapult.policies();
  if (!policy || !other) throw new Error('the fake has too few policies');
  await scheduleAsAdmin(policy.id);
  h.katapult.trashPolicy(policy.id, inMinutes(60 * 24));
  h.katapult.trashPolicy(other.id, inMinutes(60 * 24));

  // The VM the policy backs up, and a policy that was never scheduled here.
  for (const [i, value] of [policy.target.id, other.id].entries()) {
    await pressRestore(value, `1700000001.00000${i}`);
    const notes = await h.slack.waitFor('response_url', i + 1);
    expect(JSON.stringify(notes.at(-1)?.args)).toContain('does not match a deletion scheduled');
  }
  await h.bot.idle();
  expect(h.katapult.requests.filter((r) => r.path === RESTORE_PATH)).toHaveLength(0);
  expect(h.slack.callsTo('chat.postMessage')).toHaveLength(0);
  const refusals = (await auditTrailOf(h, 'T0FAKE001', 5)).filter(
    (e) => e.outcome === 'refused:not_scheduled_here',
  );
  // Both refusals of the same person within 10 minutes: one history entry with a count.
  expect(refusals.map((e) => e.count)).toEqual([2]);
  expect([policy.target.id, other.id]).toContain(refusals[0]?.policyId);
  expect(NOT_SCHEDULED_HERE).toContain('nothing was restored');

  await pressRestore(policy.id, '1700000001.000009');
  await h.slack.waitFor('chat.postMessage');
  expect(h.katapult.requests.find((r) => r.path === RESTORE_PATH)?.body).toEqual({
    trash_object: { object_id: policy.id },
  });
});

describe('signed private_metadata', () => {
  const expectRefused = async (privateMetadata: string) => {
    const { h } = shared;
    const res = await h.submitSchedule({
      policyId: 'dbp_meta',
      at: inMinutes(60),
      userId: ADMIN,
      privateMetadata,
    });
    expect(res.json).toMatchObject({ response_action: 'errors' });
    await settle();
    expect(h.katapult.requests.filter((r) => r.method === 'DELETE')).toHaveLength(0);
    expect(h.slack.callsTo('chat.postMessage')).toHaveLength(0);
    return JSON.stringify(res.json);
  };
  const HOUR = 3600_000;

  test('a modal whose channel was edited is refused inline', async () => {
    const genuine = signedMetadata(shared.h.encryptionKey, CHANNEL);
    await expectRefused(genuine.replace(CHANNEL, 'C0OTHER01'));
  });

  test('unsigned metadata, or metadata signed with another key, is refused inline', async () => {
    await expectRefused(JSON.stringify({ c: CHANNEL }));
    await expectRefused(signedMetadata(randomBytes(32).toString('base64'), CHANNEL));
  });

  test('genuine metadata still schedules', async () => {
    const { h } = shared;
    const res = await h.submitSchedule({ policyId: 'dbp_meta_ok', at: inMinutes(60), userId: ADMIN });
    expect(res.text).toBe('');
    await h.slack.waitFor('chat.postMessage');
  });

  test('the forms the bot opens are signed for their own form and workspace, for 24 hours', async () => {
    const { h } = shared;
    await h.command({ text: '', user_id: ADMIN });
    await pressButton(h, ACTIONS.deny, `${FAKE_TEAM_ID}:VANY00001`, ADMIN);
    const opened = await h.slack.waitFor('views.open', 2);
    const metadataOf = (form: string) =>
      opened
        .map((c) => c.args.view as { callback_id: string; private_metadata: string })
        .find((v) => v.callback_id === form)?.private_metadata ?? '';
    const schedule = metadataOf(SCHEDULE_VIEW.callbackId);
    const deny = metadataOf(DENY_VIEW.callbackId);
    expect(openedMetadata(h.encryptionKey, schedule)).toBe(JSON.stringify({ c: CHANNEL }));
    expect(openedMetadata(h.encryptionKey, deny, { form: DENY_VIEW.callbackId })).toContain(CHANNEL);
    for (const [sealed, as, at] of [
      [schedule, { form: TOKEN_VIEW.callbackId }, Date.now()],
      [schedule, { form: DENY_VIEW.callbackId }, Date.now()],
      [deny, {}, Date.now()],
      [schedule, { workspaceId: 'T0OTHER01' }, Date.now()],
      [schedule, {}, Date.now() + 24 * HOUR + 60_000],
    ] as const) {
      expect(openedMetadata(h.encryptionKey, sealed, as, at)).toBeNull();
    }
  });

  test("the Deny form's metadata (it names a channel) submitted as the scheduling form is refused", async () => {
    const { h } = shared;
    await pressButton(h, ACTIONS.deny, `${FAKE_TEAM_ID}:VANY00002`, ADMIN);
    const [open] = await h.slack.waitFor('views.open');
    const lifted = String((open?.args.view as { private_metadata?: string } | undefined)?.private_metadata);
    expect(lifted).toContain(`"c":"${CHANNEL}"`);
    h.slack.reset();
    await expectRefused(lifted);
  });

  test('metadata signed for the token form is refused by the scheduling form', async () => {
    const { h } = shared;
    await expectRefused(signedMetadata(h.encryptionKey, CHANNEL, { form: TOKEN_VIEW.callbackId }));
  });

  test('metadata signed for another workspace (team or organization) is refused', async () => {
    const { h } = shared;
    await expectRefused(signedMetadata(h.encryptionKey, CHANNEL, { workspaceId: 'T0OTHER01' }));
    await expectRefused(signedMetadata(h.encryptionKey, CHANNEL, { workspaceId: 'E0ORG0001' }));
  });

  test('a form opened more than 24 hours ago is refused inline: open it again', async () => {
    const { h } = shared;
    const stale = signedMetadata(h.encryptionKey, CHANNEL, { issuedAt: Date.now() - 24 * HOUR - 60_000 });
    const answer = await expectRefused(stale);
    expect(answer).toContain('more than 24 hours ago');
    expect(answer).toContain('/katapult');
  });

  test('a form opened 23 hours ago still schedules', async () => {
    const { h } = shared;
    const res = await h.submitSchedule({
      policyId: 'dbp_meta_23h',
      at: inMinutes(60),
      userId: ADMIN,
      privateMetadata: signedMetadata(h.encryptionKey, CHANNEL, { issuedAt: Date.now() - 23 * HOUR }),
    });
    expect(res.text).toBe('');
    await h.slack.waitFor('chat.postMessage');
  });

  test('metadata signed before forms named their form and workspace is refused with the same message', async () => {
    const { h } = shared;
    const answer = await expectRefused(legacyMetadata(h.encryptionKey, JSON.stringify({ c: CHANNEL })));
    expect(answer).toContain('before the bot was updated');
  });

  test('a Deny form opened more than 24 hours ago says to press Deny again, and decides nothing', async () => {
    const { h } = shared;
    const stale = sealedMetadata(
      h.encryptionKey,
      JSON.stringify({ r: `${FAKE_TEAM_ID}:VANY00003`, c: CHANNEL }),
      {
        form: DENY_VIEW.callbackId,
        issuedAt: Date.now() - 25 * HOUR,
      },
    );
    const res = await submitDenyReason(h, stale, ADMIN, 'no');
    expect(res.json).toMatchObject({ response_action: 'errors' });
    expect(JSON.stringify(res.json)).toContain('press Deny');
    await settle();
    expect(h.slack.calls.filter((c) => c.method !== 'auth.test')).toHaveLength(0);
  });
});

/** Metadata as the bot signed it before it named its form, workspace and age: `v1.<HMAC>.<payload>`. */
function legacyMetadata(encryptionKey: string, payload: string): string {
  const material = Buffer.from(encryptionKey, 'base64');
  const info = 'katapult-chatops private_metadata v1';
  const key = Buffer.from(hkdfSync('sha256', material, Buffer.alloc(0), info, 32));
  return `v1.${createHmac('sha256', key).update(`v1.${payload}`).digest('base64url')}.${payload}`;
}

async function openHome(user: string): Promise<string> {
  const { h } = shared;
  const before = h.slack.callsTo('views.publish').length;
  await postSigned(
    `${h.baseUrl}/slack/events`,
    SIGNING_SECRET,
    eventBody({ type: 'app_home_opened', user, channel: 'D0HOME001', tab: 'home', event_ts: '1700000000.1' }),
    { contentType: 'application/json' },
  );
  const published = await h.slack.waitFor('views.publish', before + 1);
  return JSON.stringify(published.at(-1)?.args.view);
}

test('App Home shows upcoming deletions to admins, not to people who may not schedule anywhere', async () => {
  await scheduleAsAdmin('dbp_home_secret');
  expect(await openHome(ADMIN)).toContain('dbp_home_secret');
  const member = await openHome(MEMBER);
  expect(member).not.toContain('dbp_home_secret');
  expect(member).not.toContain(`<#${CHANNEL}>`);
  expect(member).toContain('People who may schedule deletions see them here');
});

test('App Home shows upcoming deletions to people allowed in at least one channel, not to guests', async () => {
  const { h } = shared;
  const GUEST = 'U0GUEST09';
  h.slack.users.set(GUEST, { is_restricted: true });
  await scheduleAsAdmin('dbp_home_channel');
  // Everyone, but only in another channel: MEMBER may schedule somewhere, so sees what is scheduled.
  await h.submitAccess({ who: 'everyone', channels: ['C0OPS0002'] });
  await h.slack.waitFor('views.update');
  try {
    expect(await openHome(MEMBER)).toContain('dbp_home_channel');
    const guest = await openHome(GUEST);
    expect(guest).not.toContain('dbp_home_channel');
    expect(guest).toContain('People who may schedule deletions see them here');
  } finally {
    await h.submitAccess({ who: 'admins' });
    await h.slack.waitFor('views.update', 2);
  }
});

describe('a payload missing what Slack always sends is answered, not left to time out', () => {
  /** `body` (form-encoded, as Slack posts it) with its payload changed by `edit`. */
  const edited = (body: string, edit: (payload: Record<string, unknown>) => void) => {
    const payload = JSON.parse(new URLSearchParams(body).get('payload') ?? '{}') as Record<string, unknown>;
    edit(payload);
    return new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
  };

  test.each([ACCESS_VIEW.callbackId, TOKEN_VIEW.callbackId, DENY_VIEW.callbackId])(
    'a %s submission without view.state',
    async (callbackId) => {
      const { h } = shared;
      // The Deny form reads its state only once its metadata verified: signed for it, naming no request.
      const meta = sealedMetadata(
        h.encryptionKey,
        JSON.stringify({ r: `${FAKE_TEAM_ID}:V0NONE`, c: CHANNEL }),
        {
          form: DENY_VIEW.callbackId,
        },
      );
      const body = viewSubmissionBody({
        callbackId,
        userId: ADMIN,
        privateMetadata: callbackId === DENY_VIEW.callbackId ? meta : '',
        values: {},
      });
      const started = Date.now();
      const res = await postSigned(
        `${h.baseUrl}/slack/events`,
        SIGNING_SECRET,
        edited(body, (p) => delete (p.view as Record<string, unknown>).state),
      );
      expect(res.status).toBe(200);
      expect(res.json).toMatchObject({ response_action: expect.stringMatching(/^(errors|update)$/) });
      expect(Date.now() - started).toBeLessThan(2_000);
      await settle();
    },
  );

  test('the message shortcut without its message opens the form, as for a message naming no ID', async () => {
    const { h } = shared;
    const opened = h.slack.callsTo('views.open').length;
    const body = messageActionBody({
      callbackId: SHORTCUTS.fromMessage,
      userId: ADMIN,
      channelId: CHANNEL,
      message: { ts: '1700000000.000100', text: 'x' },
      responseUrl: h.slack.responseUrl('no-message'),
    });
    const res = await postSigned(
      `${h.baseUrl}/slack/events`,
      SIGNING_SECRET,
      edited(body, (p) => {
        delete p.message;
        delete p.message_ts;
      }),
    );
    expect(res.status).toBe(200);
    const open = (await h.slack.waitFor('views.open', opened + 1)).at(-1);
    expect(JSON.stringify(open?.args.view)).toContain(SCHEDULE_VIEW.callbackId);
    await settle();
    expect(h.logs.filter((l) => l.includes('listener_error'))).toEqual([]);
  });
});
