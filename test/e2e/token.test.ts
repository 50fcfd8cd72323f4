/** The workspace token flow: admins set, check and remove it; others are refused; it never leaks. */
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import {
  ADMIN,
  BOT_TOKEN,
  type Harness,
  inMinutes,
  KATAPULT_TOKEN,
  MEMBER,
  SIGNING_SECRET,
  startHarness,
} from '../../support/harness.js';
import { leaksOf } from '../helpers/secrets.js';

let h: Harness;
beforeEach(async () => {
  h = await startHarness();
});
afterEach(async () => {
  const leaks = leaksOf(h, [KATAPULT_TOKEN, BOT_TOKEN, SIGNING_SECRET, h.encryptionKey]);
  await h.stop();
  expect(leaks).toEqual([]);
});

const lastViewText = async (n: number) =>
  JSON.stringify((await h.slack.waitFor('views.update', n))[n - 1]?.args.view);

test('a non-admin who runs /katapult token is refused, and cannot save one by submitting anyway', async () => {
  await h.command({ text: 'token', user_id: MEMBER });
  await h.slack.waitFor('views.open');
  expect(await lastViewText(1)).toContain('Only workspace admins and owners');

  await h.submitToken({ token: KATAPULT_TOKEN, userId: MEMBER });
  expect(await lastViewText(2)).toContain('Only workspace admins and owners');
  expect(h.katapult.requests).toHaveLength(0);
  await h.submitSchedule({ policyId: 'dbp_x', at: inMinutes(30) });
  const [post] = await h.slack.waitFor('chat.postMessage');
  expect(JSON.stringify(post?.args.blocks)).toContain('no Katapult API token yet');
});

test('an admin sets a token: checked with Katapult, organization shown, then used to schedule', async () => {
  await h.command({ text: 'token', user_id: ADMIN });
  expect(await lastViewText(1)).toContain('No token is set yet');

  const res = await h.submitToken({ token: KATAPULT_TOKEN });
  expect(res.json).toMatchObject({ response_action: 'update' });
  const done = await lastViewText(2);
  expect(done).toContain('Saved');
  expect(done).toContain('Acme Ops');
  expect(done).toContain(KATAPULT_TOKEN.slice(-4));
  // Setting a token opens nothing to everyone: who may schedule is still the access policy's say.
  expect(done).not.toContain('Anyone here');
  expect(done).toContain('/katapult access');
  expect(h.katapult.requests.some((r) => r.headers.authorization === `Bearer ${KATAPULT_TOKEN}`)).toBe(true);

  // Status shows who set it and the last four characters only.
  await h.command({ text: 'token', user_id: ADMIN });
  const status = await lastViewText(3);
  expect(status).toContain(`<@${ADMIN}>`);
  expect(status).toContain('ending in');

  h.katapult.reset();
  await h.submitSchedule({ policyId: 'dbp_tok', at: inMinutes(30) });
  await h.slack.waitFor('chat.postMessage');
  expect(h.katapult.requests[0]?.headers.authorization).toBe(`Bearer ${KATAPULT_TOKEN}`);
});

test('a token Katapult rejects is not saved, and the form says why', async () => {
  await h.submitToken({ token: 'kt-revoked-token-000000' });
  const view = await lastViewText(1);
  expect(view).toContain('was not saved');
  expect(view).toContain('does not accept the API token');
  await h.submitSchedule({ policyId: 'dbp_x', at: inMinutes(30) });
  const [post] = await h.slack.waitFor('chat.postMessage');
  expect(JSON.stringify(post?.args.blocks)).toContain('no Katapult API token yet');
});

test('an admin removes the token; scheduling then explains there is none', async () => {
  await h.submitToken({ token: KATAPULT_TOKEN });
  await h.slack.waitFor('views.update');
  const res = await h.submitToken({ remove: true });
  expect(res.json).toMatchObject({ response_action: 'update' });
  expect(await lastViewText(2)).toContain('was removed');
  await h.submitSchedule({ policyId: 'dbp_x', at: inMinutes(30) });
  const [post] = await h.slack.waitFor('chat.postMessage');
  expect(JSON.stringify(post?.args.blocks)).toContain('no Katapult API token yet');
});

test('the token is encrypted at rest and survives a restart on the same store', async () => {
  await h.submitToken({ token: KATAPULT_TOKEN });
  await h.slack.waitFor('views.update');
  for (const file of await readdir(h.dataDir)) {
    const bytes = await readFile(path.join(h.dataDir, file));
    expect(bytes.includes(Buffer.from(KATAPULT_TOKEN))).toBe(false);
  }
  const { dataDir, encryptionKey, slack, katapult } = h;
  await h.bot.stop();
  const again = await startHarness({ dataDir, encryptionKey, slack, katapult });
  try {
    await again.submitSchedule({ policyId: 'dbp_restart', at: inMinutes(30) });
    await again.slack.waitFor('chat.postMessage');
    expect(katapult.requests.at(-1)?.headers.authorization).toBe(`Bearer ${KATAPULT_TOKEN}`);
  } finally {
    await again.bot.stop();
  }
});

test('KATAPULT_API_TOKEN is used for a workspace with no stored token', async () => {
  await h.stop();
  h = await startHarness({ env: { KATAPULT_API_TOKEN: KATAPULT_TOKEN } });
  await h.submitSchedule({ policyId: 'dbp_fallback', at: inMinutes(30) });
  const [post] = await h.slack.waitFor('chat.postMessage');
  expect(JSON.stringify(post?.args.blocks)).toContain('scheduled disk backup policy');
});
