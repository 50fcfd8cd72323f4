/**
 * Every use case a person starts from Slack, built once from the bot's parts (the composition root
 * hands them over). The Slack listeners get this object and nothing below it: they parse, call one
 * use case with their Slack side (a surface), and answer.
 */
import type { AccessPolicies } from '../access/access-policy.js';
import type { Freezes } from '../access/freeze.js';
import { auditEntry } from '../audit/entry.js';
import type { AuditRecorder } from '../audit/record.js';
import type { AuditTrail } from '../audit/trail.js';
import type { AppLogger } from '../log.js';
import type { Metrics } from '../metrics.js';
import type { Store } from '../store/store.js';
import type { WorkspaceTokens } from '../tokens/workspace-tokens.js';
import {
  type ApprovalDeps,
  type DecideDeps,
  type Decision,
  type DecisionRefusal,
  decide,
} from './approvals.js';
import { type ChangeAccess, createChangeAccess } from './change-access.js';
import type { DailyLimit } from './daily-limit.js';
import { createForgetWorkspace, type ForgetWorkspace } from './forget-workspace.js';
import { createPendingApprovals, createReadHistory, type ReadHistory } from './history.js';
import { createReadHome, type ReadHome } from './home.js';
import type { RequestIntake } from './intake.js';
import type { LastChannels } from './last-channel.js';
import { type KatapultReader, previewPolicy } from './preview.js';
import type { RequestLog, RequestRecord } from './request-log.js';
import { createRestorePolicy, type KatapultRestorer, type RestorePolicy } from './restore.js';
import { createSetFreeze, type SetFreeze } from './set-freeze.js';
import { createSetToken, type SetToken } from './set-token.js';
import { createSubmitSchedule, type SubmitSchedule } from './submit-schedule.js';
import type { UpcomingDeletions } from './upcoming.js';
import { createStartWorkflowStep, type StartWorkflowStep } from './workflow-step.js';

export type { Decision, DecisionRefusal };

/** `/katapult history admin`: configuration and admin entries, further back than the last 20 actions. */
const ADMIN_HISTORY_LIMIT = 50;

/** The parts the use cases are built from (src/app.ts makes them). */
export interface UseCaseParts {
  /** The slash command, as the texts name it. */
  command: string;
  tokens: WorkspaceTokens;
  katapult: KatapultRestorer & KatapultReader;
  access: AccessPolicies;
  freezes: Freezes;
  upcoming: UpcomingDeletions;
  requests: Pick<RequestLog, 'since' | 'forget'>;
  dailyLimit: DailyLimit;
  trail: Pick<AuditTrail, 'recent' | 'admin' | 'forget'>;
  record: AuditRecorder;
  /** Records submissions in the request log and starts their work. */
  intake: RequestIntake;
  /** Idempotency keys (restore clicks, approval decisions). */
  claims: Pick<Store, 'claim' | 'release'>;
  /** The deployment's daily limit per person (null: unlimited), unless a workspace sets one. */
  maxPerUserPerDay: number | null;
  approvals: {
    /** The deployment's default, and how long a request waits for a decision. */
    requiredByDefault: boolean;
    ttlMs: number;
    /** What the approval steps share with the worker and the expiry sweep. */
    deps: ApprovalDeps;
    /** Fresh check of a decider's right (Slack's users.info and the stored policy). */
    mayDecide: DecideDeps['mayDecide'];
    /** Starts the worker on an approved record. */
    run(id: string): void;
  };
  /** Deletes a workspace's Slack installation when it uninstalls (OAuth; else nothing). */
  deleteInstallation(workspaceId: string): Promise<void>;
  /** One workspace's bot token (true), or OAuth installations (false): what an uninstall keeps. */
  singleWorkspace: boolean;
  logger: AppLogger;
  metrics: Pick<Metrics, 'submission' | 'storeError' | 'workflowStep'>;
  now: () => number;
  // Workflow Builder step (issue 21, item 4): appended here.
  /** Seals a workflow step's execution token for its request record (bound to `aad`). */
  sealStepToken(token: string, aad: string): string;
  // --- Issue 21. ---
  lastChannels?: LastChannels;
}

