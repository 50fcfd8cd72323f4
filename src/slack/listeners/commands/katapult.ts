/**
 * `/katapult`: help, history, the admin modals (token, access), or the scheduling modal. A modal is
 * opened before any other network call: its trigger expires 3 seconds after the command. Checks
 * that need Slack or the store run after it is open, and turn it into a refusal when they say no.
 */
import type { AllMiddlewareArgs, App, SlackCommandMiddlewareArgs, webApi } from '@slack/bolt';
import { checkDeletionTime, parseWhen } from '../../../time/when.js';
import { checkAccess } from '../../access.js';
import { accessFormView, refusalText } from '../../blocks/access.js';
import { ADMINS_ONLY, noticeModal } from '../../blocks/common.js';
import { historyMessage } from '../../blocks/history.js';
import { helpMessage, plainEphemeral } from '../../blocks/messages.js';
import {
  buildScheduleModal,
  type ScheduleModalInput,
  scheduleNoticeView,
} from '../../blocks/schedule-modal.js';
import { tokenFormView } from '../../blocks/token-modal.js';
import { ACCESS_VIEW, TOKEN_VIEW } from '../../ids.js';
import { slackErrorCode, workspaceIdOf } from '../../workspace.js';
import type { ListenerDeps } from '../deps.js';
import { parseCommandText } from './command-text.js';

type Args = SlackCommandMiddlewareArgs & AllMiddlewareArgs;
type View = webApi.ViewsOpenArguments['view'];

const TRIGGER_EXPIRED =
  'Slack took too long to hand over the form, so it could not open. Please run the command again.';
const HISTORY_LIMIT = 20;

export function registerKatapultCommand(app: App, deps: ListenerDeps): void {
  app.command(deps.command, async (args) => {
    const intent = parseCommandText(args.command.text);
    if (intent.kind === 'help') {
      await args.ack({ response_type: 'ephemeral', ...helpMessage(deps.command) });
      return;
    }
    const workspaceId = workspaceIdOf(args.context);
    if (!workspaceId) {
      await args.ack(
        plainEphemeral('Slack did not say which workspace this came from, so nothing was done.'),
      );
      return;
    }
    await args.ack();
    switch (intent.kind) {
      case 'token':
        return openAdminModal(args, deps, workspaceId, {
          callbackId: TOKEN_VIEW.callbackId,
          title: 'Katapult API token',
          what: "set or remove this workspace's Katapult API token",
          form: () => tokenForm(deps, workspaceId),
        });
      case 'access':
        return openAdminModal(args, deps, workspaceId, {
          callbackId: ACCESS_VIEW.callbackId,
          title: 'Who may schedule',
          what: 'change who may schedule deletions',
          form: (client) => accessForm(deps, workspaceId, client),
        });
      case 'history':
        return showHistory(args, deps, workspaceId);
      case 'schedule':
        return openScheduleModal(args, deps, workspaceId, intent.policyId, intent.when);
    }
  });
}

async function openView(args: Args, deps: ListenerDeps, view: View) {
  try {
    const { view: opened } = await args.client.views.open({ trigger_id: args.command.trigger_id, view });
    return opened?.id ? { id: opened.id, hash: opened.hash } : null;
  } catch (error) {
    deps.logger.event('warn', 'views_open_failed', { slack_error: slackErrorCode(error) ?? String(error) });
    await args.respond(plainEphemeral(TRIGGER_EXPIRED)).catch(() => undefined);
    return null;
  }
}

async function updateView(
  args: Args,
  deps: ListenerDeps,
  opened: { id: string; hash?: string | undefined },
  view: View,
) {
  await args.client.views
    .update({ view_id: opened.id, ...(opened.hash ? { hash: opened.hash } : {}), view })
    .catch((error: unknown) =>
      deps.logger.event('warn', 'views_update_failed', {
        slack_error: slackErrorCode(error) ?? String(error),
      }),
    );
}

function prefill(deps: ListenerDeps, base: ScheduleModalInput, when: string, tz: string): ScheduleModalInput {
  const parsed = parseWhen(when, tz, deps.now());
  if (!parsed.ok) return { ...base, whenProblem: parsed.reason };
  const check = checkDeletionTime(Math.floor(parsed.at.toSeconds()), deps.now());
  if (!check.ok) return { ...base, whenProblem: check.reason };
  return { ...base, initialAt: check.atSeconds };
}

