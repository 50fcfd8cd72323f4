/** The bot's start (loaded by src/main.ts): read the config, start the bot, stop cleanly on SIGTERM/SIGINT. */

import { existsSync } from 'node:fs';
import { createBot } from './app.js';
import { type Config, ConfigError, parseConfig } from './config.js';
import { errorText } from './log.js';
import { packageVersion } from './metrics.js';
import { slackErrorCode } from './slack/workspace.js';

async function main(): Promise<void> {
  // `--version`: the release (package.json's, the one /metrics reports in katapult_chatops_build_info).
  if (process.argv[2] === '--version') {
    process.stdout.write(`${packageVersion()}\n`);
    return;
  }
  // A local .env fills in what the environment does not set; the environment wins.
  if (existsSync('.env')) process.loadEnvFile('.env');
  let config: Config;
  try {
    config = parseConfig(process.env);
  } catch (error) {
    if (error instanceof ConfigError) {
      // Every mistake at once, one line each, so that one start tells everything to fix.
      const lines = error.lines().map((line) => `katapult-chatops: configuration error: ${line}\n`);
      process.stderr.write(lines.join(''));
      process.exit(1);
    }
    throw error;
  }
  const bot = await createBot(config);
  await bot.start();

  let stopping = false;
  const stop = (exitCode: number) => {
    stopping = true;
    bot.stop().finally(() => process.exit(exitCode));
  };
  const shutdown = (signal: string) => {
    if (stopping) {
      process.stderr.write(`katapult-chatops: second ${signal}, exiting now\n`);
      process.exit(1);
    }
    stop(0);
  };
  // A promise a library rejects and nobody handles. @slack/socket-mode does so when a reconnect
  // fails for good (Slack refuses the app token: `invalid_auth`, or answers an HTTP error) and, on a
  // stop, for each reconnect still pending (slackapi/node-slack-sdk#2656). During a stop it is noted
  // and ignored. Otherwise the bot no longer knows it is connected: it says why in one line and stops
  // as on SIGTERM (work under way finishes), exiting 1 so that the orchestrator starts it afresh;
  // that start says plainly if the token is the problem.
  process.on('unhandledRejection', (reason) => {
    bot.logger.event(
      stopping ? 'warn' : 'error',
      stopping ? 'unhandled_rejection_during_stop' : 'unhandled_rejection',
      {
        // Only the kind and Slack's error code: a library's reason could carry anything.
        reason: reason instanceof Error ? reason.name : typeof reason,
        slack_error: slackErrorOf(reason),
        ...(stopping ? {} : { action: 'stopping; exit 1 to be restarted' }),
      },
    );
    if (!stopping) stop(1);
  });
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
}

/**
 * Slack's error code (`invalid_auth`, …) when the reason is a Web API error, `http_<status>` when
 * Slack answered with an HTTP error, else null.
 */
function slackErrorOf(reason: unknown): string | null {
  const status = (reason as { statusCode?: unknown } | null)?.statusCode;
  if (Number.isInteger(status) && (status as number) >= 100 && (status as number) <= 599)
    return `http_${status}`;
  const code = slackErrorCode(reason);
  return code !== null && /^[a-z_]{1,60}$/.test(code) ? code : null;
}

main().catch((error: unknown) => {
  process.stderr.write(`katapult-chatops: could not start: ${errorText(error)}\n`);
  process.exit(1);
});
