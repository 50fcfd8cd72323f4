/**
 * Composition root: builds the logger, store, Katapult client and Bolt app from the config, and
 * wires the Slack listeners to them. Nothing else creates these objects. Each part is built in
 * src/bot/: infrastructure.ts (logger, key, metrics, store, Katapult, tokens), slack-clients.ts,
 * work.ts (workspace state, request log, workers, approvals, reconcile, intake), bolt-app.ts
 * (the Bolt app, its middleware and listeners) and lifecycle.ts (health, start, stop).
 */

import { createBoltApp, registerBotListeners } from './bot/bolt-app.js';
import { createInfrastructure } from './bot/infrastructure.js';
import { createHealthWiring, createLifecycle } from './bot/lifecycle.js';
import { createSlackClients } from './bot/slack-clients.js';
import type { Bot, BotOverrides } from './bot/types.js';
import { createWork, createWorkspaceState } from './bot/work.js';
import type { Config } from './config.js';
import { InFlight } from './lifecycle.js';

export { shutdownGraceMs, stopBudgetMs } from './bot/lifecycle.js';

export type { Bot, BotOverrides } from './bot/types.js';

export async function createBot(config: Config, overrides: BotOverrides = {}): Promise<Bot> {
  // Logger, key, metrics, then the store (opened while the bot token is checked), Katapult, tokens.
  const infra = await createInfrastructure(config, overrides);
  const health = createHealthWiring(config, infra);
  const inflight = new InFlight();
  const app = createBoltApp(config, overrides, infra, health, inflight);
  const state = createWorkspaceState(config, infra);
  const clients = createSlackClients(config, overrides, app, infra);
  const work = createWork(config, infra, state, clients.clientFor, inflight, clients.clientWith);
  registerBotListeners(app, config, infra, state, work, clients);
  const lifecycle = createLifecycle(config, overrides, { app, infra, health, work, inflight });
  const { store, metrics, logger } = infra;
  return { app, store, metrics, logger, ...lifecycle };
}
