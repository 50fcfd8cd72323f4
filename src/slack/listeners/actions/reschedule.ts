/** The Reschedule button (on the reminder and in App Home) and App Home's button: the scheduling modal. */
import type { BlockButtonAction } from '@slack/bolt';
import { rescheduleChannelOf } from '../../blocks/home.js';
import { ACTIONS } from '../../ids.js';
import { openScheduleModal } from '../../outbound/modals.js';
import { workspaceIdOf } from '../../workspace.js';
import type { ListenerDeps } from '../deps.js';
import type { ListenerApp } from '../router.js';

export function registerScheduleButtons(app: ListenerApp, deps: ListenerDeps): void {
  for (const actionId of [ACTIONS.reschedule, ACTIONS.openSchedule]) {
    app.action<BlockButtonAction>(actionId, async ({ ack, body, action, client, context }) => {
      await ack();
      const workspaceId = workspaceIdOf(context);
      if (!workspaceId) return;
      const userId = body.user.id;
      // On a message, the result goes to its conversation. From App Home there is none: the form
      // has the channel picker, as the global shortcut's (the channel rule applies to the channel
      // picked, at submission), starting at the deletion's channel, else the last one used.
      const channelId = body.channel?.id ?? null;
      const initial =
        channelId === null
          ? (rescheduleChannelOf(action.block_id) ??
            (await deps.lastChannel?.recall(workspaceId, userId)) ??
            null)
          : null;
      await openScheduleModal(client, deps, {
        triggerId: body.trigger_id,
        workspaceId,
        userId,
        channelId,
        policyId: action.value || null,
        when: null,
        retryNum: context.retryNum ?? null,
        form: initial ? { initialChannel: initial } : {},
      });
    });
  }
}
