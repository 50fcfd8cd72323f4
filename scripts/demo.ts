/**
 * `npm run demo`: try the bot without Slack or a Katapult account. Starts the real bot (Bolt in HTTP
 * mode, real WebClient, real Katapult client, SQLite in a temporary folder, a random encryption key)
 * on 127.0.0.1 against the built-in fake Slack and fake Katapult used by the tests, plays one full
 * flow with requests signed exactly as Slack signs them, and prints each Slack surface as text plus
 * a Block Kit Builder link. Stops everything it started; exits 1 with the failing step if one fails.
 */
import { randomBytes } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import { ACTIONS, SCHEDULE_VIEW } from '../src/slack/ids.js';
import { FAKE_MISSING_POLICY_PREFIX } from '../support/fakes/katapult-api.js';
import { FAKE_KATAPULT_DEFAULT_ORGANIZATION } from '../support/fakes/katapult-catalogue.js';
import { FAKE_BOT_USER_ID, FAKE_TEAM_ID, type SlackCall } from '../support/fakes/slack-api.js';
import { ADMIN, CHANNEL, type Harness, MEMBER, SIGNING_SECRET, startHarness } from '../support/harness.js';
import { blockActionBody, eventBody, postSigned, type SlackResponse } from '../support/slack-requests.js';
import {
  blockKitBuilderUrl,
  type RenderOptions,
  renderHome,
  renderMessage,
  renderModal,
  renderOptions,
  utcText,
} from './render-surface.js';

export interface DemoOptions {
  /** Receives the output, a chunk at a time (default: process.stdout). */
  write?: (text: string) => void;
  /** ANSI bold and dim (default: only when stdout is a terminal and NO_COLOR is unset). */
  color?: boolean;
  /** The Katapult token the admin pastes (default: a random one the fake Katapult accepts). */
  katapultToken?: string;
  /** Wrap width (default 100). */
  width?: number;
}

export interface DemoResult {
  steps: number;
  elapsedMs: number;
}

/** Thrown when a step does not produce what it should; its message names the step. */
export class DemoStepError extends Error {}

const STEP_TIMEOUT_MS = 10_000;
const COMMAND = '/katapult';
/** Names the fake workspace's people and channel go by in the output. */
const NAMES = {
  users: { [ADMIN]: 'dana', [MEMBER]: 'alice', [FAKE_BOT_USER_ID]: 'katapult' },
  channels: { [CHANNEL]: 'ops' },
};
const ADMIN_ZONE = 'Europe/London';

