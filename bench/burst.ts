/**
 * `npx tsx bench/burst.ts [--burst N] [--store sqlite|postgres]`: N signed submissions (default 500)
 * sent to the bot at the same instant, each on its own connection, while /metrics is scraped every
 * 100 ms. Reports every ack's time (Slack wants each within 3 s), how long the post-ack work took to
 * drain through the request log's bounded workers, the largest queue and oldest wait the metrics
 * showed, and the bot's peak RSS. Writes bench/results/burst.json. Needs `npm run build`.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import http from 'node:http';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { createMetadataSigner } from '../src/slack/platform/signed-metadata.js';
import { sign } from '../support/slack-requests.js';
import { PhaseRecorder, startInstrumentedFakes } from './fakes.js';
import { PROBE_URL, ROOT } from './measure-store.js';
import { parseOptions, type StoreKind } from './options.js';
import { CHANNEL, requestBodies, USER } from './phase.js';
import { killAll, launch } from './processes.js';
import { hrMs, percentile, round } from './stats.js';
import { prepareStore } from './stores.js';
import { benchEncryptionKey, launchSpec, SLACK_TOKENS } from './targets.js';

const SLACK_ACK_LIMIT_MS = 3000;
const GAUGES = [
  'request_queue_size',
  'request_queue_oldest_age_seconds',
  'requests_running',
  'requests_pending',
  'requests_oldest_pending_age_seconds',
] as const;
type Gauge = (typeof GAUGES)[number];

/** One signed POST on a fresh connection; resolves with its status and the ms from send to answer. */
function post(url: URL, secret: string, body: string): Promise<{ status: number; ms: number; body: string }> {
  const ts = Math.floor(Date.now() / 1000);
  const started = hrMs();
  return new Promise((resolve) => {
    const req = http.request(
      url,
      {
        method: 'POST',
        agent: false,
        headers: {
          'Content-Type': 'application/x-www-form-urlencoded',
          'Content-Length': Buffer.byteLength(body),
          'X-Slack-Request-Timestamp': String(ts),
          'X-Slack-Signature': sign(secret, ts, body),
        },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          text += chunk;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, ms: hrMs() - started, body: text }));
      },
    );
    req.on('error', (error) => resolve({ status: 0, ms: hrMs() - started, body: error.message }));
    req.end(body);
  });
}

async function scrape(baseUrl: string): Promise<Partial<Record<Gauge, number>>> {
  const text = await (await fetch(`${baseUrl}/metrics`)).text();
  const out: Partial<Record<Gauge, number>> = {};
  for (const gauge of GAUGES) {
    const m = new RegExp(`^katapult_chatops_${gauge} (\\S+)$`, 'm').exec(text);
    if (m) out[gauge] = Number(m[1]);
  }
  return out;
}

export async function runBurst(
  size: number,
  store: StoreKind,
  katapultLatencyMs: number,
  target: 'bot' | 'baseline' = 'bot',
  cpuProf = false,
) {
  const options = parseOptions([
    '--store',
    store,
    '--katapult-latency',
    String(katapultLatencyMs),
    ...(cpuProf ? ['--cpu-prof'] : []),
  ]);
  if (!options) throw new Error('unreachable');
  const fakes = await startInstrumentedFakes({
    katapultLatencyMs,
    users: { [USER]: { tz: 'Europe/London', is_admin: true } },
  });
  const secret = randomBytes(24).toString('hex');
  try {
    const prepared = await prepareStore(store, options.postgresUrl);
    const bot = await launch(launchSpec(target, options, ROOT, fakes, secret, prepared.env), PROBE_URL);
    try {
      const channel = JSON.stringify({ c: CHANNEL });
      // The bot refuses unsigned modal metadata; bare Bolt reads the plain JSON.
      const metadata =
        target === 'bot'
          ? createMetadataSigner({ current: benchEncryptionKey(secret) }).seal(channel)
          : channel;
      const run = 1;
      const bodies = requestBodies(
        'submission',
        run,
        size,
        Date.now(),
        fakes.slack.responseUrl('b'),
        metadata,
      );
      const recorder = new PhaseRecorder(run, size, 'chat.postMessage', CHANNEL, SLACK_TOKENS[target]);
      fakes.track(recorder);
      const peaks: Partial<Record<Gauge, number>> = {};
      let scraping = true;
      const scraper = (async () => {
        while (scraping) {
          const now = await scrape(bot.baseUrl).catch(() => ({}) as Partial<Record<Gauge, number>>);
          for (const [k, v] of Object.entries(now) as [Gauge, number][])
            peaks[k] = Math.max(peaks[k] ?? 0, v);
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
      })();
      await bot.probe('reset');
      const started = hrMs();
      const url = new URL('/slack/events', bot.baseUrl);
      const acks = await Promise.all(bodies.map((body) => post(url, secret, body)));
      const acked = hrMs();
      // An ack with a body is an inline error (e.g. the store did not record it in time): no post follows.
      const accepted = acks.filter((a) => a.status === 200 && a.body === '').length;
      await recorder.waitForFollowUps(accepted, 120_000, new AbortController().signal);
      const drained = hrMs();
      scraping = false;
      await scraper;
      const probe = await bot.probe('report');
      fakes.untrack(recorder);
      const times = acks.map((a) => a.ms);
      return {
        target,
        store,
        submissions: size,
        katapultLatencyMs,
        answered200: acks.filter((a) => a.status === 200).length,
        accepted,
        refusedInline: acks.filter((a) => a.status === 200 && a.body !== '').length,
        refusalSample: acks.find((a) => a.status === 200 && a.body !== '')?.body.slice(0, 300) ?? null,
        ack: {
          p50Ms: round(percentile(times, 50), 1),
          p99Ms: round(percentile(times, 99), 1),
          maxMs: round(Math.max(...times), 1),
          over3s: times.filter((t) => t > SLACK_ACK_LIMIT_MS).length,
        },
        allAckedAfterMs: round(acked - started, 0),
        posts: recorder.followCount,
        duplicatePosts: recorder.duplicateFollows,
        drainedAfterMs: round(drained - started, 0),
        metricsPeaks: peaks,
        botLogEvents: bot.logEvents,
        botStderrTail: bot.stderrTail().slice(-5),
        botPeakRssMB: round(probe.peakRss / 1024 / 1024, 1),
        botEventLoopDelayMaxMs: probe.eld.maxMs,
      };
    } finally {
      await bot.stop();
    }
  } finally {
    killAll();
    await fakes.close();
  }
}

const invokedDirectly =
  process.argv[1] && path.resolve(process.argv[1]) === path.join(ROOT, 'bench', 'burst.ts');
if (invokedDirectly) {
  const { values } = parseArgs({
    options: {
      burst: { type: 'string', default: '500' },
      store: { type: 'string', default: 'sqlite' },
      'katapult-latency': { type: 'string', default: '50' },
      target: { type: 'string', default: 'bot' },
      'cpu-prof': { type: 'boolean', default: false },
    },
  });
  const result = await runBurst(
    Number(values.burst),
    values.store as StoreKind,
    Number(values['katapult-latency']),
    values.target === 'baseline' ? 'baseline' : 'bot',
    values['cpu-prof'],
  );
  const json = `${JSON.stringify(result, null, 2)}\n`;
  process.stdout.write(json);
  await mkdir(path.join(ROOT, 'bench/results'), { recursive: true });
  await writeFile(path.join(ROOT, 'bench/results', `burst-${result.target}-${result.store}.json`), json);
}
