/**
 * Approvals with several policies and the per-person daily limit, end to end over HTTP with the
 * fakes: one request covers every picked policy (all or nothing); an Approve makes one schedule call
 * per policy and one outcome; a Deny gives the requester's daily-limit places back.
 */
import { ACTIONS } from '../../src/slack/ids.js';
import type { SlackCall } from '../../support/fakes/slack-api.js';
import { ADMIN, type Harness, inMinutes } from '../../support/harness.js';
import { pressButton, submitDenyReason } from '../helpers/approvals.js';
import { useSharedHarness } from '../helpers/shared-harness.js';

const ADMIN2 = 'U0ADMIN02';

const shared = useSharedHarness({
  env: { KATAPULT_REQUIRE_APPROVAL: 'on', KATAPULT_MAX_PER_USER_PER_DAY: '3' },
});
let h: Harness;
beforeAll(() => {
  h = shared.h;
});
beforeEach(() => {
  h.slack.users.set(ADMIN2, { tz: 'UTC', is_admin: true });
});
afterEach(() => {
  expect(h.slack.refusals()).toEqual([]);
});

const scheduled = () =>
  h.katapult.requests
    .filter((r) => r.method === 'DELETE')
    .map((r) => (r.body as { disk_backup_policy: { id: string } }).disk_backup_policy.id);

function catalogued(from: number, n: number): string[] {
  const ids = h.katapult
    .policies()
    .filter((p) => !p.trash)
    .slice(from, from + n)
    .map((p) => p.id);
  if (ids.length < n) throw new Error('the fake has too few policies');
  return ids;
}

function approveButton(call: SlackCall | undefined): string {
  const blocks = (call?.args.blocks ?? []) as {
    type: string;
    elements?: { action_id: string; value: string }[];
  }[];
  const button = blocks.flatMap((b) => b.elements ?? []).find((e) => e.action_id === ACTIONS.approve);
  if (!button) throw new Error(`no Approve button in ${JSON.stringify(call?.args)}`);
  return button.value;
}

const press = (actionId: string, value: string, userId: string) => pressButton(h, actionId, value, userId);

async function requestFor(picked: string[]): Promise<{ id: string; post: SlackCall | undefined }> {
  const before = h.slack.callsTo('chat.postMessage').length;
  const res = await h.submitSchedule({ picked, at: inMinutes(90), userId: ADMIN });
  expect(res.text).toBe('');
  const post = (await h.slack.waitFor('chat.postMessage', before + 1)).at(-1);
  await h.bot.idle();
  return { id: approveButton(post), post };
}

test('three picked policies make one request; an Approve schedules each once and names each outcome', async () => {
  const [a, b] = catalogued(0, 2) as [string, string];
  const picked = [a, 'missing_approval_404', b];
  const { id, post } = await requestFor(picked);
  expect(scheduled()).toEqual([]);
  const request = JSON.stringify(post?.args.blocks);
  for (const policy of picked) expect(request).toContain(policy);

  await press(ACTIONS.approve, id, ADMIN2);
  const [update] = await h.slack.waitFor('chat.update');
  await h.bot.idle();
  expect(scheduled().sort()).toEqual([...picked].sort());
  const outcome = JSON.stringify(update?.args.blocks);
  expect(outcome).toContain(`Approved by <@${ADMIN2}>`);
  for (const policy of picked) expect(outcome).toContain(policy);
  expect(outcome).toMatch(/missing_approval_404`: \*not\* scheduled/);
});

test('a denied request gives its daily-limit places back: the same person can ask for three more', async () => {
  // The limit (3) is per person in 24 hours; the first test's approved request counted 2 of them.
  // A fresh person, so that this test stands alone.
  const asker = 'U0ASKER03';
  h.slack.users.set(asker, { tz: 'UTC', is_admin: true });
  const submit = async (picked: string[]) => {
    const before = h.slack.callsTo('chat.postMessage').length;
    const res = await h.submitSchedule({ picked, at: inMinutes(90), userId: asker });
    return { res, before };
  };
  const first = await submit(catalogued(2, 3));
  expect(first.res.text).toBe('');
  const post = (await h.slack.waitFor('chat.postMessage', first.before + 1)).at(-1);
  await h.bot.idle();
  const id = approveButton(post);

  // At the limit while the request waits: a fourth policy is refused in the form.
  const over = await submit(catalogued(5, 1));
  expect(over.res.text).toContain('errors');

  await press(ACTIONS.deny, id, ADMIN2);
  const [open] = await h.slack.waitFor('views.open');
  const view = open?.args.view as { private_metadata: string };
  await submitDenyReason(h, view.private_metadata, ADMIN2, '');
  await h.slack.waitFor('chat.update');
  await h.bot.idle();

  const again = await submit(catalogued(5, 3));
  expect(again.res.text).toBe('');
  await h.slack.waitFor('chat.postMessage', again.before + 1);
  await h.bot.idle();
  expect(scheduled().filter((p) => catalogued(2, 6).includes(p))).toEqual([]);
});
