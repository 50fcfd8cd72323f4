/**
 * `/katapult token` and `/katapult access`: the admin modals. Opened at once (the trigger expires 3 s
 * after the command) with "checking…", then filled in for admins, or turned into a refusal.
 */
import type { AllMiddlewareArgs, SlackCommandMiddlewareArgs, webApi } from '@slack/bolt';
import { accessFormView } from '../../blocks/access.js';
import { ADMINS_ONLY, noticeModal } from '../../blocks/common.js';
import { plainEphemeral } from '../../blocks/messages.js';
import { tokenFormView } from '../../blocks/token-modal.js';
import { ACCESS_VIEW, TOKEN_VIEW } from '../../ids.js';
import { couldNotOpenText, openViewOrWhy, updateView, type View } from '../../outbound/modals.js';
import { slackErrorText } from '../../workspace.js';
import type { ListenerDeps } from '../deps.js';

type Args = SlackCommandMiddlewareArgs & AllMiddlewareArgs;

export function openTokenModal(args: Args, deps: ListenerDeps, workspaceId: string): Promise<void> {
  return openAdminModal(args, deps, workspaceId, {
    callbackId: TOKEN_VIEW.callbackId,
    title: 'Katapult API token',
    what: "set or remove this workspace's Katapult API token",
    form: () => tokenForm(deps, workspaceId),
  });
}

export function openAccessModal(args: Args, deps: ListenerDeps, workspaceId: string): Promise<void> {
  return openAdminModal(args, deps, workspaceId, {
    callbackId: ACCESS_VIEW.callbackId,
    title: 'Who may schedule',
    what: 'change who may schedule deletions',
    form: (client) => accessForm(deps, workspaceId, client),
  });
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
    const profile = await deps.users.lookup(args.client, workspaceId, args.command.user_id, { fresh: true });
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
  const status = await deps.tokenStatus(workspaceId);
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
  const form = await deps.accessForm(workspaceId);
  return accessFormView({
    policy: form.policy,
    groups,
    defaultLimit: form.defaultLimit,
    approval: form.approval,
  });
}
