/**
 * The scenes of `npm run demo` after the one request's story: several policies in one form (one
 * refused by Katapult), an approval (four eyes), and the emergency stop. Each checks what it shows.
 */
import { ACTIONS } from '../src/slack/ids.js';
import { ADMIN, CHANNEL, MEMBER } from '../support/harness.js';
import { buttonsIn, COMMAND, type DemoContext, DemoStepError, textOf } from './demo-context.js';
import { formState, type OpenForm } from './demo-story.js';
import { renderModal } from './render-surface.js';

const heldElsewhere = (count: number) =>
  `  (Slack also holds ${count} message(s) for later: a reminder and a restore offer each, as above.)`;
/** The member's Slack zone in the fake workspace (support/harness.ts). */
const MEMBER_ZONE = 'America/New_York';
const HELD = { methods: ['chat.scheduleMessage'], say: heldElsewhere };

/** Catalogued policies by target name, daily ones first, not in the trash. */
function policiesOf(ctx: DemoContext, ...names: string[]) {
  const all = ctx.h.katapult.policies().filter((p) => !p.trash);
  return names.map((name) => {
    const found = all.find((p) => p.target.name === name);
    if (!found) throw new DemoStepError(`the fake Katapult has no policy for ${name}`);
    return found;
  });
}

export async function severalStep(ctx: DemoContext, form: OpenForm): Promise<void> {
  const picked = policiesOf(ctx, 'db-replica', 'db-replica-data', 'web-1');
  const trashed = picked[2];
  ctx.step(
    'Several policies in one form',
    `@${ctx.name(ADMIN)} picks three policies in the menu and presses Schedule. One of them (${trashed?.target.name}) was moved to Katapult’s trash a minute ago, so Katapult refuses it; the other two are scheduled. One post names each outcome:`,
  );
  if (!trashed) throw new DemoStepError('no policy to trash');
  ctx.h.katapult.trashPolicy(trashed.id, form.at + 7 * 86_400);
  const labels = picked.map((p) => ({ id: p.id, label: `${p.target.name} — ${p.id}` }));
  ctx.surface(renderModal(form.view, { ...ctx.render, state: formState('', form.at, labels) }), form.view);
  const mark = ctx.mark();
  const res = await ctx.h.submitSchedule({
    picked: picked.map((p) => p.id),
    at: form.at,
    userId: ADMIN,
    channelId: CHANNEL,
    privateMetadata: form.privateMetadata,
  });
  ctx.expectOk(res, 'submitting three policies');
  await ctx.settle();
  const calls = ctx.show(mark, { skip: HELD });
  const text = textOf(ctx.since(mark, 'chat.postMessage', 'chat.update'));
  if (!text.includes('2 scheduled, 1 not'))
    throw new DemoStepError(`the post does not say “2 scheduled, 1 not”: ${text.slice(0, 300)}`);
  if (calls.length === 0) throw new DemoStepError('nothing was shown for several policies');
}

/** Katapult schedule calls for this policy so far. */
const scheduleCalls = (ctx: DemoContext, policyId: string) =>
  ctx.h.katapult.requests.filter((r) => r.method === 'DELETE' && JSON.stringify(r.body).includes(policyId))
    .length;

/** A request that waits for approval: its record ID (the Approve button's value) and its message. */
interface Pending {
  policyId: string;
  value: string;
  messageTs: string | undefined;
}

export async function approvalSteps(ctx: DemoContext, form: OpenForm): Promise<void> {
  const pending = await requestStep(ctx, form);
  ctx.note('', `@${ctx.name(MEMBER)} presses Approve on their own request. It takes someone else:`);
  const mark = ctx.mark();
  const own = await ctx.press(ACTIONS.approve, pending.value, MEMBER, pending.messageTs);
  ctx.expectOk(own, 'the requester’s Approve');
  await ctx.settle();
  if (!textOf(ctx.show(mark)).includes('your own request'))
    throw new DemoStepError('the requester’s own Approve was not refused');
  await approveStep(ctx, pending);
}