export async function runDemo(options: DemoOptions = {}): Promise<DemoResult> {
  const started = Date.now();
  const write = options.write ?? ((text: string) => process.stdout.write(text));
  const color = options.color ?? (Boolean(process.stdout.isTTY) && !process.env.NO_COLOR);
  const render: RenderOptions = { ...NAMES, timeZone: ADMIN_ZONE, color, width: options.width ?? 100 };
  const katapultToken = options.katapultToken ?? `kt-demo-${randomBytes(16).toString('hex')}`;
  const out = (...lines: string[]) => write(`${lines.join('\n')}\n`);
  const note = (...lines: string[]) => out(...lines.map((l) => (color && l ? `\u001b[2m${l}\u001b[22m` : l)));
  const builder = (surface: unknown) => note(`  Block Kit Builder: ${blockKitBuilderUrl(surface)}`);
  const rule = () => out('', '─'.repeat(render.width ?? 100));
  let stepNumber = 0;
  let stepTitle = 'start-up';

  out(
    'katapult-chatops demo: the real bot, a fake Slack and a fake Katapult, all on 127.0.0.1.',
    'Nothing here talks to slack.com or api.katapult.io; no workspace or account is needed.',
  );

  let h: Harness | null = null;
  try {
    // The product's default: only workspace admins and owners may schedule, so the admin does it all.
    h = await startHarness({ env: { KATAPULT_DEFAULT_ACCESS: 'admins', LOG_LEVEL: 'info' } });
    const harness = h;
    harness.katapult.setTokens({ [katapultToken]: FAKE_KATAPULT_DEFAULT_ORGANIZATION });
    note(
      `Bot listening on ${harness.baseUrl}/slack/events (HTTP mode, SQLite in a temporary folder, random encryption key).`,
      `Workspace: @${NAMES.users[ADMIN]} (admin, ${ADMIN_ZONE}) in #${NAMES.channels[CHANNEL]}. Fake Katapult organization: ${FAKE_KATAPULT_DEFAULT_ORGANIZATION}, ${harness.katapult.policies().length} disk backup policies.`,
    );

    const events = `${harness.baseUrl}/slack/events`;
    const step = (title: string, what: string) => {
      stepNumber += 1;
      stepTitle = title;
      rule();
      out(`Step ${stepNumber}. ${title}`, '');
      note(what);
    };
    const expectOk = (res: SlackResponse, what: string) => {
      if (res.status !== 200) throw new DemoStepError(`${what}: the bot answered HTTP ${res.status}`);
    };
    /** Lets the bot finish what it started after its ack (it tracks that work itself). */
    const settle = async () => {
      if (!(await harness.bot.idle(STEP_TIMEOUT_MS)))
        throw new DemoStepError(`the bot was still busy after ${STEP_TIMEOUT_MS / 1000} s`);
    };
    const since = (mark: number, ...methods: string[]): SlackCall[] =>
      harness.slack.calls.slice(mark).filter((c) => methods.includes(c.method));
    const lastView = (mark: number, what: string): Record<string, unknown> => {
      const call = since(mark, 'views.open', 'views.update', 'views.push').at(-1);
      if (!call) throw new DemoStepError(`${what}: the bot opened no modal`);
      return call.args.view as Record<string, unknown>;
    };
    const command = (text: string) =>
      harness.command({
        text,
        user_id: ADMIN,
        channel_id: CHANNEL,
        trigger_id: `${Date.now()}.demo.trigger`,
      });

    // 1. The admin gives the workspace its Katapult token.
    step(
      'An admin sets the workspace’s Katapult token',
      `@${NAMES.users[ADMIN]} types \`${COMMAND} token\`. The bot checks that they are an admin, then shows the form:`,
    );
    let mark = harness.slack.calls.length;
    expectOk(await command('token'), `${COMMAND} token`);
    await settle();
    const tokenForm = lastView(mark, `${COMMAND} token`);
    out(renderModal(tokenForm, render));
    builder(tokenForm);
    note(
      '',
      'They paste a token and press Save. The bot checks it with Katapult, stores it encrypted, and shows only its last four characters:',
    );
    mark = harness.slack.calls.length;
    const saved = await harness.submitToken({ token: katapultToken, userId: ADMIN });
    expectOk(saved, 'submitting the token');
    await settle();
    const savedView = lastView(mark, 'saving the token');
    const savedText = JSON.stringify(savedView);
    if (!savedText.includes('Saved')) throw new DemoStepError('the token was not saved');
    out(renderModal(savedView, render));
    builder(savedView);

    // 2. Help.
    step('Help', `\`${COMMAND} help\` answers privately (only the person who asked sees it):`);
    const help = await command('help');
    expectOk(help, `${COMMAND} help`);
    out(renderMessage(help.json, 'Only visible to you', render));
    builder(help.json);

    // 3. The command with an ID and a time opens the modal filled in.
    const policy = harness.katapult
      .policies()
      .find((p) => p.target.name === 'db-primary' && p.schedule.interval === 'daily');
    if (!policy) throw new DemoStepError('the fake Katapult has no daily policy for db-primary');
    step(
      'Schedule from the command line',
      `\`${COMMAND} ${policy.id} tomorrow 09:00\` opens the scheduling modal at once, filled in; the time is read in the user’s Slack time zone (${ADMIN_ZONE}):`,
    );
    mark = harness.slack.calls.length;
    expectOk(await command(`${policy.id} tomorrow 09:00`), `${COMMAND} <id> tomorrow 09:00`);
    await settle();
    const scheduleModal = lastView(mark, `${COMMAND} <id> tomorrow 09:00`);
    // views.open's answer carries the view ID; a later views.update names it too. Any ID works with the fake.
    const viewId = String(since(mark, 'views.update').at(-1)?.args.view_id ?? 'VDEMO0001');
    const at = findInitialTime(scheduleModal);
    if (at === null) throw new DemoStepError('the modal opened without the time filled in');
    out(renderModal(scheduleModal, render));
    builder(scheduleModal);

    // The modal as Slack holds it: what is typed survives the bot's updates (same block and action IDs).
    const modalState = {
      [SCHEDULE_VIEW.policyBlock]: {
        [SCHEDULE_VIEW.policyAction]: { type: 'plain_text_input', value: policy.id },
      },
      [SCHEDULE_VIEW.whenBlock]: {
        [SCHEDULE_VIEW.whenAction]: { type: 'datetimepicker', selected_date_time: at },
      },
    };
    const openModal = {
      id: viewId,
      hash: `${Math.floor(Date.now() / 1000)}.demohash`,
      type: 'modal',
      callback_id: SCHEDULE_VIEW.callbackId,
      private_metadata: String(scheduleModal.private_metadata ?? ''),
      state: { values: modalState },
    };
    const interaction = (payload: Record<string, unknown>) =>
      postSigned(
        events,
        SIGNING_SECRET,
        new URLSearchParams({
          payload: JSON.stringify({
            team: { id: FAKE_TEAM_ID, domain: 'fake' },
            user: { id: ADMIN, username: NAMES.users[ADMIN], team_id: FAKE_TEAM_ID },
            api_app_id: 'A0FAKE001',
            token: 'deprecated-verification-token',
            ...payload,
          }),
        }).toString(),
      );

    // 4. Enter in the ID field shows what the policy backs up.
    step(
      'Preview: what does this policy back up?',
      'Pressing Enter in the ID field updates the modal with the target, retention and schedule, read from Katapult:',
    );
    mark = harness.slack.calls.length;
    expectOk(
      await interaction({
        type: 'block_actions',
        trigger_id: `${Date.now()}.demo.trigger`,
        container: { type: 'view', view_id: openModal.id },
        view: openModal,
        actions: [
          {
            type: 'plain_text_input',
            block_id: SCHEDULE_VIEW.policyBlock,
            action_id: SCHEDULE_VIEW.policyAction,
            value: policy.id,
            action_ts: `${Date.now() / 1000}`,
          },
        ],
      }),
      'pressing Enter',
    );
    await settle();
    const previewView = lastView(mark, 'the preview');
    if (!JSON.stringify(previewView).includes(policy.target.name))
      throw new DemoStepError(`the preview does not name ${policy.target.name}`);
    out(renderModal(previewView, { ...render, state: modalState }));
    builder(previewView);

    // 5. The picker searches the organization's policies.
    const query = 'db-';
    step(
      'The picker: “…or pick one”',
      `Typing "${query}" in the menu searches the organization’s policies (target name — policy ID):`,
    );
    const suggestion = await interaction({
      type: 'block_suggestion',
      block_id: SCHEDULE_VIEW.pickBlock,
      action_id: SCHEDULE_VIEW.pickAction,
      value: query,
      view: openModal,
      container: { type: 'view', view_id: openModal.id },
    });
    expectOk(suggestion, 'the picker search');
    const choices = (suggestion.json as { options?: unknown[] } | null)?.options ?? [];
    if (choices.length === 0) throw new DemoStepError(`the picker found nothing for "${query}"`);
    out(renderOptions(choices, `…or pick one  [▾ ${query}]`, render));

    // 6. Submit: one Katapult call, then the post in the channel.
    step(
      'Submit: Katapult schedules it, and the channel sees it',
      `Pressing Schedule sends one DELETE …/disk_backup_policy/schedule to Katapult (with the workspace’s token), then posts in #${NAMES.channels[CHANNEL]}. The date is a Slack date token: each reader sees it in their own zone (shown here as its UTC fallback).`,
    );
    mark = harness.slack.calls.length;
    expectOk(
      await harness.submitSchedule({
        policyId: policy.id,
        at,
        userId: ADMIN,
        channelId: CHANNEL,
        privateMetadata: openModal.private_metadata,
      }),
      'submitting the modal',
    );
    await settle();
    const post = since(mark, 'chat.postMessage').at(-1);
    if (!post) throw new DemoStepError('nothing was posted in the channel');
    if (!JSON.stringify(post.args.blocks).includes('scheduled disk backup policy'))
      throw new DemoStepError(`the channel post says it failed: ${String(post.args.text)}`);
    out(renderMessage(post.args, `#${NAMES.channels[CHANNEL]} · katapult (app)`, render));
    builder(post.args);

    // 7. The held messages.
    step(
      'What Slack holds for later',
      'The bot also asks Slack to hold two messages (chat.scheduleMessage), as replies in the thread of the post above: a reminder before the move (also sent to the channel), and a restore offer just after it.',
    );
    const held = since(mark, 'chat.scheduleMessage');
    if (held.length < 2)
      throw new DemoStepError(
        `expected a reminder and a restore offer, Slack was asked to hold ${held.length}`,
      );
    for (const message of held) {
      const postAt = Number(message.args.post_at);
      const lead = Math.round((at - postAt) / 60);
      const when =
        lead > 0 ? `${lead} minutes before the move` : `${Math.abs(lead)} minute(s) after the move`;
      out('', `Posted by Slack at ${utcText(postAt)} (post_at ${postAt}, ${when}):`);
      out(renderMessage(message.args, `#${NAMES.channels[CHANNEL]} · katapult (app)`, render));
      builder(message.args);
    }

    // 8. Restore from the trash.
    step(
      'Undo: Restore from trash',
      'Time passes and Katapult moves the policy to its trash (here: the fake is told to). Pressing “Restore from trash” on the held message brings it back; the bot answers in the thread:',
    );
    harness.katapult.trashPolicy(policy.id, at + 48 * 3600);
    mark = harness.slack.calls.length;
    const heldTs = '1700000000.000900';
    expectOk(
      await postSigned(
        events,
        SIGNING_SECRET,
        blockActionBody({
          actionId: ACTIONS.restore,
          value: policy.id,
          userId: ADMIN,
          channelId: CHANNEL,
          messageTs: heldTs,
          responseUrl: harness.slack.responseUrl('restore'),
        }),
      ),
      'pressing Restore from trash',
    );
    await settle();
    const reply = since(mark, 'chat.postMessage').at(-1);
    if (!reply) throw new DemoStepError('the bot did not answer the restore');
    if (!JSON.stringify(reply.args.blocks).includes('restored disk backup policy'))
      throw new DemoStepError(`the restore did not work: ${String(reply.args.text)}`);
    out(renderMessage(reply.args, `#${NAMES.channels[CHANNEL]} · thread reply · katapult (app)`, render));
    builder(reply.args);
    // The request's one message, edited in place: it now names the state its thread ended in.
    const threadTs = String(held[0]?.args.thread_ts ?? '');
    const request = harness.slack.messageAt(CHANNEL, threadTs);
    if (!request?.text.startsWith('Restored'))
      throw new DemoStepError(`the request's message does not say it was restored: ${String(request?.text)}`);
    out('', 'The request’s message at the top of the thread now reads:');
    out(renderMessage(request, `#${NAMES.channels[CHANNEL]} · katapult (app) · edited`, render));

    // 9. App Home.
    step(
      'App Home',
      'Opening the app’s Home tab shows the token status, who may schedule, upcoming deletions and (for admins) recent activity:',
    );
    mark = harness.slack.calls.length;
    expectOk(
      await postSigned(
        events,
        SIGNING_SECRET,
        eventBody({
          type: 'app_home_opened',
          user: ADMIN,
          channel: 'D0HOME001',
          tab: 'home',
          event_ts: `${Date.now() / 1000}`,
        }),
        { contentType: 'application/json' },
      ),
      'app_home_opened',
    );
    await settle();
    const home = since(mark, 'views.publish').at(-1)?.args.view;
    if (!home) throw new DemoStepError('the Home tab was not published');
    out(renderHome(home, render));
    builder(home);

    // 10. A failure, in plain words.
    const unknown = `${FAKE_MISSING_POLICY_PREFIX}_policy_42`;
    step(
      'When it does not work',
      `Someone schedules \`${unknown}\`, an ID Katapult does not know. The channel is told what happened and what to do next:`,
    );
    mark = harness.slack.calls.length;
    expectOk(
      await harness.submitSchedule({
        policyId: unknown,
        at,
        userId: ADMIN,
        channelId: CHANNEL,
        privateMetadata: openModal.private_metadata,
      }),
      'submitting an unknown ID',
    );
    await settle();
    const failure = since(mark, 'chat.postMessage').at(-1);
    if (!failure) throw new DemoStepError('nothing was posted about the failure');
    out(renderMessage(failure.args, `#${NAMES.channels[CHANNEL]} · katapult (app)`, render));
    builder(failure.args);

    rule();
    const elapsedMs = Date.now() - started;
    out(
      `Done: ${stepNumber} steps in ${(elapsedMs / 1000).toFixed(1)} s. To run it in your own workspace, see “Set up” in README.md.`,
    );
    return { steps: stepNumber, elapsedMs };
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new DemoStepError(
      `demo failed at step ${stepNumber} (${stepTitle}): ${scrub(reason, [katapultToken, SIGNING_SECRET])}`,
    );
  } finally {
    await h?.stop();
  }
}

/** The datetimepicker's initial time in a schedule modal, or null. */
function findInitialTime(view: Record<string, unknown>): number | null {
  const blocks = Array.isArray(view.blocks) ? (view.blocks as Record<string, unknown>[]) : [];
  const when = blocks.find((b) => b.block_id === SCHEDULE_VIEW.whenBlock);
  const element = when?.element as { initial_date_time?: unknown } | undefined;
  return typeof element?.initial_date_time === 'number' ? element.initial_date_time : null;
}

function scrub(text: string, secrets: string[]): string {
  return secrets.reduce((t, secret) => t.split(secret).join('[redacted]'), text);
}

const invokedDirectly =
  process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href;
if (invokedDirectly) {
  runDemo().then(
    () => {
      process.exitCode = 0;
    },
    (error: unknown) => {
      process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
      process.exitCode = 1;
    },
  );
}
