/**
 * What a scheduling submission must pass before it is recorded, answered inline in the modal: the
 * emergency stop, and, when the workspace needs approvals, a channel approvers can see (a direct
 * message or App Home has none). Store reads only, bounded well inside Slack's 3 seconds.
 */

import { type AccessPolicy, approvalOf } from '../access/access-policy.js';
import { recordEachPolicy } from '../audit/record.js';
import { APPROVALS, FREEZE } from '../messages/approvals.js';
import type { ListenerDeps } from './listeners/deps.js';

export type Gate =
  /** `policy`: the workspace's access policy as read here, for the caller's next checks. */
  | { ok: true; needsApproval: boolean; policy: AccessPolicy }
  /** `text`: the inline error (none: the caller's "store down" one); `afterAck`: the audit, once Slack has its answer. */
  | {
      ok: false;
      reason: 'frozen' | 'needs_channel' | 'store_unavailable';
      /** The store did not answer within the gate's time (as opposed to failing). */
      timedOut?: boolean;
      text?: string;
      afterAck?: () => Promise<void>;
    };

const GATE_TIMEOUT_MS = 1_000;

/** Channels approvers can see: public and private channels (IDs `C…`, legacy private `G…`). */
const isChannel = (id: string) => /^[CG][A-Z0-9]+$/.test(id);

export async function submissionGate(
  deps: Pick<
    ListenerDeps,
    'freezes' | 'access' | 'approvals' | 'command' | 'record' | 'logger' | 'metrics' | 'now'
  >,
  input: { workspaceId: string; userId: string; channelId: string; policyIds: string[]; atSeconds: number },
): Promise<Gate> {
  const gate = await check(deps, input.workspaceId, input.channelId);
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
    afterAck: () =>
      recordEachPolicy(deps.record, deps.now, input.policyIds, {
        workspace: input.workspaceId,
        user: input.userId,
        channel: input.channelId,
        action: 'schedule',
        requestedAt: input.atSeconds,
        outcome: 'refused:frozen',
      }),
  };
}

async function check(
  deps: Pick<ListenerDeps, 'freezes' | 'access' | 'approvals' | 'command'>,
  workspaceId: string,
  channelId: string,
): Promise<Gate> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<'late'>((resolve) => {
    timer = setTimeout(() => resolve('late'), GATE_TIMEOUT_MS);
  });
  try {
    const read = Promise.all([deps.freezes.get(workspaceId), deps.access.get(workspaceId)]);
    const answer = await Promise.race([read, late]);
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
    const needsApproval = approvalOf(policy, deps.approvals.requiredByDefault).mode !== 'off';
    if (needsApproval && !isChannel(channelId))
      return { ok: false, reason: 'needs_channel', text: APPROVALS.needsChannel };
    return { ok: true, needsApproval, policy };
  } catch {
    return { ok: false, reason: 'store_unavailable' };
  } finally {
    clearTimeout(timer);
  }
}
