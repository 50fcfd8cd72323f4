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
  `  (Slack also holds ${count} reminder(s) and restore offer(s) for later, as in step 6.)`;
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

export async function approvalSteps(ctx: DemoContext, form: OpenForm): Promise<void> {
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
  const requested = ctx.show(mark);
  const approve = buttonsIn(requested).find((b) => b.action_id === ACTIONS.approve);
  if (!approve) throw new DemoStepError('the request has no Approve button');
  if (
    ctx.h.katapult.requests.some((r) => r.method === 'DELETE' && JSON.stringify(r.body).includes(policy.id))
  )
    throw new DemoStepError('the request was sent to Katapult before anyone approved it');
  const messageTs = ctx.tsOf(approve.call) ?? undefined;

  ctx.note('', `@${ctx.name(MEMBER)} presses Approve on their own request. It takes someone else:`);
  mark = ctx.mark();
  ctx.expectOk(await ctx.press(ACTIONS.approve, approve.value, MEMBER, messageTs), 'the requester’s Approve');
  await ctx.settle();
  if (!textOf(ctx.show(mark)).includes('your own request'))
    throw new DemoStepError('the requester’s own Approve was not refused');

  ctx.step(
    'Approval: an admin approves',
    `@${ctx.name(ADMIN)} presses Approve. Only now does the bot call Katapult; the request message becomes the outcome:`,
  );
  mark = ctx.mark();
  ctx.expectOk(await ctx.press(ACTIONS.approve, approve.value, ADMIN, messageTs), 'the admin’s Approve');
  await ctx.settle();
  const decided = ctx.show(mark, { skip: HELD });
  if (!textOf(decided).includes('Approved by'))
    throw new DemoStepError(`the request does not say who approved it: ${textOf(decided).slice(0, 300)}`);
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

  ctx.note(
    '',
    `@${ctx.name(MEMBER)} submits the form anyway. It is refused in the form, which only they see; nothing is recorded or sent:`,
  );
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

  ctx.note('', `${admin} types \`${COMMAND} unfreeze\`:`);
  mark = ctx.mark();
  ctx.expectOk(await ctx.command('unfreeze'), `${COMMAND} unfreeze`);
  await ctx.settle();
  if (!textOf(ctx.show(mark)).includes('Unfrozen')) throw new DemoStepError('the unfreeze was not confirmed');
}
