/**
 * Preloaded into every target by the benchmark (IPC channel and BENCH_PROBE=1): samples event-loop
 * delay and peak RSS, answers `{ type: 'bench:probe', op }` ('reset' also clears them; 'gc' reads
 * memory after a full GC), and exits when the IPC channel closes.
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
    if (op === 'gc') {
      if (!gc) {
        v8.setFlagsFromString('--expose-gc');
        gc = vm.runInNewContext('gc');
      }
      // A full GC that also gives back what V8 keeps only for speed: a plain gc() leaves the young
      // generation at the size the load grew it to (up to 64 MB on Node 26), and whether V8 has shrunk
      // it yet by the time of the reading is timing, which swung one target's post-GC RSS by 45 MB
      // between two runs of the same code. 'last-resort' is V8's collection under memory pressure
      // (Node 22 and 26): young generation shrunk, every collectable object collected.
      gc({ type: 'major', execution: 'sync', flavor: 'last-resort' });
    }
    const { rss, heapUsed, heapTotal, external } = process.memoryUsage();
    if (op === 'reset') {
      eld.reset();
      peakRss = process.memoryUsage.rss();
    }
    return { eld: loop, rss, peakRss: peak, heapUsed, heapTotal, external, cpu: process.cpuUsage() };
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
