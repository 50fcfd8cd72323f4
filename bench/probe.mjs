/**
 * Preloaded into every target by the benchmark (IPC channel and BENCH_PROBE=1): samples event-loop
 * delay and peak RSS, answers `{ type: 'bench:probe', op }` ('reset' also clears them; 'gc' reads
 * memory after a full GC, 'release' after a memory-reducing one), and exits when the IPC channel closes.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import v8 from 'node:v8';
import vm from 'node:vm';

if (typeof process.send === 'function' && process.env.BENCH_PROBE === '1') {
  const resolution = Math.max(1, Number(process.env.BENCH_PROBE_RESOLUTION_MS) || 1);
  const eld = monitorEventLoopDelay({ resolution });
  eld.enable();
  let peakRss = process.memoryUsage.rss();
  setInterval(() => {
    peakRss = Math.max(peakRss, process.memoryUsage.rss());
  }, 50).unref();
  let gc = null;

  const report = (op) => {
    const ms = (ns) => (eld.count && Number.isFinite(ns) ? ns / 1e6 : null);
    const loop = { p99Ms: ms(eld.percentile(99)), maxMs: ms(eld.max) };
    const peak = Math.max(peakRss, process.memoryUsage.rss());
    // CPU is read before the GC forced below: that is the benchmark's work (docs/benchmarks.md).
    const cpu = process.cpuUsage();
    if (op === 'gc' || op === 'release') {
      if (!gc) {
        v8.setFlagsFromString('--expose-gc');
        gc = vm.runInNewContext('gc');
      }
      // An ordinary full GC leaves mapped the pages it freed and the young generation's room (up to
      // 64 MB on Node 26, shrunk or not by the time of the reading: one target's post-GC RSS swung by
      // 45 MB between two runs of the same code); 'release' is the memory-reducing GC V8 runs under
      // memory pressure (Node 22 and 26), which gives them back. The gated figures read 'release'.
      if (op === 'release') gc({ type: 'major', execution: 'sync', flavor: 'last-resort' });
      else {
        gc();
        gc();
      }
    }
    const { rss, heapUsed, heapTotal, external } = process.memoryUsage();
    if (op === 'reset') {
      eld.reset();
      peakRss = process.memoryUsage.rss();
    }
    return {
      eld: loop,
      rss,
      peakRss: peak,
      heapUsed,
      heapTotal,
      external,
      cpu,
      forcedGcCpu: process.cpuUsage(cpu),
    };
  };

  process.on('message', (msg) => {
    if (msg?.type !== 'bench:probe') return;
    try {
      process.send?.({ report: report(msg.op) });
    } catch (error) {
      process.send?.({ error: String(error) });
    }
  });
  process.on('disconnect', () => process.exit(0));
  process.channel?.unref();
}
