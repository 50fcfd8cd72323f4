/**
 * A Workflow Builder step survives a crash (issue 21, item 4): the real entry point in a child
 * process, killed with SIGKILL after the event was acked while Katapult holds the schedule call
 * open; the restarted process (same SQLite store, same key) finishes the request and completes
 * the step exactly once, with the execution's own token, which appears in no log line.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ACCESS_VIEW, WORKFLOW_STEP } from '../../src/slack/ids.js';
import { type FakeKatapult, startFakeKatapult } from '../../support/fakes/katapult-api.js';
import { type FakeSlack, startFakeSlack } from '../../support/fakes/slack-api.js';
import {
  ADMIN,
  accessFormValues,
  BOT_TOKEN,
  CHANNEL,
  inMinutes,
  KATAPULT_TOKEN,
  SIGNING_SECRET,
} from '../../support/harness.js';
import { functionExecutedBody, postSigned, viewSubmissionBody } from '../../support/slack-requests.js';
import { type BotProcess, startBotProcess } from '../helpers/bot-process.js';

const team = `TW${process.pid.toString(36)}${randomBytes(3).toString('hex')}`.toUpperCase();
let slack: FakeSlack;
let katapult: FakeKatapult;
let dir: string;
let env: Record<string, string>;
const bots: BotProcess[] = [];

beforeAll(async () => {
  slack = await startFakeSlack();
  katapult = await startFakeKatapult();
  slack.teamId = team;
  slack.users.set(ADMIN, { is_admin: true });
  dir = await mkdtemp(path.join(tmpdir(), 'katapult-chatops-wf-crash-'));
  env = {
    SLACK_BOT_TOKEN: BOT_TOKEN,
    SLACK_SIGNING_SECRET: SIGNING_SECRET,
    SLACK_API_URL: slack.apiUrl,
    KATAPULT_API_URL: katapult.baseUrl,
    KATAPULT_API_TOKEN: KATAPULT_TOKEN,
    STORE_URL: `sqlite://${path.join(dir, 'bot.sqlite')}`,
    TOKEN_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
    KATAPULT_DEFAULT_ACCESS: 'admins',
    REQUEST_LEASE_MS: '2000',
    REQUEST_SWEEP_MS: '300',
    PORT: '0',
  };
});
afterAll(async () => {
  for (const b of bots) b.kill();
  await Promise.all(bots.map((b) => b.exited));
  await Promise.all([slack?.close(), katapult?.close()]);
  await rm(dir, { recursive: true, force: true });
});

const start = async () => {
  const bot = startBotProcess(env, dir);
  bots.push(bot);
  return { bot, url: `http://127.0.0.1:${await bot.port()}/slack/events` };
};

test('killed mid-call, the restarted process completes the step exactly once', async () => {
  const first = await start();
  // An admin allows workflow requests.
  const values = {
    ...accessFormValues({ who: 'admins' }),
    [ACCESS_VIEW.workflowsBlock]: {
      [ACCESS_VIEW.workflowsAction]: {
        type: 'checkboxes',
        selected_options: [{ value: ACCESS_VIEW.allowWorkflowsValue }],
      },
    },
  };
  await postSigned(
    first.url,
    SIGNING_SECRET,
    viewSubmissionBody({ callbackId: ACCESS_VIEW.callbackId, teamId: team, userId: ADMIN, values }),
  );
  const saved = await slack.waitFor(
    (c) => c.method === 'views.update' && JSON.stringify(c.args).includes('Saved'),
  );
  expect(saved).toHaveLength(1);

  const executionId = 'Fx0CRASH0001';
  const token = `xwfp-crash-${randomBytes(8).toString('hex')}`;
  slack.startExecution(executionId, token);
  katapult.latencyMs = 60_000; // the schedule call is held open until the process dies
  const res = await postSigned(
    first.url,
    SIGNING_SECRET,
    functionExecutedBody(
      {
        callbackId: WORKFLOW_STEP.callbackId,
        executionId,
        token,
        inputs: {
          [WORKFLOW_STEP.policyIdsInput]: 'dbp_wf_crash',
          [WORKFLOW_STEP.moveAtInput]: inMinutes(180),
          [WORKFLOW_STEP.requesterInput]: ADMIN,
          [WORKFLOW_STEP.channelInput]: CHANNEL,
        },
      },
      team,
    ),
    { contentType: 'application/json' },
  );
  expect(res.status).toBe(200);
  await katapult.waitFor((r) => r.method === 'DELETE', 1, 15_000);
  first.bot.kill();
  await first.bot.exited;
  katapult.latencyMs = 0;
  await start();

  await slack
    .waitFor((c) => c.method.startsWith('functions.complete'), 1, 60_000)
    .catch((e) => {
      console.log(bots.map((b) => b.output()).join('\n----\n'));
      throw e;
    });
  // The restarted process ends the record after completing the step: a second completion would come before.
  await bots[1]?.waitForOutput(/"event":"workflow_step_completed"/, 20_000);
  const completions = slack.calls.filter((c) => c.method.startsWith('functions.complete'));
  expect(completions).toHaveLength(1);
  expect(completions[0]?.method).toBe('functions.completeSuccess');
  expect(completions[0]?.token).toBe(token);
  expect(slack.executions.get(executionId)?.completed).not.toBeNull();
  expect(slack.callsTo('chat.postMessage').filter((c) => c.args.channel === CHANNEL)).toHaveLength(1);
  for (const b of bots) expect(b.output()).not.toContain(token);
}, 90_000);
