/**
 * Reconcile with Katapult: every upcoming record is compared, now and then, with the policy's
 * `auto_move_to_trash_at` in Katapult. A move changed or cleared outside Slack (Katapult's UI, the
 * API, a restore), a policy that is gone, or one already in the trash updates the record, replaces
 * or deletes the messages Slack holds for it, and posts a short note where they go.
 *
 * A policy is checked under its `policy:` lock (the one a request holds while it calls Katapult and
 * writes the record, and while it replaces the held messages), so only one replica checks it at a
 * time and a reschedule under way is never mistaken for a change made elsewhere. Katapult errors are logged (and counted by the Katapult
 * client's metrics) and the policy is checked again next time; nothing here throws out of a sweep.
 */
import { type AppLogger, errorText } from '../log.js';
import { failureCode, withWorkspaceToken } from './katapult-call.js';
import { followupsLock, LockBusyError, type Locks, policyLock } from './locks.js';
import type { UpcomingDeletion, UpcomingDeletions } from './upcoming.js';

/** What Katapult says about a policy now. */
export type Observed =
  | { kind: 'scheduled'; at: number | null }
  | { kind: 'not_found' }
  | { kind: 'in_trash' };

export type ReconcileAction =
  | { kind: 'none' }
  /** Katapult moves it at another (future) time: follow it. */
  | { kind: 'moved'; at: number }
  /** Katapult no longer moves it: the record and its held messages go. */
  | { kind: 'cleared' }
  /** The policy no longer exists in Katapult. */
  | { kind: 'gone' }
  /** It is in the trash already, before the time the bot announced. */
  | { kind: 'trashed_early' };

/**
 * The decision, pure. A record whose move has passed is left alone (it is kept for the restore
 * offer and the policy's state after the move is the trash's business), unless Katapult now moves
 * the policy again at a future time.
 */
export function decideReconcile(
  record: Pick<UpcomingDeletion, 'at'>,
  observed: Observed,
  nowSeconds: number,
): ReconcileAction {
  const ahead = record.at > nowSeconds;
  switch (observed.kind) {
    case 'scheduled':
      if (observed.at === record.at) return { kind: 'none' };
      if (observed.at !== null && observed.at > nowSeconds) return { kind: 'moved', at: observed.at };
      // Cleared, or due now and about to move (Katapult has not got to it yet).
      return ahead && observed.at === null ? { kind: 'cleared' } : { kind: 'none' };
    case 'not_found':
      return ahead ? { kind: 'gone' } : { kind: 'none' };
    case 'in_trash':
      return ahead ? { kind: 'trashed_early' } : { kind: 'none' };
  }
}

/** What reconciling needs from Slack (src/slack/ports/reconcile-surface.ts). */
export interface ReconcileSurface {
  /** Deletes the held messages and holds new ones for `at`; writes the record with the new time. */
  rehold(workspaceId: string, record: UpcomingDeletion, at: number): Promise<void>;
  /** Deletes the messages Slack holds for the record. */
  dropHeld(workspaceId: string, record: UpcomingDeletion): Promise<void>;
  /** A short note in the record's channel saying what changed. */
  note(
    workspaceId: string,
    record: UpcomingDeletion,
    action: Exclude<ReconcileAction, { kind: 'none' }>,
  ): Promise<void>;
}

export interface ReconcileDeps {
  upcoming: UpcomingDeletions;
  locks: Locks;
  tokens: Parameters<typeof withWorkspaceToken>[0];
  katapult: {
    getDiskBackupPolicy(token: string, policyId: string): Promise<{ autoMoveToTrashAt: number | null }>;
  };
  surface: ReconcileSurface;
  logger: AppLogger;
  now: () => number;
  /** 0: no periodic sweep (`sweep()` still works). */
  intervalMs: number;
  /** Every policy's check goes through it, so a shutdown can wait for the one under way. */
  track<T>(work: () => Promise<T>): Promise<T>;
}

export interface ReconcileSummary {
  /** Compared with Katapult. */
  checked: number;
  /** Left alone: another replica (or an earlier pass) checked them recently. */
  fresh: number;
  changed: number;
  /** Katapult or the store failed, or the policy was busy: checked again next time. */
  skipped: number;
}

export interface Reconciler {
  /**
   * One pass over every upcoming record now. `skipFreshMs`: leave records found in agreement with
   * Katapult less than this long ago (the periodic pass uses half the interval, so with several
   * replicas each policy is still checked about once per interval, not once per replica).
   */
  sweep(options?: { skipFreshMs?: number }): Promise<ReconcileSummary>;
  start(): void;
  stop(): void;
}

const PAGE = 100;
/** A policy busy for longer than this (a request under way) is left for the next sweep. */
const LOCK_WAIT_MS = 2_000;

