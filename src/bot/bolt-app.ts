/**
 * The Bolt app: how it authorizes (one workspace's bot token, or OAuth installations), its
 * custom routes, the global middleware every listener runs behind, its error handler, and the
 * listeners themselves.
 */

import type { AppOptions } from '@slack/bolt';
import type { Config } from '../config.js';
import type { InFlight } from '../lifecycle.js';
import type { LogLevel } from '../log.js';
import type { Outbound } from '../net/proxy.js';
import { createLastChannels } from '../scheduling/last-channel.js';
import { buildUseCases } from '../scheduling/use-cases.js';
import { App, ErrorCode, SocketModeReceiver, type webApi } from '../slack/bolt.js';
import { registerListeners } from '../slack/listeners/index.js';
import { checkApprover, createPeopleChecks } from '../slack/people/access.js';
import { boundClientPools } from '../slack/platform/client-pools.js';
import type { BotIdentity } from '../slack/platform/identity.js';
import { createMetadataSigner } from '../slack/platform/signed-metadata.js';
import type { WorkerClients } from '../slack/platform/worker-clients.js';
import {
  answerMissingInstallations,
  createRefusalLog,
  type InstalledWorkspace,
  workspaceGuard,
} from '../slack/platform/workspace-guard.js';
import { createPolicyCatalogue } from '../slack/policy-catalogue.js';
import { BOT_SCOPES } from '../slack/scopes.js';
import type { Infrastructure } from './infrastructure.js';
import type { HealthWiring } from './lifecycle.js';
import { CLIENTS_KEPT, coldListenerClients, listenerClientOptions } from './slack-clients.js';
import type { BotOverrides } from './types.js';
import type { Work, WorkspaceState } from './work.js';

/**
 * Single workspace: one bot token, checked at start (its identity). OAuth: each installation's
 * token, sealed in the store. `installed`: the one workspace served, or null with OAuth.
 */
function authOptions(
  config: Config,
  { identity, installations }: Pick<Infrastructure, 'identity' | 'installations'>,
): { auth: Partial<AppOptions>; installed: InstalledWorkspace | null } {
  if (config.slack.oauth) {
    return {
      auth: {
        clientId: config.slack.oauth.clientId,
        clientSecret: config.slack.oauth.clientSecret,
        stateSecret: config.slack.oauth.stateSecret,
        scopes: [...BOT_SCOPES],
        ...(installations ? { installationStore: installations } : {}),
        installerOptions: { directInstall: false, stateVerification: true },
      },
      installed: null,
    };
  }
  const { botId, botUserId, workspace } = identity as BotIdentity;
  return { auth: { token: config.slack.botToken as string, botId, botUserId }, installed: workspace };
}

/**
 * Socket Mode behind the outbound proxy: the receiver Bolt would make, with the proxy's dispatcher
 * for the WebSocket (Bolt has no option for it). `apps.connections.open` goes through the clients'
 * `fetch`, which takes the same proxy. Without a proxy Bolt makes its receiver itself, as before.
 */
function proxiedSocketMode(
  config: Config,
  { logger, outbound }: Pick<Infrastructure, 'logger'> & { outbound: Outbound },
  clientOptions: webApi.WebClientOptions,
): SocketModeReceiver {
  return new SocketModeReceiver({
    appToken: config.slack.appToken as string,
    logger,
    logLevel: config.logLevel as LogLevel,
    installerOptions: { clientOptions },
    dispatcher: outbound.dispatcher,
  });
}

/**
 * The Bolt app and its global middleware: the workspace guard, the bounded client pools and the
 * tracking of every listener's work, then the error handler. Global middleware runs before every
 * listener, whenever the listeners are registered (registerBotListeners, below).
 */
