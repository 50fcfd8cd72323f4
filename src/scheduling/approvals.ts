/**
 * Four eyes: a request that needs approval is a state of its request record. The worker posts it
 * (`awaiting_approval`) and hands the record's lease to a "hold" that lasts until the request
 * expires, so the sweep finds it again exactly then, from the store, whatever restarted meanwhile.
 * A decision takes a claim on the record (one decider across double clicks and replicas), takes the
 * hold, and writes the new state fenced by it: an Approve turns the record back to `pending` and
 * the worker runs it like any submission (the same use case, the same retries, once); a Deny ends it.
 */
import type { AuditRecorder } from '../audit/record.js';
import type { AppLogger } from '../log.js';
import { APPROVALS } from '../messages/approvals.js';
import { MIN_LEAD_SECONDS } from '../time/when.js';
import type { RequestLog, RequestRecord } from './request-log.js';

/** The lease owner that holds a record while it waits for a decision (any replica can name it). */
export const holdOwner = (id: string) => `approval-hold:${id}`;

/** The Slack side of approvals (src/slack/approval-surface.ts). */
export interface ApprovalSurface {
  /** Posts the request with Approve and Deny in the record's channel; never elsewhere. */
  postRequest(r: RequestRecord): Promise<{ ok: true; ts: string } | { ok: false; slackError: string | null }>;
  /** Replaces the request message's buttons with how it ended (denied, expired). */
  closeRequest(r: RequestRecord): Promise<void>;
  /** A private note to the requester. */
  tell(r: RequestRecord, text: string): Promise<void>;
}

export interface ApprovalDeps {
  requests: Pick<RequestLog, 'get' | 'lease' | 'save' | 'release'>;
  surface: ApprovalSurface;
  record: AuditRecorder;
  logger: AppLogger;
  now: () => number;
  leaseMs: number;
}

/** One audit entry per policy of the request; `user` is who asked, `decidedBy` who decided. */
export async function auditApproval(
  deps: Pick<ApprovalDeps, 'record' | 'now'>,
  r: RequestRecord,
  outcome: 'requested' | 'approved' | 'denied' | 'expired' | `refused:${string}`,
  decidedBy: string | null,
): Promise<void> {
  for (const step of r.policies) {
    await deps.record({
      at: deps.now(),
      workspace: r.workspace,
      user: r.user,
      channel: r.channel,
      action: 'approval',
      policyId: step.policyId,
      requestedAt: r.atSeconds,
      requestedLocal: null,
      outcome,
      autoMoveToTrashAt: null,
      requestId: null,
      retryNum: r.retryNum,
      delivery: null,
      decidedBy,
    });
  }
}

/**
 * Holds an awaiting record until it expires. Lease and hold are different owners, so the lease is
 * given up first; whoever takes the record in between (a decision, the sweep) finds it consistent,
 * and a hold taken on a record that was decided meanwhile is given up at once.
 */
async function hold(deps: ApprovalDeps, r: RequestRecord, owner: string): Promise<void> {
  const expiresAt = r.approval?.expiresAt ?? deps.now();
  await deps.requests.release(r.id, owner);
  const held = await deps.requests.lease(r.id, holdOwner(r.id), Math.max(1, expiresAt - deps.now()));
  if (held && held.state !== 'awaiting_approval') await deps.requests.release(r.id, holdOwner(r.id));
}

/**
 * Called by the worker for a record that needs approval and has none yet (access already checked):
 * posts the request and holds it. A channel the bot cannot post in refuses the request, with the fix.
 * `save` writes `r` under the worker's lease.
 */
export async function requestApproval(
  deps: ApprovalDeps,
  r: RequestRecord,
  save: () => Promise<void>,
  owner: string,
): Promise<void> {
  const approval = r.approval;
  if (!approval) return;
  if (!approval.messageTs) {
    const posted = await deps.surface.postRequest(r);
    if (!posted.ok) {
      r.refused = 'approval_not_posted';
      r.state = 'done';
      await save();
      deps.logger.event('warn', 'approval_request_not_posted', {
        request: r.id,
        slack_error: posted.slackError,
      });
      await deps.surface.tell(r, APPROVALS.cannotPost(r.channel, r.botUserId, posted.slackError));
      await auditApproval(deps, r, 'refused:approval_not_posted', null);
      return;
    }
    approval.messageTs = posted.ts;
    r.state = 'awaiting_approval';
    await save();
    await deps.surface.tell(r, APPROVALS.waiting(r.channel));
  }
  if (!approval.audited) {
    await auditApproval(deps, r, 'requested', null);
    approval.audited = true;
    await save();
  }
  await hold(deps, r, owner);
}

/** The worker took an awaiting record (its hold lapsed): expire it when due, else hold it again. */
export async function awaitingTaken(deps: ApprovalDeps, r: RequestRecord, owner: string): Promise<void> {
  if (!r.approval || deps.now() < r.approval.expiresAt) {
    await hold(deps, r, owner);
    return;
  }
  const expired: RequestRecord = { ...r, state: 'expired' };
  if (!(await deps.requests.save(expired, owner))) return;
  deps.logger.event('info', 'approval_expired', { request: r.id });
  await deps.surface.closeRequest(expired);
  await deps.surface.tell(expired, APPROVALS.expiredForRequester(r.channel));
  await auditApproval(deps, expired, 'expired', null);
}

