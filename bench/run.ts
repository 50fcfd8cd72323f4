/**
 * `npm run bench`: load-tests the bot against a bare Bolt app (the baseline) under the same traffic.
 *
 * One run, in numbered steps below:
 *   1. start the fake Slack and fake Katapult (support/fakes, in this process) and the load
 *      generator (autocannon in a worker thread);
 *   2. time cold starts of the bot (`node dist/main.js`) and of the baseline
 *      (bench/baseline-app.mjs), alternating, both with bench/probe.mjs preloaded; the last pair stays up;
 *   3. warm both up, then read their memory after a full GC;
 *   4. per concurrency level and round, drive bot, baseline, bot, baseline… with Slack-signed slash
 *      commands and view submissions (bench/phase.ts: one phase);
 *   5. a leak-check soak, memory read after a full GC at the end of each chunk;
 *   6. stop both, and aggregate the phases into the report (bench/aggregate.ts).
 * The CLI prints the report as Markdown and writes it as JSON (bench/results/latest.json) and into
 * docs/benchmarks.md. See docs/benchmarks.md for what each figure means.
 *
 * `runBenchmark` is the entry point for the smoke test; run this file to use the CLI (--help).
 */

import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { FAKE_KATAPULT_VALID_TOKEN } from '../support/fakes/katapult-api.js';
import { buildReport, TARGETS } from './aggregate.js';
import { type InstrumentedFakes, startInstrumentedFakes } from './fakes.js';
import { LoadGenerator } from './load.js';
import { machineMeter } from './machine.js';
import { type BenchOptions, parseOptions, USAGE, UsageError } from './options.js';
import { abortable, type PhaseContext, type PhaseData, phaseLine, runPhase, USER } from './phase.js';
import { killAll, launch, type ProbeReport, type Target, type TargetName } from './processes.js';
import { type BenchReport, type Kind, renderMarkdown, type Stage, updateDocs } from './report.js';
import { hrMs, round } from './stats.js';

export const ROOT = fileURLToPath(new URL('..', import.meta.url));
const PROBE_URL = pathToFileURL(path.join(ROOT, 'bench', 'probe.mjs')).href;

/** Different tokens, so the fake Slack can tell whose call it is. */
const SLACK_TOKENS: Record<TargetName, string> = {
  bot: 'xoxb-bench-bot-0000-1111',
  baseline: 'xoxb-bench-baseline-0000-1111',
};

export interface RunHooks {
  /** Progress lines (default: stderr). */
  log?: (line: string) => void;
  signal?: AbortSignal;
}

/** The child's command line after `node --import <probe>`. */
function targetArgs(name: TargetName, options: BenchOptions, botEntry: string): string[] {
  const profile = options.cpuProfDir
    ? [
        '--cpu-prof',
        `--cpu-prof-dir=${path.resolve(ROOT, options.cpuProfDir)}`,
        `--cpu-prof-name=${name}-${Date.now()}.cpuprofile`,
      ]
    : [];
  if (name === 'baseline') return [...profile, path.join(ROOT, 'bench/baseline-app.mjs')];
  if (options.bot === 'dist') return [...profile, botEntry];
  const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
  return [...profile, '--import', tsx, botEntry];
}

function targetEnv(name: TargetName, options: BenchOptions, fakes: InstrumentedFakes, secret: string) {
  return {
    ...(process.env.PATH ? { PATH: process.env.PATH } : {}),
    ...(process.env.HOME ? { HOME: process.env.HOME } : {}),
    SLACK_BOT_TOKEN: SLACK_TOKENS[name],
    SLACK_SIGNING_SECRET: secret,
    SLACK_API_URL: fakes.slack.apiUrl,
    KATAPULT_API_URL: fakes.katapult.baseUrl,
    KATAPULT_API_TOKEN: FAKE_KATAPULT_VALID_TOKEN,
    PORT: '0',
    TOKEN_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
    LOG_LEVEL: 'info',
    BENCH_PROBE: '1',
    BENCH_PROBE_RESOLUTION_MS: String(options.eldResolutionMs),
    ...(options.bot === 'src' ? { TSX_TSCONFIG_PATH: path.join(ROOT, 'tsconfig.json') } : {}),
  };
}

