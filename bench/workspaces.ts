/**
 * `--workspaces N`: the bot in OAuth mode with N installations in its store against the same bot with
 * one, in the numbered steps below; then the redactor's cost per log line with every workspace's
 * secrets (in this process). docs/benchmarks.md describes the steps.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import v8 from 'node:v8';
import vm from 'node:vm';
import type { Installation } from '@slack/bolt';
import { Redactor } from '../src/log.js';
import { createInstallationStore } from '../src/slack/platform/installation-store.js';
import { SecretBox } from '../src/store/crypto.js';
import { migrate } from '../src/store/migrations.js';
import { openStore } from '../src/store/open-store.js';
import { createTokenStore } from '../src/store/token-store.js';
import {
  fakeOrganizationId,
  FAKE_KATAPULT_DEFAULT_ORGANIZATION as ORGANIZATION,
} from '../support/fakes/katapult-catalogue.js';
import { FAKE_BOT_USER_ID } from '../support/fakes/slack-api.js';
import { type PhaseSummary, phaseLine, runPhase, type Stage, startHarness, USER } from './phase.js';
import { benchEncryptionKey, launch, type Target } from './processes.js';
import { inMB, problemsOf } from './report.js';
import type { BenchOptions, Hooks, Kind } from './run.js';
import { MB, percentile, round } from './stats.js';
import { workspacesTargets } from './targets.js';

const OAUTH_ENV = {
  SLACK_CLIENT_ID: '123.456',
  SLACK_CLIENT_SECRET: 'bench-client-secret-0123456789',
  SLACK_STATE_SECRET: 'bench-state-secret-0123456789',
};
/** OAuth mode: no bot token nor Katapult token of the deployment's own; access for admins. */
const OAUTH_MODE = {
  ...OAUTH_ENV,
  SLACK_BOT_TOKEN: undefined,
  KATAPULT_API_TOKEN: undefined,
  KATAPULT_DEFAULT_ACCESS: 'admins',
};
/** A stride coprime with 10 and 2, so consecutive requests land on workspaces far apart. */
const STRIDE = 7919;
export const teamId = (i: number) => `T0W${String(i).padStart(8, '0')}`;
/** Opaque and random-looking, as Katapult's are (no shared prefix: see redactorFigure). */
export const katapultTokenOf = (i: number) =>
  createHash('sha256').update(`bench-katapult-token-${i}`).digest('base64url').slice(0, 40);

/** Writes `count` installations and Katapult tokens into a fresh SQLite store in `dataDir`; returns the ms it took. */
export async function seed(dataDir: string, count: number, key: Buffer, organization: boolean) {
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
      // With the organization id (as `/katapult token` saves it) each command warms the policy picker:
      // a listing of the organization's policies. The fake has one organization for every workspace,
      // whose list grows with every submission of the run: off by default (--organization).
      const organizationId = organization ? fakeOrganizationId(ORGANIZATION) : null;
      const token = { token: katapultTokenOf(i), setBy: 'U0INSTALL', setAt: Math.floor(Date.now() / 1000) };
      await tokens.set(team, { ...token, organizationName: ORGANIZATION, organizationId });
    };
    for (let i = 0; i < count; i += 200)
      await Promise.all(Array.from({ length: Math.min(200, count - i) }, (_, j) => one(i + j)));
  } finally {
    await store.close();
  }
  return performance.now() - t0;
}

/**
 * The redactor's cost per log line with the secrets `count` installations bring (each workspace's bot
 * token and Katapult token), against the deployment's secrets alone: medians of 7 timed passes over
 * `lineCount` lines, in this process (the bots stopped). Its heap is read after a full GC.
 */
