/**
 * `npx tsx bench/workspaces.ts [--workspaces 10000]` (after `npm run build`): the bot in OAuth mode
 * with N installations in its store against the same bot with one, in the same run.
 *
 *   1. seed two SQLite stores through the bot's own code (src/slack/platform/installation-store.ts and
 *      src/store/token-store.ts, sealed with the run's key): one with a single installation, one with
 *      N, each workspace with its own bot token (`xoxb-installed-<team>-secret`, which the fake
 *      Slack reads as that team's) and its own Katapult token (which the fake Katapult accepts);
 *   2. start both bots (`node dist/main.js`, SLACK_CLIENT_ID/SECRET/STATE_SECRET set) on them;
 *   3. warm both up, then "touch": one command per workspace to the N-workspace bot (every workspace
 *      seen once, so every per-workspace cache is as full as it gets), as many to the other;
 *   4. alternating rounds (one, many, one, many…), commands then submissions, each request of the
 *      N-workspace bot from the next workspace in a stride over all N;
 *   5. compare: CPU per request (median of per-round ratios, many / one), post-GC RSS (many − one).
 * Writes bench/results/workspaces.json and prints a Markdown summary. Noisy on a shared machine:
 * rerun and compare medians.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import type { Installation } from '@slack/bolt';
import { Redactor } from '../src/log.js';
import { createInstallationStore } from '../src/slack/platform/installation-store.js';
import { SecretBox } from '../src/store/crypto.js';
import { migrate } from '../src/store/migrations.js';
import { openStore } from '../src/store/open-store.js';
import { createTokenStore } from '../src/store/token-store.js';
import {
  FAKE_KATAPULT_DEFAULT_ORGANIZATION,
  fakeOrganizationId,
} from '../support/fakes/katapult-catalogue.js';
import { FAKE_BOT_USER_ID } from '../support/fakes/slack-api.js';
import { startInstrumentedFakes } from './fakes.js';
import { LoadGenerator } from './load.js';
import { PROBE_URL, ROOT } from './measure-store.js';
import { parseOptions } from './options.js';
import { type PhaseContext, type PhaseData, phaseLine, runPhase, USER } from './phase.js';
import { killAll, launch, type ProbeReport, type Target } from './processes.js';
import type { Kind, Stage } from './report.js';
import { MB, median, round } from './stats.js';
import { benchEncryptionKey, launchSpec } from './targets.js';

/** The organization the fake Katapult gives its default token (support/fakes/katapult-api.ts). */
const ORGANIZATION = FAKE_KATAPULT_DEFAULT_ORGANIZATION;
const OAUTH_ENV = {
  SLACK_CLIENT_ID: '123.456',
  SLACK_CLIENT_SECRET: 'bench-client-secret-0123456789',
  SLACK_STATE_SECRET: 'bench-state-secret-0123456789',
};
/** A stride coprime with 10 and 2, so consecutive requests land on workspaces far apart. */
const STRIDE = 7919;

export const teamId = (i: number) => `T0W${String(i).padStart(8, '0')}`;
/** Opaque and random-looking, as Katapult's are (no shared prefix: see redactorFigure). */
export const katapultTokenOf = (i: number) =>
  createHash('sha256').update(`bench-katapult-token-${i}`).digest('base64url').slice(0, 40);

