/**
 * Smoke run of the benchmark (bench/run.ts): a few hundred signed requests at one concurrency
 * against the bot (started from its sources with tsx, so no build is needed) and the baseline.
 * No thresholds: it checks that the whole pipeline works and that every request was answered 200
 * and followed by its Slack call.
 */
import { SMOKE_OPTIONS } from '../../bench/options.js';
import { liveChildren } from '../../bench/processes.js';
import type { BenchReport } from '../../bench/report.js';
import { runBenchmark } from '../../bench/run.js';

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

test('measured both the bot and the baseline, every request answered 200 and followed up', () => {
  const measured = report.phases.filter((p) => p.stage === 'measure');
  expect(measured.map((p) => `${p.target} ${p.kind}`).sort()).toEqual([
    'baseline command',
    'baseline submission',
    'bot command',
    'bot submission',
  ]);
  for (const p of report.phases) {
    expect({ phase: `${p.stage} ${p.target} ${p.kind}`, ok: p.ok, requests: p.requests }).toEqual({
      phase: `${p.stage} ${p.target} ${p.kind}`,
      ok: p.requests,
      requests: p.requests,
    });
    expect(p.follow.received).toBe(p.follow.expected);
    expect(p.follow.expected).toBe(p.requests);
  }
  for (const level of report.levels) {
    for (const target of [level.bot, level.baseline]) {
      expect(target.acksPerSec).toBeGreaterThan(0);
      expect(target.ackP99Ms).toBeGreaterThan(0);
      expect(target.followP99Ms).not.toBeNull();
      expect(target.eldP99Ms).toBeGreaterThan(0);
    }
    expect(level.ratio.acksPerSec).toBeGreaterThan(0);
  }
  expect(report.spawnToReadyMs.bot.samples).toHaveLength(1);
  expect(report.spawnToReadyMs.baseline.samples).toHaveLength(1);
  expect(report.targets.length).toBeGreaterThan(0);
});
