/**
 * The use case: an admin changes who may schedule, where, how many per day, and who must approve.
 * The submitter is checked fresh; the change is saved, then audited as one line.
 */
import {
  type AccessPolicies,
  type AccessPolicy,
  type ApprovalMode,
  type ApprovalPolicy,
  approvalOf,
  type Who,
} from '../access/access-policy.js';
import { auditEntry } from '../audit/entry.js';
import type { AuditRecorder } from '../audit/record.js';
import { type AppLogger, errorText } from '../log.js';

export type { AccessPolicy, ApprovalMode, ApprovalPolicy, Who };

export interface ChangeAccessDeps {
  access: Pick<AccessPolicies, 'get' | 'set'>;
  /** The deployment's defaults: approvals required or not, the daily limit per person (null: none). */
  requiredByDefault: boolean;
  maxPerUserPerDay: number | null;
  record: AuditRecorder;
  logger: AppLogger;
  now: () => number;
}

/** What the form says now, to fill it in. */
export interface AccessForm {
  policy: AccessPolicy;
  approval: ApprovalPolicy;
  defaultLimit: number | null;
}

export interface AccessChange {
  workspaceId: string;
  userId: string;
  who: Who;
  /** Used with `who: 'groups'` only. */
  groupIds: string[];
  channelIds: string[];
  allowGuests: boolean;
  allowExternal: boolean;
  /** undefined: the deployment's default; null: unlimited. */
  dailyLimit: number | null | undefined;
  /** null: a form opened before the approval question existed (the approval stays as it was). */
  approval: { mode: ApprovalMode; groupIds: string[] } | null;
  retryNum: number | null;
  /** Workflow Builder steps allowed; undefined: a form without the question (it stays as it was). */
  allowWorkflows?: boolean;
}

export type AccessOutcome =
  | { kind: 'not_admin' }
  | { kind: 'not_saved' }
  /** `dailyLimit`: the limit that now applies (the workspace's, else the deployment's). */
  | { kind: 'saved'; policy: AccessPolicy; approval: ApprovalPolicy; dailyLimit: number | null };

/** The Slack side of one submission. */
export interface AccessSurface {
  /** Asked fresh: whether the submitter is a workspace admin or owner. */
  isAdmin(): Promise<boolean>;
  show(outcome: AccessOutcome): Promise<void>;
}

export interface ChangeAccess {
  form(workspaceId: string): Promise<AccessForm>;
  change(change: AccessChange, surface: AccessSurface): Promise<void>;
}

export function createChangeAccess(deps: ChangeAccessDeps): ChangeAccess {
  return {
    async form(workspaceId) {
      const policy = await deps.access.get(workspaceId);
      return {
        policy,
        approval: approvalOf(policy, deps.requiredByDefault),
        defaultLimit: deps.maxPerUserPerDay,
      };
    },
    async change(change, surface) {
      const { workspaceId } = change;
      if (!(await surface.isAdmin())) return surface.show({ kind: 'not_admin' });
      const before =
        change.approval && change.allowWorkflows !== undefined
          ? null
          : await deps.access.get(workspaceId).catch(() => null);
      const approvalChoice = change.approval
        ? {
            mode: change.approval.mode,
            groupIds: change.approval.mode === 'groups' ? change.approval.groupIds : [],
          }
        : before?.approval;
      const allowWorkflows = change.allowWorkflows ?? before?.allowWorkflows ?? false;
      const policy: AccessPolicy = {
        who: change.who,
        groupIds: change.who === 'groups' ? change.groupIds : [],
        channelIds: change.channelIds,
        allowGuests: change.allowGuests,
        allowExternal: change.allowExternal,
        ...(change.dailyLimit !== undefined ? { maxPerUserPerDay: change.dailyLimit } : {}),
        ...(approvalChoice ? { approval: approvalChoice } : {}),
        updatedBy: change.userId,
        updatedAt: deps.now(),
        ...(allowWorkflows ? { allowWorkflows } : {}),
      };
      try {
        await deps.access.set(workspaceId, policy);
      } catch (error) {
        deps.logger.event('error', 'store_failed', {
          operation: 'save access policy',
          error: errorText(error),
        });
        return surface.show({ kind: 'not_saved' });
      }
      const approval = approvalOf(policy, deps.requiredByDefault);
      await surface.show({
        kind: 'saved',
        policy,
        approval,
        dailyLimit: change.dailyLimit === undefined ? deps.maxPerUserPerDay : change.dailyLimit,
      });
      await deps.record(
        auditEntry({
          at: deps.now(),
          workspace: workspaceId,
          user: change.userId,
          action: 'access_changed',
          outcome: auditOutcome(policy, change.dailyLimit, approval),
          retryNum: change.retryNum,
        }),
      );
    },
  };
}

/** The change as one audit line: `groups:S1 in C1 +guests max/day:5 approval:groups:S2`. */
function auditOutcome(
  policy: AccessPolicy,
  dailyLimit: number | null | undefined,
  approval: ApprovalPolicy,
): string {
  const groups = policy.groupIds.length ? `:${policy.groupIds.join(',')}` : '';
  const channels = policy.channelIds.length ? ` in ${policy.channelIds.join(',')}` : '';
  const limit = dailyLimit !== undefined ? ` max/day:${dailyLimit ?? 'unlimited'}` : '';
  const approvers = approval.groupIds.length ? `:${approval.groupIds.join(',')}` : '';
  return (
    `${policy.who}${groups}${channels}${policy.allowGuests ? ' +guests' : ''}${policy.allowExternal ? ' +external' : ''}` +
    `${limit}${approval.mode === 'off' ? '' : ` approval:${approval.mode}${approvers}`}` +
    `${policy.allowWorkflows ? ' +workflows' : ''}`
  );
}
