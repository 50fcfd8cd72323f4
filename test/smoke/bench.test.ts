/**
 * Smoke run of the benchmark (bench/run.ts): a few hundred signed requests at one concurrency
 * against the bot (started from its sources with tsx, so no build is needed) and both baselines
 * (bare Bolt and same-work), on SQLite.
 * No thresholds: it checks that the whole pipeline works and that every request was answered 200
 * and followed by its Slack call.
 */
import { liveChildren } from '../../bench/processes.js';
import type { BenchReport } from '../../bench/report.js';
import { runBenchmark, SMOKE_OPTIONS } from '../../bench/run.js';

let report: BenchReport;

beforeAll(async () => {
  report = await runBenchmark(
    { ...SMOKE_OPTIONS, out: null, docs: null, deadlineMs: 50_000 },
    { log: () => undefined },
  );
}, 58_000);

afterAll(() => {
  // runBenchmark stops everything it started, on success and on failure.
  expect(liveChildren()).toBe(0);
});

test('measured the bot and both baselines, every request answered 200 and followed up', () => {
  expect(report.stores.map((s) => s.store)).toEqual(['sqlite']);
  const run = report.stores[0];
  if (!run) throw new Error('no store measured');
  const measured = run.phases.filter((p) => p.stage === 'measure');
  expect(measured.map((p) => `${p.target} ${p.kind}`).sort()).toEqual([
    'baseline command',
    'baseline submission',
    'bot command',
    'bot submission',
    'same-work submission',
  ]);
  for (const p of run.phases) {
    expect({ phase: `${p.stage} ${p.target} ${p.kind}`, ok: p.ok, requests: p.requests }).toEqual({
      phase: `${p.stage} ${p.target} ${p.kind}`,
      ok: p.requests,
      requests: p.requests,
    });
    expect(p.follow.received).toBe(p.follow.expected);
    expect(p.follow.expected).toBe(p.requests);
  }
  for (const level of run.levels) {
    for (const target of [level.bot, level.baseline, ...(level.sameWork ? [level.sameWork] : [])]) {
      expect(target.acksPerSec).toBeGreaterThan(0);
      expect(target.ackP99Ms).toBeGreaterThan(0);
      expect(target.followP99Ms).not.toBeNull();
      expect(target.eldP99Ms).toBeGreaterThan(0);
    }
    expect(level.ratio.acksPerSec).toBeGreaterThan(0);
  }
  expect(run.spawnToReadyMs.bot.samples).toHaveLength(1);
  expect(run.spawnToReadyMs.baseline.samples).toHaveLength(1);
  expect(run.spawnToReadyMs['same-work'].samples).toHaveLength(1);
  expect(report.problems).toEqual([]);
});

test('the same-work baseline makes the same outbound calls per submission as the bot', () => {
  const submissions = (report.stores[0]?.phases ?? []).filter(
    (p) => p.stage === 'measure' && p.kind === 'submission' && p.target !== 'baseline',
  );
  expect(submissions).toHaveLength(2);
  for (const p of submissions) {
    expect({
      target: p.target,
      katapult: p.katapult?.calls,
      posts: p.slackCalls['chat.postMessage'],
      held: p.slackCalls['chat.scheduleMessage'],
    }).toEqual({ target: p.target, katapult: p.requests, posts: p.requests, held: 2 * p.requests });
  }
  // With the same arguments: the follow-ups held in the post's thread (thread_ts, reply_broadcast).
  // Bolt's own listener client adds the request's team_id to every call: that is Bolt's, not the work.
  const [bot, same] = ['bot', 'same-work'].map((target) => {
    const args = submissions.find((p) => p.target === target)?.slackArgs ?? {};
    return [args['chat.postMessage'], args['chat.scheduleMessage']].map((a) => a?.replace(' team_id', ''));
  });
  expect(bot?.[1]).toMatch(/reply_broadcast .*thread_ts/);
  expect(same).toEqual(bot);
});

test('the report names the same-work baseline and judges every gated target', () => {
  expect(report.baselines.sameWork).toMatchObject({ name: 'same-work', file: 'bench/same-work-app.mjs' });
  expect(report.targets.map((t) => t.id).sort()).toEqual([
    'acks-within-slack-limit',
    'cpu-per-command-vs-bare',
    'cpu-per-submission-vs-same-work',
    'post-gc-rss-vs-bare',
    'post-p99-vs-same-work-c8',
    'start-to-ready-vs-bare',
  ]);
  for (const t of report.targets) expect(typeof t.met).toBe('boolean');
});