async function openScheduleModal(
  args: Args,
  deps: ListenerDeps,
  workspaceId: string,
  policyId: string | null,
  when: string | null,
): Promise<void> {
  const { channel_id: channelId, user_id: userId } = args.command;
  const base: ScheduleModalInput = { channelId, ...(policyId ? { policyId } : {}) };
  // With the user's zone already known, the modal opens complete; otherwise it opens at once and
  // the time is filled in after users.info answers.
  const knownZone = when ? deps.users.cached(workspaceId, userId)?.tz : undefined;
  const opened = await openView(
    args,
    deps,
    buildScheduleModal(when && knownZone ? prefill(deps, base, when, knownZone) : base),
  );
  if (!opened) return;

  const access = await checkAccess(deps, args.client, { workspaceId, userId, channelId });
  if (!access.allowed) {
    await updateView(args, deps, opened, scheduleNoticeView(refusalText(access.reason, deps.command)));
    await deps.record({
      at: deps.now(),
      workspace: workspaceId,
      user: userId,
      channel: channelId,
      action: 'schedule',
      policyId,
      requestedAt: null,
      requestedLocal: null,
      outcome: `refused:${access.reason}`,
      autoMoveToTrashAt: null,
      requestId: null,
      retryNum: args.context.retryNum ?? null,
      delivery: null,
    });
    return;
  }
  if (when && !knownZone)
    await updateView(args, deps, opened, buildScheduleModal(prefill(deps, base, when, access.profile.tz)));
}

async function openAdminModal(
  args: Args,
  deps: ListenerDeps,
  workspaceId: string,
  modal: {
    callbackId: string;
    title: string;
    what: string;
    form: (client: webApi.WebClient) => Promise<View>;
  },
): Promise<void> {
  const notice = (text: string) => noticeModal(modal.callbackId, modal.title, text);
  const opened = await openView(args, deps, notice(':hourglass_flowing_sand: Checking your permissions…'));
  if (!opened) return;
  let view: View;
  try {
    const profile = await deps.users.lookup(args.client, workspaceId, args.command.user_id);
    view = profile.isAdmin ? await modal.form(args.client) : notice(ADMINS_ONLY(modal.what));
  } catch (error) {
    deps.logger.event('warn', 'admin_modal_failed', { slack_error: slackErrorCode(error) ?? String(error) });
    view = notice(
      ':warning: Slack or the bot’s storage did not answer, so this cannot open. Try again in a moment.',
    );
  }
  await updateView(args, deps, opened, view);
}

async function tokenForm(deps: ListenerDeps, workspaceId: string): Promise<View> {
  const status = await deps.tokens.status(workspaceId);
  return status.ok
    ? tokenFormView({ status: status.status, fallback: status.fallback })
    : tokenFormView({
        status: null,
        fallback: false,
        problem: 'The bot could not read its storage; try again shortly.',
      });
}

async function accessForm(deps: ListenerDeps, workspaceId: string, client: webApi.WebClient): Promise<View> {
  const { usergroups } = await client.usergroups.list({ include_disabled: false });
  const groups = (usergroups ?? []).flatMap((g) =>
    g.id ? [{ id: g.id, name: g.handle ?? g.name ?? g.id }] : [],
  );
  return accessFormView({ policy: await deps.access.get(workspaceId), groups });
}

async function showHistory(args: Args, deps: ListenerDeps, workspaceId: string): Promise<void> {
  let reply:
    | ReturnType<typeof plainEphemeral>
    | (ReturnType<typeof historyMessage> & { response_type: 'ephemeral' });
  try {
    const profile = await deps.users.lookup(args.client, workspaceId, args.command.user_id);
    reply = profile.isAdmin
      ? {
          response_type: 'ephemeral',
          ...historyMessage(await deps.auditLog.recent(workspaceId, HISTORY_LIMIT)),
        }
      : plainEphemeral('Only workspace admins and owners can see the history.');
  } catch (error) {
    deps.logger.event('error', 'history_failed', {
      error: slackErrorCode(error) ?? (error instanceof Error ? error.message : String(error)),
    });
    reply = plainEphemeral(':warning: The history could not be read just now; try again shortly.');
  }
  await args
    .respond(reply)
    .catch((error: unknown) => deps.logger.event('warn', 'respond_failed', { error: String(error) }));
}
