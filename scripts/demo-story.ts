/**
 * The one request's story of `npm run demo`: the token, help, the form from the command line, the
 * preview, the picker, the submission with what Slack holds for later, a restore, App Home, and a
 * failure in plain words. Each step checks that the bot did what it shows.
 */
import { ACTIONS, SCHEDULE_VIEW } from '../src/slack/ids.js';
import { FAKE_MISSING_POLICY_PREFIX } from '../support/fakes/katapult-api.js';
import { ADMIN, CHANNEL, SIGNING_SECRET } from '../support/harness.js';
import { eventBody, postSigned } from '../support/slack-requests.js';
import { COMMAND, type DemoContext, DemoStepError, textOf } from './demo-context.js';
import { renderMessage, renderModal, renderOptions, type StateValue } from './render-surface.js';

/** The scheduling form as Slack holds it once opened: later scenes fill it in again. */
export interface OpenForm {
  view: Record<string, unknown>;
  id: string;
  privateMetadata: string;
  policyId: string;
  /** The time it was opened with (unix seconds): tomorrow 09:00 in the admin's zone. */
  at: number;
  /** `view.state.values` with this policy and time typed in. */
  state: Record<string, Record<string, StateValue>>;
}

export async function tokenStep(ctx: DemoContext, katapultToken: string): Promise<void> {
  ctx.step(
    'An admin sets the workspace’s Katapult token',
    `@${ctx.name(ADMIN)} types \`${COMMAND} token\`. The bot checks that they are an admin, then shows the form:`,
  );
  let mark = ctx.mark();
  ctx.expectOk(await ctx.command('token'), `${COMMAND} token`);
  await ctx.settle();
  ctx.show(mark);
  ctx.note(
    '',
    'They paste a token and press Save. The bot checks it with Katapult, stores it encrypted, and shows only its last four characters:',
  );
  mark = ctx.mark();
  ctx.expectOk(await ctx.h.submitToken({ token: katapultToken, userId: ADMIN }), 'submitting the token');
  await ctx.settle();
  if (!textOf(ctx.show(mark)).includes('Saved')) throw new DemoStepError('the token was not saved');
}

export async function helpStep(ctx: DemoContext): Promise<void> {
  ctx.step('Help', `\`${COMMAND} help\` answers privately (only the person who asked sees it):`);
  const help = await ctx.command('help');
  ctx.expectOk(help, `${COMMAND} help`);
  ctx.surface(renderMessage(help.json, 'Only visible to you', ctx.render), help.json);
}

/** `/katapult <id> tomorrow 09:00`: the form opens filled in. */
export async function commandStep(ctx: DemoContext): Promise<OpenForm> {
  const policy = ctx.h.katapult
    .policies()
    .find((p) => p.target.name === 'db-primary' && p.schedule.interval === 'daily');
  if (!policy) throw new DemoStepError('the fake Katapult has no daily policy for db-primary');
  ctx.step(
    'Schedule from the command line',
    `\`${COMMAND} ${policy.id} tomorrow 09:00\` opens the scheduling modal at once, filled in; the time is read in the user’s Slack time zone (${ctx.render.timeZone}):`,
  );
  const mark = ctx.mark();
  ctx.expectOk(await ctx.command(`${policy.id} tomorrow 09:00`), `${COMMAND} <id> tomorrow 09:00`);
  await ctx.settle();
  const calls = ctx.show(mark);
  const opened = calls.filter((c) => c.method.startsWith('views.')).at(-1);
  const view = opened?.args.view as Record<string, unknown> | undefined;
  if (!view) throw new DemoStepError(`${COMMAND} <id> tomorrow 09:00: the bot opened no modal`);
  const at = initialTime(view);
  if (at === null) throw new DemoStepError('the modal opened without the time filled in');
  return {
    view,
    // views.open's answer carries the view ID; a later views.update names it too. Any ID works with the fake.
    id: String(ctx.since(mark, 'views.update').at(-1)?.args.view_id ?? 'VDEMO0001'),
    privateMetadata: String(view.private_metadata ?? ''),
    policyId: policy.id,
    at,
    state: formState(policy.id, at),
  };
}

