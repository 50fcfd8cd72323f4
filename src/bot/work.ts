/**
 * The bot's work: the workspaces' state in the store (access, freezes, upcoming deletions, the
 * audit trail), the request log and its workers, the approvals, the reconciler and the intake that
 * records submissions before they are acked.
 */

import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { webApi } from '@slack/bolt';
import { type AccessPolicies, createAccessPolicies } from '../access/access-policy.js';
import { createFreezes, type Freezes } from '../access/freeze.js';
import { type AuditRecorder, createAuditRecorder } from '../audit/record.js';
import { type AuditTrail, createAuditTrail } from '../audit/trail.js';
import type { Config } from '../config.js';
import type { InFlight } from '../lifecycle.js';
import { errorText } from '../log.js';
import { explain } from '../messages/explain.js';
import type { MetricsDeps } from '../metrics.js';
import { type ApprovalDeps, createApprovalHolds, createApprovalSweeper } from '../scheduling/approvals.js';
import { createDailyLimit, type DailyLimit } from '../scheduling/daily-limit.js';
import { createHeldIntake } from '../scheduling/held-intake.js';
import { createRequestIntake, type RequestIntake } from '../scheduling/intake.js';
import { createLocks, type Locks } from '../scheduling/locks.js';
import { createReconciler, type Reconciler } from '../scheduling/reconcile.js';
import { createRequestLog, type RequestLog } from '../scheduling/request-log.js';
import { createRequestWorker, type RequestWorker } from '../scheduling/request-worker.js';
import { createRetention, type Retention } from '../scheduling/retention.js';
import { runRequest } from '../scheduling/run-request.js';
import {
  carryOverUpcoming,
  createUpcomingDeletions,
  type UpcomingDeletions,
} from '../scheduling/upcoming.js';
import { stepTokenAad } from '../scheduling/workflow-step.js';
import { createUserDirectory, type UserDirectory } from '../slack/people/users.js';
import { createApprovalSurface } from '../slack/ports/approval-surface.js';
import { createReconcileSurface } from '../slack/ports/reconcile-surface.js';
import { createRequestSurface } from '../slack/ports/request-surface.js';
import { createStepCompleter } from '../slack/ports/workflow-step.js';
import type { Infrastructure } from './infrastructure.js';
import type { ClientFor } from './slack-clients.js';

/** The request record must be written within this, well inside Slack's 3 s, or the modal says so. */
const INTAKE_TIMEOUT_MS = 1_500;

/**
 * Longest an ack waits for its run to start (src/scheduling/held-intake.ts), within the intake's
 * 1.5 s and Slack's 3 s. Enough to slow a client that waits for each ack to the pace of the runs:
 * with 0.5 s, 64 connections on PostgreSQL still outran the 16 workers in one run of two (holds ran
 * out, posts' p99 4.2 s); with 1 s, posts' p99 0.6–0.8 s and acks' 0.59–0.76 s (docs/benchmarks.md).
 * A burst from many people is not held (its acks go first), only a sustained stream.
 */
const ACK_HOLD_MS = 1_000;

/** Each workspace's state in the store, and the audit trail. */
export interface WorkspaceState {
  access: AccessPolicies;
  freezes: Freezes;
  upcoming: UpcomingDeletions;
  users: UserDirectory;
  trail: AuditTrail;
  record: AuditRecorder;
}

export function createWorkspaceState(
  config: Config,
  { store, logger, now }: Pick<Infrastructure, 'store' | 'logger' | 'now'>,
): WorkspaceState {
  const access = createAccessPolicies(store.kv, config.defaultAccess);
  const freezes = createFreezes(store.kv, config.frozen);
  const upcoming = createUpcomingDeletions(store.docs);
  const users = createUserDirectory({ now });
  const trail = createAuditTrail(store.audit, store.docs, {
    retentionMs: config.audit.retentionDays * 86_400_000,
    adminRetentionMs: config.audit.adminRetentionDays * 86_400_000,
    maxPerWorkspace: config.audit.maxPerWorkspace,
    now,
  });
  const record = createAuditRecorder(trail, logger);
  return { access, freezes, upcoming, users, trail, record };
}

export interface Work {
  requests: RequestLog;
  locks: Locks;
  dailyLimit: DailyLimit;
  approvalDeps: ApprovalDeps;
  approvalSettings: { requiredByDefault: boolean; ttlMs: number };
  worker: RequestWorker;
  reconciler: Reconciler;
  /** Removes records nothing needs any more (src/scheduling/retention.ts), every RETENTION_SWEEP_MINUTES. */
  retention: Retention;
  intake: RequestIntake;
  /** Carries the upcoming deletions over, then starts the workers. */
  start(): Promise<void>;
  /** Stops the workers (what they run is tracked, and drained by the caller). */
  stop(): void;
}