export async function runBenchmark(options: BenchOptions, hooks: RunHooks = {}): Promise<BenchReport> {
  const log = hooks.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const controller = new AbortController();
  const { signal } = controller;
  const onOuterAbort = () => controller.abort(hooks.signal?.reason ?? new Error('aborted'));
  hooks.signal?.addEventListener('abort', onOuterAbort, { once: true });
  const deadline =
    options.deadlineMs === null
      ? null
      : setTimeout(
          () => controller.abort(new Error(`benchmark deadline of ${options.deadlineMs} ms passed`)),
          options.deadlineMs,
        );
  // Last resort if this process exits abruptly: no child may outlive it.
  process.once('exit', killAll);

  const startedAt = new Date();
  const meter = machineMeter(ROOT);
  const t0 = hrMs();
  const botEntry = path.join(ROOT, options.bot === 'dist' ? 'dist/main.js' : 'src/main.ts');
  if (!existsSync(botEntry)) {
    throw new Error(`${botEntry} is missing${options.bot === 'dist' ? ': run `npm run build` first' : ''}`);
  }

  let fakes: InstrumentedFakes | null = null;
  let load: LoadGenerator | null = null;
  const benchEld = monitorEventLoopDelay({ resolution: 1 });
  const running: Partial<Record<TargetName, Target>> = {};
  const logEvents: BenchReport['logEvents'] = {
    bot: { stdout: {}, stderr: {} },
    baseline: { stdout: {}, stderr: {} },
  };
  const spawnSamples: Record<TargetName, number[]> = { bot: [], baseline: [] };
  const phases: PhaseData[] = [];

  try {
    // 1. The fakes and the load generator.
    fakes = await startInstrumentedFakes({
      katapultLatencyMs: options.katapultLatencyMs,
      users: { [USER]: { tz: 'Europe/London', is_admin: true } },
    });
    load = new LoadGenerator();
    const signingSecret = randomBytes(24).toString('hex');
    let runCounter = 0;
    const ctx: PhaseContext = {
      fakes,
      load,
      signingSecret,
      options,
      benchEld,
      signal,
      tokenOf: (name) => SLACK_TOKENS[name],
      root: ROOT,
      nextRun: () => ++runCounter,
    };
    const start = async (name: TargetName): Promise<Target> => {
      const spec = {
        name,
        args: targetArgs(name, options, botEntry),
        env: targetEnv(name, options, ctx.fakes, signingSecret),
        readyTimeoutMs: options.bot === 'src' ? 40_000 : 20_000,
      };
      const target = await abortable(launch(spec, PROBE_URL), signal);
      spawnSamples[name].push(target.spawnToReadyMs);
      log(
        `${name}: spawn → /healthz 200 in ${target.spawnToReadyMs.toFixed(0)} ms (pid ${target.pid}, port ${target.port})`,
      );
      return target;
    };
    const stop = async (target: Target) => {
      const events = logEvents[target.name];
      for (const stream of ['stdout', 'stderr'] as const) {
        for (const [event, n] of Object.entries(target.logEvents[stream])) {
          events[stream][event] = (events[stream][event] ?? 0) + n;
        }
      }
      await target.stop();
      delete running[target.name];
    };
    const phase = async (
      target: Target,
      kind: Kind,
      c: number,
      amount: number,
      stage: Stage,
      round: number,
    ) => {
      const data = await runPhase(ctx, target, kind, c, amount, stage, round);
      phases.push(data);
      log(phaseLine(data));
    };
    const probeAll = async (targets: Target[]) => {
      const out: Partial<Record<TargetName, ProbeReport>> = {};
      for (const target of targets) out[target.name] = await abortable(target.probe('gc'), signal);
      return out;
    };

    // 2. Cold starts, alternating, each in a fresh data folder; the last pair stays up.
    for (let i = 0; i < options.spawnSamples; i++) {
      for (const name of TARGETS) {
        const target = await start(name);
        running[name] = target;
        if (i < options.spawnSamples - 1) await stop(target);
      }
    }
    const targets = TARGETS.map((name) => running[name] as Target);
    const kinds = options.kinds;
    const widest = Math.max(...options.concurrency);

    // 3. Warm-up, then the memory reference point.
    benchEld.enable();
    if (options.warmup > 0) {
      for (const target of targets) {
        for (const kind of kinds) await phase(target, kind, widest, options.warmup, 'warmup', 0);
      }
    }
    const afterWarmup = await probeAll(targets);

    // 4. Measured phases: per concurrency, per round, bot then baseline, each kind in turn.
    const perRound = Math.floor(options.requests / options.rounds);
    for (const connections of options.concurrency) {
      for (let r = 1; r <= options.rounds; r++) {
        for (const target of targets) {
          for (const kind of kinds) await phase(target, kind, connections, perRound, 'measure', r);
        }
      }
    }

    // 5. Leak check: `leakRequests` more requests at the widest concurrency, in chunks (both kinds,
    // bot and baseline alternating), memory read after a full GC at the end of each chunk.
    const chunk = Math.max(widest, Math.min(500, Math.floor(options.leakRequests / (10 * kinds.length))));
    const soaked: Record<string, number> = {};
    while ((soaked.bot ?? 0) < options.leakRequests) {
      for (const target of targets) {
        for (const kind of kinds) {
          const amount = Math.max(widest, Math.min(chunk, options.leakRequests - (soaked[target.name] ?? 0)));
          await phase(target, kind, widest, amount, 'soak', 0);
          soaked[target.name] = (soaked[target.name] ?? 0) + amount;
        }
      }
    }
    const after = await probeAll(targets);
    const targetsCpuMs = Object.values(after).reduce((n, r) => n + (r.cpu.user + r.cpu.system) / 1000, 0);
    const machine = meter.finish(targetsCpuMs, hrMs() - t0);

    // 6. Stop both, and aggregate.
    for (const target of targets) await stop(target);
    return buildReport({
      options,
      machine,
      startedAt,
      finishedAt: new Date(),
      durationSec: round((hrMs() - t0) / 1000, 1) ?? 0,
      phases,
      spawnSamples,
      afterWarmup,
      after,
      logEvents,
      strayCalls: { ...fakes.stray },
    });
  } finally {
    if (deadline) clearTimeout(deadline);
    benchEld.disable();
    hooks.signal?.removeEventListener('abort', onOuterAbort);
    await Promise.allSettled(Object.values(running).map((t) => t.stop()));
    killAll();
    process.removeListener('exit', killAll);
    await Promise.allSettled([load?.close(), fakes?.close()]);
  }
}

