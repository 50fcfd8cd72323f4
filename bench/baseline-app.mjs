/**
 * Baseline "bare Bolt": the least a Bolt app can do for the same traffic. Same @slack/bolt, same
 * HTTPReceiver (signature check, body parsing, ack), same WebClient against the same fake Slack
 * (bench/bolt-baseline.mjs). The command listener acks and opens the bot's own scheduling modal (a copy, see
 * bench/baseline-payloads.mjs); the view listener
 * acks and posts a fixed message (it names the view id only so the benchmark can match the post to
 * its submission).
 *
 * Started by bench/run.ts as `node --import ./bench/probe.mjs bench/baseline-app.mjs` with the same
 * environment as the bot; prints the same `{"event":"started","mode":"http","port":N}` line and
 * answers GET /healthz the same way.
 */
import { boltBaseline, env, VIEW } from './bolt-baseline.mjs';

const CHANNEL = env.BENCH_CHANNEL ?? 'C0OPS0001';
const { app, start } = boltBaseline('bench-baseline');

app.view(VIEW.callbackId, async ({ ack, client, view }) => {
  await ack();
  await client.chat.postMessage({ channel: CHANNEL, text: `Scheduled (baseline, view ${view.id}).` });
});

await start();
