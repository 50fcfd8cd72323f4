/**
 * `--burst N`: N submissions at the same instant, each on its own connection, /metrics scraped every
 * 100 ms: every ack's time (Slack wants each within 3 s), how long the post-ack work took to drain,
 * the largest queue and oldest wait the metrics showed, the target's peak RSS.
 */
import { PhaseRecorder, waitFor } from './fakes.js';
import { accepted, CHANNEL, requestBodies, startHarness } from './phase.js';
import { launch, prepareStore, SLACK_TOKENS } from './processes.js';
import type { BenchOptions, StoreKind } from './run.js';
import { hrMs, maxOf, minOf, percentile, round } from './stats.js';
import { SLACK_ACK_LIMIT_MS } from './targets.js';

const GAUGES =
  /^katapult_chatops_(request_queue_size|request_queue_oldest_age_seconds|requests_running|requests_pending|requests_oldest_pending_age_seconds) (\S+)$/gm;

export async function runBurst(options: BenchOptions, store: StoreKind, signal?: AbortSignal) {
  const { burst: size, target: name, katapultLatencyMs } = options;
  const ctx = await startHarness(options, signal);
  try {
    const prepared = await prepareStore(store, options);
    const target = await launch(ctx, name, prepared.env);
    const to = { to: name, secret: ctx.signingSecret, url: ctx.fakes.slack.responseUrl('b') };
    const bodies = requestBodies('submission', 1, size, to);
    const recorder = new PhaseRecorder(1, size, 'chat.postMessage', CHANNEL, SLACK_TOKENS[name]);
    ctx.fakes.track(recorder);
    const metricsPeaks: Record<string, number> = {};
    let scraping = true;
    const scraper = (async () => {
      while (scraping) {
        const text = await fetch(`${target.baseUrl}/metrics`)
          .then((r) => r.text())
          .catch(() => '');
        for (const [, gauge = '', value] of text.matchAll(GAUGES))
          metricsPeaks[gauge] = Math.max(metricsPeaks[gauge] ?? 0, Number(value));
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    })();
    await target.probe('reset');
    // One connection per submission: autocannon opens them all at once, each sending its one request.
    const spec = {
      url: target.baseUrl,
      path: '/slack/events',
      secret: ctx.signingSecret,
      bodies,
      amount: size,
    };
    const result = await ctx.load.run({ ...spec, connections: size, timeoutSec: 120 }, ctx.signal);
    const times = Array.from(result.ackAt, (at, i) => at - (result.sentAt[i] as number));
    const started = minOf(Array.from(result.sentAt)) ?? hrMs();
    const answered200 = result.status.filter((s) => s === 200).length;
    // An ack with a body is an inline refusal (e.g. the store did not record it in time): no post follows.
    await waitFor(() => recorder.followCount >= accepted(result), 120_000, ctx.signal);
    const drained = hrMs();
    scraping = false;
    await scraper;
    const probe = await target.probe('report');
    await target.stop();
    return {
      target: name,
      store,
      submissions: size,
      katapultLatencyMs,
      answered200,
      accepted: accepted(result),
      refusedInline: answered200 - accepted(result),
      refusalSample: result.ackBodySamples.find((b) => b.startsWith('200 '))?.slice(4) ?? null,
      ack: {
        p50Ms: round(percentile(times, 50), 1),
        p99Ms: round(percentile(times, 99), 1),
        maxMs: round(maxOf(times), 1),
        over3s: times.filter((t) => t > SLACK_ACK_LIMIT_MS).length,
      },
      allAckedAfterMs: round((maxOf(Array.from(result.ackAt)) ?? started) - started, 0),
      posts: recorder.followCount,
      duplicatePosts: recorder.duplicateFollows,
      drainedAfterMs: round(drained - started, 0),
      metricsPeaks,
      botLogEvents: target.logEvents,
      botStderrTail: target.stderrTail.slice(-5),
      botPeakRssMB: round(probe.peakRss / 1024 / 1024, 1),
      botEventLoopDelayMaxMs: probe.eld.maxMs,
    };
  } finally {
    await ctx.close();
  }
}