/** Writes the JSON report and updates the docs page, as the options say. */
export async function writeOutputs(
  report: BenchReport,
  markdown: string,
  options: BenchOptions,
): Promise<string[]> {
  const written: string[] = [];
  if (options.out) {
    const file = path.resolve(ROOT, options.out);
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(file, `${JSON.stringify(report, null, 2)}\n`);
    written.push(path.relative(ROOT, file));
  }
  if (options.docs) {
    const file = path.resolve(ROOT, options.docs);
    await mkdir(path.dirname(file), { recursive: true });
    await updateDocs(file, markdown);
    // The project's formatter also formats Markdown: keep the page as `biome check` wants it.
    try {
      const biome = createRequire(import.meta.url).resolve('@biomejs/biome/bin/biome');
      execFileSync(process.execPath, [biome, 'format', '--write', file], { cwd: ROOT, stdio: 'ignore' });
    } catch {
      process.stderr.write(`note: could not run biome format on ${file}; run npm run format\n`);
    }
    written.push(path.relative(ROOT, file));
  }
  return written;
}

async function cli(): Promise<number> {
  let options: BenchOptions | null;
  try {
    options = parseOptions(process.argv.slice(2));
  } catch (error) {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n\n${USAGE}`);
    return error instanceof UsageError || (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')
      ? 2
      : 1;
  }
  if (!options) {
    process.stdout.write(USAGE);
    return 0;
  }
  const controller = new AbortController();
  const interrupt = (signal: NodeJS.Signals) => {
    process.stderr.write(`\n${signal}: stopping the benchmark and its processes…\n`);
    controller.abort(new Error(`interrupted by ${signal}`));
  };
  process.once('SIGINT', interrupt);
  process.once('SIGTERM', interrupt);
  const report = await runBenchmark(options, { signal: controller.signal });
  const markdown = renderMarkdown(report);
  process.stdout.write(`\n${markdown}\n`);
  const written = await writeOutputs(report, markdown, options);
  if (written.length) process.stderr.write(`wrote ${written.join(', ')}\n`);
  if (options.smoke) {
    const failed = report.phases.some((p) => p.non200 > 0 || p.follow.received < p.follow.expected);
    return failed ? 1 : 0;
  }
  return 0;
}

const invokedDirectly =
  process.argv[1] !== undefined && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href;
if (invokedDirectly) {
  cli().then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      process.stderr.write(
        `benchmark failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
      );
      process.exitCode = 1;
    },
  );
}
