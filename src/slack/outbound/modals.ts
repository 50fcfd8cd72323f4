/**
 * Opening the scheduling modal, shared by the slash command, the Reschedule button and the App Home
 * button: open at once (the trigger expires in 3 s), then check access and fill in the time.
 */
import type { types, webApi } from '@slack/bolt';
import type { LogLevelName } from '../../config.js';
import { checkDeletionTime } from '../../time/local.js';
import { parseWhen } from '../../time/when.js';
import { refusalText } from '../blocks/access.js';
import { buildScheduleModal, type ScheduleModalInput, scheduleNoticeView } from '../blocks/schedule-modal.js';
import type { ListenerDeps } from '../listeners/deps.js';
import { PROFILE_TTL_MS } from '../people/users.js';
import { withSignedMetadata } from '../platform/signed-metadata.js';
import { slackErrorCode, slackErrorText } from '../workspace.js';

export type View = webApi.ViewsOpenArguments['view'];
export interface OpenedView {
  id: string;
  hash?: string | undefined;
}

/** Why a modal did not open: Slack's error code, or null when Slack said nothing usable. */
export interface OpenFailure {
  slackError: string | null;
}

export async function openView(
  client: webApi.WebClient,
  deps: Pick<ListenerDeps, 'logger'>,
  triggerId: string,
  view: View,
): Promise<OpenedView | null> {
  const result = await openViewOrWhy(client, deps, triggerId, view);
  return 'id' in result ? result : null;
}

/** Like openView, but a failure says why, so the person can be told something true. */
export async function openViewOrWhy(
  client: webApi.WebClient,
  deps: Pick<ListenerDeps, 'logger'>,
  triggerId: string,
  view: View,
): Promise<OpenedView | OpenFailure> {
  try {
    const { view: opened } = await client.views.open({ trigger_id: triggerId, view });
    return opened?.id ? { id: opened.id, hash: opened.hash } : { slackError: null };
  } catch (error) {
    deps.logger.event('warn', 'views_open_failed', { slack_error: slackErrorText(error) });
    return { slackError: slackErrorCode(error) };
  }
}

/** What to tell someone whose modal did not open: a retry helps only when the trigger expired. */
export function couldNotOpenText(failure: OpenFailure): string {
  const code = failure.slackError;
  if (code === null || code === 'expired_trigger_id' || code === 'exchanged_trigger_id') {
    return 'Slack took too long to hand over the form, so it could not open. Please run the command again.';
  }
  return `Slack refused to open the form (\`${code.replace(/[^\w.-]/g, '').slice(0, 60)}\`), so nothing was done. Whoever runs the bot should check its logs and its Slack token.`;
}

/** Replaces an open view; a failure is logged (by default as `views_update_failed`), never thrown. */
export async function updateView(
  client: webApi.WebClient,
  deps: Pick<ListenerDeps, 'logger'>,
  opened: OpenedView,
  view: View,
  onFailure: { level: LogLevelName; event: string } = { level: 'warn', event: 'views_update_failed' },
): Promise<void> {
  await client.views
    .update({ view_id: opened.id, ...(opened.hash ? { hash: opened.hash } : {}), view })
    .catch((error: unknown) =>
      deps.logger.event(onFailure.level, onFailure.event, {
        slack_error: slackErrorText(error),
      }),
    );
}

/** The scheduling form, its metadata signed for this form and the workspace it opens in, now. */
export function scheduleForm(
  deps: Pick<ListenerDeps, 'metadata' | 'now'>,
  workspaceId: string,
  input: ScheduleModalInput,
): types.ModalView {
  return withSignedMetadata(deps.metadata, buildScheduleModal(input), workspaceId, deps.now());
}

/** The parser loads luxon on its first use (src/load-later.ts): a typed time is the only reader. */
function prefill(deps: ListenerDeps, base: ScheduleModalInput, when: string, tz: string): ScheduleModalInput {
  const parsed = parseWhen(when, tz, deps.now());
  if (!parsed.ok) return { ...base, whenProblem: parsed.reason };
  const check = checkDeletionTime(Math.floor(parsed.at.toSeconds()), deps.now());
  if (!check.ok) return { ...base, whenProblem: check.reason };
  return { ...base, initialAt: check.atSeconds };
}

/** Resolves true once the modal is open; otherwise why it did not open, for the caller to tell the user. */
export async function openScheduleModal(
  client: webApi.WebClient,
  deps: ListenerDeps,
  input: {
    triggerId: string;
    workspaceId: string;
    userId: string;
    /**
     * Where the result will be posted: a channel, or the user's own ID for a direct message; null:
     * the form has a channel picker (the global shortcut), checked once picked.
     */
    channelId: string | null;
    policyId: string | null;
    when: string | null;
    retryNum: number | null;
    /** The shortcuts' extras: the thread, the IDs found, a note, the picker's first channel. */
    form?: Pick<ScheduleModalInput, 'threadTs' | 'policyIds' | 'notice' | 'initialChannel'>;
  },
): Promise<true | OpenFailure> {
  const { workspaceId, userId, channelId, policyId, when } = input;
  const base: ScheduleModalInput = { channelId, ...input.form, ...(policyId ? { policyId } : {}) };
  // With the user's zone already known, the modal opens complete; otherwise it opens at once and
  // the time is filled in after users.info answers.
  const knownZone = when ? deps.users.cached(workspaceId, userId)?.tz : undefined;
  const opened = await openViewOrWhy(
    client,
    deps,
    input.triggerId,
    scheduleForm(deps, workspaceId, when && knownZone ? prefill(deps, base, when, knownZone) : base),
  );
  if (!('id' in opened)) return opened;

  const where = channelId ?? userId;
  // Only shapes the form (a refusal now, or the time filled in): the submission's run decides.
  const access = await deps.people.mayUse(client, {
    workspaceId,
    userId,
    channelId: where,
    maxAgeMs: PROFILE_TTL_MS,
  });
  // A form with a channel picker: the channel rule applies to the channel picked, at submission.
  if (!access.allowed && !(channelId === null && access.reason === 'channel_not_allowed')) {
    await updateView(client, deps, opened, scheduleNoticeView(refusalText(access.reason, deps.command)));
    await deps.refuseScheduleForm({
      workspaceId,
      userId,
      channelId: where,
      policyId,
      reason: access.reason,
      retryNum: input.retryNum,
    });
    return true;
  }
  deps.catalogue.warm(workspaceId);
  if (when && !knownZone) {
    await updateView(
      client,
      deps,
      opened,
      scheduleForm(deps, workspaceId, prefill(deps, base, when, access.allowed ? access.profile.tz : 'UTC')),
    );
  }
  return true;
}