export function redactorFigure(count: number, lineCount = 20_000) {
  const line = (i: number) =>
    `{"level":"info","time":"2026-11-27T18:00:00.000Z","event":"request_done","workspace":"${teamId(i % Math.max(1, count))}",` +
    `"user":"${USER}","request":"req_${i.toString(36)}_0123456789abcdef","policy":"dbp_0123456789abcdef","outcome":"scheduled",` +
    `"at":${1_796_000_000 + i},"msg":"Deletion scheduled; reminder and restore offer held."}`;
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
  const time = (apply: (line: string) => string) => {
    const runs: number[] = [];
    let sink = 0;
    for (let pass = 0; pass < 8; pass++) {
      const t0 = performance.now();
      for (const l of lines) sink += apply(l).length;
      if (pass > 0) runs.push(((performance.now() - t0) * 1e6) / lines.length);
    }
    return sink > 0 ? (percentile(runs, 50) ?? Number.NaN) : Number.NaN;
  };
  v8.setFlagsFromString('--expose-gc');
  const gc = vm.runInNewContext('gc') as () => void;
  gc();
  const heapBefore = process.memoryUsage().heapUsed;
  const many = build(count);
  gc();
  const heapMB = (process.memoryUsage().heapUsed - heapBefore) / MB;
  const none = build(0);
  // A line with a secret in it: one redaction.
  const leak = (l: string) => `${l.slice(0, -1)},"leak":"${katapultTokenOf(7)}"}`;
  const noneNs = time((l) => none.apply(l));
  const manyNs = time((l) => many.apply(l));
  const oneSecretNs = time((l) => many.apply(leak(l)));
  return {
    lineChars: lines[0]?.length ?? 0,
    secrets: { deployment: 4, perWorkspace: 2 * count },
    nsPerLine: { deploymentOnly: round(noneNs, 0), withWorkspaces: round(manyNs, 0) },
    ratio: round(manyNs / noneNs, 2),
    heapMB: round(heapMB, 1),
    nsPerLineWithOneSecret: round(oneSecretNs, 0),
  };
}

type Memory = ReturnType<typeof inMB> & { stage: string };
type Calls = { stage: Stage; kind: Kind; round: number; perRequest: Record<string, number> };
type Side = { label: 'one' | 'many'; workspaces: number; dataDir: string; target: Target; seedMs: number } & {
  phases: PhaseSummary[];
  memory: Memory[];
  calls: Calls[];
  cursor: number;
};