/** Writes `count` installations and Katapult tokens into a fresh SQLite store in `dataDir`. */
export async function seed(
  dataDir: string,
  count: number,
  key: Buffer,
  withOrganization: boolean,
): Promise<number> {
  const t0 = performance.now();
  const store = await openStore(`sqlite://${path.join(dataDir, 'katapult-chatops.sqlite')}`, {
    retentionMs: 90 * 86_400_000,
    maxPerWorkspace: 10_000,
    onError: () => undefined,
  });
  try {
    await migrate(store);
    const box = new SecretBox(key, []);
    const installations = createInstallationStore(store.kv, box, new Redactor());
    const tokens = createTokenStore(store.kv, box);
    const one = async (i: number) => {
      const team = teamId(i);
      const installation: Installation<'v2', false> = {
        team: { id: team, name: `Team ${team}` },
        enterprise: undefined,
        user: { id: 'U0INSTALL', token: undefined, scopes: undefined },
        tokenType: 'bot',
        isEnterpriseInstall: false,
        appId: 'A0FAKE001',
        authVersion: 'v2',
        bot: {
          scopes: ['commands', 'chat:write', 'chat:write.public', 'users:read', 'usergroups:read'],
          token: `xoxb-installed-${team}-secret`,
          userId: FAKE_BOT_USER_ID,
          id: 'BFAKE0001',
        },
      };
      await installations.storeInstallation(installation);
      await tokens.set(team, {
        token: katapultTokenOf(i),
        setBy: 'U0INSTALL',
        setAt: Math.floor(Date.now() / 1000),
        organizationName: ORGANIZATION,
        // With it (as `/katapult token` saves it) each command warms the policy picker: a listing of
        // the organization's policies. The fake has one organization for every workspace, whose list
        // grows with every submission of the run (to 1,000 listed by the 10th page): off by default.
        organizationId: withOrganization ? fakeOrganizationId(ORGANIZATION) : null,
      });
    };
    const batch = 200;
    for (let i = 0; i < count; i += batch) {
      await Promise.all(Array.from({ length: Math.min(batch, count - i) }, (_, j) => one(i + j)));
    }
  } finally {
    await store.close();
  }
  return performance.now() - t0;
}

/**
 * The redactor's cost per log line with the secrets `count` installations bring (each workspace's
 * bot token and Katapult token), against the deployment's secrets alone: medians of 7 timed passes
 * over 20,000 lines, in this process (the bots idle or stopped).
 */
export function redactorFigure(count: number, lineCount = 20_000) {
  const line = (i: number) =>
    JSON.stringify({
      level: 'info',
      time: '2026-11-27T18:00:00.000Z',
      event: 'request_done',
      workspace: teamId(i % Math.max(1, count)),
      user: USER,
      request: `req_${i.toString(36)}_0123456789abcdef`,
      policy: 'dbp_0123456789abcdef',
      outcome: 'scheduled',
      at: 1_796_000_000 + i,
      msg: 'Deletion scheduled; reminder and restore offer held.',
    });
  const lines = Array.from({ length: lineCount }, (_, i) => line(i));
  const build = (n: number) => {
    const redactor = new Redactor();
    for (const secret of [...Object.values(OAUTH_ENV), randomBytes(32).toString('base64')])
      redactor.add(secret);
    for (let i = 0; i < n; i++) {
      redactor.remember(`installation:${teamId(i)}`, `xoxb-installed-${teamId(i)}-secret`);
      redactor.remember(`katapult:${teamId(i)}`, katapultTokenOf(i));
    }
    return redactor;
  };
  const time = (redactor: Redactor) => {
    const runs: number[] = [];
    let sink = 0;
    for (let pass = 0; pass < 8; pass++) {
      const t0 = performance.now();
      for (const l of lines) sink += redactor.apply(l).length;
      if (pass > 0) runs.push(((performance.now() - t0) * 1e6) / lines.length);
    }
    if (sink === 0) throw new Error('unreachable');
    return median(runs) ?? Number.NaN;
  };
  globalThis.gc?.();
  const heapBefore = process.memoryUsage().heapUsed;
  const many = build(count);
  globalThis.gc?.();
  const heapMB = (process.memoryUsage().heapUsed - heapBefore) / MB;
  const none = build(0);
  const noneNs = time(none);
  const manyNs = time(many);
  return {
    lineChars: lines[0]?.length ?? 0,
    secrets: { deployment: 4, perWorkspace: 2 * count },
    nsPerLine: { deploymentOnly: round(noneNs, 0), withWorkspaces: round(manyNs, 0) },
    ratio: round(manyNs / noneNs, 2),
    heapMB: globalThis.gc ? round(heapMB, 1) : null,
    // A line with a secret in it: one redaction.
    nsPerLineWithOneSecret: round(
      time({
        apply: (l: string) => many.apply(`${l.slice(0, -1)},"leak":"${katapultTokenOf(7)}"}`),
      } as Redactor),
      0,
    ),
  };
}

