/**
 * `/katapult`: help, history, the emergency stop, the admin modals (token, access), or the
 * scheduling modal. A modal is opened before any other network call: its trigger expires 3 seconds
 * after the command. Checks that need Slack or the store run after it is open.
 */
import type { AllMiddlewareArgs, SlackCommandMiddlewareArgs } from '@slack/bolt';
import { errorText } from '../../../log.js';
import { adminHistoryMessage, historyMessage } from '../../blocks/history.js';
import { helpMessage, plainEphemeral } from '../../blocks/messages.js';
import { couldNotOpenText, openScheduleModal } from '../../outbound/modals.js';
import { isWorkspaceAdmin } from '../../people/access.js';
import { slackErrorCode, workspaceIdOf } from '../../workspace.js';
import type { ListenerDeps } from '../deps.js';
import type { ListenerApp } from '../router.js';
import { openAccessModal, openTokenModal } from './admin-modals.js';
import { parseCommandText } from './command-text.js';

type Args = SlackCommandMiddlewareArgs & AllMiddlewareArgs;

export function registerKatapultCommand(app: ListenerApp, deps: ListenerDeps): void {
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
        return openTokenModal(args, deps, workspaceId);
      case 'access':
        return openAccessModal(args, deps, workspaceId);
      case 'history':
        return showHistory(args, deps, workspaceId, intent.admin);
      case 'freeze':
      case 'unfreeze':
        return deps.setFreeze(
          {
            workspaceId,
            userId: args.command.user_id,
            channelId: args.command.channel_id,
            freeze: intent.kind === 'freeze',
            retryNum: args.context.retryNum ?? null,
          },
          {
            isAdmin: () =>
              isWorkspaceAdmin(deps, args.client, workspaceId, args.command.user_id, { fresh: true }),
            say: (text, inChannel = false) =>
              say(args, deps, inChannel ? { response_type: 'in_channel', text } : plainEphemeral(text)),
          },
        );
      case 'schedule': {
        const opened = await openScheduleModal(args.client, deps, {
          triggerId: args.command.trigger_id,
          workspaceId,
          userId: args.command.user_id,
          channelId: args.command.channel_id,
          policyId: intent.policyId,
          when: intent.when,
          retryNum: args.context.retryNum ?? null,
        });
        if (opened !== true)
          await args.respond(plainEphemeral(couldNotOpenText(opened))).catch(() => undefined);
        else await deps.lastChannel?.remember(workspaceId, args.command.user_id, args.command.channel_id);
        return;
      }
    }
  });
}

async function showHistory(
  args: Args,
  deps: ListenerDeps,
  workspaceId: string,
  admin: boolean,
): Promise<void> {
  let reply: Parameters<Args['respond']>[0];
  try {
    const history = await (admin ? deps.readAdminHistory : deps.readHistory)(workspaceId, {
      isAdmin: async () =>
        (await deps.users.lookup(args.client, workspaceId, args.command.user_id, { fresh: true })).isAdmin,
    });
    const shown = history.allowed && admin ? adminHistoryMessage(history.entries) : null;
    reply = history.allowed
      ? { response_type: 'ephemeral', ...(shown ?? historyMessage(history.entries, history.pending)) }
      : plainEphemeral('Only workspace admins and owners can see the history.');
  } catch (error) {
    deps.logger.event('error', 'history_failed', {
      error: slackErrorCode(error) ?? errorText(error),
    });
    reply = plainEphemeral(':warning: The history could not be read just now; try again shortly.');
  }
  await say(args, deps, reply);
}

function say(args: Args, deps: ListenerDeps, reply: Parameters<Args['respond']>[0]): Promise<void> {
  return args
    .respond(reply)
    .then(() => undefined)
    .catch((error: unknown) => deps.logger.event('warn', 'respond_failed', { error: String(error) }));
}