export function createReconciler(deps: ReconcileDeps): Reconciler {
  const { logger } = deps;
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  let running: Promise<ReconcileSummary> | null = null;

  const pass = async (skipFreshMs: number): Promise<ReconcileSummary> => {
    const summary: ReconcileSummary = { checked: 0, fresh: 0, changed: 0, skipped: 0 };
    let after: string | undefined;
    for (;;) {
      const page = await deps.upcoming.page(after, PAGE);
      for (const { workspaceId, policyId } of page) {
        if (stopped) return summary;
        try {
          const outcome = await deps.track(() => reconcilePolicy(deps, workspaceId, policyId, skipFreshMs));
          if (outcome === 'fresh') summary.fresh++;
          if (outcome === 'same' || outcome === 'changed') summary.checked++;
          if (outcome === 'changed') summary.changed++;
        } catch (error) {
          summary.checked++;
          summary.skipped++;
          if (error instanceof SkipPolicy) continue;
          logger.event('warn', error instanceof LockBusyError ? 'reconcile_busy' : 'reconcile_failed', {
            policy_id: policyId,
            error: errorText(error),
          });
        }
      }
      if (page.length < PAGE) return summary;
      after = page[page.length - 1]?.key;
    }
  };

  const sweep = (options: { skipFreshMs?: number } = {}): Promise<ReconcileSummary> => {
    // One pass at a time in this process; a second caller shares it.
    running ??= pass(options.skipFreshMs ?? 0)
      .then((summary) => {
        if (summary.checked + summary.fresh > 0) logger.event('info', 'reconcile_sweep', { ...summary });
        return summary;
      })
      .catch((error: unknown) => {
        logger.event('error', 'reconcile_sweep_failed', {
          error: errorText(error),
        });
        return { checked: 0, fresh: 0, changed: 0, skipped: 0 };
      })
      .finally(() => {
        running = null;
      });
    return running;
  };

  return {
    sweep,
    start() {
      stopped = false;
      if (deps.intervalMs <= 0) return;
      // The first pass comes a while after start (spread over replicas and restarts), then every interval.
      const first = Math.min(deps.intervalMs, 600_000) * (0.5 + Math.random() / 2);
      const periodic = () => void sweep({ skipFreshMs: deps.intervalMs / 2 });
      timer = setTimeout(() => {
        periodic();
        timer = setInterval(periodic, deps.intervalMs);
        timer.unref();
      }, first);
      timer.unref();
    },
    stop() {
      stopped = true;
      clearTimeout(timer);
      clearInterval(timer);
    },
  };
}

/**
 * Checks one policy under its lock: 'gone' (no record any more), 'fresh' (checked recently), 'same'
 * (Katapult agrees, or a 404 not yet confirmed) or 'changed'. Throws SkipPolicy when Katapult did
 * not answer.
 */
function reconcilePolicy(
  deps: ReconcileDeps,
  workspaceId: string,
  policyId: string,
  skipFreshMs: number,
): Promise<'gone' | 'fresh' | 'same' | 'changed'> {
  const { logger } = deps;
  return deps.locks.withLock(
    policyLock(workspaceId, policyId),
    async () => {
      const record = await deps.upcoming.get(workspaceId, policyId);
      if (!record) return 'gone';
      const last = await deps.upcoming.lastCheck(workspaceId, policyId);
      if (skipFreshMs > 0 && last && deps.now() - last.at < skipFreshMs) return 'fresh';
      const observed = await observe(deps, workspaceId, policyId);
      if (typeof observed === 'string') {
        logger.event('warn', 'reconcile_katapult_failed', { policy_id: policyId, error: observed });
        throw new SkipPolicy();
      }
      const action = decideReconcile(record, observed, Math.floor(deps.now() / 1000));
      // A 404 is acted on only when an earlier pass saw it too: a passing glitch, or a token swapped
      // for a moment, must not withdraw the reminder and restore offer of a move that still happens.
      const unconfirmed = action.kind === 'gone' && !last?.missingSince;
      if (action.kind === 'none' || unconfirmed) {
        await deps.upcoming.markChecked(workspaceId, policyId, {
          at: deps.now(),
          missingSince: unconfirmed ? deps.now() : null,
        });
        if (unconfirmed) logger.event('warn', 'reconcile_policy_missing', { policy_id: policyId });
        return 'same';
      }
      logger.event('info', 'reconciled', {
        policy_id: policyId,
        change: action.kind,
        was: record.at,
        ...(action.kind === 'moved' ? { now: action.at } : {}),
      });
      await followChange(deps, workspaceId, policyId, record, action);
      await deps.surface.note(workspaceId, record, action);
      return 'changed';
    },
    { waitMs: LOCK_WAIT_MS },
  );
}

/** What Katapult says about the policy now, or the failure code when it could not tell. */
async function observe(
  deps: ReconcileDeps,
  workspaceId: string,
  policyId: string,
): Promise<Observed | string> {
  const result = await withWorkspaceToken(deps.tokens, workspaceId, (token) =>
    deps.katapult.getDiskBackupPolicy(token, policyId),
  );
  if (result.ok) return { kind: 'scheduled', at: result.value.autoMoveToTrashAt };
  const code = failureCode(result.failure);
  if (code === 'disk_backup_policy_not_found') return { kind: 'not_found' };
  if (code === 'object_in_trash') return { kind: 'in_trash' };
  return code;
}

/**
 * Brings the record and the messages Slack holds for it in line with Katapult, under the policy's
 * follow-ups lock: held again for the new time, or dropped (and the record kept as moved now, or
 * removed).
 */
async function followChange(
  deps: ReconcileDeps,
  workspaceId: string,
  policyId: string,
  record: UpcomingDeletion,
  action: Exclude<ReconcileAction, { kind: 'none' }>,
): Promise<void> {
  await deps.locks.withLock(followupsLock(workspaceId, policyId), async () => {
    if (action.kind === 'moved') {
      await deps.surface.rehold(workspaceId, record, action.at);
      return;
    }
    // Read again under this lock: a request's follow-ups may have replaced the held messages since.
    const held = (await deps.upcoming.get(workspaceId, policyId)) ?? record;
    await deps.surface.dropHeld(workspaceId, held);
    if (action.kind === 'trashed_early') {
      // Kept (for the restore offer in the note and App Home) as moved now.
      await deps.upcoming.put(workspaceId, {
        ...held,
        at: Math.floor(deps.now() / 1000),
        reminderMessageId: null,
        restoreMessageId: null,
      });
    } else {
      await deps.upcoming.remove(workspaceId, policyId);
    }
  });
}

/** Katapult could not answer for a policy: logged already, checked again next time. */
class SkipPolicy extends Error {}