interface Side {
  label: 'one' | 'many';
  workspaces: number;
  dataDir: string;
  target: Target;
  cursor: number;
  seedMs: number;
  phases: PhaseData['summary'][];
  memory: { stage: string; rssMB: number; heapUsedMB: number; heapTotalMB: number; externalMB: number }[];
  calls: { stage: Stage; kind: Kind; round: number; perRequest: Record<string, number> }[];
}

const memOf = (stage: string, r: ProbeReport) => ({
  stage,
  rssMB: round(r.rss / MB, 1) ?? 0,
  heapUsedMB: round(r.heapUsed / MB, 1) ?? 0,
  heapTotalMB: round(r.heapTotal / MB, 1) ?? 0,
  externalMB: round(r.external / MB, 1) ?? 0,
});

export async function runWorkspaces(opts: {
  workspaces: number;
  requests: number;
  rounds: number;
  concurrency: number;
  warmup: number;
  touch: boolean;
  kinds: Kind[];
  bot: 'dist' | 'src';
  /** Start both bots with `node --cpu-prof` (profiles in bench/results/profiles). */
  cpuProf?: boolean;
  /** Log lines the redactor's figure is timed over (default 20,000; the smoke test uses fewer). */
  redactorLines?: number;
  /** Seed the Katapult tokens with their organization (commands then list its policies). */
  organization?: boolean;
  log?: (line: string) => void;
}) {
  const log = opts.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const options = parseOptions([
    '--store',
    'sqlite',
    '--bot',
    opts.bot,
    ...(opts.cpuProf ? ['--cpu-prof'] : []),
  ]);
  if (!options) throw new Error('unreachable');
  const fakes = await startInstrumentedFakes({
    katapultLatencyMs: options.katapultLatencyMs,
    users: { [USER]: { tz: 'Europe/London', is_admin: true } },
  });
  const katapultTokens: Record<string, string> = {};
  for (let i = 0; i < opts.workspaces; i++) katapultTokens[katapultTokenOf(i)] = ORGANIZATION;
  fakes.katapult.setTokens(katapultTokens);
  const load = new LoadGenerator();
  const signingSecret = randomBytes(24).toString('hex');
  const key = benchEncryptionKey(signingSecret);
  const benchEld = monitorEventLoopDelay({ resolution: 1 });
  benchEld.enable();
  const sides: Side[] = [];
  let runCounter = 0;
  const controller = new AbortController();
  try {
    // 1–2. Seed, then start.
    for (const [label, workspaces] of [
      ['one', 1],
      ['many', opts.workspaces],
    ] as const) {
      const dataDir = await mkdtemp(path.join(tmpdir(), `katapult-bench-ws-${label}-`));
      const seedMs = await seed(dataDir, workspaces, key, opts.organization ?? false);
      log(`${label}: ${workspaces} installation(s) seeded in ${(seedMs / 1000).toFixed(1)} s`);
      const spec = launchSpec('bot', options, ROOT, fakes, signingSecret, {});
      const { SLACK_BOT_TOKEN: _bot, KATAPULT_API_TOKEN: _kt, ...env } = spec.env;
      const target = await launch(
        { ...spec, env: { ...env, ...OAUTH_ENV, DATA_DIR: dataDir, KATAPULT_DEFAULT_ACCESS: 'admins' } },
        PROBE_URL,
      );
      log(`${label}: started in ${target.spawnToReadyMs.toFixed(0)} ms (pid ${target.pid})`);
      sides.push({
        label,
        workspaces,
        dataDir,
        target,
        cursor: 0,
        seedMs,
        phases: [],
        memory: [],
        calls: [],
      });
    }
    const byUrl = new Map(sides.map((s) => [s.target.baseUrl, s]));
    const ctx: PhaseContext = {
      fakes,
      load,
      signingSecret,
      options,
      benchEld,
      signal: controller.signal,
      tokenOf: () => 'xoxb-none',
      root: ROOT,
      nextRun: () => ++runCounter,
      // Calls from the OAuth tokens carry no request id (users.info, chat.scheduleMessage…): wait
      // until the fakes have seen none for 300 ms, so no phase's work spills into the next.
      settle: async () => {
        const total = () => Object.values(fakes.stray).reduce((a, b) => a + b, 0);
        const until = Date.now() + 5000;
        let last = total();
        let quietSince = Date.now();
        while (Date.now() < until && Date.now() - quietSince < 300) {
          await new Promise((resolve) => setTimeout(resolve, 50));
          const now = total();
          if (now !== last) {
            last = now;
            quietSince = Date.now();
          }
        }
      },
      teamFor: (baseUrl) => {
        const side = byUrl.get(baseUrl) as Side;
        return teamId((side.cursor++ * STRIDE) % side.workspaces);
      },
    };
    const phase = async (side: Side, kind: Kind, amount: number, stage: Stage, r: number) => {
      const before = { ...fakes.stray };
      const data = await runPhase(ctx, side.target, kind, opts.concurrency, amount, stage, r);
      side.phases.push(data.summary);
      // Outbound calls without a request id, per request (users.info, policy listings, scheduleMessage…).
      const calls: Record<string, number> = {};
      for (const [method, n] of Object.entries(fakes.stray)) {
        const d = n - (before[method] ?? 0);
        if (d > 0) calls[method] = round(d / amount, 2) ?? 0;
      }
      side.calls.push({ stage, kind, round: r, perRequest: calls });
      log(`${side.label.padEnd(4)} ${phaseLine(data)} CPU ${data.summary.cpuMsPerRequest} ms/req`);
      if (data.summary.non200 > 0 || data.summary.follow.received < data.summary.follow.expected) {
        log(
          `  ${side.label}: ${data.summary.non200} not 200, follow-ups ${data.summary.follow.received}/${data.summary.follow.expected}`,
        );
      }
      return data;
    };
    for (const side of sides) side.memory.push(memOf('started', await side.target.probe('gc')));

    // 3. Warm-up, then every workspace once.
    for (const side of opts.warmup > 0 ? sides : []) {
      for (const kind of opts.kinds) await phase(side, kind, opts.warmup, 'warmup', 0);
    }
    if (opts.touch) {
      const chunk = 2000;
      for (let sent = 0; sent < opts.workspaces; sent += chunk) {
        for (const side of sides) {
          await phase(side, 'command', Math.min(chunk, opts.workspaces - sent), 'soak', 0);
          side.memory.push(
            memOf(`touched ${Math.min(sent + chunk, opts.workspaces)}`, await side.target.probe('gc')),
          );
        }
      }
    }

    // 4. Alternating rounds.
    const ratios: Record<Kind, number[]> = { command: [], submission: [] };
    for (let r = 1; r <= opts.rounds; r++) {
      const cpu: Record<'one' | 'many', Partial<Record<Kind, number>>> = { one: {}, many: {} };
      for (const side of r % 2 === 1 ? sides : [...sides].reverse()) {
        for (const kind of opts.kinds) {
          const data = await phase(side, kind, opts.requests, 'measure', r);
          cpu[side.label][kind] = data.summary.cpuMsPerRequest ?? Number.NaN;
        }
      }
      for (const kind of opts.kinds)
        ratios[kind].push((cpu.many[kind] ?? Number.NaN) / (cpu.one[kind] ?? Number.NaN));
    }
    const final: Record<string, ProbeReport> = {};
    for (const side of sides) {
      final[side.label] = await side.target.probe('gc');
      side.memory.push(memOf('end', final[side.label] as ProbeReport));
    }

    // 5. Compare.
    const allRatios = opts.kinds.flatMap((k) => ratios[k]);
    const cpuRatio = median(allRatios) ?? Number.NaN;
    const rssGrowthMB = ((final.many as ProbeReport).rss - (final.one as ProbeReport).rss) / MB;
    const perKind = Object.fromEntries(
      opts.kinds.map((k) => [
        k,
        {
          ratioMedian: round(median(ratios[k]), 3),
          ratios: ratios[k].map((v) => round(v, 3)),
          oneCpuMs: sides[0]?.phases
            .filter((p) => p.stage === 'measure' && p.kind === k)
            .map((p) => p.cpuMsPerRequest),
          manyCpuMs: sides[1]?.phases
            .filter((p) => p.stage === 'measure' && p.kind === k)
            .map((p) => p.cpuMsPerRequest),
        },
      ]),
    );
    killAll();
    const redactor = redactorFigure(opts.workspaces, opts.redactorLines);
    log(`redactor: ${JSON.stringify(redactor)}`);
    const problems = sides.flatMap((s) =>
      s.phases
        .filter((p) => p.non200 > 0 || p.follow.received < p.follow.expected)
        .map(
          (p) =>
            `${s.label} ${p.stage} ${p.kind}: ${p.non200} not 200, ${p.follow.received}/${p.follow.expected}`,
        ),
    );
    return {
      startedAt: new Date().toISOString(),
      settings: opts,
      seedSeconds: Object.fromEntries(sides.map((s) => [s.label, round(s.seedMs / 1000, 1)])),
      targets: [
        {
          target: 'CPU per request, many / one (median of per-round ratios, both kinds)',
          threshold: '≤ 1.10×',
          measured: round(cpuRatio, 3),
          met: cpuRatio <= 1.1,
        },
        {
          target: 'post-GC RSS, many − one (after the same requests)',
          threshold: '≤ +30 MB',
          measured: round(rssGrowthMB, 1),
          met: rssGrowthMB <= 30,
        },
      ],
      perKind,
      redactor,
      memory: Object.fromEntries(sides.map((s) => [s.label, s.memory])),
      callsPerRequest: Object.fromEntries(
        sides.map((s) => [s.label, s.calls.filter((c) => c.stage !== 'warmup')]),
      ),
      logEvents: Object.fromEntries(sides.map((s) => [s.label, s.target.logEvents])),
      stray: { ...fakes.stray },
      problems,
    };
  } finally {
    killAll();
    benchEld.disable();
    await Promise.allSettled([
      load.close(),
      fakes.close(),
      ...sides.map((s) => rm(s.dataDir, { recursive: true, force: true })),
    ]);
  }
}

