/**
 * Submission of the admin token modal: remove, or have the use case (src/scheduling/set-token.ts)
 * check a new token with Katapult and save it. The check can take longer than Slack's 3 seconds, so
 * the modal first turns into "checking…".
 */
import type { types } from '@slack/bolt';
import { explain } from '../../../messages/explain.js';
import { code, escapeMrkdwn } from '../../../messages/mrkdwn.js';
import type { TokenOutcome } from '../../../scheduling/set-token.js';
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
import type { ListenerApp } from '../router.js';

export function registerTokenSubmission(app: ListenerApp, deps: ListenerDeps): void {
  app.view(TOKEN_VIEW.callbackId, async ({ ack, body, view, client, context }) => {
    const workspaceId = workspaceIdOf(context);
    const userId = body.user.id;
    // Slack always sends the state; a payload without it gets the form's own errors, not a crash.
    const values = view.state?.values ?? {};
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
    await deps.setToken(
      { workspaceId, userId, token: remove ? null : token, retryNum: context.retryNum ?? null },
      {
        // The modal only opens for admins, but a submission is checked again: it is what changes things.
        isAdmin: () => isWorkspaceAdmin(deps, client, workspaceId, userId, { fresh: true }),
        changed: () => deps.catalogue.forget(workspaceId),
        show: (outcome) => updateView(client, deps, { id: view.id }, outcomeView(deps, outcome)),
      },
    );
  });
}

function outcomeView(deps: ListenerDeps, outcome: TokenOutcome): types.ModalView {
  switch (outcome.kind) {
    case 'refused':
      return tokenRefusedView();
    case 'removed':
      return tokenDoneView(
        ':white_check_mark: The Katapult API token was removed. Scheduling is off until an admin sets a new one.',
      );
    case 'not_removed':
      return tokenDoneView(
        `:warning: ${explain(outcome.failure, { command: deps.command, operation: 'token' }).summary}`,
      );
    case 'saved': {
      const org = outcome.organizationName ? ` for ${escapeMrkdwn(outcome.organizationName)}` : '';
      return tokenDoneView(
        `:white_check_mark: Saved. Katapult accepted the token${org}; it ends in ${code(outcome.last4)}. Whoever the access policy allows (\`${deps.command} access\`) can now use \`${deps.command}\`.`,
      );
    }
    case 'not_saved': {
      const why = explain(outcome.failure, { command: deps.command, operation: 'token' });
      return tokenFormView({
        status: outcome.status.ok ? outcome.status.status : null,
        fallback: outcome.status.ok && outcome.status.fallback,
        problem: `The token was not saved. ${why.summary} ${why.next}`,
      });
    }
  }
}