export type DecisionRefusal =
  | 'not_found'
  | 'decided'
  | 'expired'
  | 'frozen'
  | 'too_late'
  | 'busy'
  | 'own_request'
  | 'not_approver'
  | 'guest'
  | 'external'
  | 'lookup_failed'
  | 'store_unavailable';

export interface DecideDeps extends ApprovalDeps {
  /** Exactly one caller per key until the TTL passes, across replicas. */
  claims: { claim(key: string, ttlMs: number): Promise<boolean>; release(key: string): Promise<void> };
  /** Fresh check of the decider's right (Slack's users.info, the stored policy). */
  mayDecide(
    r: RequestRecord,
    userId: string,
  ): Promise<{ allowed: true } | { allowed: false; reason: DecisionRefusal }>;
  frozen(workspaceId: string): Promise<boolean>;
  /** Starts the worker on an approved record. */
  run(id: string): void;
}

export type Decision = { approve: true } | { approve: false; reason?: string };

/**
 * Approve or deny. Everything is read from the store and Slack here: the caller passes only the
 * record ID it was given (a button value) and who clicked.
 */
export async function decide(
  deps: DecideDeps,
  input: { workspaceId: string; id: string; userId: string; decision: Decision },
): Promise<{ ok: true; record: RequestRecord } | { ok: false; reason: DecisionRefusal }> {
  const check = (r: RequestRecord | null): DecisionRefusal | null => {
    if (!r || r.workspace !== input.workspaceId || !r.approval) return 'not_found';
    if (r.state === 'expired' || (r.state === 'awaiting_approval' && deps.now() >= r.approval.expiresAt))
      return 'expired';
    if (r.state !== 'awaiting_approval') return 'decided';
    return null;
  };
  let found: RequestRecord | null;
  try {
    found = await deps.requests.get(input.id);
  } catch {
    return { ok: false, reason: 'store_unavailable' };
  }
  const early = check(found);
  if (early || !found) return { ok: false, reason: early ?? 'not_found' };
  if (input.userId === found.user) return { ok: false, reason: 'own_request' };
  const right = await deps.mayDecide(found, input.userId);
  if (!right.allowed) return { ok: false, reason: right.reason };
  if (input.decision.approve) {
    if (await deps.frozen(input.workspaceId)) return { ok: false, reason: 'frozen' };
    if (found.atSeconds * 1000 - deps.now() < MIN_LEAD_SECONDS * 1000)
      return { ok: false, reason: 'too_late' };
  }

  const claim = `approval:${input.id}`;
  if (!(await deps.claims.claim(claim, deps.leaseMs * 2))) return { ok: false, reason: 'busy' };
  const owner = holdOwner(input.id);
  let decided: RequestRecord | null = null;
  try {
    const held = await deps.requests.lease(input.id, owner, deps.leaseMs);
    // Not obtainable: the worker is posting or expiring it right now, or it has ended.
    const late = held
      ? check(held)
      : (await deps.requests.get(input.id))?.state === 'awaiting_approval'
        ? 'busy'
        : 'decided';
    if (late || !held?.approval) {
      // Put the hold back as it was (the sweep expires it when due); never keep one on a decided record.
      if (held?.state === 'awaiting_approval' && held.approval)
        await deps.requests.lease(input.id, owner, Math.max(1, held.approval.expiresAt - deps.now()));
      else if (held) await deps.requests.release(input.id, owner);
      return { ok: false, reason: late ?? 'busy' };
    }
    const at = deps.now();
    const next: RequestRecord = {
      ...held,
      state: input.decision.approve ? 'pending' : 'denied',
      approval: {
        ...held.approval,
        decision: {
          by: input.userId,
          at,
          approved: input.decision.approve,
          ...(!input.decision.approve && input.decision.reason ? { reason: input.decision.reason } : {}),
        },
      },
    };
    if (!(await deps.requests.save(next, owner))) return { ok: false, reason: 'busy' };
    await deps.requests.release(input.id, owner);
    decided = next;
  } catch (error) {
    deps.logger.event('error', 'approval_decision_failed', {
      request: input.id,
      error: error instanceof Error ? error.message : String(error),
    });
    return { ok: false, reason: 'store_unavailable' };
  } finally {
    // A refused or failed attempt lets the next person decide; a decision keeps the claim until it lapses.
    if (!decided) await deps.claims.release(claim).catch(() => undefined);
  }

  deps.logger.event('info', input.decision.approve ? 'approval_approved' : 'approval_denied', {
    request: input.id,
    requester: decided.user,
    decided_by: input.userId,
  });
  if (input.decision.approve) {
    await auditApproval(deps, decided, 'approved', input.userId);
    deps.run(input.id);
  } else {
    await deps.surface.closeRequest(decided);
    await deps.surface.tell(
      decided,
      APPROVALS.deniedForRequester(decided.channel, input.userId, decided.approval?.decision?.reason),
    );
    await auditApproval(deps, decided, 'denied', input.userId);
  }
  return { ok: true, record: decided };
}
