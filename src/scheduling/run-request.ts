/**
 * The scheduling use case, run from a request record: the Katapult call per policy, the post, the
 * held follow-ups and the audit. Each step's outcome is written to the record before anything that
 * must not be repeated, so a worker that takes the record over after a crash repeats only what is
 * safe to repeat: the Katapult call (scheduling the same time again is idempotent), the checks, the
 * follow-ups (they replace the held messages), never the channel post (one that may have gone out is
 * recorded as `unknown`).
 *
 * Immediately before every Katapult call (each policy, an approved record, a record taken over) the
 * emergency stop and the requester's access are checked again, with the lease: a refusal stops the
 * record (`stopped`, the channel is told, nothing more is called); a lost lease stops the worker at
 * once. Writes are fenced by the lease (the record's) and by what was read (the upcoming index's).
 */
import type { AuditRecorder } from '../audit/record.js';
import type { AppLogger } from '../log.js';
import type { Explanation } from '../messages/explain.js';
import { clipStored } from '../messages/stored.js';
import { formatAuditLocal } from '../time/local.js';
import { type ApprovalDeps, requestApproval } from './approvals.js';
import { type DailyLimit, giveBackPlaces } from './daily-limit.js';
import { failureCode, type TokenLookup } from './katapult-call.js';
import { type Locks, policyLock } from './locks.js';
import { checkLease, heldFrom, keepLease, type LeaseHold, LeaseLost } from './request-lease.js';
import {
  type Delivery,
  orderOf,
  type PolicyStep,
  type RequestLog,
  type RequestRecord,
  stepOwed,
  type UnreadableRequest,
} from './request-log.js';
import { type ScheduleResult, scheduleDeletion } from './schedule-deletion.js';
import {
  HeldMessagesLeft,
  keepHeld,
  type UpcomingDeletion,
  type UpcomingDeletions,
  unnamedHeld,
  type VersionedUpcoming,
} from './upcoming.js';

/** What the use case needs from Slack, implemented by the Slack adapter (src/slack/ports/request-surface.ts). */
export interface RequestSurface {
  /**
   * Fresh check of the emergency stop and of the requester's access in the record's channel, asked
   * before every Katapult call (the Slack profile it reads is cached briefly: no Slack call each time).
   */
  checkAccess(
    record: RequestRecord,
  ): Promise<{ allowed: true; zone: string | null } | { allowed: false; reason: string }>;
  /** A refusal, phrased for the requester, sent privately. */
  refuse(record: RequestRecord, reason: string): Promise<void>;
  /**
   * Posts the outcome of every policy (in the channel, else privately); for a record that stopped
   * (`record.stopped`), why, in the request's message where one exists. `indexed`: the one policy's
   * index record this run wrote (it keeps the message of the request before: a reschedule continues it).
   */
  announce(record: RequestRecord, indexed?: UpcomingDeletion): Promise<Delivery>;
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
    /**
     * Given: the index record with the new messages' IDs is handed over instead of written, for the
     * caller to write with its own last writes (one round trip), still under the policy's lock, over
     * `version` (the index's version they replaced).
     */
    handOver?: (record: UpcomingDeletion, version: string | null) => void,
  ): Promise<void>;
  /**
   * Deletes the messages Slack holds for `held` (the caller could not keep them in the index: a
   * newer request's record stands): none may go out unnamed. False when Slack may still hold one.
   */
  dropHeld?(record: RequestRecord, held: UpcomingDeletion): Promise<boolean>;
  // Workflow Builder step (issue 21, item 4): appended here, see src/scheduling/workflow-step.ts.
  /**
   * Completes the record's Workflow Builder step from its end: its outputs, or the error in plain
   * words. Throws when Slack could not be reached (a later run tries again).
   */
  completeStep?(record: RequestRecord): Promise<'completed' | 'token_refused' | 'gone'>;
  // --- The request's one message (issue 21): `announce` also writes `record.message` where it posted. ---
  /** The request could not finish: its message (when it has one) says so. */
  showFailed?(record: RequestRecord): Promise<void>;
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
  /** A record that could not be read was ended `failed`, for metrics. */
  onUnreadable?: () => void;
  /** Posting and holding requests that need approval (src/scheduling/approvals.ts). */
  approvals?: ApprovalDeps;
}

