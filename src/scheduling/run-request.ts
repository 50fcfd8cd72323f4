/**
 * The scheduling use case, run from a request record: access check, the Katapult call per policy,
 * the post, the held follow-ups and the audit. Each step's outcome is written to the record before
 * anything that must not be repeated, so a worker that takes the record over after a crash repeats
 * only what is safe to repeat: the Katapult call (scheduling the same time again is idempotent), the
 * access check, the follow-ups (they replace the held messages), never the channel post (one that
 * may have gone out is recorded as `unknown`).
 */
import type { AuditRecorder } from '../audit/record.js';
import type { AppLogger } from '../log.js';
import type { Explanation } from '../messages/explain.js';
import { formatAuditLocal } from '../time/local.js';
import { type ApprovalDeps, requestApproval } from './approvals.js';
import type { DailyLimit } from './daily-limit.js';
import { failureCode } from './katapult-call.js';
import { type Locks, policyLock } from './locks.js';
import type { Delivery, PolicyStep, RequestLog, RequestRecord } from './request-log.js';
import { type ScheduleResult, scheduleDeletion } from './schedule-deletion.js';
import type { UpcomingDeletion, UpcomingDeletions } from './upcoming.js';

/** What the use case needs from Slack, implemented by the Slack adapter (src/slack/ports/request-surface.ts). */
export interface RequestSurface {
  /** Fresh access check for the requester in the record's channel. */
  checkAccess(
    record: RequestRecord,
  ): Promise<{ allowed: true; zone: string | null } | { allowed: false; reason: string }>;
  /** A refusal, phrased for the requester, sent privately. */
  refuse(record: RequestRecord, reason: string): Promise<void>;
  /** Posts the outcome of every policy (in the channel, else privately). */
  announce(record: RequestRecord): Promise<Delivery>;
  /** A short private note to the requester. */
  tell(record: RequestRecord, text: string): Promise<void>;
  /**
   * Replaces the messages Slack holds for a scheduled policy; `channelId` is where they go. The
   * caller holds the policy's lock; `indexed` is the policy's index record as the caller wrote it
   * under that hold (not read again), or undefined (read it).
   */
  holdFollowups(
    record: RequestRecord,
    step: PolicyStep,
    channelId: string,
    indexed?: UpcomingDeletion,
  ): Promise<void>;
}

export interface RunRequestDeps {
  requests: RequestLog;
  surface: RequestSurface;
  tokens: Parameters<typeof scheduleDeletion>[0]['tokens'];
  katapult: Parameters<typeof scheduleDeletion>[0]['katapult'];
  upcoming: UpcomingDeletions;
  locks: Locks;
  /** Gives back the daily-limit places of policies that were not scheduled. */
  dailyLimit?: Pick<DailyLimit, 'release'>;
  record: AuditRecorder;
  explain(failure: Extract<ScheduleResult, { ok: false }>['failure']): Explanation;
  logger: AppLogger;
  now: () => number;
  /** This worker's identity for leases. */
  owner: string;
  leaseMs: number;
  /** After this many attempts a record ends `failed` and the requester is told. */
  maxAttempts: number;
  /** Each policy's outcome once it is final (`scheduled`, a Katapult error code, `refused`, …), for metrics. */
  onOutcome?: (outcome: string) => void;
  /** Posting and holding requests that need approval (src/scheduling/approvals.ts). */
  approvals?: ApprovalDeps;
}

/** Katapult calls under way at once for one request (each with its own retries). */
export const POLICY_CONCURRENCY = 4;

/** Thrown when the lease was lost mid-run (another worker took the record over): stop at once. */
class LeaseLost extends Error {}