async function requestStep(ctx: DemoContext, form: OpenForm): Promise<Pending> {
  const [policy] = policiesOf(ctx, 'web-2');
  ctx.step(
    'Approval: a request that needs a second person',
    `@${ctx.name(ADMIN)} changes \`${COMMAND} access\`: everyone may schedule, and an admin must approve. Then @${ctx.name(MEMBER)} (not an admin) schedules ${policy?.target.name} \`${policy?.id}\`. Nothing is sent to Katapult yet; the channel sees a request with Approve and Deny:`,
  );
  if (!policy) throw new DemoStepError('no policy for the approval');
  let mark = ctx.mark();
  ctx.expectOk(await ctx.h.submitAccess({ who: 'everyone', approval: 'admins' }), 'saving the access form');
  await ctx.settle();
  if (!textOf(ctx.since(mark, 'views.update')).includes('Saved'))
    throw new DemoStepError('the access form was not saved');
  mark = ctx.mark();
  const res = await ctx.h.submitSchedule({
    policyId: policy.id,
    at: form.at,
    userId: MEMBER,
    channelId: CHANNEL,
    privateMetadata: form.privateMetadata,
  });
  ctx.expectOk(res, 'submitting a request for approval');
  await ctx.settle();
  const approve = buttonsIn(ctx.show(mark)).find((b) => b.action_id === ACTIONS.approve);
  if (!approve) throw new DemoStepError('the request has no Approve button');
  if (scheduleCalls(ctx, policy.id) > 0)
    throw new DemoStepError('the request was sent to Katapult before anyone approved it');
  return { policyId: policy.id, value: approve.value, messageTs: ctx.tsOf(approve.call) ?? undefined };
}

async function approveStep(ctx: DemoContext, pending: Pending): Promise<void> {
  ctx.step(
    'Approval: an admin approves',
    `@${ctx.name(ADMIN)} presses Approve. Only now does the bot call Katapult, and the channel sees the outcome:`,
  );
  const mark = ctx.mark();
  const res = await ctx.press(ACTIONS.approve, pending.value, ADMIN, pending.messageTs);
  ctx.expectOk(res, 'the admin’s Approve');
  await ctx.settle();
  const decided = ctx.show(mark, { skip: HELD });
  if (!textOf(decided).includes('Approved by'))
    throw new DemoStepError(`the request does not say who approved it: ${textOf(decided).slice(0, 300)}`);
  if (scheduleCalls(ctx, pending.policyId) !== 1)
    throw new DemoStepError('the approved request was not sent to Katapult exactly once');
}

export async function freezeStep(ctx: DemoContext, form: OpenForm): Promise<void> {
  const admin = `@${ctx.name(ADMIN)}`;
  ctx.step(
    'The emergency stop',
    `${admin} types \`${COMMAND} freeze\`. Nothing can be scheduled or approved in the workspace until an admin lifts it; the channel is told:`,
  );
  let mark = ctx.mark();
  ctx.expectOk(await ctx.command('freeze'), `${COMMAND} freeze`);
  await ctx.settle();
  if (!textOf(ctx.show(mark)).includes('Frozen')) throw new DemoStepError('the freeze was not confirmed');

  await refusedWhileFrozen(ctx, form);
  ctx.note('', `${admin} types \`${COMMAND} unfreeze\`:`);
  mark = ctx.mark();
  ctx.expectOk(await ctx.command('unfreeze'), `${COMMAND} unfreeze`);
  await ctx.settle();
  if (!textOf(ctx.show(mark)).includes('Unfrozen')) throw new DemoStepError('the unfreeze was not confirmed');
}

/** A member submits while frozen: refused in the form, nothing sent to Katapult. */
async function refusedWhileFrozen(ctx: DemoContext, form: OpenForm): Promise<void> {
  ctx.note(
    '',
    `@${ctx.name(MEMBER)} submits the form anyway. It is refused in the form, which only they see; nothing is scheduled or sent to Katapult:`,
  );
  const before = scheduleCalls(ctx, form.policyId);
  const res = await ctx.h.submitSchedule({
    policyId: form.policyId,
    at: form.at,
    userId: MEMBER,
    channelId: CHANNEL,
    privateMetadata: form.privateMetadata,
  });
  ctx.expectOk(res, 'submitting while frozen');
  const errors = (res.json as { errors?: Record<string, string> } | null)?.errors ?? {};
  if (!Object.values(errors).some((e) => e.includes('frozen')))
    throw new DemoStepError(`the submission was not refused as frozen: ${res.text.slice(0, 300)}`);
  const typed = formState(form.policyId, form.at);
  const asAlice = { ...ctx.render, timeZone: MEMBER_ZONE, state: typed, errors };
  ctx.surface(renderModal(form.view, asAlice), form.view);
  await ctx.settle();
  if (scheduleCalls(ctx, form.policyId) !== before)
    throw new DemoStepError('a submission was sent to Katapult while frozen');
}
