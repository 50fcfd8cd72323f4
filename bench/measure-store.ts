/**
 * Steps 2 to 6 of a benchmark run (see bench/run.ts) on one store: prepare it, time cold starts of
 * the three targets, warm them up, drive the measured phases in alternating rounds, soak the bot and
 * bare Bolt for the leak check, and stop them.
 */
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { StoreData } from './aggregate.js';
import type { StoreKind } from './options.js';
import { abortable, type PhaseContext, phaseLine, runPhase } from './phase.js';
import { launch, type ProbeReport, type Target, type TargetName } from './processes.js';
import type { Kind, Stage } from './report.js';
import { prepareStore } from './stores.js';
import { kindsOf, launchSpec, TARGETS } from './targets.js';

export const ROOT = fileURLToPath(new URL('..', import.meta.url));
export const PROBE_URL = pathToFileURL(path.join(ROOT, 'bench', 'probe.mjs')).href;
/** The targets the leak-check soak runs on. */
const SOAKED: readonly TargetName[] = ['bot', 'baseline'];

const perTarget = <T>(make: () => T) =>
  Object.fromEntries(TARGETS.map((n) => [n, make()])) as Record<TargetName, T>;

/** Steps 2 to 6 on one store; every target it started is stopped when it returns or throws. */
export async function measureStore(
  ctx: PhaseContext,
  store: StoreKind,
  log: (line: string) => void,
): Promise<StoreData & { targetsCpuMs: number }> {
  const { options, signal } = ctx;
  const running = new Map<TargetName, Target>();
  const logEvents = perTarget(() => ({
    stdout: {} as Record<string, number>,
    stderr: {} as Record<string, number>,
  }));
  const spawnSamples = perTarget((): number[] => []);
  const data: StoreData = {
    store,
    storeUrl: '',
    phases: [],
    spawnSamples,
    afterWarmup: {},
    after: {},
    logEvents,
  };
  const stop = async (target: Target) => {
    for (const stream of ['stdout', 'stderr'] as const) {
      const events = logEvents[target.name][stream];
      for (const [event, n] of Object.entries(target.logEvents[stream]))
        events[event] = (events[event] ?? 0) + n;
    }
    running.delete(target.name);
    await target.stop();
  };
  const phase = async (
    target: Target,
    kind: Kind,
    c: number,
    amount: number,
    stage: Stage,
    round: number,
  ) => {
    const result = await runPhase(ctx, target, kind, c, amount, stage, round);
    data.phases.push(result);
    log(`${store} ${phaseLine(result)}`);
  };
  const probeAll = async () => {
    const out: Partial<Record<TargetName, ProbeReport>> = {};
    for (const [name, target] of running) out[name] = await abortable(target.probe('gc'), signal);
    return out;
  };
  try {
    // 2. The store, then cold starts, alternating, each in a fresh data folder; the last three stay up.
    const prepared = await prepareStore(store, options.postgresUrl);
    data.storeUrl = prepared.shown;
    for (let i = 0; i < options.spawnSamples; i++) {
      for (const name of TARGETS) {
        const spec = launchSpec(name, options, ROOT, ctx.fakes, ctx.signingSecret, prepared.env);
        const target = await abortable(launch(spec, PROBE_URL), signal);
        running.set(name, target);
        spawnSamples[name].push(target.spawnToReadyMs);
        log(
          `${store} ${name}: spawn → /healthz 200 in ${target.spawnToReadyMs.toFixed(0)} ms (pid ${target.pid})`,
        );
        if (i < options.spawnSamples - 1) await stop(target);
      }
    }
    const targets = TARGETS.map((name) => running.get(name) as Target);
    const widest = Math.max(...options.concurrency);

    // 3. Warm-up, then the memory reference point.
    for (const target of options.warmup > 0 ? targets : []) {
      for (const kind of kindsOf(target.name, options.kinds)) {
        await phase(target, kind, widest, options.warmup, 'warmup', 0);
      }
    }
    data.afterWarmup = await probeAll();

    // 4. Measured phases: per concurrency, per round, each target in turn, each of its kinds.
    const perRound = Math.floor(options.requests / options.rounds);
    for (const connections of options.concurrency) {
      for (let r = 1; r <= options.rounds; r++) {
        for (const target of targets) {
          for (const kind of kindsOf(target.name, options.kinds)) {
            await phase(target, kind, connections, perRound, 'measure', r);
          }
        }
      }
    }

    // 5. Leak check: `leakRequests` more requests per target at the widest concurrency, in chunks
    // (both kinds, bot and bare Bolt alternating), memory read after a full GC after each chunk.
    const soaked = targets.filter((t) => SOAKED.includes(t.name));
    const chunk = Math.max(
      widest,
      Math.min(500, Math.floor(options.leakRequests / (10 * options.kinds.length))),
    );
    const sent: Record<string, number> = {};
    while ((sent.bot ?? 0) < options.leakRequests) {
      for (const target of soaked) {
        for (const kind of options.kinds) {
          const amount = Math.max(widest, Math.min(chunk, options.leakRequests - (sent[target.name] ?? 0)));
          await phase(target, kind, widest, amount, 'soak', 0);
          sent[target.name] = (sent[target.name] ?? 0) + amount;
        }
      }
    }
    data.after = await probeAll();
    const targetsCpuMs = Object.values(data.after).reduce(
      (n, r) => n + (r.cpu.user + r.cpu.system) / 1000,
      0,
    );

    // 6. Stop them.
    for (const target of targets) await stop(target);
    return { ...data, targetsCpuMs };
  } finally {
    await Promise.allSettled([...running.values()].map((t) => t.stop()));
  }
}
