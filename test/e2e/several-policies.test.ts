/**
 * Several policies in one submission, end to end (HTTP mode, fakes): one Katapult call per policy,
 * at most 4 at a time; one channel post naming each outcome; follow-ups, upcoming records and audit
 * entries per policy; typing and picking at once refused; 20 long errors still fit one post.
 */
import { createAuditTrail } from '../../src/audit/trail.js';
import { createUpcomingDeletions } from '../../src/scheduling/upcoming.js';
import { SCHEDULE_VIEW } from '../../src/slack/ids.js';
import { CHANNEL, type Harness, inMinutes } from '../../support/harness.js';
import { useSharedHarness } from '../helpers/shared-harness.js';

const shared = useSharedHarness();
let h: Harness;
beforeAll(() => {
  h = shared.h;
});
afterEach(() => {
  h.katapult.latencyMs = 0;
});

const SCHEDULE_ROUTE = 'DELETE /disk_backup_policies/disk_backup_policy/schedule';
const scheduled = () =>
  h.katapult.requests
    .filter((r) => r.method === 'DELETE')
    .map((r) => (r.body as { disk_backup_policy: { id: string } }).disk_backup_policy.id);

function catalogued(n: number): string[] {
  const ids = h.katapult
    .policies()
    .filter((p) => !p.trash)
    .slice(0, n)
    .map((p) => p.id);
  if (ids.length < n) throw new Error('the fake has too few policies');
  return ids;
}

test('three policies, one unknown: three schedule calls, one post naming each outcome, follow-ups for the two', async () => {
  const [a, b] = catalogued(2) as [string, string];
  const picked = [a, 'missing_multi_404', b];
  const at = inMinutes(180);
  const res = await h.submitSchedule({ picked, at });
  expect(res.text).toBe('');
  await h.slack.waitFor('chat.postMessage');
  await h.bot.idle();

  expect(scheduled().sort()).toEqual([...picked].sort());
  const posts = h.slack.callsTo('chat.postMessage');
  expect(posts).toHaveLength(1);
  expect(h.slack.refusals()).toEqual([]);
  expect(posts[0]?.args.channel).toBe(CHANNEL);
  const blocks = JSON.stringify(posts[0]?.args.blocks);
  expect(blocks).toContain('2 scheduled, 1 not');
  for (const id of picked) expect(blocks).toContain(`\`${id}\``);
  // The 404, in plain words, with what to do.
  expect(blocks).toMatch(
    /missing_multi_404`: \*not\* scheduled\. Katapult has no disk backup policy with this ID/,
  );
  expect(blocks).toContain('*What now:* Check the ID in Katapult');
  expect(blocks.match(/scheduled for \*<!date\^/g)).toHaveLength(2);

  // Follow-ups and the upcoming index: only for the two that were scheduled.
  const held = JSON.stringify(h.slack.callsTo('chat.scheduleMessage').map((c) => c.args));
  expect(held).toContain(a);
  expect(held).toContain(b);
  expect(held).not.toContain('missing_multi_404');
  const upcoming = createUpcomingDeletions(h.bot.store.docs);
  expect((await upcoming.get('T0FAKE001', a))?.at).toBe(at);
  expect((await upcoming.get('T0FAKE001', b))?.at).toBe(at);
  expect(await upcoming.get('T0FAKE001', 'missing_multi_404')).toBeNull();

  // One audit entry per policy.
  const trail = await createAuditTrail(h.bot.store.audit, h.bot.store.docs, {
    retentionMs: 90 * 86_400_000,
  }).recent('T0FAKE001', 20);
  const outcomes = Object.fromEntries(
    trail.filter((e) => picked.includes(e.policyId ?? '')).map((e) => [e.policyId, e.outcome]),
  );
  expect(outcomes).toEqual({
    [a]: 'scheduled',
    [b]: 'scheduled',
    missing_multi_404: 'disk_backup_policy_not_found',
  });
});

test('at most 4 Katapult calls at a time, not one after another', async () => {
  // Five calls of 600 ms each: two rounds with 4 at a time; one round with 5 or more; five rounds one by one.
  h.katapult.latencyMs = 600;
  const picked = Array.from({ length: 5 }, (_, i) => `dbp_parallel_${i}`);
  const started = Date.now();
  await h.submitSchedule({ picked, at: inMinutes(60) });
  await h.slack.waitFor('chat.postMessage', 1, 10_000);
  const elapsed = Date.now() - started;
  await h.bot.idle();
  expect(scheduled().sort()).toEqual(picked);
  expect(elapsed).toBeGreaterThanOrEqual(1200);
  expect(elapsed).toBeLessThan(2800);
});

test('typing an ID and picking others at once is refused inline; nothing is scheduled', async () => {
  const [a, b] = catalogued(2) as [string, string];
  const res = await h.submitSchedule({ policyId: 'dbp_typed_one', picked: [a, b], at: inMinutes(60) });
  expect(res.json).toMatchObject({
    response_action: 'errors',
    errors: {
      [SCHEDULE_VIEW.policyBlock]: expect.stringContaining('but picked 2 policies below. Clear one'),
    },
  });
  await h.bot.idle();
  expect(scheduled()).toEqual([]);
});

test('twenty policies that all fail with 4,000-character errors still make one post Slack accepts', async () => {
  const long = `${'The request could not be processed <!channel> & <b>details</b> 🧯 '.repeat(61)}`.slice(
    0,
    4000,
  );
  for (let i = 0; i < 20; i++) {
    h.katapult.enqueue(SCHEDULE_ROUTE, {
      status: 422,
      body: { error: { code: 'brand_new_error', description: long, detail: {} } },
    });
  }
  const picked = Array.from({ length: 20 }, (_, i) => `dbp_long_many_${String(i).padStart(2, '0')}`);
  await h.submitSchedule({ picked, at: inMinutes(60) });
  await h.slack.waitFor('chat.postMessage');
  await h.bot.idle();
  expect(h.slack.refusals()).toEqual([]);
  const posts = h.slack.callsTo('chat.postMessage');
  expect(posts).toHaveLength(1);
  const blocks = JSON.stringify(posts[0]?.args.blocks);
  for (const id of picked) expect(blocks).toContain(`\`${id}\``);
  expect(blocks.match(/\*What now:\*/g)).toHaveLength(20);
  expect(blocks).toContain('0 scheduled, 20 not');
  expect(blocks).not.toContain('<!channel>');
});

test('more than twenty picked (a forged payload) is refused inline', async () => {
  const picked = Array.from({ length: 21 }, (_, i) => `dbp_too_many_${i}`);
  const res = await h.submitSchedule({ picked, at: inMinutes(60) });
  expect(JSON.stringify(res.json)).toContain('Pick at most 20 policies at once');
  await h.bot.idle();
  expect(scheduled()).toEqual([]);
});