export function createBoltApp(
  config: Config,
  overrides: BotOverrides,
  infra: Infrastructure,
  health: HealthWiring,
  inflight: InFlight,
): App {
  const { logger, now, outbound } = infra;
  const { auth, installed } = authOptions(config, infra);
  const { socketMode } = health.state;
  const clientOptions = listenerClientOptions(config, overrides, infra);
  const app = new App({
    ...auth,
    ...(config.slack.signingSecret ? { signingSecret: config.slack.signingSecret } : {}),
    ...(socketMode ? { socketMode: true, appToken: config.slack.appToken as string } : {}),
    ...(socketMode && outbound
      ? { receiver: proxiedSocketMode(config, { logger, outbound }, clientOptions) }
      : {}),
    logger,
    // Without this Bolt resets the shared logger to info.
    logLevel: config.logLevel as LogLevel,
    clientOptions,
    ...(socketMode
      ? {}
      : {
          customRoutes: Object.entries(health.publicRoutes).map(([path, handler]) => ({
            path,
            method: ['GET'],
            handler,
          })),
        }),
  });

  // Before every listener: requests from any workspace but ours are answered with nothing done.
  const refusedWorkspace = createRefusalLog(logger, now);
  answerMissingInstallations(app); // OAuth: no installation → the guard answers NOT_INSTALLED
  app.use(workspaceGuard(installed, refusedWorkspace));
  // Bolt's own Web clients, one per workspace served: the most recent kept (src/slack/platform/client-pools.ts).
  app.use(boundClientPools(app, CLIENTS_KEPT, coldListenerClients({ ...clientOptions, logger })));
  // Every listener's work, including what runs after its ack, is tracked: a shutdown waits for it.
  app.use(async ({ next }) => {
    await inflight.run(next);
  });
  app.error(async (error) => {
    // OAuth: Bolt found no stored installation for the workspace (nothing was done).
    // A missing installation is answered by the workspace guard (answerMissingInstallations); what
    // still fails here is Bolt's own "no installation" (if a Bolt release moved what that wraps) or
    // an installation that could not be read (the store failed): the latter is an error, not a refusal.
    if (error.code === ErrorCode.AuthorizationError) {
      const teamId = /no installation for (\w+)/i.exec(error.message)?.[1];
      if (teamId) return refusedWorkspace('no_installation', { teamId });
      logger.event('error', 'authorize_failed', { error: error.message });
      return;
    }
    logger.event('error', 'listener_error', { error: error.message, code: error.code });
  });
  return app;
}

/** The Slack listeners, given every part they use. */
export function registerBotListeners(
  app: App,
  config: Config,
  infra: Infrastructure,
  state: WorkspaceState,
  work: Work,
  clients: Pick<WorkerClients<webApi.WebClient>, 'clientFor' | 'forget'>,
): void {
  const { clientFor } = clients;
  const { store, tokens, katapult, installations, key, logger, metrics, now } = infra;
  const { access, freezes, upcoming, users, trail, record } = state;
  const { requests, dailyLimit, approvalDeps, approvalSettings, worker, intake } = work;
  registerListeners(app, {
    command: config.slack.command,
    users,
    people: createPeopleChecks({ users, access, logger, approvals: approvalSettings }),
    catalogue: createPolicyCatalogue({ tokens, katapult, logger, now }),
    // Keyed by the encryption key when one is configured (else the signing secret), so every replica agrees.
    metadata: createMetadataSigner({
      current: config.encryptionKey ?? config.slack.signingSecret ?? key,
      old: config.oldEncryptionKeys,
    }),
    logger,
    metrics,
    now,
    ...buildUseCases({
      command: config.slack.command,
      tokens,
      katapult,
      access,
      freezes,
      upcoming,
      requests,
      dailyLimit,
      trail,
      record,
      intake,
      claims: store,
      lastChannels: createLastChannels({ docs: store.docs, logger, now }),
      maxPerUserPerDay: config.maxPerUserPerDay,
      approvals: {
        ...approvalSettings,
        deps: approvalDeps,
        mayDecide: async (r, userId) =>
          checkApprover(
            { users, access, logger, approvals: approvalSettings },
            await clientFor(r.workspace),
            {
              workspaceId: r.workspace,
              userId,
              requesterId: r.user,
            },
          ),
        run: (id) => worker.kick(id),
      },
      async deleteInstallation(workspaceId) {
        // Installations are keyed by the same workspace ID (enterprise for org-wide installs, else team).
        await installations?.deleteInstallation({
          teamId: workspaceId,
          enterpriseId: undefined,
          isEnterpriseInstall: false,
        });
        // The workspace's kept Web clients carry the token just revoked.
        clients.forget(workspaceId);
      },
      // What an uninstall keeps of the audit trail (src/scheduling/forget-workspace.ts).
      singleWorkspace: config.slack.oauth === null,
      logger,
      metrics,
      now,
      sealStepToken: (token, aad) => infra.box.seal(token, aad),
    }),
  });
}