export const FAILED_TEXT = (policyIds: string[]) =>
  `:warning: The bot could not finish your request for ${policyIds.map((p) => `\`${p}\``).join(', ')} after several attempts. ` +
  'Katapult may or may not have applied it: check the policy in Katapult, then try again.';

export const SLOW_POST_TEXT =
  ':information_source: Slack did not confirm the post about your request in time, so the bot did not send it again. If no message about it appears in the channel, see `/katapult history`.';

export const UNKNOWN_POST_TEXT =
  ':information_source: The bot restarted while posting the outcome of your request. If no message about it appears in the channel, see `/katapult history`.';

/**
 * Runs one record to its end, or as far as it can. Returns false when the record is busy (leased
 * by another worker) or already ended. Only bugs and store failures throw; the lease is then left to
 * expire so that a later sweep retries.
 */
export async function runRequest(deps: RunRequestDeps, id: string): Promise<boolean> {
  const run = await takeLease(deps, id);
  if (!run) return false;
  const renewing = keepLease(deps, id);
  try {
    if (countAttempt(run) > deps.maxAttempts) return await giveUp(run);
    // A fresh record's first attempt is written with the next step (a crash before it leaves the
    // record to a takeover, which writes its own attempt first), so the bound still holds.
    if (!run.fresh) await run.save();

    const access = await checkAccess(run);
    if (!access.allowed) return await refuse(run, access.reason);
    if (run.r.approval && !run.r.approval.decision) return await holdForApproval(run);

    const todo = await startCalling(run);
    const only = run.r.policies.length === 1 ? run.r.policies[0] : undefined;
    if (only && (todo.length > 0 || needsFollowups(only))) await inOneHold(run, only, todo.length > 0);
    else await policyByPolicy(run, todo);

    await finish(run);
    return true;
  } catch (error) {
    if (error instanceof LeaseLost) {
      deps.logger.event('warn', 'request_lease_lost', { request: id });
      return false;
    }
    throw error;
  } finally {
    clearInterval(renewing);
    await giveBackLease(run);
  }
}

/** One run of a record: the record as this run has it, and the one way to write it. */
interface Run {
  deps: RunRequestDeps;
  id: string;
  /** The record: each step changes it, `save` writes it. */
  r: RequestRecord;
  /** Taken as this process's intake wrote it (with its lease): its first attempt is not written yet. */
  fresh: boolean;
  /**
   * Writes `r` as it is when the write runs, after the writes before it; throws LeaseLost when the
   * lease is gone.
   */
  save(): Promise<void>;
  /** Ended (`done` or `superseded`), so inactive: there is no lease to give back. */
  ended: boolean;
}

/** Takes the record's lease, or null when it is busy or ended. */
async function takeLease(deps: RunRequestDeps, id: string): Promise<Run | null> {
  const { requests, owner } = deps;
  // A record this process has just written (with its lease) needs no round trip to be leased.
  const fresh = requests.takeFresh?.(id, owner) ?? null;
  const leased = fresh ?? (await requests.lease(id, owner, deps.leaseMs));
  if (!leased) return null;
  // Saves run one after another, each writing the record as it is when it runs: policies run in
  // parallel, and an older snapshot must never land after a newer one.
  let saving: Promise<void> = Promise.resolve();
  const run: Run = {
    deps,
    id,
    r: leased,
    fresh: fresh !== null,
    ended: false,
    save() {
      const next = saving.then(async () => {
        if (!(await requests.save(run.r, owner))) throw new LeaseLost(`lease of ${id} lost`);
      });
      saving = next.catch(() => undefined);
      return next;
    },
  };
  return run;
}

/** Renews the lease every third of its term until the caller clears the interval. */
function keepLease(deps: RunRequestDeps, id: string): NodeJS.Timeout {
  return setInterval(() => {
    deps.requests.lease(id, deps.owner, deps.leaseMs).catch(() => undefined);
  }, deps.leaseMs / 3);
}

/** Gives the lease back, unless the record ended or is still to be run (then it expires for a sweep). */
async function giveBackLease(run: Run): Promise<void> {
  const { r, deps } = run;
  if (!run.ended && r.state !== 'pending' && r.state !== 'calling')
    await deps.requests.release(run.id, deps.owner).catch(() => undefined);
}

/** Counts this attempt (in the record, not written yet); returns the count. */
function countAttempt(run: Run): number {
  run.r.attempts += 1;
  return run.r.attempts;
}

/** Too many attempts: the record ends `failed` and the requester is told. */
async function giveUp(run: Run): Promise<true> {
  const { deps } = run;
  const r: RequestRecord = { ...run.r, state: 'failed', error: `gave up after ${deps.maxAttempts} attempts` };
  run.r = r;
  await run.save();
  await releaseUnscheduled(deps, r);
  deps.logger.event('error', 'request_failed', { request: r.id, attempts: r.attempts - 1 });
  await deps.surface.tell(r, FAILED_TEXT(r.policies.map((p) => p.policyId)));
  await audit(deps, r, 'failed');
  return true;
}

/** The requester's access, checked once per record (a refusal ends it, an answer keeps the zone). */
async function checkAccess(run: Run): Promise<{ allowed: true } | { allowed: false; reason: string }> {
  const { r, deps } = run;
  if (r.refused !== undefined || r.zone !== undefined) return { allowed: true };
  const access = await deps.surface.checkAccess(r);
  if (!access.allowed) return access;
  // Written with the next step: a takeover before that only checks access again.
  r.zone = access.zone;
  return { allowed: true };
}

/** Access refused: the record ends `done`, refused, and the requester is told privately. */
async function refuse(run: Run, reason: string): Promise<true> {
  const { deps } = run;
  const r: RequestRecord = { ...run.r, refused: reason, state: 'done' };
  run.r = r;
  await run.save();
  await releaseUnscheduled(deps, r);
  await deps.surface.refuse(r, reason);
  await audit(deps, r, `refused:${reason}`);
  return true;
}

/** Someone else must approve first: the request is posted for approval and held (approvals.ts). */
async function holdForApproval(run: Run): Promise<true> {
  if (!run.deps.approvals) throw new Error(`request ${run.id} needs approval but approvals are not wired`);
  await requestApproval(run.deps.approvals, run.r, run.save);
  return true;
}

/** The policies still to call Katapult for; the record says `calling` while there are any. */
async function startCalling(run: Run): Promise<PolicyStep[]> {
  const { r } = run;
  const todo = r.policies.filter((step) => !step.result && !step.superseded);
  if (todo.length > 0) {
    r.state = 'calling';
    // A fresh record with no outcome yet has nothing new to write (a takeover redoes the calls).
    if (!run.fresh || r.policies.some((p) => p.result)) await run.save();
  }
  return todo;
}

/**
 * One policy: one hold of its lock from the Katapult call through the post to the follow-ups,
 * so nothing can change the index in between (the follow-ups reuse what the call wrote), and
 * an older request or a reconcile check waits for all of it. Several policies never hold more
 * than one lock at a time (`policyByPolicy`), so no two requests wait on each other.
 */
async function inOneHold(run: Run, step: PolicyStep, call: boolean): Promise<void> {
  await run.deps.locks.withLock(policyLock(run.r.workspace, step.policyId), async () => {
    const indexed = call ? await callPolicy(run, step) : undefined;
    await post(run);
    await followups(run, step, indexed);
  });
}

/**
 * Several policies: each call under its own lock (a few at once), then the post, then each one's
 * follow-ups under its lock again.
 */
async function policyByPolicy(run: Run, todo: PolicyStep[]): Promise<void> {
  const { deps, r } = run;
  await forEachLimit(todo, POLICY_CONCURRENCY, async (step) => {
    await deps.locks.withLock(policyLock(r.workspace, step.policyId), () => callPolicy(run, step));
  });
  await post(run);
  for (const step of r.policies) {
    if (!needsFollowups(step) || delivered(r) === 'lost') continue;
    // The policy's lock again: the index is read afresh under it (another request or reconcile
    // may have changed it since the call).
    await deps.locks.withLock(policyLock(r.workspace, step.policyId), () => followups(run, step));
  }
}

/**
 * One policy's Katapult call, under its lock (the caller holds it). Returns the index record it
 * wrote, if any: while the caller still holds the lock, that is what the index holds.
 */
async function callPolicy(run: Run, step: PolicyStep): Promise<UpcomingDeletion | undefined> {
  const current = await run.deps.upcoming.get(run.r.workspace, step.policyId);
  if (current?.requestCreatedAt !== undefined && current.requestCreatedAt > run.r.createdAt) {
    await standDown(run, step);
    return undefined;
  }
  const result = await callKatapult(run, step);
  return recordOutcome(run, step, result, current);
}

/** A reschedule made after this request already applied: never put the old time back. */
async function standDown(run: Run, step: PolicyStep): Promise<void> {
  step.superseded = true;
  run.deps.logger.event('warn', 'request_superseded', { request: run.r.id, policy_id: step.policyId });
  await run.save();
}

/** Asks Katapult to move the policy to the trash at the requested time (with its own retries). */
function callKatapult(run: Run, step: PolicyStep): Promise<ScheduleResult> {
  return scheduleDeletion(run.deps, {
    workspaceId: run.r.workspace,
    policyId: step.policyId,
    atSeconds: run.r.atSeconds,
  });
}

/**
 * Keeps the call's outcome in the step and, when it was scheduled, in the index; returns the index
 * record written. `current`: the index record read before the call.
 */
async function recordOutcome(
  run: Run,
  step: PolicyStep,
  result: ScheduleResult,
  current: UpcomingDeletion | null,
): Promise<UpcomingDeletion | undefined> {
  const { r, deps } = run;
  step.result = result.ok
    ? {
        ok: true,
        autoMoveToTrashAt: result.value.autoMoveToTrashAt,
        target: result.value.target,
        requestId: result.value.requestId,
      }
    : { ok: false, code: failureCode(result.failure), explanation: deps.explain(result.failure) };
  let written: UpcomingDeletion | undefined;
  if (result.ok) {
    // The index says what is upcoming at once (an older request that comes next sees it and
    // stands down); held message IDs stay until the follow-ups replace them.
    written = {
      reminderMessageId: null,
      restoreMessageId: null,
      heldIn: null,
      ...current,
      policyId: step.policyId,
      channelId: current?.channelId ?? r.channel,
      at: result.value.autoMoveToTrashAt ?? r.atSeconds,
      scheduledBy: r.user,
      targetType: result.value.target.type,
      targetId: result.value.target.id,
      requestCreatedAt: r.createdAt,
    };
    await deps.upcoming.put(r.workspace, written);
  }
  // One policy: its outcome is written with the post's `sending` mark (a takeover before that
  // repeats only the idempotent Katapult call). Several: each outcome is written as it comes,
  // so a takeover never calls again for a policy that already has one.
  if (r.policies.length > 1) await run.save();
  return written;
}

/** Posts the outcome of every policy, at most once over all runs of the record. */
async function post(run: Run): Promise<void> {
  const { r, deps } = run;
  if (!r.post) {
    r.post = { state: 'sending' };
    await run.save();
    // `sent` is written with the end of the record: a crash before that leaves `sending`, which a
    // takeover reads as `unknown` (it may have gone out): it is never posted again, and the
    // requester is told privately.
    r.post = { state: 'sent', delivery: await deps.surface.announce(r) };
    // It may be in the channel, or not: the requester hears that much, privately.
    if (r.post.delivery === 'unknown') await deps.surface.tell(r, SLOW_POST_TEXT);
  } else if (r.post.state === 'sending') {
    // The last worker died mid-post: it may have gone out. Never post twice; say so privately.
    // (Written with the end of the record, like a post that went out.)
    r.post = { state: 'sent', delivery: 'unknown' };
    deps.logger.event('warn', 'outcome_post_unknown', { request: r.id });
    await deps.surface.tell(r, UNKNOWN_POST_TEXT);
  }
}

const delivered = (r: RequestRecord): Delivery => (r.post?.state === 'sent' ? r.post.delivery : 'lost');

/**
 * Replaces the policy's held messages; the caller holds the policy's lock. `indexed`: the index
 * record this run wrote under that same hold (so not read again); undefined: read it.
 */
async function followups(run: Run, step: PolicyStep, indexed?: UpcomingDeletion): Promise<void> {
  const { r } = run;
  const delivery = delivered(r);
  if (!needsFollowups(step) || delivery === 'lost') return;
  await run.deps.surface.holdFollowups(r, step, delivery === 'direct_message' ? r.user : r.channel, indexed);
  // Written with the end of the record: a takeover before that replaces them again (the index
  // holds their IDs), which leaves one reminder and one restore offer.
  step.followups = true;
}

/** The audit (once), the unused daily-limit places, and the record's end. */
async function finish(run: Run): Promise<void> {
  const { r, deps } = run;
  if (!r.audited) {
    await audit(deps, r, null);
    r.audited = true;
  }
  await releaseUnscheduled(deps, r);
  r.state = r.policies.every((p) => p.superseded) ? 'superseded' : 'done';
  await run.save();
  // Ended, so inactive: no worker can lease it again and there is no lease to give back.
  run.ended = true;
}

/** A scheduled policy whose held messages this request has not replaced yet. */
const needsFollowups = (step: PolicyStep): boolean =>
  step.result?.ok === true && !step.superseded && !step.followups;

/** Runs `work` on every item, at most `limit` at a time; after a failure starts no more, then throws it. */
async function forEachLimit<T>(items: T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  let failure: { error: unknown } | null = null;
  const lane = async () => {
    while (!failure && next < items.length) {
      const item = items[next++] as T;
      try {
        await work(item);
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
  if (failure) throw (failure as { error: unknown }).error;
}

/** Policies of the record that were not scheduled (refused, failed, superseded, never run) do not count. */
async function releaseUnscheduled(deps: RunRequestDeps, r: RequestRecord): Promise<void> {
  const policyIds = r.policies
    .filter((p) => r.refused !== undefined || p.superseded || !p.result?.ok)
    .map((p) => p.policyId);
  if (!deps.dailyLimit || policyIds.length === 0) return;
  await deps.dailyLimit.release({ workspace: r.workspace, user: r.user, requestId: r.id, policyIds });
}

/** One audit entry per policy; `outcome` overrides each policy's own (refusals, failures). */
async function audit(deps: RunRequestDeps, r: RequestRecord, outcome: string | null): Promise<void> {
  const delivery = r.post?.state === 'sent' ? r.post.delivery : null;
  for (const step of r.policies) {
    const result = step.result;
    const final =
      outcome ??
      (step.superseded ? 'superseded' : !result ? 'not_run' : result.ok ? 'scheduled' : result.code);
    deps.onOutcome?.(final.startsWith('refused') ? 'refused' : final);
    await deps.record({
      at: deps.now(),
      workspace: r.workspace,
      user: r.user,
      channel: r.channel,
      action: 'schedule',
      policyId: step.policyId,
      requestedAt: r.atSeconds,
      requestedLocal: r.zone ? `${formatAuditLocal(r.atSeconds, r.zone)} ${r.zone}` : null,
      outcome:
        outcome ??
        (step.superseded ? 'superseded' : !result ? 'not_run' : result.ok ? 'scheduled' : result.code),
      autoMoveToTrashAt: result?.ok ? result.autoMoveToTrashAt : null,
      requestId: result?.ok ? result.requestId : (result?.explanation.requestId ?? null),
      retryNum: r.retryNum,
      delivery,
    });
  }
}
