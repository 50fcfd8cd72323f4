/**
 * Completing a Workflow Builder step from its request's end (the use case's `completeStep`,
 * src/scheduling/run-request.ts): `functions.completeSuccess` with the outputs, or
 * `functions.completeError` with why, in plain words. The call is made with the execution's own
 * token, opened from the record, in a Web client made for this one call and never kept (never under
 * the workspace's key). When Slack no longer accepts that token, the request still ends: the channel
 * is told with the workspace's bot token, and a log line and a metric say so.
 */
import type { webApi } from '@slack/bolt';
import type { AppLogger } from '../../log.js';
import { stepEnd, WORKFLOW } from '../../messages/workflow.js';
import type { Metrics } from '../../metrics.js';
import type { RequestRecord } from '../../scheduling/request-log.js';
import type { RequestSurface } from '../../scheduling/run-request.js';
import { refusalText } from '../blocks/access.js';
import { clip, message, section } from '../blocks/common.js';
import { deliver } from '../outbound/deliver.js';
import { slackErrorCode, slackErrorText } from '../workspace.js';

/** Slack no longer accepts the execution's token (it expires when the workflow stops waiting). */
const TOKEN_REFUSED: ReadonlySet<string> = new Set([
  'invalid_auth',
  'token_expired',
  'token_revoked',
  'not_authed',
  'account_inactive',
]);

/** Slack's answers for an execution that is already completed, or that it no longer knows. */
const GONE: ReadonlySet<string> = new Set(['function_execution_not_found', 'execution_not_in_running_state']);

/** The longest error text sent: Slack shows it in a Slackbot message. */
const ERROR_TEXT_MAX = 2_000;

export interface StepCompleterDeps {
  command: string;
  /** Opens the sealed token of the record (bound to its id); throws when it cannot. */
  open(sealed: string, recordId: string): string;
  /** A one-attempt Web client for this token, made for one use. */
  clientWith(token: string): webApi.WebClient;
  /** The workspace's bot client, to tell the channel. */
  clientFor(workspaceId: string): Promise<webApi.WebClient>;
  logger: AppLogger;
  metrics: Pick<Metrics, 'workflowStep' | 'dmFallback'>;
}

export function createStepCompleter(deps: StepCompleterDeps): Required<Pick<RequestSurface, 'completeStep'>> {
  return {
    async completeStep(r) {
      const step = r.workflow;
      if (!step) return 'gone';
      const end = stepEnd(r, { refusal: (reason) => refusalText(reason, deps.command) });
      const fields = { request: r.id, execution: step.executionId, ok: end.ok };
      let token: string;
      try {
        token = deps.open(step.sealedToken, r.id);
      } catch {
        // Sealed with a key this deployment no longer holds: the same as a token Slack refuses.
        return tokenRefused(deps, r, { ...fields, slack_error: 'unsealable' });
      }
      const client = deps.clientWith(token);
      try {
        if (end.ok)
          await client.functions.completeSuccess({
            function_execution_id: step.executionId,
            outputs: { ...end.outputs },
          });
        else
          await client.functions.completeError({
            function_execution_id: step.executionId,
            error: clip(end.error, ERROR_TEXT_MAX),
          });
      } catch (error) {
        const code = slackErrorCode(error);
        if (code && TOKEN_REFUSED.has(code)) return tokenRefused(deps, r, { ...fields, slack_error: code });
        if (code === null) throw new Error(`workflow step not completed: ${slackErrorText(error)}`);
        // Slack answered: completed already (an earlier run's call went through), or refused for good.
        deps.logger.event(GONE.has(code) ? 'info' : 'error', 'workflow_step_not_completed', {
          ...fields,
          slack_error: code,
        });
        deps.metrics.workflowStep('gone');
        return 'gone';
      }
      deps.logger.event('info', 'workflow_step_completed', fields);
      deps.metrics.workflowStep('completed');
      return 'completed';
    },
  };
}

/** The request ended, but the workflow cannot be told: the channel is, with the workspace's token. */
async function tokenRefused(
  deps: StepCompleterDeps,
  r: RequestRecord,
  fields: Record<string, unknown>,
): Promise<'token_refused'> {
  deps.logger.event('warn', 'workflow_step_token_refused', fields);
  deps.metrics.workflowStep('token_refused');
  const text = WORKFLOW.tokenRefused(r.user);
  await deliver(
    await deps.clientFor(r.workspace),
    deps.logger,
    { channelId: r.channel, userId: r.user, botUserId: r.botUserId, message: message(text, [section(text)]) },
    deps.metrics,
  );
  return 'token_refused';
}
