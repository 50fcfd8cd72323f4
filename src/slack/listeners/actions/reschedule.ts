/** The Reschedule button (on the reminder and in App Home): the scheduling modal, filled in. */
import type { BlockButtonAction } from '@slack/bolt';
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
      await openScheduleModal(client, deps, {
        triggerId: body.trigger_id,
        workspaceId,
        userId: body.user.id,
        // From App Home there is no channel: the result then goes to the user's messages with the app.
        channelId: body.channel?.id ?? body.user.id,
        policyId: action.value ?? null,
        when: null,
        retryNum: context.retryNum ?? null,
      });
    });
  }
}
