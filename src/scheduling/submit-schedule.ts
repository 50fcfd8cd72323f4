/**
 * The use case: submitting the scheduling form. Before Slack gets its answer (3 s): the gate (the
 * emergency stop and, when the workspace needs approvals, a channel approvers can see), the
 * per-person daily limit (reserved before anything is recorded), then the intake (the request
 * record, with its idempotency key). A refusal is answered inline and audited after the answer;
 * nothing is accepted that is not recorded. The scheduling itself runs from the record
 * (run-request.ts), so a crash after the answer loses nothing.
 */
import { type AccessPolicies, type AccessPolicy, approvalOf, dailyLimitOf } from '../access/access-policy.js';
import type { Freezes } from '../access/freeze.js';
import { type AuditRecorder, recordEachPolicy } from '../audit/record.js';
import { within } from '../deadline.js';
import { type AppLogger, errorText } from '../log.js';
import { APPROVALS, FREEZE } from '../messages/approvals.js';
import { dailyLimitRefusal, STORE_DOWN_INLINE } from '../messages/submission.js';
import type { Metrics } from '../metrics.js';
import type { DailyLimit, Reservation } from './daily-limit.js';
import type { IntakeOutcome, RequestIntake } from './intake.js';
import type { RequestRecord, WorkflowStep } from './request-log.js';

/** How long the gate's store reads may take before the submission is refused as store trouble. */
const GATE_TIMEOUT_MS = 1_000;
/** How long the daily-limit reservation may take before the submission is refused as store trouble. */
const RESERVE_BUDGET_MS = 1_000;
/** How long a refusal waits for the person's zone (Slack wants the answer within 3 s). */
const ZONE_BUDGET_MS = 700;

export interface SubmitScheduleDeps {
  command: string;
  freezes: Pick<Freezes, 'get'> & Partial<Pick<Freezes, 'deployment'>>;
  /** `peek`: the workspace's policy when it is at hand without reading the store (its cache). */
  access: Pick<AccessPolicies, 'get'> & Partial<Pick<AccessPolicies, 'peek'>>;
  /** The deployment's approval default, and how long a request waits for a decision. */
  approvals: { requiredByDefault: boolean; ttlMs: number };
  /** The deployment's daily limit per person (null: unlimited), unless the workspace sets one. */
  maxPerUserPerDay: number | null;
  dailyLimit: Pick<DailyLimit, 'reserve' | 'release'>;
  intake: RequestIntake;
  record: AuditRecorder;
  logger: AppLogger;
  metrics: Pick<Metrics, 'submission' | 'storeError'>;
  now: () => number;
}

/** A submission that passed the form's own checks. */
export interface ScheduleSubmission {
  workspaceId: string;
  userId: string;
  /** Where the result will be posted: a channel, or the user's own ID for a direct message. */
  channelId: string;
  /** The form's ID: with the workspace, the request's idempotency key. */
  viewId: string;
  botUserId: string | null;
  policyIds: string[];
  atSeconds: number;
  retryNum: number | null;
  // Workflow Builder step (issue 21, item 4): appended here, see workflow-step.ts.
  /** Started by a Workflow Builder step: kept in the record, which completes the step at its end. */
  workflow?: WorkflowStep;
  // --- Issue 21: a request started from a message lives in its thread. ---
  threadTs?: string;
}

/** Audit entries of a submission a workflow started carry its marker. */
const viaOf = (input: ScheduleSubmission) => (input.workflow ? { via: 'workflow' as const } : {});

/** The Slack side of one submission. */
export interface SubmissionSurface {
  /** The person's zone, for a refusal that names a time (null: UTC). Asked only then, briefly. */
  zone(): Promise<string | null>;
  /** Slack's answer: null accepts the form; a text refuses it, shown in the form. */
  answer(refusal: string | null): Promise<void>;
}

type Gate =
  /** `policy`: the workspace's access policy as read here, for the next checks. */
  | { ok: true; needsApproval: boolean; policy: AccessPolicy }
  /** `text`: the refusal (none: the "store down" one); `afterAnswer`: the audit, once Slack has its answer. */
  | {
      ok: false;
      reason: 'frozen' | 'needs_channel' | 'store_unavailable';
      /** The store did not answer within the gate's time (as opposed to failing). */
      timedOut?: boolean;
      text?: string;
      afterAnswer?: () => Promise<void>;
    };

export type SubmitSchedule = (input: ScheduleSubmission, surface: SubmissionSurface) => Promise<void>;

