/**
 * Four eyes: a request that needs approval is a state of its request record. The worker posts it,
 * then parks the record (`awaiting_approval`, not active: no request worker runs it, whatever its
 * version) beside a "hold" document whose lease lasts until the request expires, so an expiry sweep
 * finds it exactly then, from the store, whatever restarted meanwhile. A decision takes a claim
 * (one decider across double clicks and replicas) and the hold, then writes the record: an Approve
 * turns it back to `pending` and the worker runs it like any submission (the same use case, the same
 * retries, once); a Deny ends it.
 */
import { type AuditRecorder, recordEachPolicy } from '../audit/record.js';
import { type AppLogger, errorText } from '../log.js';
import { APPROVALS } from '../messages/approvals.js';
import type { Docs } from '../store/docs.js';
import { MIN_LEAD_SECONDS } from '../time/local.js';
import { type DailyLimit, giveBackPlaces } from './daily-limit.js';
import type { RequestLog, RequestRecord } from './request-log.js';

export const HOLDS = 'approval_hold';

/** The lease owner of a waiting request's hold (any replica can name it, to decide). */
export const holdOwner = (id: string) => `approval-hold:${id}`;

/** One document per waiting request, leased by `holdOwner(id)` until the request expires. */
export interface ApprovalHolds {
  /** Creates or renews the hold until the request's expiry. */
  hold(r: RequestRecord, nowMs: number): Promise<void>;
  /** Takes the hold's lease: as `holdOwner(id)` while it holds, as anyone else once it lapsed. */
  take(id: string, owner: string, ttlMs: number): Promise<boolean>;
  release(id: string, owner: string): Promise<void>;
  remove(id: string): Promise<void>;
  /** Holds whose lease lapsed (their request expired, or a decider died), oldest expiry first. */
  lapsed(limit: number): Promise<string[]>;
  /** Every hold of a workspace (it uninstalled the app). */
  forget(workspaceId: string): Promise<void>;
}

export function createApprovalHolds(docs: Docs): ApprovalHolds {
  return {
    async hold(r, nowMs) {
      const ttlMs = Math.max(1, (r.approval?.expiresAt ?? nowMs) - nowMs);
      const created = await docs.insert(HOLDS, {
        key: r.id,
        partition: r.workspace,
        sort: r.approval?.expiresAt ?? nowMs,
        active: true,
        body: '{}',
        lease: { owner: holdOwner(r.id), ttlMs },
      });
      if (!created) await docs.lease(HOLDS, r.id, holdOwner(r.id), ttlMs);
    },
    take: async (id, owner, ttlMs) => (await docs.lease(HOLDS, id, owner, ttlMs)) !== null,
    release: (id, owner) => docs.release(HOLDS, id, owner),
    remove: (id) => docs.remove(HOLDS, id),
    lapsed: (limit) => docs.expired(HOLDS, limit),
    forget: (workspaceId) => docs.removePartition(HOLDS, workspaceId),
  };
}

/** The Slack side of approvals (src/slack/ports/approval-surface.ts). */
export interface ApprovalSurface {
  /** Posts the request with Approve and Deny in the record's channel; never elsewhere. */
  postRequest(r: RequestRecord): Promise<{ ok: true; ts: string } | { ok: false; slackError: string | null }>;
  /** Replaces the request message's buttons with how it ended (denied, expired). */
  closeRequest(r: RequestRecord): Promise<void>;
  /** A private note to the requester. */
  tell(r: RequestRecord, text: string): Promise<void>;
  // --- Issue 21: the request's thread. ---
  /** Says in the request's thread who approved or denied it (and why). */
  decided?(r: RequestRecord): Promise<void>;
}

export interface ApprovalDeps {
  requests: Pick<RequestLog, 'get' | 'put'>;
  holds: ApprovalHolds;
  surface: ApprovalSurface;
  record: AuditRecorder;
  logger: AppLogger;
  now: () => number;
  leaseMs: number;
  /** The per-person daily limit: a request that ends unapproved gives its places back. */
  dailyLimit?: Pick<DailyLimit, 'release'>;
}

/** Gives back the daily-limit places of a request that ended without running (best effort). */
const releasePlaces = (deps: ApprovalDeps, r: RequestRecord): Promise<void> =>
  giveBackPlaces(
    deps,
    r,
    r.policies.map((p) => p.policyId),
  );

/** One audit entry per policy of the request; `user` is who asked, `decidedBy` who decided. */
export async function auditApproval(
  deps: Pick<ApprovalDeps, 'record' | 'now'>,
  r: RequestRecord,
  outcome: 'requested' | 'approved' | 'denied' | 'expired' | `refused:${string}`,
  decidedBy: string | null,
): Promise<void> {
  await recordEachPolicy(
    deps.record,
    deps.now,
    r.policies.map((p) => p.policyId),
    {
      workspace: r.workspace,
      user: r.user,
      channel: r.channel,
      action: 'approval',
      requestedAt: r.atSeconds,
      outcome,
      retryNum: r.retryNum,
      decidedBy,
      ...(r.workflow ? { via: 'workflow' as const } : {}),
    },
  );
}

/**
 * Called by the worker, under its lease, for a record that needs approval and has none yet (access
 * already checked): posts the request, holds it, parks it. A channel the bot cannot post in refuses
 * the request, with the fix. `save` writes `r` under the worker's lease.
 */
