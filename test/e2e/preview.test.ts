/**
 * The modal's preview and picker: Enter in the ID field or a pick updates the modal in place with
 * what the policy backs up (or why it cannot), and the picker searches the organization's policies.
 */
import { SCHEDULE_VIEW } from '../../src/slack/ids.js';
import { FAKE_TEAM_ID } from '../../support/fakes/slack-api.js';
import {
  CHANNEL,
  type Harness,
  inMinutes,
  KATAPULT_TOKEN,
  MEMBER,
  SIGNING_SECRET,
  signedMetadata,
} from '../../support/harness.js';
import { postSigned } from '../../support/slack-requests.js';
import { useSharedHarness } from '../helpers/shared-harness.js';

const shared = useSharedHarness();
let h: Harness;
beforeAll(() => {
  h = shared.h;
});
beforeEach(() => {
  h.katapult.resetPolicies();
  h.katapult.setTokens({ [KATAPULT_TOKEN]: 'Acme Ops' });
});

const modal = {
  id: 'VMODAL001',
  hash: '1700000000.modalhash',
  type: 'modal',
  callback_id: SCHEDULE_VIEW.callbackId,
  get private_metadata() {
    return signedMetadata(h.encryptionKey, CHANNEL);
  },
  state: { values: {} },
};
const base = {
  team: { id: FAKE_TEAM_ID, domain: 'fake' },
  user: { id: MEMBER, username: 'alice', team_id: FAKE_TEAM_ID },
  api_app_id: 'A0FAKE001',
  token: 'x',
};
const send = (payload: Record<string, unknown>) =>
  postSigned(
    `${h.baseUrl}/slack/events`,
    SIGNING_SECRET,
    new URLSearchParams({ payload: JSON.stringify({ ...base, ...payload }) }).toString(),
  );

async function enter(policyId: string): Promise<string> {
  await send({
    type: 'block_actions',
    trigger_id: '1.2.3',
    container: { type: 'view', view_id: modal.id },
    view: modal,
    actions: [
      {
        type: 'plain_text_input',
        block_id: SCHEDULE_VIEW.policyBlock,
        action_id: SCHEDULE_VIEW.policyAction,
        value: policyId,
        action_ts: '1.1',
      },
    ],
  });
  const [update] = await h.slack.waitFor('views.update');
  expect(update?.args.view_id).toBe(modal.id);
  expect(update?.args.hash).toBe(modal.hash);
  return JSON.stringify(update?.args.view);
}

const firstPolicy = () => {
  const p = h.katapult.policies()[0];
  if (!p) throw new Error('no policies in the fake');
  return p;
};

test('Enter shows the target with its name, retention and schedule, keeping the block and action IDs', async () => {
  const p = firstPolicy();
  const view = await enter(p.id);
  expect(view).toContain('web-1');
  expect(view).toMatch(/keeps \d+ backups?/);
  expect(view).toContain('Not scheduled for deletion yet');
  for (const id of [
    SCHEDULE_VIEW.policyBlock,
    SCHEDULE_VIEW.policyAction,
    SCHEDULE_VIEW.whenBlock,
    SCHEDULE_VIEW.whenAction,
    SCHEDULE_VIEW.pickBlock,
  ]) {
    expect(view).toContain(`"${id}"`);
  }
});

test('an already scheduled policy says when, and that submitting replaces it', async () => {
  const p = firstPolicy();
  const at = inMinutes(600);
  await h.submitSchedule({ policyId: p.id, at });
  await h.slack.waitFor('chat.postMessage');
  await h.bot.idle();
  h.slack.reset();
  const view = await enter(p.id);
  expect(view).toContain(`<!date^${at}^`);
  expect(view).toContain('Submitting replaces that time');
});

test.each([
  ['unknown ID', () => 'missing_policy_1', 'no disk backup policy with this ID'],
  [
    'policy in trash',
    () => {
      const p = firstPolicy();
      h.katapult.trashPolicy(p.id, inMinutes(60));
      return p.id;
    },
    'already in the trash',
  ],
  [
    'missing scope',
    () => {
      h.katapult.setTokens({
        [KATAPULT_TOKEN]: { organization: 'Acme Ops', scopes: ['organizations:read'] },
      });
      return firstPolicy().id;
    },
    'disk_backup_policies',
  ],
  ['malformed ID', () => '<!channel>', 'only letters, digits'],
])('%s is shown inline, before submit', async (_name, id, fragment) => {
  const view = await enter(id());
  expect(view).toContain(fragment);
  expect(view).not.toContain('<!channel>');
});

async function suggest(value: string): Promise<{ text: { text: string }; value: string }[]> {
  const res = await send({
    type: 'block_suggestion',
    block_id: SCHEDULE_VIEW.pickBlock,
    action_id: SCHEDULE_VIEW.pickAction,
    value,
    view: modal,
    container: { type: 'view', view_id: modal.id },
  });
  expect(res.status).toBe(200);
  return (res.json as { options: { text: { text: string }; value: string }[] }).options;
}