export function createSubmitSchedule(deps: SubmitScheduleDeps): SubmitSchedule {
  return async (input, surface) => {
    const id = `${input.workspaceId}:${input.viewId}`;
    const { policyIds } = input;
    const gateRead = submissionGate(deps, input);
    // One round trip for the gate and the intake when nothing is left to decide first: the record
    // is written along with the gate's reads, and removed again if the gate refuses.
    const early = recordWithGate(deps, input, id, gateRead);
    const gate = await gateRead;
    if (!gate.ok) {
      // The intake takes back what it wrote (it logs what it could not); a failed write wrote nothing.
      await early?.catch(() => undefined);
      await surface.answer(gate.text ?? STORE_DOWN_INLINE);
      await gate.afterAnswer?.();
      return;
    }
    // The per-person daily limit: the policies are reserved before anything is recorded or called.
    const who = { workspace: input.workspaceId, user: input.userId, requestId: id, policyIds };
    let reserved = false;
    try {
      const limit = early ? null : dailyLimitOf(gate.policy, deps.maxPerUserPerDay);
      const reservation: Reservation =
        limit === null ? { ok: true } : await reserveInTime(deps, { ...who, limit });
      if (!reservation.ok && limit !== null) {
        deps.metrics.submission('refused');
        const zone = await within(
          surface.zone().catch(() => null),
          ZONE_BUDGET_MS,
          null,
        );
        await surface.answer(dailyLimitRefusal(limit, reservation, policyIds.length, zone));
        await recordEachPolicy(deps.record, deps.now, policyIds, {
          workspace: input.workspaceId,
          user: input.userId,
          channel: input.channelId,
          action: 'schedule',
          requestedAt: input.atSeconds,
          outcome: 'refused:daily_limit',
          retryNum: input.retryNum,
          ...viaOf(input),
        });
        return;
      }
      reserved = limit !== null;
    } catch (error) {
      deps.logger.event('error', 'request_not_recorded', { stage: 'daily_limit', error: errorText(error) });
      deps.metrics.submission('store_error');
      await surface.answer(STORE_DOWN_INLINE);
      return;
    }

    let accepted: IntakeOutcome;
    try {
      accepted = await (early ?? deps.intake.accept(requestRecord(deps, input, id, gate.needsApproval)));
    } catch (error) {
      deps.logger.event('error', 'request_not_recorded', { error: errorText(error) });
      // Nothing was recorded, so nothing will be scheduled: give the places back (best effort).
      if (reserved) await deps.dailyLimit.release({ ...who, unrecorded: true }).catch(() => undefined);
      deps.metrics.submission('store_error');
      await surface.answer(STORE_DOWN_INLINE);
      return;
    }
    // 'refused' only follows a gate that refused, answered above.
    if (accepted === 'refused') return surface.answer(STORE_DOWN_INLINE);
    await surface.answer(null);
    if (accepted === 'duplicate') {
      deps.metrics.submission('duplicate');
      // Slack retried, the user double-clicked, or another replica has it: it is being handled.
      deps.logger.event('info', 'duplicate_submission', {
        workspace: input.workspaceId,
        user: input.userId,
        view: input.viewId,
        retry_num: input.retryNum,
      });
      return;
    }
    deps.intake.run(id);
  };
}

/** The request record of an accepted submission. */
function requestRecord(
  deps: Pick<SubmitScheduleDeps, 'now' | 'approvals'>,
  input: ScheduleSubmission,
  id: string,
  needsApproval: boolean,
): RequestRecord {
  return {
    id,
    workspace: input.workspaceId,
    user: input.userId,
    channel: input.channelId,
    botUserId: input.botUserId,
    atSeconds: input.atSeconds,
    createdAt: deps.now(),
    retryNum: input.retryNum,
    state: 'pending',
    attempts: 0,
    policies: input.policyIds.map((policyId) => ({ policyId })),
    ...(needsApproval ? { approval: { expiresAt: deps.now() + deps.approvals.ttlMs } } : {}),
    ...(input.workflow ? { workflow: input.workflow } : {}),
    ...(input.threadTs ? { threadTs: input.threadTs } : {}),
  };
}

/**
 * Starts the intake along with the gate's reads when the workspace's access policy is at hand (its
 * cache) and leaves nothing to decide between them: no daily limit to reserve first, and a channel
 * approvers can see when approvals are needed. Null otherwise: the intake follows the gate.
 */
