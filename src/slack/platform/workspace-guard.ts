/**
 * The first trust boundary: a request is handled only if it comes from the workspace this bot is
 * installed in. Single-workspace mode: the team (or, for an org-wide install, the enterprise) that
 * `auth.test` reported at start. OAuth mode: a workspace whose installation the store holds (one that
 * was never installed, was uninstalled or had its tokens revoked has none; see
 * `answerMissingInstallations`). Anything else gets an empty answer (a short note for a slash
 * command), is logged at most once a minute per workspace, and is neither audited nor stored: a
 * foreign workspace must not be able to grow our store.
 */
import type { AnyMiddlewareArgs, App, Authorize, Context, Middleware } from '@slack/bolt';
import type { AppLogger } from '../../log.js';
import { NoInstallationError } from './installation-store.js';

export interface InstalledWorkspace {
  teamId: string | null;
  enterpriseId: string | null;
  isEnterpriseInstall: boolean;
}

export const NOT_INSTALLED = 'This app is not installed for your workspace, so nothing was done.';

const LOG_EVERY_MS = 60_000;

/** Set in the context of a request from a workspace with no stored installation (OAuth). */
const NO_INSTALLATION = 'noInstallation';

/**
 * OAuth: the installer's `authorize` throws for a workspace with no stored installation, and Bolt
 * then answers the request itself, before any middleware, with an empty 200: the person who typed
 * the command sees nothing. Wrapped, a missing installation (and only that: a store failure is
 * still thrown) gives a context with no token that says so, which `workspaceGuard` answers as it
 * answers any workspace but ours (a slash command gets NOT_INSTALLED in its ack, over HTTP or
 * Socket Mode alike). Bolt allows no `authorize` option next to the OAuth installer and keeps the
 * installer's in a private field set by its constructor: if a release moves it, nothing is wrapped
 * and such requests get Bolt's empty answer again (test/e2e/trust-oauth.test.ts then fails).
 */
export function answerMissingInstallations(app: App): void {
  const bolt = app as unknown as { authorize?: Authorize<boolean> };
  const authorize = bolt.authorize;
  if (typeof authorize !== 'function') return;
  bolt.authorize = async (source, body) => {
    try {
      return await authorize(source, body);
    } catch (error) {
      if (!isNoInstallation(error)) throw error;
      return { [NO_INSTALLATION]: true };
    }
  };
}

/** Whether `error` or one of its causes (the installer wraps what the store threw) is a NoInstallationError. */
function isNoInstallation(error: unknown): boolean {
  for (let e = error; e instanceof Error; e = e.cause) {
    if (e instanceof NoInstallationError) return true;
  }
  return false;
}

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
 * Bolt global middleware; register it before every listener. `installed` null (OAuth): a request
 * is handled if its workspace has a stored installation (else authorize marked it, above).
 */
export function workspaceGuard(
  installed: InstalledWorkspace | null,
  refused: ReturnType<typeof createRefusalLog>,
): Middleware<AnyMiddlewareArgs> {
  return async (args) => {
    const ours =
      installed === null
        ? args.context[NO_INSTALLATION] !== true
        : isInstalledWorkspace(installed, args.context);
    if (ours) {
      await args.next();
      return;
    }
    refused(installed === null ? 'no_installation' : 'not_installed', args.context);
    // Events are acknowledged by Bolt itself; everything else expects an ack within 3 seconds.
    if ('command' in args) {
      await args.ack({ response_type: 'ephemeral', text: NOT_INSTALLED });
    } else if ('ack' in args && typeof args.ack === 'function') {
      await (args.ack as () => Promise<void>)();
    }
  };
}