export interface UseCases {
  submitSchedule: SubmitSchedule;
  /** The scheduling form opened for someone the access policy refuses there: audited. */
  refuseScheduleForm(input: {
    workspaceId: string;
    userId: string;
    channelId: string;
    policyId: string | null;
    reason: string;
    retryNum: number | null;
  }): Promise<void>;
  /** What a policy backs up, for the form's preview. */
  previewPolicy: (request: { workspaceId: string; policyId: string }) => ReturnType<typeof previewPolicy>;
  restorePolicy: RestorePolicy;
  /** The workspace's token as the token form shows it. */
  tokenStatus: WorkspaceTokens['status'];
  setToken: SetToken;
  accessForm: ChangeAccess['form'];
  changeAccess: ChangeAccess['change'];
  setFreeze: SetFreeze;
  readHistory: ReadHistory;
  /** The configuration and admin entries on their own (`/katapult history admin`), admins only. */
  readAdminHistory: ReadHistory;
  readHome: ReadHome;
  /** Approve or deny a request for approval (src/scheduling/approvals.ts). */
  decideApproval(input: {
    workspaceId: string;
    id: string;
    userId: string;
    decision: Decision;
  }): Promise<{ ok: true; record: RequestRecord } | { ok: false; reason: DecisionRefusal }>;
  /** Removes everything stored for a workspace that uninstalled the app. */
  forgetWorkspace: ForgetWorkspace;
  /** A Workflow Builder step's execution, taken in like a submission (src/scheduling/workflow-step.ts). */
  startWorkflowStep: StartWorkflowStep;
  // --- Issue 21: the last channel each person used, for the global shortcut's picker. ---
  lastChannel?: Pick<LastChannels, 'remember' | 'recall'>;
}

export function buildUseCases(parts: UseCaseParts): UseCases {
  const { tokens, katapult, access, freezes, record, logger, now } = parts;
  const { requiredByDefault } = parts.approvals;
  const pending = createPendingApprovals({ requests: parts.requests, now });
  const accessPolicy = createChangeAccess({
    access,
    requiredByDefault,
    maxPerUserPerDay: parts.maxPerUserPerDay,
    record,
    logger,
    now,
  });
  const submitSchedule = createSubmitSchedule({
    command: parts.command,
    freezes,
    access,
    approvals: { requiredByDefault, ttlMs: parts.approvals.ttlMs },
    maxPerUserPerDay: parts.maxPerUserPerDay,
    dailyLimit: parts.dailyLimit,
    intake: parts.intake,
    record,
    logger,
    metrics: parts.metrics,
    now,
  });
  return {
    submitSchedule,
    startWorkflowStep: createStartWorkflowStep({
      command: parts.command,
      access,
      submitSchedule,
      seal: parts.sealStepToken,
      record,
      logger,
      metrics: parts.metrics,
      now,
    }),
    refuseScheduleForm: (input) =>
      record(
        auditEntry({
          at: now(),
          workspace: input.workspaceId,
          user: input.userId,
          channel: input.channelId,
          action: 'schedule',
          policyId: input.policyId,
          outcome: `refused:${input.reason}`,
          retryNum: input.retryNum,
        }),
      ),
    previewPolicy: (request) => previewPolicy({ tokens, katapult }, request),
    restorePolicy: createRestorePolicy({
      tokens,
      katapult,
      upcoming: parts.upcoming,
      claims: parts.claims,
      record,
      logger,
      now,
    }),
    tokenStatus: (workspaceId) => tokens.status(workspaceId),
    setToken: createSetToken({ tokens, record, logger, now }),
    accessForm: accessPolicy.form,
    changeAccess: accessPolicy.change,
    setFreeze: createSetFreeze({ command: parts.command, freezes, record, logger, now }),
    readHistory: createReadHistory({ trail: parts.trail, pending }),
    async readAdminHistory(workspaceId, viewer) {
      if (!(await viewer.isAdmin())) return { allowed: false };
      return {
        allowed: true,
        entries: await parts.trail.admin(workspaceId, ADMIN_HISTORY_LIMIT),
        pending: [],
      };
    },
    readHome: createReadHome({
      tokens,
      access,
      freezes,
      upcoming: parts.upcoming,
      trail: parts.trail,
      pending,
      requiredByDefault,
      now,
    }),
    decideApproval: (input) =>
      decide(
        {
          ...parts.approvals.deps,
          claims: parts.claims,
          mayDecide: parts.approvals.mayDecide,
          frozen: async (workspaceId) => (await freezes.get(workspaceId)).frozen,
          run: parts.approvals.run,
        },
        input,
      ),
    forgetWorkspace: createForgetWorkspace({
      deleteInstallation: parts.deleteInstallation,
      tokens,
      access,
      freezes,
      upcoming: parts.upcoming,
      requests: parts.requests,
      dailyLimit: parts.dailyLimit,
      holds: parts.approvals.deps.holds,
      trail: parts.trail,
      record,
      singleWorkspace: parts.singleWorkspace,
      logger,
      now,
      ...(parts.lastChannels ? { lastChannels: parts.lastChannels } : {}),
    }),
    ...(parts.lastChannels ? { lastChannel: parts.lastChannels } : {}),
  };
}
