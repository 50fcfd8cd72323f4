/**
 * The wording of the Workflow Builder step "Schedule disk backup policy deletion" (issue 21, item
 * 4): the access option, the mark on every message of a request a workflow started, and how the
 * step ends (its outputs, or the error Slack shows the person who ran the workflow, in plain words).
 */

import type { RequestRecord } from '../scheduling/request-log.js';
import { FAILED_TEXT } from '../scheduling/run-request.js';
import { isoSeconds } from '../time/instant.js';
import { APPROVALS } from './approvals.js';
import { UNKNOWN_TIME } from './mrkdwn.js';
import { STOPPED } from './stopped.js';
import { STORE_DOWN_INLINE } from './submission.js';

export const WORKFLOW = {
  allowLabel: 'Allow Workflow Builder steps',
  allowHint:
    'The step “Schedule disk backup policy deletion” names who asks (the workflow’s author chooses whom): the rules above then apply to that person. Unticked, workflows are refused.',
  allowedInWords: 'Workflow Builder steps may start requests, for the person they name.',
  off: (command: string) =>
    `:no_entry: Workflow Builder steps may not schedule deletions in this workspace. Workspace admins and owners can allow them with \`${command} access\`.`,
  /** On every message about a request a workflow started. */
  startedBy: ':gear: Started by a workflow.',
  /** The step's inputs did not make a request (the step fails with this). */
  badInput: (why: string) => `The step's inputs cannot be scheduled: ${why}`,
  missingInput: (what: string) => `The step has no ${what}: map it in Workflow Builder.`,
  /** Slack no longer accepts the step's token: said in the request's channel. */
  tokenRefused: (userId: string) =>
    `:warning: The workflow that asked for <@${userId}>'s request above was not told how it ended: Slack no longer accepts the step's token (the workflow stopped waiting). The request itself finished as shown here; the workflow's next steps did not run.`,
  /** A record ended without recording a request (the store was too slow). */
  notRecorded: STORE_DOWN_INLINE,
};

/** Text for the error of a step: Slack shows it as plain text, so emoji codes and mrkdwn marks go. */
export function plainWords(text: string): string {
  return text
    .replace(/:[a-z][a-z0-9_+-]*:\s*/g, '')
    .replace(/[*`]/g, '')
    .replace(/<#(\w+)(\|[^>]*)?>/g, '#$1')
    .replace(/[ \t]+/g, ' ')
    .trim();
}

/** What the step completes with: its outputs, or why it failed. */
export type StepEnd = { ok: true; outputs: StepOutputs } | { ok: false; error: string };

/** The step's output parameters (the manifests declare the same names). */
export interface StepOutputs {
  /** The time Katapult confirmed (unix seconds; the requested time if it confirmed none). */
  scheduled_at: number;
  /** One line per policy: its ID and what became of it. */
  outcomes: string;
}

/** The phrasing of refusals (src/slack/blocks/access.ts) and Katapult failures, given by the caller. */
export interface StepWording {
  refusal(reason: string): string;
}

/** How a request that ended completes its workflow step: success only when every policy was scheduled. */
export function stepEnd(r: RequestRecord, words: StepWording): StepEnd {
  const fail = (text: string): StepEnd => ({ ok: false, error: plainWords(text) });
  switch (r.state) {
    case 'denied': {
      const d = r.approval?.decision;
      return fail(APPROVALS.deniedForRequester(r.channel, d?.by ?? 'someone', d?.reason));
    }
    case 'expired':
      return fail(APPROVALS.expiredForRequester(r.channel));
    case 'cancelled':
      return fail(WORKFLOW.notRecorded);
    case 'failed':
      return fail(FAILED_TEXT(r.policies.map((p) => p.policyId)));
    case 'stopped':
      return fail(`${STOPPED.headline(r.user, r.stopped?.reason ?? 'frozen')} ${outcomeLines(r)}`);
    default:
  }
  if (r.refused === 'approval_not_posted') return fail(APPROVALS.cannotPost(r.channel, r.botUserId, null));
  if (r.refused) return fail(words.refusal(r.refused));
  const scheduled = r.policies.flatMap((p) => (p.result?.ok && !p.superseded ? [p.result] : []));
  const first = scheduled[0];
  if (!first || scheduled.length < r.policies.length) return fail(outcomeLines(r));
  return {
    ok: true,
    outputs: { scheduled_at: first.autoMoveToTrashAt ?? r.atSeconds, outcomes: outcomeLines(r) },
  };
}

/** One line per policy, in plain words. */
function outcomeLines(r: RequestRecord): string {
  return r.policies
    .map((p) => {
      if (p.superseded) return `${p.policyId}: not applied (a newer schedule was made since).`;
      if (!p.result) return `${p.policyId}: not scheduled.`;
      if (!p.result.ok)
        return `${p.policyId}: not scheduled. ${plainWords(p.result.explanation.summary)} ${plainWords(p.result.explanation.next)}`.trim();
      const at = p.result.autoMoveToTrashAt ?? r.atSeconds;
      return `${p.policyId}: scheduled to move to the trash at ${isoSeconds(at) ?? UNKNOWN_TIME}.`;
    })
    .join('\n');
}