export async function requestApproval(
  deps: ApprovalDeps,
  r: RequestRecord,
  save: () => Promise<void>,
): Promise<void> {
  const approval = r.approval;
  if (!approval) return;
  if (!approval.messageTs) {
    const posted = await deps.surface.postRequest(r);
    if (!posted.ok) {
      deps.logger.event('warn', 'approval_request_not_posted', {
        request: r.id,
        slack_error: posted.slackError,
      });
      // Told before the end is written: a store error or a crash in between tells again at the next
      // attempt (which tries to post it again), rather than never.
      await deps.surface.tell(r, APPROVALS.cannotPost(r.channel, r.botUserId, posted.slackError));
      r.refused = 'approval_not_posted';
      r.state = 'done';
      await save();
      await releasePlaces(deps, r);
      await auditApproval(deps, r, 'refused:approval_not_posted', null);
      return;
    }
    approval.messageTs = posted.ts;
    // The approval request is the request's one message: the outcome edits it, the rest is its thread.
    r.message = { channel: r.channel, ts: posted.ts, threadTs: r.threadTs ?? posted.ts };
    await save();
    await deps.surface.tell(r, APPROVALS.waiting(r.channel));
  }
  // The hold first: a record parked without one could never expire.
  await deps.holds.hold(r, deps.now());
  if (!approval.audited) {
    await auditApproval(deps, r, 'requested', null);
    approval.audited = true;
  }
  r.state = 'awaiting_approval';
  await save();
}

/** Expires the requests whose hold lapsed at their expiry (and re-holds any that lapsed early). */
export async function sweepApprovals(deps: ApprovalDeps, owner: string): Promise<void> {
  for (const id of await deps.holds.lapsed(50)) {
    if (!(await deps.holds.take(id, owner, deps.leaseMs))) continue;
    const r = await deps.requests.get(id);
    if (r?.state !== 'awaiting_approval' || !r.approval) {
      await deps.holds.remove(id); // decided (or gone) meanwhile: nothing waits on this hold
      continue;
    }
    if (deps.now() < r.approval.expiresAt) {
      // A decider died holding it: hold it again until the expiry.
      await deps.holds.release(id, owner);
      await deps.holds.hold(r, deps.now());
      continue;
    }
    const expired: RequestRecord = { ...r, state: 'expired' };
    await deps.requests.put(expired);
    await deps.holds.remove(id);
    await releasePlaces(deps, expired);
    deps.logger.event('info', 'approval_expired', { request: r.id });
    await deps.surface.closeRequest(expired);
    await deps.surface.tell(expired, APPROVALS.expiredForRequester(r.channel));
    await auditApproval(deps, expired, 'expired', null);
  }
}

/** Runs `sweepApprovals` every `sweepMs` (each run tracked, so a shutdown waits for it). */
export function createApprovalSweeper(options: {
  deps: ApprovalDeps;
  owner: string;
  sweepMs: number;
  track<T>(work: () => Promise<T>): Promise<T>;
}): { start(): void; stop(): void; sweep(): Promise<void> } {
  let timer: NodeJS.Timeout | undefined;
  let running = false;
  const sweep = async () => {
    if (running) return;
    running = true;
    try {
      await options.track(() => sweepApprovals(options.deps, options.owner));
    } catch (error) {
      options.deps.logger.event('error', 'approval_sweep_failed', {
        error: errorText(error),
      });
    } finally {
      running = false;
    }
  };
  return {
    sweep,
    start() {
      timer = setInterval(() => void sweep(), options.sweepMs);
      timer.unref();
    },
    stop: () => clearInterval(timer),
  };
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
    // The worker is still posting it: a moment later it waits.
    if (r.state === 'pending' && !r.approval.decision && !r.refused) return 'busy';
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
    // The hold is ours to take while it holds; once lapsed, the expiry sweep has it.
    if (!(await deps.holds.take(input.id, owner, deps.leaseMs))) {
      return { ok: false, reason: check(await deps.requests.get(input.id)) ?? 'expired' };
    }
    const held = await deps.requests.get(input.id);
    const late = check(held);
    if (late || !held?.approval) {
      // Put the hold back as it was (the sweep expires it when due); drop it once decided.
      if (held?.state === 'awaiting_approval') await deps.holds.hold(held, deps.now());
      else await deps.holds.remove(input.id);
      return { ok: false, reason: late ?? 'decided' };
    }
    const next: RequestRecord = {
      ...held,
      state: input.decision.approve ? 'pending' : 'denied',
      approval: {
        ...held.approval,
        decision: {
          by: input.userId,
          at: deps.now(),
          approved: input.decision.approve,
          ...(!input.decision.approve && input.decision.reason ? { reason: input.decision.reason } : {}),
        },
      },
    };
    await deps.requests.put(next);
    await deps.holds.remove(input.id);
    decided = next;
  } catch (error) {
    deps.logger.event('error', 'approval_decision_failed', {
      request: input.id,
      error: errorText(error),
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
  await deps.surface.decided?.(decided);
  if (input.decision.approve) {
    await auditApproval(deps, decided, 'approved', input.userId);
    deps.run(input.id);
  } else {
    await releasePlaces(deps, decided);
    await deps.surface.closeRequest(decided);
    await deps.surface.tell(
      decided,
      APPROVALS.deniedForRequester(decided.channel, input.userId, decided.approval?.decision?.reason),
    );
    await auditApproval(deps, decided, 'denied', input.userId);
    // A workflow step waits on it: the worker completes it (the record stays active until then).
    if (decided.workflow) deps.run(input.id);
  }
  return { ok: true, record: decided };
}