/** Katapult calls under way at once for one request (each with its own retries). */
export const POLICY_CONCURRENCY = 4;

export const FAILED_TEXT = (policyIds: string[]) =>
  `:warning: The bot could not finish your request for ${policyIds.map((p) => `\`${p}\``).join(', ')} after several attempts. ` +
  'Katapult may or may not have applied it: check the policy in Katapult, then try again.';

export const SLOW_POST_TEXT =
  ':information_source: Slack did not confirm the post about your request in time, so the bot did not send it again. If no message about it appears in the channel, see `/katapult history`.';

export const UNKNOWN_POST_TEXT =
  ':information_source: The bot restarted while posting the outcome of your request. If no message about it appears in the channel, see `/katapult history`.';

/**
 * A run started with its record's intake, in the same round trip as the record's insert and the
 * submission gate's reads (src/scheduling/intake.ts): its reads before the Katapult call go out with
 * them. `admission` says whether the intake took the record (written, not a duplicate, and let
 * through by the gate); until it says so the run calls nothing, writes nothing and tells nobody.
 */
export interface EarlyStart {
  record: RequestRecord;
  admission: Promise<boolean>;
}

/**
 * Whether a record can start with its intake: one policy to call, no approval to ask for. Others
 * start once the intake is done, as before.
 */
export const startsWithIntake = (r: RequestRecord): boolean =>
  r.policies.length === 1 && !r.approval && !r.workflow && !r.stopped;

/**
 * Runs one record to its end, or as far as it can. Returns false when the record is busy (leased
 * by another worker), already ended, or (`early`) was not taken by its intake. Only bugs and store
 * failures throw; the lease is then left to expire so that a later sweep retries.
 */
export async function runRequest(deps: RunRequestDeps, id: string, early?: EarlyStart): Promise<boolean> {
  const taken = await takeLease(deps, id, early);
  if (!taken) return false;
  if ('unreadable' in taken) return endUnreadable(deps, taken.unreadable);
  const run = taken;
  // A run started with its intake has no lease of its own to renew until the intake took the record.
  if (!run.admission) run.renewal = keepLease(run);
  try {
    // An ended record still active only to complete its workflow step does nothing else.
    const ran = stepOwed(run.r) || (await runSteps(run));
    if (stepOwed(run.r)) await completeStep(run);
    return ran;
  } catch (error) {
    if (error instanceof LeaseLost) {
      deps.logger.event('warn', 'request_lease_lost', { request: id });
      return false;
    }
    // Started with its intake, which did not take the record: nothing of it to report.
    if (run.abandoned || (run.admission && !(await admitted(run)))) return false;
    throw error;
  } finally {
    clearInterval(run.renewal);
    await giveBackLease(run);
  }
}

/** The steps of a record that has not ended, to its end or as far as it can. */
async function runSteps(run: Run): Promise<boolean> {
  const { deps } = run;
  if (countAttempt(run) > deps.maxAttempts) return await giveUp(run);
  // A fresh record's first attempt is written with the next step (a crash before it leaves the
  // record to a takeover, which writes its own attempt first), so the bound still holds.
  if (!run.fresh) await run.save();
  // Taken over after it stopped (its post may be under way), or was refused: it only ends.
  if (run.r.stopped) return await stop(run, run.r.stopped.reason);
  if (run.r.refused !== undefined) return await refuse(run, run.r.refused);
  if (run.r.approval && !run.r.approval.decision) return await askForApproval(run);

  const todo = await startCalling(run);
  const only = run.r.policies.length === 1 ? run.r.policies[0] : undefined;
  // Started with its intake: only the one call's hold waits for the intake's answer (callPolicy).
  if (run.admission && !(only && todo.length > 0) && !(await admitted(run))) return false;
  if (only && (todo.length > 0 || needsFollowups(only))) await inOneHold(run, only, todo.length > 0);
  else await policyByPolicy(run, todo);
  if (run.abandoned) return false;
  // One policy's hold ends with the record's end.
  if (run.ended) return true;
  if (run.stopping) return await (untouched(run) ? refuse : stop)(run, run.stopping);

  await finish(run);
  return true;
}

/**
 * The workflow step's completion, from the record's end: `sending` is written under the lease
 * first; a takeover that finds it sends it again (Slack refuses a second completion of one
 * execution, so at most one takes effect); `sent` ends the record.
 */
async function completeStep(run: Run): Promise<void> {
  const { r, deps } = run;
  const step = r.workflow;
  if (!step || !deps.surface.completeStep) return;
  await checkLease(run);
  if (!step.completion) {
    step.completion = { state: 'sending' };
    await run.save();
  }
  step.completion = { state: 'sent', outcome: await deps.surface.completeStep(r) };
  await run.save();
  run.ended = true;
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
  /** Ended (`done`, `superseded` or `stopped`), so inactive: there is no lease to give back. */
  ended: boolean;
  /** This run wrote the post's `sending` mark itself (with the outcome): the post is still to go out. */
  sendingMarked: boolean;
  lease: LeaseHold;
  /** Set by the first check that refused (`frozen`, an access refusal): no further call starts. */
  stopping: string | null;
  /**
   * An earlier run may have sent calls whose outcome the record does not hold: it was taken (not
   * fresh from this process's intake) at the calling stage, or never written by a worker.
   */
  unsure: boolean;
  /** Started with its intake, whose answer is still to come (`admitted`). */
  admission?: Promise<boolean> | undefined;
  /** Its intake did not take the record: the run ends having done nothing (its lock given back). */
  abandoned: boolean;
  /** The lease's renewal (keepLease), from the start, or once the intake took the record. */
  renewal?: NodeJS.Timeout;
}

/**
 * Waits for the intake's answer of a run started with it: true when the record was taken (the run
 * then has it as the store stamped it); false, and the run abandoned, otherwise.
 */
async function admitted(run: Run): Promise<boolean> {
  const { admission } = run;
  run.admission = undefined;
  if (!admission) return !run.abandoned;
  const taken = await admission.catch(() => false);
  const stored = taken ? run.deps.requests.takeFresh?.(run.id, run.deps.owner) : null;
  if (!stored) {
    run.abandoned = true;
    return false;
  }
  run.r.storedAt = stored.storedAt;
  run.renewal = keepLease(run);
  return true;
}

/** Takes the record's lease: null when it is busy or ended; the record's body when it cannot be read. */
async function takeLease(
  deps: RunRequestDeps,
  id: string,
  early?: EarlyStart,
): Promise<Run | { unreadable: UnreadableRequest } | null> {
  const { requests, owner } = deps;
  const sent = { wall: deps.now(), mono: performance.now() };
  // A record this process has just written (with its lease) needs no round trip to be leased:
  // created within a third of its term, so surely its own for another third at least. One started
  // with its intake is being written (leased to this process) and is held from before the write.
  const fresh = early
    ? (JSON.parse(JSON.stringify(early.record)) as RequestRecord)
    : (requests.takeFresh?.(id, owner) ?? null);
  const taken = fresh ?? (await requests.take(id, owner, deps.leaseMs));
  if (!taken || 'unreadable' in taken) return taken;
  // Saves run one after another, each writing the record as it is when it runs: policies run in
  // parallel, and an older snapshot must never land after a newer one.
  let saving: Promise<void> = Promise.resolve();
  const run: Run = {
    deps,
    id,
    r: taken,
    fresh: fresh !== null,
    ended: false,
    sendingMarked: false,
    lease: { fromWall: sent.wall, untilWall: 0, untilMono: 0, lost: false, renewing: null },
    stopping: null,
    unsure: fresh === null && (taken.state === 'calling' || taken.attempts === 0),
    admission: early?.admission,
    abandoned: false,
    save() {
      const next = saving.then(async () => {
        if (!(await requests.save(run.r, owner))) throw new LeaseLost(`lease of ${id} lost`);
      });
      saving = next.catch(() => undefined);
      return next;
    },
  };
  heldFrom(run, sent, fresh ? deps.leaseMs / 3 : (deps.leaseMs * 2) / 3);
  return run;
}

/**
 * A record this version cannot read: leased and put back until its attempts are used up (a newer
 * version may read it), then ended `failed`, logged and counted; at once when it is not even JSON.
 */
async function endUnreadable(deps: RunRequestDeps, u: UnreadableRequest): Promise<boolean> {
  const fields = { request: u.id, attempts: u.attempts, corrupt: u.corrupt };
  if (!u.corrupt && u.attempts < deps.maxAttempts) {
    deps.logger.event('warn', 'request_unreadable', fields);
    await deps.requests.release(u.id, deps.owner).catch(() => undefined);
    return false;
  }
  const ended = await deps.requests.endUnreadable(u, deps.owner);
  await deps.requests.release(u.id, deps.owner).catch(() => undefined);
  if (!ended) return false;
  deps.logger.event('error', 'request_unreadable_failed', fields);
  deps.onUnreadable?.();
  return true;
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

/** Attempts past the last at telling the person a record failed, before it ends untold. */
const NOTE_TRIES = 3;

/**
 * Too many attempts: the requester is told, then the record ends `failed`. Told first: after a store
 * error or a crash before the end, the next attempt gives up again and tells again, so the note is
 * not lost (at worst it comes twice). Each try is counted first, and after NOTE_TRIES the record
 * ends untold (logged): nobody can be told once the workspace's installation is gone.
 */
async function giveUp(run: Run): Promise<true> {
  const { deps } = run;
  const r: RequestRecord = { ...run.r, state: 'failed', error: `gave up after ${deps.maxAttempts} attempts` };
  deps.logger.event('error', 'request_failed', { request: r.id, attempts: deps.maxAttempts });
  // The outcome already posted (each policy's) stands: the message is not turned into a failure.
  const posted = r.post?.state === 'sent';
  if (run.r.attempts <= deps.maxAttempts + NOTE_TRIES) {
    await run.save();
    await deps.surface.tell(r, FAILED_TEXT(r.policies.map((p) => p.policyId)));
    if (!posted) await deps.surface.showFailed?.(r);
  } else deps.logger.event('error', 'request_failed_untold', { request: r.id });
  const audited = r.audited === true;
  r.audited = true;
  run.r = r;
  await run.save();
  await Promise.all([
    audited ? undefined : audit(deps, r, posted ? null : 'failed'),
    givePlacesBack(deps, r),
  ]);
  return true;
}

/**
 * The emergency stop and the requester's access (with the lease), immediately before a Katapult
 * call: false, and the run stopping, when they refuse. The first answer keeps the requester's zone.
 */
async function admit(run: Run): Promise<boolean> {
  const { r, deps } = run;
  const [access] = await Promise.all([deps.surface.checkAccess(r), checkLease(run)]);
  if (!access.allowed) {
    run.stopping ??= access.reason;
    return false;
  }
  // Written with the next step: a takeover before that checks again.
  if (r.zone === undefined) r.zone = access.zone;
  return true;
}

/**
 * Nothing of the record was done or shown yet: no earlier run may have sent a call, no outcome, no
 * request message in the channel. A refusal then is the answer to the submission, told privately
 * (`refuse`), as when it is checked before the request is recorded.
 */
const untouched = ({ r, unsure }: Run): boolean =>
  !unsure && !r.approval?.messageTs && r.policies.every((p) => !p.result && !p.superseded);

/**
 * Someone else must approve first. The requester's access (and the emergency stop) are checked
 * before the request is posted for approval: a refusal ends it privately, nothing was shown yet.
 */
async function askForApproval(run: Run): Promise<true> {
  const access = await run.deps.surface.checkAccess(run.r);
  if (!access.allowed) return refuse(run, access.reason);
  run.r.zone ??= access.zone;
  return holdForApproval(run);
}

/**
 * A check before a Katapult call refused: nothing more is called. The channel is told (in the
 * request's message where one exists), the record ends `stopped`, the places of the policies not
 * scheduled are given back. The stop is written with the post's `sending` mark: a takeover only ends it.
 */
async function stop(run: Run, reason: string): Promise<true> {
  const { r, deps } = run;
  r.stopped ??= { reason, at: deps.now(), ...(run.unsure ? { unsure: true } : {}) };
  deps.logger.event('warn', 'request_stopped', {
    request: r.id,
    reason: r.stopped.reason,
    not_called: r.policies.filter((p) => !p.result && !p.superseded).length,
  });
  await post(run);
  await finish(run);
  return true;
}

/**
 * Refused before anything was done or shown (at its first check, or before it was posted for
 * approval): the requester is told privately and the record ends `done`, refused. The refusal is
 * written first, the record still active: a takeover after that only tells and ends it (it is never
 * checked again, so a refused request never runs later), and a store error or a crash before the end
 * tells again rather than never.
 */
async function refuse(run: Run, reason: string): Promise<true> {
  const { deps, r } = run;
  if (r.refused === undefined) {
    r.refused = reason;
    await run.save();
  }
  await deps.surface.refuse(r, r.refused);
  r.state = 'done';
  await run.save();
  await Promise.all([audit(deps, r, `refused:${r.refused}`), givePlacesBack(deps, r)]);
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
  // Stage "before the call", one round trip: the lock, then the reads the call needs (beforeCall).
  // Started with its intake: a busy lock is waited for only once the intake took the record.
  const whenBusy = run.admission ? () => admitted(run) : undefined;
  const lock = await run.deps.locks.acquire(
    policyLock(run.r.workspace, step.policyId),
    () => (call ? beforeCall(run, step) : Promise.resolve(null)),
    whenBusy ? { whenBusy } : {},
  );
  try {
    const indexed = lock.value ? await callPolicy(run, step, lock.value) : undefined;
    if (run.abandoned || run.stopping) return;
    await post(run, indexed);
    const index = await followups(run, step, indexed, true);
    // Stage "the end", one round trip: the index with the held messages, the audit, the record's
    // end and the lock's release.
    await finish(run, { index, release: lock.release });
  } finally {
    await lock.release();
  }
}

/**
 * Several policies: each call under its own lock (a few at once), then the post, then each one's
 * follow-ups under its lock again.
 */
async function policyByPolicy(run: Run, todo: PolicyStep[]): Promise<void> {
  const { deps, r } = run;
  await forEachLimit(todo, POLICY_CONCURRENCY, async (step) => {
    // After a refusal no further policy is called (nor locked).
    if (run.stopping) return;
    await deps.locks.withLock(policyLock(r.workspace, step.policyId), async () =>
      callPolicy(run, step, await beforeCall(run, step)),
    );
  });
  if (run.stopping) return;
  await post(run);
  for (const step of r.policies) {
    if (!needsFollowups(step) || delivered(r) === 'lost') continue;
    // The policy's lock again: the index is read afresh under it (another request or reconcile
    // may have changed it since the call).
    await deps.locks.withLock(policyLock(r.workspace, step.policyId), () => followups(run, step));
  }
}

/** What a policy's Katapult call needs read first, under its lock. */
interface BeforeCall {
  indexed: VersionedUpcoming;
  admitted: boolean;
  token: TokenLookup;
}

/**
 * The index record, the checks (emergency stop, access) and the workspace's Katapult token, read
 * together: one round trip (with the lock, when the caller takes it alongside: Locks.acquire).
 */
async function beforeCall(run: Run, step: PolicyStep): Promise<BeforeCall> {
  const { deps, r } = run;
  const [indexed, admitted, token] = await Promise.all([
    deps.upcoming.read(r.workspace, step.policyId),
    admit(run),
    deps.tokens.tokenFor(r.workspace),
  ]);
  return { indexed, admitted, token };
}

/**
 * One policy's Katapult call, under its lock (the caller holds it), with what was read before it.
 * Returns the index record it wrote, if any: while the caller still holds the lock, that is what
 * the index holds.
 */
async function callPolicy(
  run: Run,
  step: PolicyStep,
  before: BeforeCall,
): Promise<UpcomingDeletion | undefined> {
  // Started with its intake: nothing is done on a record the intake did not take.
  if (run.admission && !(await admitted(run))) return undefined;
  if (!before.admitted) return undefined;
  if (newerThan(before.indexed.record, run.r)) {
    await standDown(run, step);
    return undefined;
  }
  const result = await callKatapult(run, step, before.token);
  return recordOutcome(run, step, result, before.indexed);
}

/** Whether the index holds a schedule made by a request newer than `r` (by the store's order). */
const newerThan = (indexed: UpcomingDeletion | null, r: RequestRecord): boolean =>
  indexed?.requestCreatedAt !== undefined && indexed.requestCreatedAt > orderOf(r);

/** A reschedule made after this request already applied: never put the old time back. */
async function standDown(run: Run, step: PolicyStep): Promise<void> {
  step.superseded = true;
  run.deps.logger.event('warn', 'request_superseded', { request: run.r.id, policy_id: step.policyId });
  await run.save();
}

/** Asks Katapult to move the policy to the trash at the requested time (with its own retries). */
function callKatapult(run: Run, step: PolicyStep, token: TokenLookup): Promise<ScheduleResult> {
  return scheduleDeletion(
    run.deps,
    { workspaceId: run.r.workspace, policyId: step.policyId, atSeconds: run.r.atSeconds },
    token,
  );
}

/**
 * Keeps the call's outcome in the step (Katapult's text clipped) and, when it was scheduled, in the
 * index; returns the index record written. `indexed`: the index record read before the call.
 */
async function recordOutcome(
  run: Run,
  step: PolicyStep,
  result: ScheduleResult,
  indexed: VersionedUpcoming,
): Promise<UpcomingDeletion | undefined> {
  const { r, deps } = run;
  step.result = result.ok
    ? {
        ok: true,
        autoMoveToTrashAt: result.value.autoMoveToTrashAt,
        target: result.value.target,
        requestId: result.value.requestId === null ? null : clipStored(result.value.requestId),
      }
    : {
        ok: false,
        code: clipStored(failureCode(result.failure)),
        explanation: clipExplanation(deps.explain(result.failure)),
      };
  const writing = result.ok ? writeIndex(run, step, result.value, indexed) : undefined;
  // One policy: its outcome is written with the post's `sending` mark, in the index write's round
  // trip (a takeover before that repeats only the idempotent Katapult call; one after it never
  // posts again). Several: each outcome is written as it comes, so a takeover never calls again
  // for a policy that already has one.
  const saving = r.policies.length > 1 ? run.save() : !r.post ? markSending(run) : undefined;
  const [written, saved] = await Promise.allSettled([writing, saving]);
  if (written.status === 'rejected') {
    // The post has not gone out: its `sending` mark, written beside, is taken back (best effort), so
    // a later attempt posts it rather than taking it for a post cut off.
    if (run.sendingMarked && saved.status === 'fulfilled') {
      // The outcome too: that attempt calls again (the same time: idempotent) and, like any call,
      // stands down first when a newer request's schedule is in the index.
      delete r.post;
      delete step.result;
      run.sendingMarked = false;
      await run.save().catch(() => undefined);
    }
    throw written.reason;
  }
  if (saved.status === 'rejected') throw saved.reason;
  return written.value;
}

/** Conditional writes of one policy's index record before the run gives up (and a later attempt retries). */
const INDEX_WRITE_TRIES = 5;

/** What Katapult said, as stored in the record: each field clipped (src/messages/stored.ts). */
const clipExplanation = (e: Explanation): Explanation => ({
  summary: clipStored(e.summary),
  next: clipStored(e.next),
  requestId: e.requestId === null ? null : clipStored(e.requestId),
});

/**
 * The index says what is upcoming at once (an older request that comes next sees it and stands
 * down); held message IDs stay until the follow-ups replace them. Written only while the lease holds,
 * and only over the version read before the call: when another request wrote it since (this worker
 * was paused, its lease or lock lapsed), it is read again, and a newer request's is never replaced
 * (this policy then counts as superseded). Returns the record written, if any.
 */
async function writeIndex(
  run: Run,
  step: PolicyStep,
  scheduled: Extract<ScheduleResult, { ok: true }>['value'],
  indexed: VersionedUpcoming,
): Promise<UpcomingDeletion | undefined> {
  const { r, deps } = run;
  let seen = indexed;
  for (let tries = 1; ; tries++) {
    const current = seen.record;
    const written: UpcomingDeletion = {
      reminderMessageId: null,
      restoreMessageId: null,
      heldIn: null,
      ...current,
      policyId: step.policyId,
      channelId: current?.channelId ?? r.channel,
      at: scheduled.autoMoveToTrashAt ?? r.atSeconds,
      scheduledBy: r.user,
      targetType: scheduled.target.type,
      targetId: scheduled.target.id,
      requestCreatedAt: orderOf(r),
    };
    await checkLease(run);
    if (await deps.upcoming.putIfUnchanged(r.workspace, written, seen.version)) return written;
    // Changed under the policy's lock: someone else held it meanwhile. Left to a later attempt if it goes on.
    if (tries >= INDEX_WRITE_TRIES) throw new Error(`the index record of ${step.policyId} keeps changing`);
    seen = await deps.upcoming.read(r.workspace, step.policyId);
    if (newerThan(seen.record, r)) {
      step.superseded = true;
      deps.logger.event('warn', 'request_superseded_after_call', { request: r.id, policy_id: step.policyId });
      return undefined;
    }
  }
}

/** Writes the post's `sending` mark (with whatever else the record holds now): the post goes out after it. */
function markSending(run: Run): Promise<void> {
  run.r.post = { state: 'sending' };
  run.sendingMarked = true;
  return run.save();
}

/** Posts the outcome of every policy, at most once over all runs of the record. */
async function post(run: Run, indexed?: UpcomingDeletion): Promise<void> {
  const { r, deps } = run;
  if (!r.post || run.sendingMarked) {
    if (!run.sendingMarked) await markSending(run);
    run.sendingMarked = false;
    // `sent` is written with the end of the record: a crash before that leaves `sending`, which a
    // takeover reads as `unknown` (it may have gone out): it is never posted again, and the
    // requester is told privately.
    r.post = { state: 'sent', delivery: await deps.surface.announce(r, indexed) };
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
 * record this run wrote under that same hold (so not read again); undefined: read it. With
 * `handOver`, the index record with the new messages' IDs is returned for the caller to write
 * (with the record's end, `finish`) instead of written here.
 */
async function followups(
  run: Run,
  step: PolicyStep,
  indexed?: UpcomingDeletion,
  handOver = false,
): Promise<HeldIndex | undefined> {
  const { r } = run;
  const delivery = delivered(r);
  if (!needsFollowups(step) || delivery === 'lost') return undefined;
  // They write the index (the held message IDs): not after the lease is lost.
  await checkLease(run);
  let handed: HeldIndex | undefined;
  const channel = delivery === 'direct_message' ? r.user : r.channel;
  try {
    await run.deps.surface.holdFollowups(
      r,
      step,
      channel,
      indexed,
      handOver
        ? (held, version) => {
            handed = { held, version };
          }
        : undefined,
    );
  } catch (error) {
    if (!(error instanceof HeldMessagesLeft)) throw error;
    if (r.attempts < run.deps.maxAttempts) {
      // Left to a later attempt (Slack may still hold the earlier ones): the post went out, and is
      // written so, so that attempt holds them without taking the post for one cut off.
      await run.save().catch(() => undefined);
      throw error;
    }
    // The last attempt: the request ends as it went, without new held messages, rather than failed;
    // the index still names the earlier ones, so the next reschedule or reconcile deletes them.
    run.deps.logger.event('warn', 'followups_not_held', { request: r.id, policy_id: step.policyId });
  }
  // Written with the end of the record: a takeover before that replaces them again (the index
  // holds their IDs), which leaves one reminder and one restore offer.
  step.followups = true;
  return handed;
}

/** The policy's index record with its held messages, handed over by `followups`, and the version it replaces. */
interface HeldIndex {
  held: UpcomingDeletion;
  version: string | null;
}

/** What a policy's hold adds to the record's last round trip (`inOneHold`). */
interface LastWrites {
  /** The policy's index record with its held messages (handed over by `followups`). */
  index?: HeldIndex | undefined;
  /** The policy's lock, given up after the rest. */
  release?: () => Promise<void>;
}

/**
 * The audit (once), the unused daily-limit places, and the record's end, with what the caller
 * adds: issued together, in this order, so they are one round trip (turn-batch.ts): the index, the
 * audit, the places, the record's end, the lock.
 */
async function finish(run: Run, last: LastWrites = {}): Promise<void> {
  const { r, deps } = run;
  // The audit and the places are written with the record's fenced end: not after the lease is lost.
  await checkLease(run);
  const writes: Promise<unknown>[] = [];
  if (last.index) writes.push(keepIndex(run, last.index));
  if (!r.audited) writes.push(audit(deps, r, null));
  r.audited = true;
  writes.push(givePlacesBack(deps, r));
  r.state = r.stopped ? 'stopped' : r.policies.every((p) => p.superseded) ? 'superseded' : 'done';
  writes.push(run.save());
  const releasing = last.release?.();
  await Promise.all([...writes, releasing]);
  // Ended, so inactive: no worker can lease it again and there is no lease to give back.
  run.ended = true;
}

/**
 * The index with the held messages' IDs, over the version they replaced: when someone wrote it since
 * (this run's lock lapsed and a newer request finished), theirs stands, and the messages just held
 * are deleted, never left to go out unnamed; so they are when it could not be written.
 */
async function keepIndex(run: Run, { held, version }: HeldIndex): Promise<void> {
  const { r, deps } = run;
  if (await keepHeld(deps.upcoming, deps.logger, r.workspace, held, version, { request: r.id })) return;
  if ((await deps.surface.dropHeld?.(r, held)) === false) unnamedHeld(deps.logger, held);
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

/** The places of the policies not scheduled (refused, failed, superseded, stopped, never run) go back. */
const givePlacesBack = (deps: RunRequestDeps, r: RequestRecord): Promise<void> =>
  giveBackPlaces(
    deps,
    r,
    r.policies.filter((p) => r.refused !== undefined || p.superseded || !p.result?.ok).map((p) => p.policyId),
  );

/** A policy's own outcome: scheduled, a Katapult error code, superseded, stopped:<why>, or not_run. */
function outcomeOf(r: RequestRecord, step: PolicyStep): string {
  const result = step.result;
  if (step.superseded) return 'superseded';
  if (result) return result.ok ? 'scheduled' : result.code;
  return r.stopped ? `stopped:${r.stopped.reason}` : 'not_run';
}

/**
 * One audit entry per policy; `outcome` overrides each policy's own (refusals, failures). All are
 * issued at once, in the policies' order (one round trip).
 */
async function audit(deps: RunRequestDeps, r: RequestRecord, outcome: string | null): Promise<void> {
  const delivery = r.post?.state === 'sent' ? r.post.delivery : null;
  const entries = r.policies.map((step) => {
    const result = step.result;
    const final = outcome ?? outcomeOf(r, step);
    deps.onOutcome?.(final.split(':')[0] ?? final);
    return deps.record({
      at: deps.now(),
      workspace: r.workspace,
      user: r.user,
      channel: r.channel,
      action: 'schedule',
      policyId: step.policyId,
      requestedAt: r.atSeconds,
      requestedLocal: r.zone ? `${formatAuditLocal(r.atSeconds, r.zone)} ${r.zone}` : null,
      outcome: final,
      autoMoveToTrashAt: result?.ok ? result.autoMoveToTrashAt : null,
      requestId: result?.ok ? result.requestId : (result?.explanation.requestId ?? null),
      retryNum: r.retryNum,
      delivery,
      ...(r.workflow ? { via: 'workflow' as const } : {}),
    });
  });
  await Promise.all(entries);
}
