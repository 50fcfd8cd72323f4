/** Entry point: read the config, start the bot, stop cleanly on SIGTERM/SIGINT. */

import { existsSync } from 'node:fs';
import { createBot } from './app.js';
import { type Config, ConfigError, parseConfig } from './config.js';
import { errorText } from './log.js';

async function main(): Promise<void> {
  // A local .env fills in what the environment does not set; the environment wins.
  if (existsSync('.env')) process.loadEnvFile('.env');
  let config: Config;
  try {
    config = parseConfig(process.env);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`katapult-chatops: configuration error: ${error.message}\n`);
      process.exit(1);
    }
    throw error;
  }
  const bot = await createBot(config);
  await bot.start();

  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) {
      process.stderr.write(`katapult-chatops: second ${signal}, exiting now\n`);
      process.exit(1);
    }
    stopping = true;
    // @slack/socket-mode rejects each reconnect attempt still pending (a Socket Mode connection that
    // dropped and has not come back) with `undefined` when it is disconnected, and nothing handles
    // that promise (slackapi/node-slack-sdk#2656): without this, a clean stop would end with an
    // unhandled rejection and exit 1. Once stopping, such a rejection is noted and ignored.
    process.on('unhandledRejection', (reason) => {
      process.stdout.write(
        `${JSON.stringify({
          time: new Date().toISOString(),
          level: 'warn',
          name: 'katapult-chatops',
          event: 'unhandled_rejection_during_stop',
          // Only the kind: a library's reason could carry anything.
          reason: reason instanceof Error ? reason.name : typeof reason,
        })}\n`,
      );
    });
    bot.stop().finally(() => process.exit(0));
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
}

main().catch((error: unknown) => {
  process.stderr.write(`katapult-chatops: could not start: ${errorText(error)}\n`);
  process.exit(1);
});
