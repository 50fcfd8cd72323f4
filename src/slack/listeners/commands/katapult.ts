/**
 * `/katapult`: help, history, the admin modals (token, access), or the scheduling modal. A modal is
 * opened before any other network call: its trigger expires 3 seconds after the command. Checks
 * that need Slack or the store run after it is open, and turn it into a refusal when they say no.
 */
import type { AllMiddlewareArgs, App, SlackCommandMiddlewareArgs, webApi } from '@slack/bolt';
import { approvalOf } from '../../../access/access-policy.js';
import { errorText } from '../../../log.js';
import { FREEZE } from '../../../messages/approvals.js';
import { accessFormView } from '../../blocks/access.js';
import { ADMINS_ONLY, noticeModal } from '../../blocks/common.js';
import { historyMessage } from '../../blocks/history.js';
import { helpMessage, plainEphemeral } from '../../blocks/messages.js';
import { tokenFormView } from '../../blocks/token-modal.js';
import { ACCESS_VIEW, TOKEN_VIEW } from '../../ids.js';
import {
  couldNotOpenText,
  openScheduleModal,
  openViewOrWhy,
  updateView,
  type View,
} from '../../outbound/modals.js';
import { isWorkspaceAdmin } from '../../people/access.js';
import { slackErrorCode, slackErrorText, workspaceIdOf } from '../../workspace.js';
import type { ListenerDeps } from '../deps.js';
import { parseCommandText } from './command-text.js';

type Args = SlackCommandMiddlewareArgs & AllMiddlewareArgs;

const HISTORY_LIMIT = 20;

export function registerKatapultCommand(app: App, deps: ListenerDeps): void {
  app.command(deps.command, async (args) => {
    const intent = parseCommandText(args.command.text);
    deps.metrics.command(intent.kind);
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
      case 'freeze':
      case 'unfreeze':
        return setFreeze(args, deps, workspaceId, intent.kind === 'freeze');
      case 'schedule':
        return openScheduleFromCommand(args, deps, workspaceId, intent.policyId, intent.when);
    }
  });
}

async function openScheduleFromCommand(
  args: Args,
  deps: ListenerDeps,
  workspaceId: string,
  policyId: string | null,
  when: string | null,
): Promise<void> {
  const opened = await openScheduleModal(args.client, deps, {
    triggerId: args.command.trigger_id,
    workspaceId,
    userId: args.command.user_id,
    channelId: args.command.channel_id,
    policyId,
    when,
    retryNum: args.context.retryNum ?? null,
  });
  if (opened !== true) await args.respond(plainEphemeral(couldNotOpenText(opened))).catch(() => undefined);
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
  const opened = await openViewOrWhy(
    args.client,
    deps,
    args.command.trigger_id,
    notice(':hourglass_flowing_sand: Checking your permissions…'),
  );
  if (!('id' in opened)) {
    await args.respond(plainEphemeral(couldNotOpenText(opened))).catch(() => undefined);
    return;
  }
  let view: View;
  try {
    const profile = await deps.users.lookup(args.client, workspaceId, args.command.user_id);
    view = profile.isAdmin ? await modal.form(args.client) : notice(ADMINS_ONLY(modal.what));
  } catch (error) {
    deps.logger.event('warn', 'admin_modal_failed', { slack_error: slackErrorText(error) });
    view = notice(
      ':warning: Slack or the bot’s storage did not answer, so this cannot open. Try again in a moment.',
    );
  }
  await updateView(args.client, deps, opened, view);
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
  const policy = await deps.access.get(workspaceId);
  return accessFormView({
    policy,
    groups,
    defaultLimit: deps.maxPerUserPerDay,
    approval: approvalOf(policy, deps.approvals.requiredByDefault),
  });
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
          ...historyMessage(
            await deps.auditLog.recent(workspaceId, HISTORY_LIMIT),
            await deps.approvals.pending(workspaceId),
          ),
        }
      : plainEphemeral('Only workspace admins and owners can see the history.');
  } catch (error) {
    deps.logger.event('error', 'history_failed', {
      error: slackErrorCode(error) ?? errorText(error),
    });
    reply = plainEphemeral(':warning: The history could not be read just now; try again shortly.');
  }
  await args
    .respond(reply)
    .catch((error: unknown) => deps.logger.event('warn', 'respond_failed', { error: String(error) }));
}

/** The emergency stop: admins only (checked fresh), audited, announced in the channel. */
async function setFreeze(
  args: Args,
  deps: ListenerDeps,
  workspaceId: string,
  freeze: boolean,
): Promise<void> {
  const userId = args.command.user_id;
  const say = (text: string, inChannel = false) =>
    args
      .respond(inChannel ? { response_type: 'in_channel', text } : plainEphemeral(text))
      .catch((error: unknown) => deps.logger.event('warn', 'respond_failed', { error: String(error) }));
  if (!(await isWorkspaceAdmin(deps, args.client, workspaceId, userId, { fresh: true }))) {
    await say(FREEZE.adminsOnly(deps.command));
    return;
  }
  try {
    const before = await deps.freezes.get(workspaceId);
    if (before.frozen && before.by === 'deployment') {
      await say(FREEZE.deploymentWins);
      return;
    }
    if (before.frozen === freeze) {
      await say(freeze ? FREEZE.alreadyFrozen : FREEZE.notFrozen);
      return;
    }
    if (freeze) await deps.freezes.freeze(workspaceId, userId, deps.now());
    else await deps.freezes.unfreeze(workspaceId);
  } catch (error) {
    deps.logger.event('error', 'store_failed', {
      operation: freeze ? 'freeze' : 'unfreeze',
      error: errorText(error),
    });
    await say(FREEZE.storeDown);
    return;
  }
  deps.logger.event('warn', freeze ? 'workspace_frozen' : 'workspace_unfrozen', {
    workspace: workspaceId,
    user: userId,
  });
  await say(freeze ? FREEZE.frozenNow(deps.command) : FREEZE.unfrozenNow, true);
  await deps.record({
    at: deps.now(),
    workspace: workspaceId,
    user: userId,
    channel: args.command.channel_id,
    action: 'freeze',
    policyId: null,
    requestedAt: null,
    requestedLocal: null,
    outcome: freeze ? 'frozen' : 'unfrozen',
    autoMoveToTrashAt: null,
    requestId: null,
    retryNum: args.context.retryNum ?? null,
    delivery: null,
  });
}
