/** Requests for approval: the channel message with its buttons, how it ends, the Deny modal, the pending list. Pure. */
import type { types } from '@slack/bolt';
import type { DiskBackupPolicyDetails } from '../../katapult/client.js';
import { APPROVALS } from '../../messages/approvals.js';
import { code, dateToken, escapeMrkdwn } from '../../messages/mrkdwn.js';
import type { RequestRecord } from '../../scheduling/request-log.js';
import { ACTIONS, DENY_VIEW } from '../ids.js';
import { SLACK_LIMITS } from '../limits.js';
import {
  type Block,
  button,
  clip,
  context,
  label,
  message,
  modal,
  type SlackMessage,
  section,
} from './common.js';
import { PER_POLICY_MAX } from './request.js';
import { workflowMark } from './workflow.js';

/** Characters of a target's name (escaped) in a policy's summary: the facts after it still show. */
const TARGET_NAME_MAX = 200;

/**
 * What the request shows of one policy: the preview's target name, retention and size, when Katapult
 * said. The policy ID comes first, so a clipped summary still names it.
 */
export function policySummary(policyId: string, details: DiskBackupPolicyDetails | null): string {
  if (!details) return `${code(policyId)}: _${APPROVALS.previewUnavailable}_`;
  const t = details.target;
  const kind = t.type === 'Disk' ? 'disk' : t.type === 'VirtualMachine' ? 'virtual machine' : 'target';
  const name = t.name ? `*${clip(escapeMrkdwn(t.name), TARGET_NAME_MAX)}* ` : '';
  const facts = [
    `backs up ${kind} ${name}${t.id ? code(t.id) : ''}`.trim(),
    ...(details.retention !== null
      ? [`keeps ${details.retention} backup${details.retention === 1 ? '' : 's'}`]
      : []),
    ...(details.totalSize !== null ? [`total size ${details.totalSize} (as Katapult reports it)`] : []),
  ];
  return `${code(policyId)}: ${facts.join(' · ')}`;
}

const expiry = (r: RequestRecord) => dateToken(Math.floor((r.approval?.expiresAt ?? 0) / 1000));

function requestBlocks(r: RequestRecord, summaries: string[]): Block[] {
  return [
    section(APPROVALS.requestHeadline(r.user, r.policies.length)),
    ...workflowMark(r),
    // A section a policy, each clipped (as the outcome of several is), so a long one hides no other:
    // Approve approves every one. Twenty policies and the rest stay well within the block limit.
    ...summaries.map((s) => section(clip(`• ${s}`, PER_POLICY_MAX))),
    section(APPROVALS.requestWhen(dateToken(r.atSeconds), expiry(r))),
  ];
}

/** The request as first posted: who asks, what, when, until when, and Approve / Deny carrying only the record ID. */
export function approvalRequestMessage(r: RequestRecord, summaries: string[]): SlackMessage {
  return message(
    `${r.policies.length === 1 ? 'A deletion' : `${r.policies.length} deletions`} waiting for approval`,
    [
      ...requestBlocks(r, summaries),
      context(APPROVALS.requestContext),
      {
        type: 'actions',
        elements: [
          button({ text: 'Approve', actionId: ACTIONS.approve, value: r.id, style: 'primary' }),
          button({ text: 'Deny', actionId: ACTIONS.deny, value: r.id, style: 'danger' }),
        ],
      },
    ],
  );
}

/** The request once denied or expired: the buttons are gone, the outcome says why nothing happened. */
export function approvalClosedMessage(r: RequestRecord): SlackMessage {
  const d = r.approval?.decision;
  const outcome = d && !d.approved ? APPROVALS.deniedBy(d.by, d.reason) : APPROVALS.expired;
  return message(outcome, [
    ...requestBlocks(
      r,
      r.policies.map((p) => code(p.policyId)),
    ),
    section(outcome),
  ]);
}

/** The outcome of an approved request replaces the request: who approved it comes first. */
export function approvedOutcomeMessage(r: RequestRecord, outcome: SlackMessage): SlackMessage {
  const by = r.approval?.decision?.by;
  return by ? message(outcome.text, [context(APPROVALS.approvedBy(by)), ...outcome.blocks]) : outcome;
}

export function denyModal(privateMetadata: string): types.ModalView {
  return modal({
    callbackId: DENY_VIEW.callbackId,
    title: APPROVALS.denyTitle,
    submit: 'Deny',
    close: 'Cancel',
    privateMetadata,
    blocks: [
      section(APPROVALS.denyPrompt),
      {
        type: 'input',
        block_id: DENY_VIEW.reasonBlock,
        optional: true,
        label: label(APPROVALS.denyReasonLabel),
        element: {
          type: 'plain_text_input',
          action_id: DENY_VIEW.reasonAction,
          multiline: true,
          max_length: 500,
        },
      },
    ],
  });
}

/** Requests waiting for a decision, one line each (history and App Home). */
export function pendingLines(records: RequestRecord[]): Block[] {
  if (records.length === 0) return [section(APPROVALS.pendingNone)];
  const lines = records.map((r) =>
    APPROVALS.pendingLine(
      r.user,
      r.policies.map((p) => code(p.policyId)).join(', '),
      dateToken(r.atSeconds, '{date_short} {time}'),
      dateToken(Math.floor((r.approval?.expiresAt ?? 0) / 1000), '{date_short} {time}'),
      r.channel,
    ),
  );
  return Array.from({ length: Math.min(5, Math.ceil(lines.length / 10)) }, (_, i) =>
    section(lines.slice(i * 10, i * 10 + 10).join('\n')),
  );
}

export const PENDING_SHOWN = 50;
export const REASON_MAX = Math.min(500, SLACK_LIMITS.sectionText);
