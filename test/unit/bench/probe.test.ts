/**
 * bench/probe.mjs: 'release' reads memory after a memory-reducing GC, which gives back what an
 * ordinary full GC leaves mapped (the workspaces scenario gates its RSS growth on it); the CPU it
 * reports is read before that GC, whose own CPU is reported apart (no phase is charged for it).
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { ROOT } from '../../../bench/processes.js';

/** Makes some 400 MB of short-lived objects, then waits for the probe. */
const CHURN = `
let keep = [];
for (let i = 0; i < 4_000_000; i++) {
  keep.push({ i, s: 'item-' + i });
  if (keep.length > 200_000) keep = keep.slice(100_000);
}
keep = null;
process.send({ ready: true });
setInterval(() => {}, 1000);
`;

/** Keeps some 200 MB of small objects alive (a full GC marks them all), then waits for the probe. */
const LIVE = `
const keep = Array.from({ length: 2_500_000 }, (_, i) => ({ i, s: 'item-' + i }));
process.send({ ready: keep.length });
setInterval(() => {}, 1000);
`;

function probed(code: string) {
  const probe = pathToFileURL(path.join(ROOT, 'bench/probe.mjs')).href;
  const child = spawn(process.execPath, ['--import', probe, '--input-type=module', '-e', code], {
    env: { PATH: process.env.PATH, BENCH_PROBE: '1' },
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  type Report = { rss: number; heapUsed: number; cpu: NodeJS.CpuUsage; forcedGcCpu: NodeJS.CpuUsage };
  const ask = async (op: string): Promise<Report> => {
    child.send({ type: 'bench:probe', op });
    const [answer] = (await once(child, 'message')) as { report: Report }[];
    if (!answer) throw new Error('no answer');
    return answer.report;
  };
  return { child, ask, ready: once(child, 'message') };
}

test("a release's GC is reported apart: the CPU it reports was read before that GC", async () => {
  const { child, ask, ready } = probed(LIVE);
  const ms = (c: NodeJS.CpuUsage) => (c.user + c.system) / 1000;
  try {
    await ready;
    const before = await ask('report');
    const released = await ask('release');
    const gcMs = ms(released.forcedGcCpu);
    // Measured: 33 ms for the GC, 0.3 ms between the two readings without it.
    expect(gcMs).toBeGreaterThan(10);
    expect(ms(released.cpu) - ms(before.cpu)).toBeLessThan(gcMs / 2);
    expect(ms((await ask('report')).forcedGcCpu)).toBeLessThan(gcMs / 2);
  } finally {
    child.kill();
  }
}, 30_000);

test('after much garbage, RSS read after a release is well below RSS read after an ordinary GC', async () => {
  const { child, ask, ready } = probed(CHURN);
  try {
    await ready;
    const ordinary = await ask('gc');
    const released = await ask('release');
    const MB = 1024 * 1024;
    // Measured: 228 MB after the ordinary GC, 60 MB after the release, the same few MB of heap.
    expect(ordinary.rss - released.rss).toBeGreaterThan(50 * MB);
    expect(Math.abs(ordinary.heapUsed - released.heapUsed)).toBeLessThan(5 * MB);
  } finally {
    child.kill();
  }
}, 30_000);