/** The form's `view.state.values` with an ID typed (or several picked) and a time. */
export function formState(typed: string, at: number, picked: { id: string; label: string }[] = []) {
  return {
    [SCHEDULE_VIEW.policyBlock]: { [SCHEDULE_VIEW.policyAction]: { value: typed } },
    [SCHEDULE_VIEW.pickBlock]: {
      [SCHEDULE_VIEW.pickAction]: {
        selected_options: picked.map((p) => ({ value: p.id, text: { text: p.label } })),
      },
    },
    [SCHEDULE_VIEW.whenBlock]: { [SCHEDULE_VIEW.whenAction]: { selected_date_time: at } },
  };
}

/** The form as the bot's listeners get it in a payload. */
const payloadView = (form: OpenForm) => ({
  id: form.id,
  hash: `${Math.floor(Date.now() / 1000)}.demohash`,
  type: 'modal',
  callback_id: SCHEDULE_VIEW.callbackId,
  private_metadata: form.privateMetadata,
  state: {
    values: {
      [SCHEDULE_VIEW.policyBlock]: {
        [SCHEDULE_VIEW.policyAction]: { type: 'plain_text_input', value: form.policyId },
      },
      [SCHEDULE_VIEW.whenBlock]: {
        [SCHEDULE_VIEW.whenAction]: { type: 'datetimepicker', selected_date_time: form.at },
      },
    },
  },
});

export async function previewStep(ctx: DemoContext, form: OpenForm): Promise<void> {
  ctx.step(
    'Preview: what does this policy back up?',
    'Pressing Enter in the ID field updates the modal with the target, retention and schedule, read from Katapult:',
  );
  const mark = ctx.mark();
  const pressEnter = {
    type: 'block_actions',
    trigger_id: `${Date.now()}.demo.trigger`,
    container: { type: 'view', view_id: form.id },
    view: payloadView(form),
    actions: [
      {
        type: 'plain_text_input',
        block_id: SCHEDULE_VIEW.policyBlock,
        action_id: SCHEDULE_VIEW.policyAction,
        value: form.policyId,
        action_ts: `${Date.now() / 1000}`,
      },
    ],
  };
  ctx.expectOk(await ctx.interaction(pressEnter), 'pressing Enter');
  await ctx.settle();
  const calls = ctx.since(mark, 'views.update');
  const preview = calls.at(-1)?.args.view;
  if (!preview) throw new DemoStepError('the preview: the bot did not update the modal');
  if (!textOf(calls).includes('db-primary')) throw new DemoStepError('the preview does not name db-primary');
  ctx.surface(renderModal(preview, { ...ctx.render, state: form.state }), preview);
}

export async function pickerStep(ctx: DemoContext, form: OpenForm): Promise<void> {
  const query = 'db-';
  ctx.step(
    'The picker: “…or pick one”',
    `Typing "${query}" in the menu searches the organization’s policies (target name — policy ID):`,
  );
  const suggestion = await ctx.interaction({
    type: 'block_suggestion',
    block_id: SCHEDULE_VIEW.pickBlock,
    action_id: SCHEDULE_VIEW.pickAction,
    value: query,
    view: payloadView(form),
    container: { type: 'view', view_id: form.id },
  });
  ctx.expectOk(suggestion, 'the picker search');
  const choices = (suggestion.json as { options?: unknown[] } | null)?.options ?? [];
  if (choices.length === 0) throw new DemoStepError(`the picker found nothing for "${query}"`);
  ctx.out(renderOptions(choices, `…or pick one  [▾ ${query}]`, ctx.render));
}

export async function submitStep(ctx: DemoContext, form: OpenForm): Promise<void> {
  ctx.step(
    'Submit: Katapult schedules it, the channel sees it, Slack holds a reminder and an undo',
    `Pressing Schedule sends one DELETE …/disk_backup_policy/schedule to Katapult (with the workspace’s token), then posts in #${ctx.render.channels?.[CHANNEL]}. The date is a Slack date token: each reader sees it in their own zone (shown here as its UTC fallback). The bot also asks Slack to hold two messages (chat.scheduleMessage): a reminder before the move, and a restore offer just after it.`,
  );
  const mark = ctx.mark();
  const res = await ctx.h.submitSchedule({
    policyId: form.policyId,
    at: form.at,
    userId: ADMIN,
    channelId: CHANNEL,
    privateMetadata: form.privateMetadata,
  });
  ctx.expectOk(res, 'submitting the modal');
  await ctx.settle();
  const calls = ctx.show(mark, { relativeTo: { at: form.at, label: 'the move' } });
  const posted = ctx.since(mark, 'chat.postMessage');
  if (posted.length === 0) throw new DemoStepError('nothing was posted in the channel');
  if (!textOf(posted).includes('scheduled disk backup policy'))
    throw new DemoStepError(`the channel post says it failed: ${String(posted[0]?.args.text)}`);
  const held = calls.filter((c) => c.method === 'chat.scheduleMessage').length;
  if (held < 2)
    throw new DemoStepError(`expected a reminder and a restore offer, Slack was asked to hold ${held}`);
}

