/**
 * `npm run bench`: load-tests the bot against two baselines under the same traffic: bare Bolt
 * (bench/baseline-app.mjs) and same-work (bench/same-work-app.mjs, a bare Bolt app doing the bot's
 * work by hand on the same store).
 *
 * One run, in the numbered steps below:
 *   1. start the fake Slack and fake Katapult (support/fakes, in this process) and the load
 *      generator (autocannon in a worker thread);
 *   then, for each store (--store: SQLite, PostgreSQL or both):
 *   2. prepare the store (bench/stores.ts) and time cold starts of the bot (`node dist/main.js`),
 *      bare Bolt and same-work, alternating, each with bench/probe.mjs preloaded; the last three stay up;
 *   3. warm them up, then read their memory after a full GC;
 *   4. per concurrency level and round, drive bot, bare Bolt, same-work, bot… with Slack-signed
 *      slash commands and view submissions (bench/phase.ts: one phase; same-work gets submissions only);
 *   5. a leak-check soak of the bot and bare Bolt, memory read after a full GC after each chunk;
 *   6. stop them;
 *   and last:
 *   7. aggregate the phases into the report and judge the targets (bench/aggregate.ts, report.ts).
 * The CLI prints the report as Markdown and writes it as JSON (bench/results/latest.json) and into
 * docs/benchmarks.md. See docs/benchmarks.md for what each figure means.
 *
 * Steps 2 to 6 are bench/measure-store.ts. `runBenchmark` is the entry point for the smoke test;
 * run this file to use the CLI (--help).
 */

import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { buildReport, type StoreData } from './aggregate.js';
import { type InstrumentedFakes, startInstrumentedFakes } from './fakes.js';
import { LoadGenerator } from './load.js';
import { machineMeter } from './machine.js';
import { measureStore, ROOT } from './measure-store.js';
import { type BenchOptions, parseOptions, USAGE, UsageError } from './options.js';
import { type PhaseContext, USER } from './phase.js';
import { killAll } from './processes.js';
import { type BenchReport, renderMarkdown, updateDocs } from './report.js';
import { hrMs, round } from './stats.js';
import { SLACK_TOKENS } from './targets.js';

export { PROBE_URL, ROOT } from './measure-store.js';

export interface RunHooks {
  /** Progress lines (default: stderr). */
  log?: (line: string) => void;
  signal?: AbortSignal;
}

/** Steps 1 and 7 here; 2 to 6 per store in bench/measure-store.ts. */
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

  try {
    // 1. The fakes and the load generator.
    fakes = await startInstrumentedFakes({
      katapultLatencyMs: options.katapultLatencyMs,
      users: { [USER]: { tz: 'Europe/London', is_admin: true } },
    });
    load = new LoadGenerator();
    let runCounter = 0;
    const ctx: PhaseContext = {
      fakes,
      load,
      signingSecret: randomBytes(24).toString('hex'),
      options,
      benchEld,
      signal,
      tokenOf: (name) => SLACK_TOKENS[name],
      root: ROOT,
      nextRun: () => ++runCounter,
    };
    benchEld.enable();

    // 2–6, per store.
    const stores: StoreData[] = [];
    let targetsCpuMs = 0;
    for (const store of options.stores) {
      const measured = await measureStore(ctx, store, log);
      stores.push(measured);
      targetsCpuMs += measured.targetsCpuMs;
    }

    // 7. Aggregate and judge.
    return buildReport({
      options,
      machine: meter.finish(targetsCpuMs, hrMs() - t0),
      startedAt,
      finishedAt: new Date(),
      durationSec: round((hrMs() - t0) / 1000, 1) ?? 0,
      stores,
      strayCalls: { ...fakes.stray },
    });
  } finally {
    if (deadline) clearTimeout(deadline);
    benchEld.disable();
    hooks.signal?.removeEventListener('abort', onOuterAbort);
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
    const failed = report.stores.some((r) =>
      r.phases.some((p) => p.non200 > 0 || p.follow.received < p.follow.expected),
    );
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
