/**
 * Refusals cannot flood the audit log: with AUDIT_MAX_ENTRIES=20, 50 refused submissions by one
 * member leave every admin entry in `/katapult history`, and show as one entry with its count.
 */
import { ADMIN, type Harness, inMinutes, MEMBER } from '../../support/harness.js';
import { useSharedHarness } from '../helpers/shared-harness.js';

const shared = useSharedHarness({ env: { AUDIT_MAX_ENTRIES: '20', KATAPULT_DEFAULT_ACCESS: 'admins' } });
let h: Harness;
beforeAll(() => {
  h = shared.h;
});

test('50 refused attempts by one member leave every admin entry in /katapult history', async () => {
  const adminPolicies = Array.from({ length: 5 }, (_, i) => `dbp_flood_admin_${i}`);
  for (const [i, policyId] of adminPolicies.entries()) {
    await h.submitSchedule({ policyId, at: inMinutes(30 + i), userId: ADMIN });
    await h.slack.waitFor('chat.postMessage', i + 1);
  }
  await h.bot.idle();
  for (let i = 0; i < 50; i++) {
    const res = await h.submitSchedule({
      policyId: `dbp_flood_member_${i}`,
      at: inMinutes(30),
      userId: MEMBER,
    });
    expect(res.status).toBe(200);
  }
  await h.bot.idle();

  await h.command({ text: 'history', user_id: ADMIN, response_url: h.slack.responseUrl('flood') });
  const [reply] = await h.slack.waitFor('response_url');
  const text = JSON.stringify(reply?.args);
  for (const policyId of adminPolicies) expect(text).toContain(policyId);
  expect(text).toContain('×50 in 10 minutes');
  expect(text.match(/refused:not_admin|only admins/g)?.length ?? 0).toBeLessThanOrEqual(1);
}, 60_000);