export async function restoreStep(ctx: DemoContext, form: OpenForm): Promise<void> {
  ctx.step(
    'Undo: Restore from trash',
    'Time passes and Katapult moves the policy to its trash (here: the fake is told to). Pressing “Restore from trash” on the held message brings it back; the bot answers in its thread:',
  );
  ctx.h.katapult.trashPolicy(form.policyId, form.at + 48 * 3600);
  const mark = ctx.mark();
  // The held restore offer, as Slack posted it at its time (the fake does not post held messages).
  const heldTs = '1700000000.000900';
  ctx.expectOk(await ctx.press(ACTIONS.restore, form.policyId, ADMIN, heldTs), 'pressing Restore from trash');
  await ctx.settle();
  const calls = ctx.show(mark);
  if (!textOf(calls).includes('restored disk backup policy'))
    throw new DemoStepError(`the restore did not work: ${textOf(calls).slice(0, 300)}`);
  // The request's one message, edited in place: it now names the state its thread ended in.
  const threadTs = String(ctx.since(0, 'chat.scheduleMessage').at(-1)?.args.thread_ts ?? '');
  const request = ctx.h.slack.messageAt(CHANNEL, threadTs);
  if (!request?.text.startsWith('Restored'))
    throw new DemoStepError(`the request's message does not say it was restored: ${String(request?.text)}`);
  ctx.note('', 'The request’s message at the top of the thread now reads:');
  ctx.out(renderMessage(request, `#${ctx.render.channels?.[CHANNEL]} · katapult (app) · edited`, ctx.render));
}

export async function homeStep(ctx: DemoContext): Promise<void> {
  ctx.step(
    'App Home',
    'Opening the app’s Home tab shows the token status, who may schedule, upcoming deletions and (for admins) recent activity:',
  );
  const mark = ctx.mark();
  const opened = eventBody({
    type: 'app_home_opened',
    user: ADMIN,
    channel: 'D0HOME001',
    tab: 'home',
    event_ts: `${Date.now() / 1000}`,
  });
  const events = `${ctx.h.baseUrl}/slack/events`;
  ctx.expectOk(
    await postSigned(events, SIGNING_SECRET, opened, { contentType: 'application/json' }),
    'app_home_opened',
  );
  await ctx.settle();
  if (ctx.since(mark, 'views.publish').length === 0)
    throw new DemoStepError('the Home tab was not published');
  ctx.show(mark);
}

export async function failureStep(ctx: DemoContext, form: OpenForm): Promise<void> {
  const unknown = `${FAKE_MISSING_POLICY_PREFIX}_policy_42`;
  ctx.step(
    'When it does not work',
    `Someone schedules \`${unknown}\`, an ID Katapult does not know. The channel is told what happened and what to do next:`,
  );
  const mark = ctx.mark();
  const res = await ctx.h.submitSchedule({
    policyId: unknown,
    at: form.at,
    userId: ADMIN,
    channelId: CHANNEL,
    privateMetadata: form.privateMetadata,
  });
  ctx.expectOk(res, 'submitting an unknown ID');
  await ctx.settle();
  if (ctx.since(mark, 'chat.postMessage').length === 0)
    throw new DemoStepError('nothing was posted about the failure');
  ctx.show(mark);
}

/** The datetimepicker's initial time in a schedule modal, or null. */
function initialTime(view: Record<string, unknown>): number | null {
  const blocks = Array.isArray(view.blocks) ? (view.blocks as Record<string, unknown>[]) : [];
  const when = blocks.find((b) => b.block_id === SCHEDULE_VIEW.whenBlock);
  const element = when?.element as { initial_date_time?: unknown } | undefined;
  return typeof element?.initial_date_time === 'number' ? element.initial_date_time : null;
}
