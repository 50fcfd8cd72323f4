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
 *
 * Katapult answers 404 both for a policy that is gone and for one the token cannot see (another
 * organization's), so a 404 is believed only when Katapult confirms that the token reaches the
 * policy's organization (`provenGone`); otherwise the record is kept and an admin is told, once per
 * token. Only records whose move is ahead, or within the restore window after it, are checked.
 */
import { isKatapultError } from '../katapult/errors.js';
import { type AppLogger, errorText } from '../log.js';
import { failureCode, withWorkspaceToken } from './katapult-call.js';
import { followupsLock, LockBusyError, type Locks, policyLock } from './locks.js';
import { periodic } from './periodic.js';
import {
  isLive,
  KEEP_AFTER_MOVE_SECONDS,
  type MessageState,
  type UpcomingDeletion,
  type UpcomingDeletions,
} from './upcoming.js';

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
  /**
   * Deletes the messages Slack holds for the record: false when Slack may still hold one (the record
   * then keeps naming them, and the next pass tries again).
   */
  dropHeld(workspaceId: string, record: UpcomingDeletion): Promise<boolean>;
  /** A short note in the record's channel saying what changed. */
  note(
    workspaceId: string,
    record: UpcomingDeletion,
    action: Exclude<ReconcileAction, { kind: 'none' }>,
  ): Promise<void>;
  /**
   * Tells an admin that Katapult says the record's policy does not exist but the token may belong
   * to another organization, so nothing was withdrawn: privately to `userId` (who set the token),
   * or in the record's channel when nobody did (the deployment's fallback token). Sent once per
   * workspace and token; failures are logged.
   */
  tellUnproven(
    workspaceId: string,
    notice: { record: UpcomingDeletion; userId: string | null },
  ): Promise<void>;
  // --- Issue 21: the request's one message, moved on by this pass. ---
  /** Edits the record's request message to name `state` (a record without one: nothing). */
  showState?(workspaceId: string, record: UpcomingDeletion, state: MessageState): Promise<void>;
}

/** Whom Katapult says a token belongs to (src/katapult/identity.ts). */
export interface TokenIdentity {
  organizations: { id: string; name: string }[];
}

export interface ReconcileDeps {
  upcoming: UpcomingDeletions;
  locks: Locks;
  tokens: Parameters<typeof withWorkspaceToken>[0];
  katapult: {
    getDiskBackupPolicy(token: string, policyId: string): Promise<{ autoMoveToTrashAt: number | null }>;
    /** The token's organizations: a 404 is believed only when they cover the policy's. */
    identify(token: string): Promise<TokenIdentity>;
  };
  surface: ReconcileSurface;
  /**
   * A 404 that could not be proven to mean "gone" (the record was kept): once per policy and pass.
   * For the `katapult_chatops_reconcile_unproven_total` counter.
   */
  onUnproven?(workspaceId: string): void;
  logger: AppLogger;
  now: () => number;
  /** 0: no periodic sweep (`sweep()` still works). */
  intervalMs: number;
  /** Every policy's check goes through it, so a shutdown can wait for the one under way. */
  track<T>(work: () => Promise<T>): Promise<T>;
  // --- Issue 21: when the reminder is due (its lead before the move; 0 or absent: no reminder state). ---
  reminderLeadSeconds?: number;
}

export interface ReconcileSummary {
  /** Compared with Katapult. */
  checked: number;
  /** Left alone: another replica (or an earlier pass) checked them recently. */
  fresh: number;
  changed: number;
  /** Katapult or the store failed, or the policy was busy: checked again next time. */
  skipped: number;
  /** Katapult answered 404 but the token may not reach the policy's organization: kept (among `checked`). */
  unproven: number;
}