test('the picker lists "target name — policy ID", follows pages, and filters by the search', async () => {
  for (let i = 0; i < 70; i++) {
    h.katapult.setPolicy({
      id: `dbp_extra${String(i).padStart(11, '0')}`,
      target: { type: 'Disk', id: `disk_extra${String(i).padStart(10, '0')}`, name: `scratch-${i}` },
    });
  }
  const all = await suggest('');
  expect(all).toHaveLength(100);
  expect(all[0]?.text.text).toMatch(/^web-1 — dbp_/);
  const listCalls = h.katapult.requests.filter(
    (r) => r.path === '/organizations/organization/disk_backup_policies',
  );
  expect(listCalls.map((r) => r.query.page)).toEqual(['1', '2']);
  const found = await suggest('scratch-69');
  expect(found.map((o) => o.value)).toEqual(['dbp_extra00000000069']);
});

test('a policy picked from the list (ID field empty) is what gets scheduled', async () => {
  const p = firstPolicy();
  await send({
    type: 'view_submission',
    trigger_id: '1.2.3',
    view: {
      ...modal,
      id: 'VPICKED01',
      state: {
        values: {
          [SCHEDULE_VIEW.policyBlock]: {
            [SCHEDULE_VIEW.policyAction]: { type: 'plain_text_input', value: null },
          },
          [SCHEDULE_VIEW.pickBlock]: {
            [SCHEDULE_VIEW.pickAction]: {
              type: 'external_select',
              selected_option: { value: p.id, text: { type: 'plain_text', text: 'x' } },
            },
          },
          [SCHEDULE_VIEW.whenBlock]: {
            [SCHEDULE_VIEW.whenAction]: { type: 'datetimepicker', selected_date_time: inMinutes(60) },
          },
        },
      },
    },
  });
  await h.slack.waitFor('chat.postMessage');
  expect(h.katapult.requests.find((r) => r.method === 'DELETE')?.body).toMatchObject({
    disk_backup_policy: { id: p.id },
  });
});

test('typed one ID and picked another: refused inline, nothing scheduled', async () => {
  const [a, b] = h.katapult.policies();
  if (!a || !b) throw new Error('fake has too few policies');
  const res = await send({
    type: 'view_submission',
    trigger_id: '1.2.3',
    view: {
      ...modal,
      id: 'VCONFLICT1',
      state: {
        values: {
          [SCHEDULE_VIEW.policyBlock]: {
            [SCHEDULE_VIEW.policyAction]: { type: 'plain_text_input', value: a.id },
          },
          [SCHEDULE_VIEW.pickBlock]: {
            [SCHEDULE_VIEW.pickAction]: {
              type: 'external_select',
              selected_option: { value: b.id, text: { type: 'plain_text', text: 'x' } },
            },
          },
          [SCHEDULE_VIEW.whenBlock]: {
            [SCHEDULE_VIEW.whenAction]: { type: 'datetimepicker', selected_date_time: inMinutes(60) },
          },
        },
      },
    },
  });
  expect(res.json).toMatchObject({
    response_action: 'errors',
    errors: { [SCHEDULE_VIEW.policyBlock]: expect.stringContaining('Clear one') },
  });
  await h.bot.idle();
  expect(h.katapult.requests.filter((r) => r.method === 'DELETE')).toHaveLength(0);
});

// After the picker test: this fills the policy catalogue's cache, which that test must find empty.
test('picking several shows each with its target name, without a Katapult call per policy', async () => {
  const [a, b] = h.katapult.policies();
  if (!a || !b) throw new Error('fake has too few policies');
  await send({
    type: 'block_actions',
    trigger_id: '1.2.3',
    container: { type: 'view', view_id: modal.id },
    view: modal,
    actions: [
      {
        type: 'multi_external_select',
        block_id: SCHEDULE_VIEW.pickBlock,
        action_id: SCHEDULE_VIEW.pickAction,
        selected_options: [a, b].map((p) => ({ value: p.id, text: { type: 'plain_text', text: p.id } })),
        action_ts: '1.1',
      },
    ],
  });
  const [update] = await h.slack.waitFor('views.update');
  const view = JSON.stringify(update?.args.view);
  expect(view).toContain('2 policies picked');
  for (const p of [a, b]) {
    expect(view).toContain(p.id);
    expect(view).toContain(p.target.name ?? 'no name');
  }
  expect(h.katapult.requests.filter((r) => r.path === '/disk_backup_policies/disk_backup_policy')).toEqual(
    [],
  );
});

test('the picker shows nothing to someone the access policy refuses', async () => {
  // Set by an admin through the access form: the bot drops its cached policy at once (a change
  // written to the store by another replica would take up to 5 s to reach this one).
  const setAccess = async (who: string) => {
    const saved = h.slack.callsTo('views.update').length + 1;
    expect((await h.submitAccess({ who, groups: [], channels: [] })).status).toBe(200);
    expect(JSON.stringify((await h.slack.waitFor('views.update', saved)).at(-1)?.args.view)).toContain(
      'Saved',
    );
  };
  await setAccess('admins');
  try {
    expect(await suggest('web')).toEqual([]);
  } finally {
    await setAccess('everyone');
  }
});
