/**
 * Baseline "bare Bolt": the least a Bolt app can do for the bot's traffic (same @slack/bolt,
 * HTTPReceiver and WebClient). A command: ack, views.open of the bot's own modal (a copy,
 * bench/baseline-payloads.mjs); a submission: ack, one fixed post naming the view id (so the
 * benchmark can match it). `boltBaseline` is also the base of bench/same-work-app.mjs.
 */
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { App, LogLevel } from '@slack/bolt';
import { scheduleModal } from './baseline-payloads.mjs';

export const env = process.env;
/** The bot's ids (src/slack/ids.ts, SCHEDULE_VIEW): the benchmark's submissions carry them. */
export const VIEW = {
  callbackId: 'katapult_schedule',
  policyBlock: 'policy_id',
  policyAction: 'policy_id_input',
  whenBlock: 'when',
  whenAction: 'when_input',
};
const CHANNEL = env.BENCH_CHANNEL ?? 'C0OPS0001';
/** The bot's modal, with a `private_metadata` as long as its signed one (`v1.<43-character MAC>.{"c":…}`). */
const MODAL = scheduleModal(`v2.${'0'.repeat(43)}.${'0'.repeat(10)}.${JSON.stringify({ c: CHANNEL })}`);

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

  app.command(env.SLACK_COMMAND ?? '/katapult', async ({ ack, client, command }) => {
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

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  const { app, start } = boltBaseline('bench-baseline');
  app.view(VIEW.callbackId, async ({ ack, client, view }) => {
    await ack();
    await client.chat.postMessage({ channel: CHANNEL, text: `Scheduled (baseline, view ${view.id}).` });
  });
  await start();
}
