/** `app_uninstalled` and `tokens_revoked` (of the bot): forget everything stored for the workspace. */
import { errorText } from '../../../log.js';
import { workspaceIdOf } from '../../workspace.js';
import type { ListenerDeps } from '../deps.js';
import type { ListenerApp } from '../router.js';

export function registerUninstall(app: ListenerApp, deps: ListenerDeps): void {
  const forget = async (workspaceId: string | null, reason: string) => {
    if (!workspaceId) return;
    try {
      await deps.forgetWorkspace(workspaceId);
      deps.logger.event('info', 'workspace_forgotten', { workspace: workspaceId, reason });
    } catch (error) {
      deps.logger.event('error', 'workspace_forget_failed', {
        workspace: workspaceId,
        reason,
        error: errorText(error),
      });
    }
  };
  app.event('app_uninstalled', async ({ context }) => forget(workspaceIdOf(context), 'app_uninstalled'));
  app.event('tokens_revoked', async ({ event, context }) => {
    // Only the bot's token matters: a user revoking their own token leaves the install in place.
    if ((event.tokens.bot ?? []).length > 0) await forget(workspaceIdOf(context), 'tokens_revoked');
  });
}
