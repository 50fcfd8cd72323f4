/**
 * Submission of the admin token modal: remove, or check a new token with Katapult and save it.
 * The check can take longer than Slack's 3 seconds, so the modal first turns into "checking…".
 */
import type { App, types } from '@slack/bolt';
import { explain } from '../../../messages/explain.js';
import { code, escapeMrkdwn } from '../../../messages/mrkdwn.js';
import { failureCode } from '../../../scheduling/katapult-call.js';
import {
  tokenCheckingView,
  tokenDoneView,
  tokenFormView,
  tokenRefusedView,
} from '../../blocks/token-modal.js';
import { TOKEN_VIEW } from '../../ids.js';
import { updateView } from '../../outbound/modals.js';
import { isWorkspaceAdmin } from '../../people/access.js';
import { workspaceIdOf } from '../../workspace.js';
import type { ListenerDeps } from '../deps.js';

export function registerTokenSubmission(app: App, deps: ListenerDeps): void {
  app.view(TOKEN_VIEW.callbackId, async ({ ack, body, view, client, context }) => {
    const workspaceId = workspaceIdOf(context);
    const userId = body.user.id;
    const values = view.state.values;
    const token = values[TOKEN_VIEW.tokenBlock]?.[TOKEN_VIEW.tokenAction]?.value?.trim() ?? '';
    const remove = (values[TOKEN_VIEW.removeBlock]?.[TOKEN_VIEW.removeAction]?.selected_options ?? []).some(
      (o) => o.value === TOKEN_VIEW.removeValue,
    );
    if (!workspaceId) {
      await ack({
        response_action: 'update',
        view: tokenDoneView(':warning: Slack did not say which workspace this is.'),
      });
      return;
    }
    if (!token && !remove) {
      await ack({
        response_action: 'errors',
        errors: { [TOKEN_VIEW.tokenBlock]: 'Paste a token, or tick “Remove”.' },
      });
      return;
    }
    if (token && remove) {
      await ack({
        response_action: 'errors',
        errors: { [TOKEN_VIEW.removeBlock]: 'Either replace the token or remove it, not both.' },
      });
      return;
    }
    // Everything with I/O happens after the ack: the modal shows "checking…" meanwhile.
    await ack({ response_action: 'update', view: tokenCheckingView() });
    const show = (next: types.ModalView) => updateView(client, deps, { id: view.id }, next);
    // The modal only opens for admins, but a submission is checked again: it is what changes things.
    if (!(await isWorkspaceAdmin(deps, client, workspaceId, userId, { fresh: true }))) {
      deps.logger.event('warn', 'token_change_refused', { workspace: workspaceId, user: userId });
      await show(tokenRefusedView());
      return;
    }

    const audit = (action: 'token_set' | 'token_removed', outcome: string) =>
      deps.record({
        at: deps.now(),
        workspace: workspaceId,
        user: userId,
        channel: null,
        action,
        policyId: null,
        requestedAt: null,
        requestedLocal: null,
        outcome,
        autoMoveToTrashAt: null,
        requestId: null,
        retryNum: context.retryNum ?? null,
        delivery: null,
      });
    if (remove) {
      const removed = await deps.tokens.remove(workspaceId);
      if (removed.ok) deps.catalogue.forget(workspaceId);
      await show(
        tokenDoneView(
          removed.ok
            ? ':white_check_mark: The Katapult API token was removed. Scheduling is off until an admin sets a new one.'
            : `:warning: ${explain(removed.failure, { command: deps.command, operation: 'token' }).summary}`,
        ),
      );
      await audit('token_removed', removed.ok ? 'removed' : removed.failure.kind);
      return;
    }

    const result = await deps.tokens.set(workspaceId, token, userId, deps.now());
    if (result.ok) deps.catalogue.forget(workspaceId);
    await audit('token_set', result.ok ? 'saved' : failureCode(result.failure));
    let next: types.ModalView;
    if (result.ok) {
      const org = result.organizationName ? ` for ${escapeMrkdwn(result.organizationName)}` : '';
      next = tokenDoneView(
        `:white_check_mark: Saved. Katapult accepted the token${org}; it ends in ${code(result.last4)}. Whoever the access policy allows (\`${deps.command} access\`) can now use \`${deps.command}\`.`,
      );
    } else {
      const why = explain(result.failure, { command: deps.command, operation: 'token' });
      const status = await deps.tokens.status(workspaceId);
      next = tokenFormView({
        status: status.ok ? status.status : null,
        fallback: status.ok && status.fallback,
        problem: `The token was not saved. ${why.summary} ${why.next}`,
      });
    }
    await show(next);
  });
}
