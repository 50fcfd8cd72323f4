/**
 * bench/probe.mjs: 'release' reads memory after a memory-reducing GC, which gives back what an
 * ordinary full GC leaves mapped (the workspaces scenario gates its RSS growth on it).
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

test('after much garbage, RSS read after a release is well below RSS read after an ordinary GC', async () => {
  const probe = pathToFileURL(path.join(ROOT, 'bench/probe.mjs')).href;
  const child = spawn(process.execPath, ['--import', probe, '--input-type=module', '-e', CHURN], {
    env: { PATH: process.env.PATH, BENCH_PROBE: '1' },
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  try {
    await once(child, 'message');
    const ask = async (op: string) => {
      child.send({ type: 'bench:probe', op });
      const [answer] = (await once(child, 'message')) as { report: { rss: number; heapUsed: number } }[];
      return answer?.report ?? { rss: Number.NaN, heapUsed: Number.NaN };
    };
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