const invokedDirectly =
  process.argv[1] && path.resolve(process.argv[1]) === path.join(ROOT, 'bench', 'workspaces.ts');
if (invokedDirectly) {
  const { values } = parseArgs({
    options: {
      workspaces: { type: 'string', default: '10000' },
      requests: { type: 'string', default: '300' },
      rounds: { type: 'string', default: '4' },
      concurrency: { type: 'string', default: '8' },
      warmup: { type: 'string', default: '200' },
      'no-touch': { type: 'boolean', default: false },
      kinds: { type: 'string', default: 'command,submission' },
      bot: { type: 'string', default: 'dist' },
      'cpu-prof': { type: 'boolean', default: false },
      organization: { type: 'boolean', default: false },
    },
  });
  const result = await runWorkspaces({
    workspaces: Number(values.workspaces),
    requests: Number(values.requests),
    rounds: Number(values.rounds),
    concurrency: Number(values.concurrency),
    warmup: Number(values.warmup),
    touch: !values['no-touch'],
    kinds: (values.kinds as string).split(',') as Kind[],
    bot: values.bot === 'src' ? 'src' : 'dist',
    cpuProf: values['cpu-prof'],
    organization: values.organization,
  });
  const json = `${JSON.stringify(result, null, 2)}\n`;
  process.stdout.write(json);
  await mkdir(path.join(ROOT, 'bench/results'), { recursive: true });
  await writeFile(path.join(ROOT, 'bench/results', 'workspaces.json'), json);
}
