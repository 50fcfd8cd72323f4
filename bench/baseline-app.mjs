/**
 * Baseline for the benchmark: the least a Bolt app can do for the same traffic. Same @slack/bolt,
 * same HTTPReceiver (signature check, body parsing, ack), same WebClient against the same fake Slack.
 * The command listener acks and opens a fixed modal; the view listener acks and posts a fixed
 * message (it names the view id only so the benchmark can match the post to its submission).
 *
 * Started by bench/run.ts as `node --import ./bench/probe.mjs bench/baseline-app.mjs` with the same
 * environment as the bot; prints the same `{"event":"started","mode":"http","port":N}` line and
 * answers GET /healthz the same way (a Bolt custom route).
 */
import { App, LogLevel } from '@slack/bolt';

const env = process.env;
const COMMAND = env.SLACK_COMMAND ?? '/katapult';
const CALLBACK_ID = 'katapult_schedule';
const CHANNEL = env.BENCH_CHANNEL ?? 'C0OPS0001';

const plain = (text) => ({ type: 'plain_text', text });
const MODAL = {
  type: 'modal',
  callback_id: CALLBACK_ID,
  title: plain('Schedule deletion'),
  submit: plain('Schedule'),
  close: plain('Cancel'),
  private_metadata: JSON.stringify({ c: CHANNEL }),
  blocks: [
    {
      type: 'input',
      block_id: 'policy_id',
      label: plain('Disk backup policy ID'),
      element: { type: 'plain_text_input', action_id: 'policy_id_input' },
    },
    {
      type: 'input',
      block_id: 'when',
      label: plain('Move it to the trash at'),
      element: { type: 'datetimepicker', action_id: 'when_input' },
    },
  ],
};

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

app.command(COMMAND, async ({ ack, client, command }) => {
  await ack();
  await client.views.open({ trigger_id: command.trigger_id, view: MODAL });
});

app.view(CALLBACK_ID, async ({ ack, client, view }) => {
  await ack();
  await client.chat.postMessage({ channel: CHANNEL, text: `Scheduled (baseline, view ${view.id}).` });
});

const server = await app.start({ port: Number(env.PORT ?? 0), host: env.HOST ?? '127.0.0.1' });
ready = true;
process.stdout.write(
  `${JSON.stringify({ time: new Date().toISOString(), level: 'info', name: 'bench-baseline', event: 'started', mode: 'http', port: server.address().port })}\n`,
);

let stopping = false;
const shutdown = () => {
  if (stopping) process.exit(1);
  stopping = true;
  app.stop().finally(() => process.exit(0));
};
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
