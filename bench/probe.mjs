/**
 * Benchmark probe, preloaded into the bot and the baseline with `node --import ./bench/probe.mjs …`.
 * It does nothing unless the process was started by bench/run.ts (an IPC channel and
 * BENCH_PROBE=1). Then it:
 *   - samples event-loop delay with `monitorEventLoopDelay` (resolution BENCH_PROBE_RESOLUTION_MS,
 *     default 1 ms; every sample includes that interval),
 *   - samples process.memoryUsage.rss() every 50 ms and keeps the peak,
 *   - answers `{ type: 'bench:probe', id, op }` IPC messages, op = 'report' | 'reset' | 'gc'
 *     ('reset' clears the histogram and the peak after reporting; 'gc' reads the memory figures
 *     after a full GC, the event-loop figures before it),
 *   - exits when the IPC channel closes, so a killed benchmark leaves no orphan behind.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import v8 from 'node:v8';
import vm from 'node:vm';

if (typeof process.send === 'function' && process.env.BENCH_PROBE === '1') {
  const resolution = Math.max(1, Number(process.env.BENCH_PROBE_RESOLUTION_MS) || 1);
  const eld = monitorEventLoopDelay({ resolution });
  eld.enable();

  let peakRss = 0;
  const sampleRss = () => {
    const rss = process.memoryUsage.rss();
    if (rss > peakRss) peakRss = rss;
    return rss;
  };
  sampleRss();
  setInterval(sampleRss, 50).unref();

  /** @type {(() => void) | null} */
  let gc = null;
  const collect = () => {
    if (!gc) {
      v8.setFlagsFromString('--expose-gc');
      gc = vm.runInNewContext('gc');
    }
    gc();
    gc();
  };

  const ms = (ns) => (Number.isFinite(ns) ? ns / 1e6 : null);
  /** Event-loop delay and peak RSS of the window so far; with `gc`, memory is read after a full GC. */
  const report = (gcFirst) => {
    const count = eld.count;
    const loop = {
      resolutionMs: resolution,
      count,
      p50Ms: count ? ms(eld.percentile(50)) : null,
      p99Ms: count ? ms(eld.percentile(99)) : null,
      maxMs: count ? ms(eld.max) : null,
      meanMs: count ? ms(eld.mean) : null,
    };
    const peak = Math.max(peakRss, process.memoryUsage.rss());
    if (gcFirst) collect();
    const mem = process.memoryUsage();
    return {
      eld: loop,
      rss: mem.rss,
      peakRss: peak,
      heapUsed: mem.heapUsed,
      heapTotal: mem.heapTotal,
      external: mem.external,
      arrayBuffers: mem.arrayBuffers,
      afterGc: Boolean(gcFirst),
      uptimeMs: process.uptime() * 1000,
      /** Cumulative CPU time of the process (all threads), microseconds. */
      cpu: process.cpuUsage(),
    };
  };

  process.on('message', (msg) => {
    if (!msg || typeof msg !== 'object' || msg.type !== 'bench:probe') return;
    let answer;
    try {
      answer = { type: 'bench:probe', id: msg.id, ok: true, report: report(msg.op === 'gc') };
      if (msg.op === 'reset') {
        eld.reset();
        peakRss = 0;
        sampleRss();
      }
    } catch (error) {
      answer = { type: 'bench:probe', id: msg.id, ok: false, error: String(error) };
    }
    process.send?.(answer);
  });
  // The benchmark went away (finished, crashed or was killed): do not outlive it.
  process.on('disconnect', () => process.exit(0));
  process.channel?.unref();
}
