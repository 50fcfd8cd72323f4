/**
 * The gated targets (issue 14) and the baselines they are judged against: four per store in the main
 * run (the report's `targets`), two in the workspaces run; the burst counts acks later than 3 s.
 */
import type { TargetName } from './processes.js';
import type { StoreKind } from './run.js';
import { fmtRatio, mb, ms, ratio } from './stats.js';

export const BASELINES = {
  bare: {
    name: 'baseline',
    file: 'bench/baseline-app.mjs',
    does: 'bare Bolt: command → ack + views.open of the bot’s own scheduling modal (a copy); submission → ack + chat.postMessage',
  },
  sameWork: {
    name: 'same-work',
    file: 'bench/same-work-app.mjs',
    does: 'bare Bolt doing the bot’s work by hand: submission → ack, one claim in the store, Katapult schedule (node-fetch), chat.postMessage, two chat.scheduleMessage (the bot’s own Block Kit messages, copied), one audit row in the store (same STORE_URL and driver as the bot)',
  },
} as const;

/** Slack wants every ack within 3 s. */
export const SLACK_ACK_LIMIT_MS = 3000;

type Spread = { median: number | null; min: number | null; max: number | null; rounds: number };
type Figures = {
  store: StoreKind;
  rounds: (Spread & { figure: string; against: TargetName; concurrency: number | null })[];
  postGcRssMB: Record<TargetName, number | null>;
  spawnToReadyMs: Record<TargetName, { samples: number[]; median: number | null }>;
};

/** One store's gated targets: [id, against, target, threshold, what was measured, its value, the most it may be]. */
export function evaluateTargets({ store, rounds, postGcRssMB: rss, spawnToReadyMs: spawn }: Figures) {
  const gated = rounds.filter((r) => r.figure === 'cpuPerRequest' && r.concurrency === null);
  const cpu = (against: TargetName) => gated.find((r) => r.against === against);
  const spread = (r?: Spread) =>
    r
      ? `${fmtRatio(r.median)} (rounds ${fmtRatio(r.min)}–${fmtRatio(r.max)}, n=${r.rounds})`
      : 'not measured';
  const [sub, cmd] = [cpu('same-work'), cpu('baseline')];
  const diff = rss.bot === null || rss.baseline === null ? null : rss.bot - rss.baseline;
  const start = ratio(spawn.bot.median, spawn.baseline.median);
  const every = 'median of per-round ratios, every concurrency';
  const gates: [string, TargetName, string, string, string, number | null | undefined, number][] = [
    [
      'cpu-per-submission-vs-same-work',
      'same-work',
      `CPU per submission, bot / same-work (${every})`,
      '≤ 1.20×',
      spread(sub),
      sub?.median,
      1.2,
    ],
    [
      'cpu-per-command-vs-bare',
      'baseline',
      `CPU per command, bot / bare Bolt (${every})`,
      '≤ 1.10×',
      spread(cmd),
      cmd?.median,
      1.1,
    ],
    [
      'post-gc-rss-vs-bare',
      'baseline',
      'post-GC RSS, bot − bare Bolt (medians over the measured and soak phases)',
      '≤ +20 MB',
      diff === null
        ? 'not measured'
        : `${diff >= 0 ? '+' : ''}${diff.toFixed(1)} MB (${mb(rss.bot)} against ${mb(rss.baseline)})`,
      diff,
      20,
    ],
    [
      'start-to-ready-vs-bare',
      'baseline',
      `spawn → GET /healthz 200, bot / bare Bolt (medians of ${spawn.bot.samples.length} alternating starts)`,
      '≤ 1.50×',
      `${fmtRatio(start)} (${ms(spawn.bot.median)} against ${ms(spawn.baseline.median)} ms)`,
      start,
      1.5,
    ],
  ];
  return gates.map(([id, against, target, threshold, measured, value, max]) => {
    return { id, store, against, target, threshold, measured, met: value == null ? null : value <= max };
  });
}
export type TargetCheck = ReturnType<typeof evaluateTargets>[number];

/** The workspaces run's two: N installations cost little more CPU per request, and memory, than one. */
export const workspacesTargets = (cpuRatio: number | null, rssGrowthMB: number | null) => [
  {
    target: 'CPU per request, many / one (median of per-round ratios, both kinds)',
    threshold: '≤ 1.10×',
    measured: cpuRatio,
    met: cpuRatio !== null && cpuRatio <= 1.1,
  },
  {
    target: 'post-GC RSS, many − one (after the same requests)',
    threshold: '≤ +30 MB',
    measured: rssGrowthMB,
    met: rssGrowthMB !== null && rssGrowthMB <= 30,
  },
];