export interface Reconciler {
  /**
   * One pass over the upcoming records whose move is ahead or within the restore window
   * (KEEP_AFTER_MOVE_SECONDS) now; older ones are not read. `skipFreshMs`: leave records found in agreement with
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
  let stopped = false;
  let running: Promise<ReconcileSummary> | null = null;

  const pass = async (skipFreshMs: number): Promise<ReconcileSummary> => {
    const summary = emptySummary();
    const memo = newPassMemo();
    const fromSeconds = Math.floor(deps.now() / 1000) - KEEP_AFTER_MOVE_SECONDS;
    for await (const workspaceId of workspacesWithRecords(deps.upcoming)) {
      if (stopped) return summary;
      for (const policyId of await policiesToCheck(deps.upcoming, workspaceId, fromSeconds)) {
        if (stopped) return summary;
        try {
          const outcome = await deps.track(() =>
            reconcilePolicy(deps, memo, workspaceId, policyId, skipFreshMs),
          );
          if (outcome === 'fresh') summary.fresh++;
          if (outcome === 'same' || outcome === 'changed' || outcome === 'unproven') summary.checked++;
          if (outcome === 'changed') summary.changed++;
          if (outcome === 'unproven') summary.unproven++;
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
    }
    return summary;
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
        return emptySummary();
      })
      .finally(() => {
        running = null;
      });
    return running;
  };

  const timer = periodic(() => void sweep({ skipFreshMs: deps.intervalMs / 2 }), deps.intervalMs, 600_000);

  return {
    sweep,
    start() {
      stopped = false;
      // The first pass within 10 minutes of start, then every interval.
      timer.start();
    },
    stop() {
      stopped = true;
      timer.stop();
    },
  };
}

function emptySummary(): ReconcileSummary {
  return { checked: 0, fresh: 0, changed: 0, skipped: 0, unproven: 0 };
}

/**
 * Each workspace that has upcoming records, once. Only the index's keys are read (the records of a
 * workspace are then listed by time, from the window's start), in the store's key order.
 */
async function* workspacesWithRecords(upcoming: UpcomingDeletions): AsyncGenerator<string> {
  // A set rather than "the key prefix changed": with a linguistic collation (PostgreSQL's default
  // may be one) one workspace's keys need not be next to each other.
  const seen = new Set<string>();
  let after: string | undefined;
  for (;;) {
    const page = await upcoming.page(after, PAGE);
    for (const { workspaceId } of page) {
      if (seen.has(workspaceId)) continue;
      seen.add(workspaceId);
      yield workspaceId;
    }
    if (page.length < PAGE) return;
    after = page[page.length - 1]?.key;
  }
}

/**
 * A workspace's policies whose move is at or after `fromSeconds`, read before any is checked (a
 * check may move or remove its record, which would shift the pages).
 */
async function policiesToCheck(
  upcoming: UpcomingDeletions,
  workspaceId: string,
  fromSeconds: number,
): Promise<string[]> {
  const ids = new Set<string>();
  for (let offset = 0; ; offset += PAGE) {
    const page = await upcoming.list(workspaceId, { fromSeconds, limit: PAGE, offset });
    for (const record of page) ids.add(record.policyId);
    if (page.length < PAGE) return [...ids];
  }
}

/**
 * What one pass asks of Katapult and the token store at most once per workspace: whom the token
 * belongs to, the token's status, and whether the unproven note was claimed.
 */
interface PassMemo {
  identities: Map<string, { token: string; identity: Promise<TokenIdentity> }>;
  statuses: Map<string, ReturnType<ReconcileDeps['tokens']['status']>>;
  told: Set<string>;
}

function newPassMemo(): PassMemo {
  return { identities: new Map(), statuses: new Map(), told: new Set() };
}

/** Whom Katapult says the workspace's token belongs to (asked once per pass and token). */
function identityOf(deps: ReconcileDeps, memo: PassMemo, workspaceId: string, token: string) {
  const known = memo.identities.get(workspaceId);
  if (known?.token === token) return known.identity;
  const identity = deps.katapult.identify(token);
  memo.identities.set(workspaceId, { token, identity });
  // A failure is not kept: the next policy of the workspace asks again.
  identity.catch(() => {
    if (memo.identities.get(workspaceId)?.identity === identity) memo.identities.delete(workspaceId);
  });
  return identity;
}

function statusOf(deps: ReconcileDeps, memo: PassMemo, workspaceId: string) {
  let status = memo.statuses.get(workspaceId);
  if (!status) {
    status = deps.tokens.status(workspaceId);
    memo.statuses.set(workspaceId, status);
  }
  return status;
}

/**
 * Checks one policy under its lock: 'gone' (no record any more), 'fresh' (checked recently), 'same'
 * (Katapult agrees, or a 404 not yet confirmed), 'unproven' (a 404 the token's organizations do not
 * account for: kept) or 'changed'. Throws SkipPolicy when Katapult did not answer.
 */
function reconcilePolicy(
  deps: ReconcileDeps,
  memo: PassMemo,
  workspaceId: string,
  policyId: string,
  skipFreshMs: number,
): Promise<'gone' | 'fresh' | 'same' | 'unproven' | 'changed'> {
  const { logger } = deps;
  return deps.locks.withLock(
    policyLock(workspaceId, policyId),
    async () => {
      const { record, version } = await deps.upcoming.read(workspaceId, policyId);
      if (!record) return 'gone';
      const last = await deps.upcoming.lastCheck(workspaceId, policyId);
      if (skipFreshMs > 0 && last && deps.now() - last.at < skipFreshMs) return 'fresh';
      const seen = await observe(deps, workspaceId, policyId);
      if (typeof seen === 'string') {
        logger.event('warn', 'reconcile_katapult_failed', { policy_id: policyId, error: seen });
        throw new SkipPolicy();
      }
      const { observed, token } = seen;
      let organizations = await learnOrganizations(
        deps,
        memo,
        workspaceId,
        token,
        observed,
        last?.organizations ?? null,
      );
      const action = decideReconcile(record, observed, Math.floor(deps.now() / 1000));
      if (action.kind === 'gone') {
        const proof = await provenGone(deps, memo, workspaceId, token, record, organizations);
        if (!proof.proven) {
          await deps.upcoming.markChecked(workspaceId, policyId, {
            at: deps.now(),
            missingSince: null,
            organizations,
          });
          logger.event('warn', 'reconcile_policy_unproven', { policy_id: policyId });
          deps.onUnproven?.(workspaceId);
          await tellUnprovenOnce(deps, memo, workspaceId, token, record);
          return 'unproven';
        }
        organizations = proof.organizations;
      }
      // A 404 is acted on only when an earlier pass saw it too: a passing glitch, or a token swapped
      // for a moment, must not withdraw the reminder and restore offer of a move that still happens.
      const unconfirmed = action.kind === 'gone' && !last?.missingSince;
      if (action.kind === 'none' || unconfirmed) {
        await deps.upcoming.markChecked(workspaceId, policyId, {
          at: deps.now(),
          missingSince: unconfirmed ? deps.now() : null,
          organizations,
        });
        if (unconfirmed) logger.event('warn', 'reconcile_policy_missing', { policy_id: policyId });
        else await moveMessageOn(deps, workspaceId, { record, version }, observed);
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

/**
 * What Katapult says about the policy now, with the token that asked (whose organizations then
 * tell what a 404 means), or the failure code when it could not tell.
 */
async function observe(
  deps: ReconcileDeps,
  workspaceId: string,
  policyId: string,
): Promise<{ observed: Observed; token: string } | string> {
  const result = await withWorkspaceToken(deps.tokens, workspaceId, async (token) => ({
    observed: await askKatapult(deps.katapult, token, policyId),
    token,
  }));
  return result.ok ? result.value : failureCode(result.failure);
}

/** The policy's state; Katapult's other errors are thrown. */
async function askKatapult(
  katapult: ReconcileDeps['katapult'],
  token: string,
  policyId: string,
): Promise<Observed> {
  try {
    return { kind: 'scheduled', at: (await katapult.getDiskBackupPolicy(token, policyId)).autoMoveToTrashAt };
  } catch (error) {
    const code = isKatapultError(error) ? failureCode(error) : null;
    if (code === 'disk_backup_policy_not_found') return { kind: 'not_found' };
    if (code === 'object_in_trash') return { kind: 'in_trash' };
    throw error;
  }
}

/**
 * The organizations the policy is known to be in one of. Katapult showed the policy to this token
 * (a GET, or "in the trash"), so the policy is in one of the token's organizations: asked when
 * none are known yet, or several are (then narrowed to those the token reaches too). A failure to
 * ask leaves what was known (asked again next time).
 */
async function learnOrganizations(
  deps: ReconcileDeps,
  memo: PassMemo,
  workspaceId: string,
  token: string,
  observed: Observed,
  known: string[] | null,
): Promise<string[] | null> {
  if (observed.kind === 'not_found' || (known && known.length === 1)) return known;
  let identity: TokenIdentity;
  try {
    identity = await identityOf(deps, memo, workspaceId, token);
  } catch (error) {
    if (!isKatapultError(error)) throw error;
    return known;
  }
  const reached = identity.organizations.map((o) => o.id);
  if (reached.length === 0) return known;
  const narrowed = known?.filter((id) => reached.includes(id)) ?? [];
  return narrowed.length > 0 ? narrowed : reached;
}

/**
 * Whether a 404 proves the policy gone: Katapult confirms (now, by the token's identity) that the
 * token reaches the policy's organization. Known organizations (a pass saw the policy) must all be
 * reached. With none known, the token must be the one that scheduled the policy (stored before the
 * request that set the record was made, and still the workspace's) and Katapult must name the
 * same organizations for it as when it was stored; its organizations then become the known ones.
 * A record from before organizations were kept, or one scheduled with an earlier token or the
 * fallback token and never seen since, is not proven. Throws SkipPolicy when Katapult cannot say
 * whom the token belongs to.
 */
async function provenGone(
  deps: ReconcileDeps,
  memo: PassMemo,
  workspaceId: string,
  token: string,
  record: UpcomingDeletion,
  known: string[] | null,
): Promise<{ proven: true; organizations: string[] } | { proven: false }> {
  let identity: TokenIdentity;
  try {
    identity = await identityOf(deps, memo, workspaceId, token);
  } catch (error) {
    if (!isKatapultError(error)) throw error;
    deps.logger.event('warn', 'reconcile_katapult_failed', {
      policy_id: record.policyId,
      error: failureCode(error),
    });
    throw new SkipPolicy();
  }
  const reached = identity.organizations.map((o) => o.id);
  if (known && known.length > 0) {
    return known.every((id) => reached.includes(id))
      ? { proven: true, organizations: known }
      : { proven: false };
  }
  const status = await statusOf(deps, memo, workspaceId);
  const stored = status.ok ? status.status : null;
  const scheduledWithThisToken =
    stored !== null &&
    record.requestCreatedAt !== undefined &&
    stored.last4 === token.slice(-4) &&
    // setAt is in whole seconds: a token stored in the same second as the request may have come after it.
    (stored.setAt + 1) * 1000 <= record.requestCreatedAt;
  const sameOrganizations =
    stored !== null &&
    typeof stored.organizationId === 'string' &&
    reached.includes(stored.organizationId) &&
    identity.organizations.map((o) => o.name).join(', ') === stored.organizationName;
  return scheduledWithThisToken && sameOrganizations
    ? { proven: true, organizations: reached }
    : { proven: false };
}

/**
 * Tells an admin about an unproven 404, once per workspace and token (on any replica): the person
 * who set the token, or the record's channel for the fallback token.
 */
async function tellUnprovenOnce(
  deps: ReconcileDeps,
  memo: PassMemo,
  workspaceId: string,
  token: string,
  record: UpcomingDeletion,
): Promise<void> {
  const status = await statusOf(deps, memo, workspaceId);
  if (!status.ok) return; // the store failed: the next pass tries again
  const stored = status.status;
  const notice = stored ? `unproven:${stored.setAt}:${stored.last4}` : `unproven:fallback:${token.slice(-4)}`;
  const once = `${workspaceId}\n${notice}`;
  if (memo.told.has(once)) return;
  memo.told.add(once);
  if (!(await deps.upcoming.claimNotice(workspaceId, notice, deps.now()))) return;
  deps.logger.event('warn', 'reconcile_unproven_told', { policy_id: record.policyId });
  await deps.surface.tellUnproven(workspaceId, { record, userId: stored?.setBy ?? null });
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
    if (!(await deps.surface.dropHeld(workspaceId, held)))
      throw new Error(`Slack may still hold the messages of ${policyId}`);
    if (action.kind === 'trashed_early') {
      // Kept (for the restore offer in the note and App Home) as moved now.
      await deps.upcoming.put(workspaceId, {
        ...held,
        at: Math.floor(deps.now() / 1000),
        reminderMessageId: null,
        restoreMessageId: null,
        ...(held.message ? { shown: 'trashed_early' as const } : {}),
      });
    } else {
      await deps.upcoming.remove(workspaceId, policyId);
    }
  });
}

/**
 * What the request's message should show now that time has passed, if it moved on: the reminder
 * is due (its lead before the move, Katapult still agreeing on the time), or the policy is in the
 * trash after its time. Null: nothing new. A state only moves forward (a restored policy stays so).
 */
export function dueState(
  record: Pick<UpcomingDeletion, 'at' | 'shown' | 'reminderMessageId'>,
  observed: Observed,
  nowSeconds: number,
  reminderLeadSeconds: number,
): MessageState | null {
  const shown = record.shown ?? 'scheduled';
  if (observed.kind === 'in_trash' && record.at <= nowSeconds) return isLive(shown) ? 'moved' : null;
  const reminderDue =
    observed.kind === 'scheduled' &&
    observed.at === record.at &&
    reminderLeadSeconds > 0 &&
    record.reminderMessageId !== null &&
    nowSeconds >= record.at - reminderLeadSeconds &&
    nowSeconds < record.at;
  return reminderDue && (shown === 'scheduled' || shown === 'changed') ? 'reminder_due' : null;
}

/**
 * The bot's own timer for a request's message (the reconcile pass, durable through restarts): once
 * the reminder is due or the move happened, the message is edited to say so and the record keeps
 * what it shows. Under the policy's lock (the caller holds it).
 */
async function moveMessageOn(
  deps: ReconcileDeps,
  workspaceId: string,
  { record, version }: { record: UpcomingDeletion; version: string | null },
  observed: Observed,
): Promise<void> {
  if (!record.message || record.sharedMessage || !deps.surface.showState) return;
  const state = dueState(record, observed, Math.floor(deps.now() / 1000), deps.reminderLeadSeconds ?? 0);
  if (!state) return;
  await deps.surface.showState(workspaceId, record, state);
  // Over the version read: a restore (which takes no policy lock) written meanwhile stands.
  if (!(await deps.upcoming.putIfUnchanged(workspaceId, { ...record, shown: state }, version))) {
    deps.logger.event('warn', 'request_message_state_stale', { policy_id: record.policyId, state });
    return;
  }
  deps.logger.event('info', 'request_message_state', { policy_id: record.policyId, state });
}

/** Katapult could not answer for a policy: logged already, checked again next time. */
class SkipPolicy extends Error {}
