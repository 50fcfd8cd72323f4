/**
 * What both baselines share: a Bolt app with the same @slack/bolt, the same HTTPReceiver and the
 * same WebClient as the bot, a GET /healthz custom route, the bot's `{"event":"started",…}` line,
 * and the fixed modal that a `/katapult` command opens (ack, then views.open): the bot's own
 * scheduling modal, copied by hand (bench/baseline-payloads.mjs).
 */
import { App, LogLevel } from '@slack/bolt';
import { scheduleModal } from './baseline-payloads.mjs';

export const env = process.env;
export const COMMAND = env.SLACK_COMMAND ?? '/katapult';
/** The bot's ids (src/slack/ids.ts, SCHEDULE_VIEW): the benchmark's submissions carry them. */
export const VIEW = {
  callbackId: 'katapult_schedule',
  policyBlock: 'policy_id',
  policyAction: 'policy_id_input',
  whenBlock: 'when',
  whenAction: 'when_input',
};
const CHANNEL = env.BENCH_CHANNEL ?? 'C0OPS0001';

/**
 * The bot's scheduling modal, with a `private_metadata` as long as the bot's signed one
 * (`v1.<43-character MAC>.{"c":…}`): the same bytes to serialise and send.
 */
const MODAL = scheduleModal(`v1.${'0'.repeat(43)}.${JSON.stringify({ c: CHANNEL })}`);

/** The app, with the command listener registered; `start` listens and prints the started line. */
export function boltBaseline(name) {
  let ready = false;
  const app = new App({
    token: env.SLACK_BOT_TOKEN,
    signingSecret: env.SLACK_SIGNING_SECRET,
    // Known identity: no auth.test at start (the bot learns it once with auth.test before starting).
    botId: 'BFAKE0001',
    botUserId: 'UBOT00001',
    logLevel: LogLevel.WARN,
    ...(env.SLACK_API_URL ? { clientOptions: { slackApiUrl: env.SLACK_API_URL } } : {}),
    customRoutes: [
      {
        path: '/healthz',
        method: ['GET'],
        handler: (_req, res) => {
          res.writeHead(ready ? 200 : 503, { 'Content-Type': 'application/json' });
          res.end(JSON.stringify({ ok: ready }));
        },
      },
    ],
  });

  // --bare-listeners N: listeners that never match (Bolt still runs each one's matchers per request).
  for (let i = 0; i < Number(env.BENCH_BARE_LISTENERS ?? 0); i++) {
    app.action(`bench_noop_${i}`, async ({ ack }) => ack());
  }

  app.command(COMMAND, async ({ ack, client, command }) => {
    await ack();
    await client.views.open({ trigger_id: command.trigger_id, view: MODAL });
  });

  const start = async (onStop = async () => undefined) => {
    const server = await app.start({ port: Number(env.PORT ?? 0), host: env.HOST ?? '127.0.0.1' });
    ready = true;
    process.stdout.write(
      `${JSON.stringify({ time: new Date().toISOString(), level: 'info', name, event: 'started', mode: 'http', port: server.address().port })}\n`,
    );
    let stopping = false;
    const shutdown = () => {
      if (stopping) process.exit(1);
      stopping = true;
      app
        .stop()
        .then(onStop)
        .finally(() => process.exit(0));
    };
    process.on('SIGTERM', shutdown);
    process.on('SIGINT', shutdown);
  };
  return { app, start };
}