/** Runs the work it is given, tracked: a shutdown waits for it. */
type Track = <T>(work: () => Promise<T>) => Promise<T>;

/** The request log and its workers: one owner identity per process for leases. */
export function createWork(
  config: Config,
  infra: Infrastructure,
  state: WorkspaceState,
  clientFor: ClientFor,
  inflight: InFlight,
  /** A one-attempt client for a workflow step's own token (never kept). */
  clientWith?: (token: string) => webApi.WebClient,
): Work {
  const { store, metricsDeps, now } = infra;
  const track: Track = (work) => inflight.run(work);
  const owner = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  const requests = createRequestLog(store.docs);
  metricsDeps.pendingRequests ??= pendingRequestsGauge(requests, now);
  const locks = createLocks(store.docs, { ttlMs: config.requests.leaseMs });
  const dailyLimit = createDailyLimit({ docs: store.docs, locks, now });
  const scheduling: Scheduling = { requests, locks, dailyLimit, owner, clientFor, track, clientWith };
  const approvals = createApprovals(config, infra, state, scheduling);
  const intakeLoad = countIntake(requests);
  const worker = createWorker(config, infra, state, scheduling, {
    approvalDeps: approvals.deps,
    yieldToIntake: () => intakeLoad.taking() > config.requests.concurrency,
  });
  const reconciler = createUpcomingReconciler(config, infra, state, scheduling);
  metricsDeps.workerQueue = () => worker.stats();
  const retention = createRetention({
    docs: store.docs,
    claims: store,
    now,
    logger: infra.logger,
    settings: config.retention,
    track,
  });
  metricsDeps.storedRecords = cachedCounts(() => retention.counts(), now);
  const intake = createHeldIntake(
    createRequestIntake({
      requests: intakeLoad.requests,
      owner,
      leaseMs: config.requests.leaseMs,
      timeoutMs: INTAKE_TIMEOUT_MS,
      kick: (id) => worker.kick(id),
      startEarly: (record, admission) => worker.startNow(record.id, { record, admission }),
      onLeftBehind: (id, error) =>
        infra.logger.event('error', 'refused_request_left', { request: id, error: errorText(error) }),
    }),
    worker,
    { holdMs: ACK_HOLD_MS, timeoutMs: INTAKE_TIMEOUT_MS },
  );
  return {
    requests,
    locks,
    dailyLimit,
    approvalDeps: approvals.deps,
    approvalSettings: approvals.settings,
    worker,
    reconciler,
    retention,
    intake,
    async start() {
      await startWork(infra, state, { worker, reconciler, approvalSweeper: approvals.sweeper });
      retention.start();
    },
    stop() {
      worker.stop();
      reconciler.stop();
      retention.stop();
      approvals.sweeper.stop();
    },
  };
}

/** The pending-request gauges, read from the request log at each scrape. */
function pendingRequestsGauge(
  requests: RequestLog,
  now: () => number,
): NonNullable<MetricsDeps['pendingRequests']> {
  return async () => {
    const pending = await requests.pending();
    const oldest = pending.oldestCreatedAt;
    return {
      count: pending.count,
      oldestAgeSeconds: oldest === null ? 0 : Math.max(0, (now() - oldest) / 1000),
    };
  };
}

/** What the request worker, the approvals and the reconciler share. */
interface Scheduling {
  requests: RequestLog;
  locks: Locks;
  dailyLimit: DailyLimit;
  owner: string;
  clientFor: ClientFor;
  track: Track;
  clientWith?: ((token: string) => webApi.WebClient) | undefined;
}

/** The approvals' dependencies, their settings and the sweeper that expires waiting requests. */
function createApprovals(
  config: Config,
  { logger, now, tokens, katapult, store }: Infrastructure,
  { record }: WorkspaceState,
  { requests, dailyLimit, owner, clientFor, track }: Scheduling,
) {
  const deps: ApprovalDeps = {
    requests,
    holds: createApprovalHolds(store.docs),
    surface: createApprovalSurface({ logger, tokens, katapult }, clientFor),
    record,
    logger,
    now,
    leaseMs: config.requests.leaseMs,
    dailyLimit,
  };
  const sweeper = createApprovalSweeper({ deps, owner, sweepMs: config.requests.sweepMs, track });
  const settings = { requiredByDefault: config.requireApproval, ttlMs: config.approvalTtlMs };
  return { deps, sweeper, settings };
}