function recordWithGate(
  deps: SubmitScheduleDeps,
  input: ScheduleSubmission,
  id: string,
  gateRead: Promise<Gate>,
): Promise<IntakeOutcome> | null {
  // A deployment-wide stop refuses every submission: nothing to write.
  if (deps.freezes.deployment) return null;
  const policy = deps.access.peek?.(input.workspaceId);
  if (!policy || dailyLimitOf(policy, deps.maxPerUserPerDay) !== null) return null;
  const needsApproval = needsApprovalUnder(deps, policy);
  if (needsApproval && !isChannel(input.channelId)) return null;
  const accepting = deps.intake.accept(requestRecord(deps, input, id, needsApproval), {
    gate: gateRead.then((gate) => gate.ok),
  });
  accepting.catch(() => undefined); // awaited by the caller, whichever way the gate goes
  return accepting;
}

/** Whether a request under `policy` waits for an approver's decision. */
const needsApprovalUnder = (deps: Pick<SubmitScheduleDeps, 'approvals'>, policy: AccessPolicy) =>
  approvalOf(policy, deps.approvals.requiredByDefault).mode !== 'off';

/** Channels approvers can see: public and private channels (IDs `C…`, legacy private `G…`). */
const isChannel = (id: string) => /^[CG][A-Z0-9]+$/.test(id);

/**
 * The emergency stop and, when the workspace needs approvals, a channel approvers can see (a direct
 * message or App Home has none). Store reads only, bounded well inside Slack's 3 seconds.
 */
async function submissionGate(deps: SubmitScheduleDeps, input: ScheduleSubmission): Promise<Gate> {
  const gate = await checkGate(deps, input.workspaceId, input.channelId);
  // A store that fails counts in store_errors_total through the store's wrapper; one that does not
  // answer at all (a partition, a hung database) never fails there, so its timeout counts here.
  if (!gate.ok && gate.timedOut) deps.metrics.storeError('submission_gate_timeout');
  if (gate.ok) return gate;
  deps.metrics.submission(gate.reason === 'store_unavailable' ? 'store_error' : 'refused');
  if (gate.reason === 'store_unavailable')
    deps.logger.event('error', 'request_not_recorded', { error: 'the store could not be read' });
  if (gate.reason !== 'frozen') return gate;
  return {
    ...gate,
    afterAnswer: () =>
      recordEachPolicy(deps.record, deps.now, input.policyIds, {
        workspace: input.workspaceId,
        user: input.userId,
        channel: input.channelId,
        action: 'schedule',
        requestedAt: input.atSeconds,
        outcome: 'refused:frozen',
        ...viaOf(input),
      }),
  };
}

async function checkGate(deps: SubmitScheduleDeps, workspaceId: string, channelId: string): Promise<Gate> {
  try {
    const read = Promise.all([deps.freezes.get(workspaceId), deps.access.get(workspaceId)]);
    const answer = await within(read, GATE_TIMEOUT_MS, 'late' as const);
    if (answer === 'late') return { ok: false, reason: 'store_unavailable', timedOut: true };
    const [freeze, policy] = answer;
    if (freeze.frozen) {
      return {
        ok: false,
        reason: 'frozen',
        text:
          freeze.by === 'deployment'
            ? FREEZE.refusedSubmissionDeployment
            : FREEZE.refusedSubmission(deps.command),
      };
    }
    const needsApproval = needsApprovalUnder(deps, policy);
    if (needsApproval && !isChannel(channelId))
      return { ok: false, reason: 'needs_channel', text: APPROVALS.needsChannel };
    return { ok: true, needsApproval, policy };
  } catch {
    return { ok: false, reason: 'store_unavailable' };
  }
}

/**
 * Reserves within RESERVE_BUDGET_MS, leaving the rest of Slack's 3 s to the intake; a reservation
 * that lands later is given back, since the person is told nothing was done.
 */
async function reserveInTime(
  deps: Pick<SubmitScheduleDeps, 'dailyLimit'>,
  input: Parameters<DailyLimit['reserve']>[0],
): Promise<Reservation> {
  const reserving = deps.dailyLimit.reserve(input);
  const outcome = await within(reserving, RESERVE_BUDGET_MS, 'late' as const);
  if (outcome !== 'late') return outcome;
  reserving
    .then((r) => (r.ok ? deps.dailyLimit.release({ ...input, unrecorded: true }) : undefined))
    .catch(() => undefined);
  throw new Error(`the daily limit was not checked within ${RESERVE_BUDGET_MS} ms`);
}
