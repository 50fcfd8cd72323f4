/**
 * The shortcuts (issue 21): "Schedule deletion…" on a message opens the scheduling form filled with
 * the disk backup policy IDs the message names, and the request then lives in that message's
 * thread; "Schedule a disk backup policy deletion" opens it from anywhere, with a channel picker
 * (starting at the last channel the person used). Acked first, the form opened at once (the trigger
 * lasts 3 s); the same checks as /katapult follow (the workspace guard ran before, access after the
 * form is open, the emergency stop at submission). Refusals are private.
 */
import type { GlobalShortcut, MessageShortcut, webApi } from '@slack/bolt';
import { FORMS } from '../../../messages/forms.js';
import { policyIdsIn } from '../../../scheduling/policy-id.js';
import { plainEphemeral } from '../../blocks/messages.js';
import { SHORTCUTS } from '../../ids.js';
import { messageTexts } from '../../message-text.js';
import { couldNotOpenText, openScheduleModal } from '../../outbound/modals.js';
import { slackErrorText, workspaceIdOf } from '../../workspace.js';
import type { ListenerDeps } from '../deps.js';
import type { ListenerApp } from '../router.js';

const NO_WORKSPACE = 'Slack did not say which workspace this came from, so nothing was done.';

export function registerScheduleShortcuts(app: ListenerApp, deps: ListenerDeps): void {
  app.shortcut<MessageShortcut>(
    { callback_id: SHORTCUTS.fromMessage, type: 'message_action' },
    async ({ ack, shortcut, client, context, respond }) => {
      await ack();
      deps.metrics.command('shortcut_message');
      const workspaceId = workspaceIdOf(context);
      const tell = (text: string) => respond(plainEphemeral(text)).catch(() => undefined);
      if (!workspaceId) return void (await tell(NO_WORKSPACE));
      // Slack always sends the message; without it the form opens as for a message naming no ID.
      const source: Partial<MessageShortcut['message']> = shortcut.message ?? {};
      const found = policyIdsIn(messageTexts(source));
      // A reply's thread is its parent's: the request joins that conversation.
      const threadTs = typeof source.thread_ts === 'string' ? source.thread_ts : source.ts;
      const count = found.policyIds.length;
      const opened = await openScheduleModal(client, deps, {
        triggerId: shortcut.trigger_id,
        workspaceId,
        userId: shortcut.user.id,
        channelId: shortcut.channel.id,
        policyId: null,
        when: null,
        retryNum: context.retryNum ?? null,
        form: {
          ...(typeof threadTs === 'string' ? { threadTs } : {}),
          policyIds: found.policyIds,
          notice: count > 0 ? FORMS.foundInMessage(count, found.more) : FORMS.noIdInMessage,
        },
      });
      if (opened !== true) await tell(couldNotOpenText(opened));
      else await deps.lastChannel?.remember(workspaceId, shortcut.user.id, shortcut.channel.id);
    },
  );

  app.shortcut<GlobalShortcut>(
    { callback_id: SHORTCUTS.global, type: 'shortcut' },
    async ({ ack, shortcut, client, context }) => {
      await ack();
      deps.metrics.command('shortcut_global');
      const userId = shortcut.user.id;
      const workspaceId = workspaceIdOf(context);
      if (!workspaceId) return directMessage(client, deps, userId, NO_WORKSPACE);
      // Read briefly (bounded): the trigger must still be good for the form.
      const last = await deps.lastChannel?.recall(workspaceId, userId);
      const opened = await openScheduleModal(client, deps, {
        triggerId: shortcut.trigger_id,
        workspaceId,
        userId,
        channelId: null,
        policyId: null,
        when: null,
        retryNum: context.retryNum ?? null,
        form: last ? { initialChannel: last } : {},
      });
      // No channel to answer in: a failure to open is told in a direct message.
      if (opened !== true) await directMessage(client, deps, userId, couldNotOpenText(opened));
    },
  );
}

/** A private note with no channel to answer in (the global shortcut): a direct message, else logged. */
async function directMessage(
  client: webApi.WebClient,
  deps: ListenerDeps,
  userId: string,
  text: string,
): Promise<void> {
  await client.chat.postMessage({ channel: userId, text }).catch((error: unknown) =>
    deps.logger.event('warn', 'private_note_undelivered', {
      user: userId,
      slack_error: slackErrorText(error),
    }),
  );
}