/** The worker that runs accepted requests (runRequest), yielding to a burst of submissions. */
function createWorker(
  config: Config,
  { logger, metrics, now, tokens, katapult, box }: Infrastructure,
  state: WorkspaceState,
  { requests, locks, dailyLimit, owner, clientFor, track, clientWith }: Scheduling,
  { approvalDeps, yieldToIntake }: { approvalDeps: ApprovalDeps; yieldToIntake: () => boolean },
): RequestWorker {
  const { upcoming, record } = state;
  // Completes the Workflow Builder steps of requests a workflow started (issue 21, item 4).
  const stepCompleter = clientWith
    ? createStepCompleter({
        command: config.slack.command,
        open: (sealed, recordId) => box.open(sealed, stepTokenAad(recordId)),
        clientWith,
        clientFor,
        logger,
        metrics,
      })
    : {};
  const requestSurface = createRequestSurface(
    {
      users: state.users,
      access: state.access,
      logger,
      metrics,
      command: config.slack.command,
      upcoming,
      reminderLeadSeconds: config.reminderLeadMinutes * 60,
      freezes: state.freezes,
      now,
    },
    clientFor,
  );
  const surface = { ...requestSurface, ...stepCompleter };
  return createRequestWorker({
    requests,
    logger,
    yieldToIntake,
    sweepMs: config.requests.sweepMs,
    concurrency: config.requests.concurrency,
    track,
    run: (id, early) =>
      runRequest(
        {
          requests,
          surface,
          tokens,
          katapult,
          upcoming,
          locks,
          dailyLimit,
          record,
          explain: (failure) => explain(failure, { command: config.slack.command, operation: 'schedule' }),
          logger,
          now,
          owner,
          leaseMs: config.requests.leaseMs,
          maxAttempts: config.requests.maxAttempts,
          onOutcome: (outcome) => metrics.submission(outcome),
          onUnreadable: () => metrics.requestUnreadable(),
          approvals: approvalDeps,
        },
        id,
        early,
      ),
  });
}

/** Compares every upcoming deletion with Katapult, every RECONCILE_INTERVAL_MINUTES. */
function createUpcomingReconciler(
  config: Config,
  { logger, now, tokens, katapult, metrics }: Infrastructure,
  { upcoming }: WorkspaceState,
  { locks, clientFor, track }: Scheduling,
): Reconciler {
  return createReconciler({
    upcoming,
    locks,
    tokens,
    katapult,
    surface: createReconcileSurface(
      { upcoming, logger, reminderLeadSeconds: config.reminderLeadMinutes * 60, now },
      clientFor,
    ),
    logger,
    now,
    intervalMs: config.reconcileIntervalMinutes * 60_000,
    track,
    onUnproven: () => metrics.reconcileUnproven(),
    reminderLeadSeconds: config.reminderLeadMinutes * 60,
  });
}

/**
 * Awaited before the bot says it is ready: the carry-over fills the upcoming deletions that the
 * listeners show and the reconciler reads (a one-off; later starts only read one key). The
 * workers' first sweeps are started here, not waited for.
 */
async function startWork(
  { store, logger }: Infrastructure,
  { upcoming }: WorkspaceState,
  {
    worker,
    reconciler,
    approvalSweeper,
  }: Pick<Work, 'worker' | 'reconciler'> & {
    approvalSweeper: { start(): void; sweep(): Promise<void> };
  },
): Promise<void> {
  try {
    const copied = await carryOverUpcoming(store.kv, store.audit, upcoming);
    if (copied > 0) logger.event('info', 'upcoming_carried_over', { copied });
  } catch (error) {
    logger.event('error', 'upcoming_carry_over_failed', {
      error: errorText(error),
    });
  }
  worker.start();
  reconciler.start();
  approvalSweeper.start();
  void approvalSweeper.sweep();
}

/**
 * Submissions being recorded right now: while more than the workers can run arrive at once (a
 * burst), the workers wait, so that the acks go out first.
 */
function countIntake(requests: RequestLog): { requests: RequestLog; taking(): number } {
  let taking = 0;
  return {
    requests: {
      ...requests,
      async create(record, by, leaseMs) {
        taking++;
        try {
          return await requests.create(record, by, leaseMs);
        } finally {
          taking--;
        }
      },
    },
    taking: () => taking,
  };
}

/** How long a count of stored records is reused: counting every kind at each scrape would cost more than it tells. */
const COUNTS_TTL_MS = 5 * 60_000;

/** The stored-record counts, read at most once per COUNTS_TTL_MS (a failed read is tried again at the next scrape). */
function cachedCounts(
  read: () => Promise<Partial<Record<string, number>>>,
  now: () => number,
): () => Promise<Partial<Record<string, number>>> {
  let last: { at: number; counts: Promise<Partial<Record<string, number>>> } | null = null;
  return () => {
    if (!last || now() - last.at >= COUNTS_TTL_MS) {
      const counts = read();
      last = { at: now(), counts };
      counts.catch(() => {
        last = null;
      });
    }
    return last.counts;
  };
}
