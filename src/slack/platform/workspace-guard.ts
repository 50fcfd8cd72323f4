/**
 * The first trust boundary: a request is handled only if it comes from the workspace this bot is
 * installed in. Single-workspace mode: the team (or, for an org-wide install, the enterprise) that
 * `auth.test` reported at start. OAuth mode: Bolt's `authorize` has already refused any workspace
 * whose installation the store does not know. Anything else gets an empty answer (a short note for
 * a slash command), is logged at most once a minute per workspace, and is neither audited nor
 * stored: a foreign workspace must not be able to grow our store.
 */
import type { AnyMiddlewareArgs, Context, Middleware } from '@slack/bolt';
import type { AppLogger } from '../../log.js';

export interface InstalledWorkspace {
  teamId: string | null;
  enterpriseId: string | null;
  isEnterpriseInstall: boolean;
}

export const NOT_INSTALLED = 'This app is not installed for your workspace, so nothing was done.';

const LOG_EVERY_MS = 60_000;

/** Whether the request's context belongs to the installed workspace. */
export function isInstalledWorkspace(installed: InstalledWorkspace, context: Context): boolean {
  if (installed.isEnterpriseInstall) {
    return installed.enterpriseId !== null && context.enterpriseId === installed.enterpriseId;
  }
  return installed.teamId !== null && context.teamId === installed.teamId;
}

/** Logs a refused workspace at most once per `LOG_EVERY_MS`, with how many were not logged. */
export function createRefusalLog(logger: AppLogger, now: () => number) {
  const seen = new Map<string, { at: number; quiet: number }>();
  return (reason: string, context: Pick<Context, 'teamId' | 'enterpriseId'>) => {
    const key = `${context.enterpriseId ?? ''}/${context.teamId ?? ''}`;
    const last = seen.get(key);
    if (last && now() - last.at < LOG_EVERY_MS) {
      last.quiet++;
      return;
    }
    if (seen.size >= 1000) seen.clear();
    seen.set(key, { at: now(), quiet: 0 });
    logger.event('warn', 'workspace_refused', {
      reason,
      team: context.teamId ?? null,
      enterprise: context.enterpriseId ?? null,
      not_logged_since_last: last?.quiet ?? 0,
    });
  };
}

/**
 * Bolt global middleware; register it before every listener. `installed` null (OAuth): every request
 * that reaches it was authorized against a stored installation.
 */
export function workspaceGuard(
  installed: InstalledWorkspace | null,
  refused: ReturnType<typeof createRefusalLog>,
): Middleware<AnyMiddlewareArgs> {
  return async (args) => {
    if (installed === null || isInstalledWorkspace(installed, args.context)) {
      await args.next();
      return;
    }
    refused('not_installed', args.context);
    // Events are acknowledged by Bolt itself; everything else expects an ack within 3 seconds.
    if ('command' in args) {
      await args.ack({ response_type: 'ephemeral', text: NOT_INSTALLED });
    } else if ('ack' in args && typeof args.ack === 'function') {
      await (args.ack as () => Promise<void>)();
    }
  };
}
