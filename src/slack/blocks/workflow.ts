/** The mark on every message about a request a Workflow Builder step started (issue 21, item 4). Pure. */
import { WORKFLOW } from '../../messages/workflow.js';
import type { RequestRecord } from '../../scheduling/request-log.js';
import { type Block, context, message, type SlackMessage } from './common.js';

/** The mark's block, for a request a workflow started; none otherwise. */
export const workflowMark = (r: Pick<RequestRecord, 'workflow'>): Block[] =>
  r.workflow ? [context(WORKFLOW.startedBy)] : [];

/** The message with the mark last, for a request a workflow started. */
export const markedMessage = (r: Pick<RequestRecord, 'workflow'>, m: SlackMessage): SlackMessage =>
  r.workflow ? message(m.text, [...m.blocks, ...workflowMark(r)]) : m;

/** A private note's text with the mark, for a request a workflow started. */
export const markedText = (r: Pick<RequestRecord, 'workflow'>, text: string): string =>
  r.workflow ? `${text}\n${WORKFLOW.startedBy}` : text;