export async function runWorkspaces(options: BenchOptions, hooks: Hooks = {}) {
  const log = hooks.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const { workspaces: count, kinds, rounds, warmup } = options;
  const [concurrency, perRound] = [options.concurrency[0] ?? 8, Math.floor(options.requests / rounds)];
  const ctx = await startHarness(options, hooks.signal);
  const tokens = Array.from({ length: count }, (_, i) => [katapultTokenOf(i), ORGANIZATION]);
  ctx.fakes.katapult.setTokens(Object.fromEntries(tokens));
  const sides: Side[] = [];
  const memOf = async (side: Side, stage: string, op: 'gc' | 'release' = 'gc') => {
    const report = await side.target.probe(op);
    side.memory.push({ stage, ...inMB(report) });
    return report;
  };
  try {
    // 1–2. Seed, then start.
    const key = benchEncryptionKey(ctx.signingSecret);
    for (const [label, workspaces] of [['one', 1] as const, ['many', count] as const]) {
      const dataDir = await mkdtemp(path.join(tmpdir(), `katapult-bench-ws-${label}-`));
      const seedMs = await seed(dataDir, workspaces, key, options.organization);
      log(`${label}: ${workspaces} installation(s) seeded in ${(seedMs / 1000).toFixed(1)} s`);
      const target = await launch(ctx, 'bot', { ...OAUTH_MODE, DATA_DIR: dataDir });
      log(`${label}: started in ${target.spawnToReadyMs.toFixed(0)} ms`);
      sides.push({
        label,
        workspaces,
        dataDir,
        target,
        seedMs,
        phases: [],
        memory: [],
        calls: [],
        cursor: 0,
      });
    }
    // Calls from the installations' tokens carry no request id (users.info, chat.scheduleMessage…):
    // none is charged to a phase; each phase waits until the fakes have seen none for 300 ms instead.
    ctx.tokenOf = () => 'xoxb-none';
    ctx.teamFor = (target) => {
      const side = sides.find((s) => s.target === target) as Side;
      return teamId((side.cursor++ * STRIDE) % side.workspaces);
    };
    ctx.settle = async () => {
      const total = () => Object.values(ctx.fakes.stray).reduce((a, b) => a + b, 0);
      let [last, quietSince] = [total(), Date.now()];
      for (const until = Date.now() + 5000; Date.now() < until && Date.now() - quietSince < 300; ) {
        await new Promise((resolve) => setTimeout(resolve, 50));
        if (total() !== last) [last, quietSince] = [total(), Date.now()];
      }
    };
    const phase = async (side: Side, kind: Kind, amount: number, stage: Stage, round = 0) => {
      const before = { ...ctx.fakes.stray };
      const data = await runPhase(ctx, side.target, { kind, concurrency, stage, round }, amount);
      side.phases.push(data.summary);
      // Outbound calls without a request id, per request (users.info, policy listings, scheduleMessage…).
      const perRequest: Record<string, number> = {};
      for (const [method, n] of Object.entries(ctx.fakes.stray))
        if (n > (before[method] ?? 0)) perRequest[method] = round2((n - (before[method] ?? 0)) / amount);
      side.calls.push({ stage, kind, round, perRequest });
      log(`${side.label.padEnd(4)} ${phaseLine(data)}`);
      return data.summary.cpuMsPerRequest ?? Number.NaN;
    };
    for (const side of sides) await memOf(side, 'started');
    // 3. Warm-up, then every workspace once.
    for (const side of warmup > 0 ? sides : [])
      for (const kind of kinds) await phase(side, kind, warmup, 'warmup');
    for (let sent = 0; options.touch && sent < count; sent += 2000) {
      for (const side of sides) {
        await phase(side, 'command', Math.min(2000, count - sent), 'soak');
        await memOf(side, `touched ${Math.min(sent + 2000, count)}`);
      }
    }
    // 4. Alternating rounds (one, many; many, one…).
    const ratios: Record<Kind, number[]> = { command: [], submission: [] };
    for (let r = 1; r <= rounds; r++) {
      const cpu = new Map<string, number>();
      for (const side of r % 2 === 1 ? sides : [...sides].reverse())
        for (const kind of kinds)
          cpu.set(`${side.label} ${kind}`, await phase(side, kind, perRound, 'measure', r));
      for (const kind of kinds)
        ratios[kind].push((cpu.get(`many ${kind}`) ?? 0) / (cpu.get(`one ${kind}`) ?? 0));
    }
    const [one, many] = [await memOf(sides[0] as Side, 'end'), await memOf(sides[1] as Side, 'end')];
    // The gate reads RSS after a memory-reducing GC: after an ordinary one, the freed pages and the
    // young generation's room that V8 keeps mapped swung the difference by tens of MB between runs
    // of the same code (+64.5 and +7.9 MB); what grows with the workspaces is left.
    const freed = (side: Side | undefined) => memOf(side as Side, 'end, memory-reducing GC', 'release');
    const [oneFreed, manyFreed] = [await freed(sides[0]), await freed(sides[1])];
    // 5. Compare.
    // Per round: CPU ms per request, and the probe's forced GC (ms in all, not in the former).
    const cpuOf = (
      side: Side | undefined,
      k: Kind,
      f: 'cpuMsPerRequest' | 'forcedGcCpuMs' = 'cpuMsPerRequest',
    ) => side?.phases.filter((p) => p.stage === 'measure' && p.kind === k).map((p) => p[f]);
    const ofKind = (k: Kind) => ({
      ratioMedian: round(percentile(ratios[k], 50), 3),
      ratios: ratios[k].map((v) => round(v, 3)),
      oneCpuMs: cpuOf(sides[0], k),
      manyCpuMs: cpuOf(sides[1], k),
      oneForcedGcMs: cpuOf(sides[0], k, 'forcedGcCpuMs'),
      manyForcedGcMs: cpuOf(sides[1], k, 'forcedGcCpuMs'),
    });
    for (const side of sides) await side.target.stop();
    const redactor = redactorFigure(count, options.redactorLines);
    log(`redactor: ${JSON.stringify(redactor)}`);
    const bySide = <T>(f: (s: Side) => T) => Object.fromEntries(sides.map((s) => [s.label, f(s)]));
    const { touch, bot, organization } = options;
    const more = { touch, kinds, bot, cpuProf: options.cpuProfDir !== null, organization };
    const settings = { workspaces: count, requests: perRound, rounds, concurrency, warmup, ...more };
    const cpuRatio = round(percentile(Object.values(ratios).flat(), 50), 3);
    return {
      startedAt: new Date().toISOString(),
      settings,
      seedSeconds: bySide((s) => round(s.seedMs / 1000, 1)),
      targets: workspacesTargets(cpuRatio, round((manyFreed.rss - oneFreed.rss) / MB, 1)),
      rssGrowthAfterOrdinaryGcMB: round((many.rss - one.rss) / MB, 1),
      perKind: Object.fromEntries(kinds.map((k) => [k, ofKind(k)])),
      redactor,
      memory: bySide((s) => s.memory),
      callsPerRequest: bySide((s) => s.calls.filter((c) => c.stage !== 'warmup')),
      logEvents: bySide((s) => s.target.logEvents),
      stray: { ...ctx.fakes.stray },
      problems: sides.flatMap((s) => problemsOf(s.label, s.phases, {}, options.followTimeoutMs)),
    };
  } finally {
    await ctx.close();
    await Promise.allSettled(sides.map((s) => rm(s.dataDir, { recursive: true, force: true })));
  }
}

const round2 = (v: number) => round(v, 2) ?? 0;
