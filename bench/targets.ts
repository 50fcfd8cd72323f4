/**
 * The gated targets (issues 14 and 23) and the baselines they are judged against: per store in the
 * main run (the report's `targets`) four ratios, the submission → post p99 at each concurrency, and
 * every ack within Slack's 3 s; two in the workspaces run; the burst counts acks later than 3 s.
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
    does: 'bare Bolt doing the bot’s work by hand: submission → ack, one claim in the store, Katapult schedule (node-fetch), chat.postMessage, two chat.scheduleMessage in its thread (the bot’s own Block Kit messages, copied), one audit row in the store (same STORE_URL and driver as the bot)',
  },
} as const;

/** Slack wants every ack within 3 s. */
export const SLACK_ACK_LIMIT_MS = 3000;

type Spread = { median: number | null; min: number | null; max: number | null; rounds: number };
type Figures = {
  store: StoreKind;
  /** The bot's requests after the warm-up (measured and soak), and those answered after 3 s or never. */
  acks: { requests: number; late: number };
  rounds: (Spread & { figure: string; against: TargetName; concurrency: number | null })[];
  postGcRssMB: Record<TargetName, number | null>;
  spawnToReadyMs: Record<TargetName, { samples: number[]; median: number | null }>;
};

/** One store's gated targets: [id, against, target, threshold, what was measured, its value, the most it may be]. */
export function evaluateTargets(figures: Figures) {
  const { store, rounds, postGcRssMB: rss, spawnToReadyMs: spawn, acks } = figures;
  const find = (figure: string, against: TargetName, c: number | null) =>
    rounds.find((r) => r.figure === figure && r.against === against && r.concurrency === c);
  const spread = (r?: Spread) =>
    r
      ? `${fmtRatio(r.median)} (rounds ${fmtRatio(r.min)}–${fmtRatio(r.max)}, n=${r.rounds})`
      : 'not measured';
  const [sub, cmd] = [find('cpuPerRequest', 'same-work', null), find('cpuPerRequest', 'baseline', null)];
  const diff = rss.bot === null || rss.baseline === null ? null : rss.bot - rss.baseline;
  const start = ratio(spawn.bot.median, spawn.baseline.median);
  const every = 'median of per-round ratios, every concurrency';
  type Gate = [string, TargetName | null, string, string, string, number | null | undefined, number];
  // One per concurrency the rounds compared.
  const levels = [...new Set(rounds.flatMap((r) => (r.concurrency === null ? [] : [r.concurrency])))];
  const posts = levels.map((c): Gate => {
    const r = find('followP99', 'same-work', c);
    const what = `submission → post p99 at concurrency ${c}, bot / same-work (median of per-round ratios)`;
    return [`post-p99-vs-same-work-c${c}`, 'same-work', what, '≤ 1.50×', spread(r), r?.median, 1.5];
  });
  const gates: Gate[] = [
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
    ...posts,
    [
      'acks-within-slack-limit',
      null,
      `every command and submission acked within Slack's ${SLACK_ACK_LIMIT_MS / 1000} s (bot, after the warm-up)`,
      '0 late',
      `${acks.late} of ${acks.requests} late or unanswered`,
      acks.requests > 0 ? acks.late : null,
      0,
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
    target: 'post-GC RSS, many − one (after the same requests and a memory-reducing GC)',
    threshold: '≤ +30 MB',
    measured: rssGrowthMB,
    met: rssGrowthMB !== null && rssGrowthMB <= 30,
  },
];
