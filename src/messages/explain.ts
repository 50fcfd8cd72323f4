/**
 * The one place that phrases failures for people. Every Katapult error code the schedule endpoint
 * documents, the framework's own codes, timeouts, network failures and odd answers each get a
 * sentence that says what happened and one that says what to do next. Output is Slack mrkdwn:
 * anything that came from the API is escaped here.
 */
import { type KatapultError, readErrorDetail } from '../katapult/errors.js';
import type { TokenFailure } from '../tokens/workspace-tokens.js';
import { code, dateToken, escapeMrkdwn } from './mrkdwn.js';

export interface Explanation {
  /** What went wrong, one sentence. */
  summary: string;
  /** What the person can do about it. */
  next: string;
  /** Katapult's request ID, for support, when there was one. */
  requestId: string | null;
}

export type Failure = KatapultError | TokenFailure | { kind: 'invalid_format' };

export interface ExplainContext {
  /** The slash command, for "run `/katapult token`" hints. */
  command: string;
  /** Where the failure happened: scheduling a deletion or checking a new token. */
  operation: 'schedule' | 'token' | 'restore' | 'preview';
}

/** A text worth showing: an empty string counts as none. */
const nonEmpty = (v: string | null | undefined): string | null => (v ? v : null);

const ADMIN_SETS_TOKEN = (command: string) =>
  `A workspace admin can set a working token with \`${command} token\`.`;

/** A timeout means different things: an unknown outcome for changes, a simple retry for reads. */
const TIMEOUTS: Record<ExplainContext['operation'], (waited: string) => Omit<Explanation, 'requestId'>> = {
  schedule: (waited) => ({
    summary: `${waited}, so the bot cannot tell whether the deletion was scheduled.`,
    next: 'Check the policy in Katapult before trying again.',
  }),
  restore: (waited) => ({
    summary: `${waited}, so the bot cannot tell whether the policy was restored.`,
    next: 'Check the policy in Katapult before pressing Restore again.',
  }),
  token: (waited) => ({
    summary: `${waited}; the token was not saved.`,
    next: 'Try again in a few minutes.',
  }),
  preview: (waited) => ({
    summary: `${waited}, so the policy cannot be shown.`,
    next: 'You can still schedule it; the preview is optional.',
  }),
};

function explainApiError(
  error: Extract<KatapultError, { kind: 'api' }>,
  ctx: ExplainContext,
): Omit<Explanation, 'requestId'> {
  const fixToken =
    ctx.operation === 'token'
      ? 'Check the token in Katapult and paste it again.'
      : ADMIN_SETS_TOKEN(ctx.command);
  switch (error.code) {
    case 'missing_api_token':
      return { summary: 'Katapult received no API token.', next: fixToken };
    case 'invalid_api_token': {
      const details = nonEmpty(readErrorDetail(error, 'invalid_api_token').details);
      return {
        summary: `Katapult does not accept the API token: it may have been revoked or have expired${details ? ` (${escapeMrkdwn(details)})` : ''}.`,
        next: fixToken,
      };
    }
    case 'invalid_capabilities_token':
      return { summary: 'Katapult rejected the capabilities token sent with the request.', next: fixToken };
    case 'unauthorized_network_for_api_token': {
      const ip = nonEmpty(readErrorDetail(error, 'unauthorized_network_for_api_token').ip_address);
      return {
        summary: `The API token may not be used from the bot's network${ip ? ` (IP address ${code(ip)})` : ''}.`,
        next: `In Katapult, add ${ip ? 'that address' : "the bot's address"} to the token's allowed networks, or use a token without a network restriction.`,
      };
    }
    case 'scope_not_granted': {
      const scopes = readErrorDetail(error, 'scope_not_granted').scopes ?? [];
      const list = scopes.length ? scopes.map(code).join(', ') : 'a scope this action needs';
      return {
        summary: `The API token lacks ${scopes.length > 1 ? 'the scopes' : 'the scope'} ${list}.`,
        next: `Create a token in Katapult that has ${scopes.length > 1 ? 'them' : 'it'}. ${fixToken}`,
      };
    }
    case 'permission_denied': {
      const details = nonEmpty(readErrorDetail(error, 'permission_denied').details);
      return {
        summary: `The API token is not allowed to do this${details ? `: ${escapeMrkdwn(details)}` : '.'}`,
        next: "Check the token's permissions in Katapult (the policy may belong to another organization).",
      };
    }
    case 'disk_backup_policy_not_found':
      return {
        summary: "Katapult has no disk backup policy with this ID in the token's organization.",
        next: 'Check the ID in Katapult (the virtual machine or disk, then Backup policies) and try again.',
      };
    case 'object_in_trash': {
      const keepUntil = readErrorDetail(error, 'object_in_trash').trash_object?.keep_until;
      return {
        summary: `This policy is already in the trash${keepUntil ? `; it will be purged for good on ${dateToken(keepUntil)}` : ''}.`,
        next: 'There is nothing to schedule. If it should stay, restore it from the trash in Katapult before then.',
      };
    }
    case 'trash_object_not_found':
      if (ctx.operation === 'restore' && error.attempts > 1) {
        return {
          summary:
            'Katapult has nothing in the trash for this policy now. An earlier attempt that lost its answer may have restored it already.',
          next: 'Check in Katapult whether the policy is back before trying anything else.',
        };
      }
      return {
        summary:
          'Katapult has nothing in the trash for this policy: it has been purged already, or it was never moved there.',
        next: 'If the policy is still listed in Katapult, there is nothing to restore. A purged policy cannot come back.',
      };
    case 'invalid_timestamp':
      return {
        summary: 'Katapult refused the time: it must be at least 5 minutes in the future.',
        next: `Run \`${ctx.command}\` again and pick a later time.`,
      };
    case 'rate_limit_reached': {
      const limit = readErrorDetail(error, 'rate_limit_reached').total_permitted;
      return {
        summary: `Katapult's rate limit${limit ? ` of ${limit} requests a minute` : ''} was reached, and retries did not get through (${error.attempts} attempts).`,
        next: 'Wait a minute and try again. If it keeps happening, something else is using the same token heavily.',
      };
    }
    case 'service_unavailable':
      return {
        summary: `Katapult is unavailable right now (${error.attempts} attempts).`,
        next: 'Try again in a few minutes.',
      };
    case 'invalid_argument':
    case 'missing_required_argument':
    case 'invalid_json_body': {
      // Apia's argument errors share one detail shape; invalid_json_body has none of its fields.
      const d = readErrorDetail(error, 'invalid_argument');
      const issue = nonEmpty(d.issue_description) ?? nonEmpty(d.issue) ?? nonEmpty(error.description);
      return {
        summary: `Katapult refused the request as malformed${issue ? `: ${escapeMrkdwn(issue)}` : '.'}`,
        next: 'This is a bug in the bot, not something you did. Please report it with the request ID below.',
      };
    }
    case 'route_not_found':
      return {
        summary: 'Katapult does not know the API route the bot called.',
        next: 'Whoever runs the bot should check KATAPULT_API_URL (it should end in /core/v1).',
      };
    case 'unhandled_exception':
      return {
        summary: 'Katapult hit an internal error.',
        next: 'Try again later. If it persists, contact Katapult support with the request ID below.',
      };
    default:
      return {
        summary: `Katapult answered with an error: ${code(error.code)} (HTTP ${error.status})${error.description ? `, "${escapeMrkdwn(error.description)}"` : ''}.`,
        next: 'Try again later. If it persists, contact Katapult support with the request ID below.',
      };
  }
}

function explainWithoutId(failure: Failure, ctx: ExplainContext): Omit<Explanation, 'requestId'> {
  switch (failure.kind) {
    case 'api':
      return explainApiError(failure, ctx);
    case 'timeout': {
      const waited = `Katapult did not answer within ${Math.round(failure.timeoutMs / 1000)} seconds`;
      return TIMEOUTS[ctx.operation](waited);
    }
    case 'network':
      return {
        summary: `The bot could not reach Katapult (${failure.attempts} attempts).`,
        next: 'Try again in a few minutes. If it persists, whoever runs the bot should check its network and KATAPULT_API_URL.',
      };
    case 'bad_response':
      return {
        summary: `Katapult, or a proxy in front of it, sent an answer the bot cannot read (HTTP ${failure.status}, ${escapeMrkdwn(failure.problem)}).`,
        next: 'This is usually a temporary outage: try again in a few minutes.',
      };
    case 'no_token':
      return {
        summary: 'This workspace has no Katapult API token yet.',
        next: ADMIN_SETS_TOKEN(ctx.command),
      };
    case 'store_unavailable':
      return {
        summary: 'The bot could not use its storage, so nothing was done.',
        next: 'Try again shortly. If it persists, whoever runs the bot should check its logs.',
      };
    case 'invalid_format':
      return {
        summary: 'That does not look like a Katapult API token (no spaces, 8 to 512 characters).',
        next: 'Copy the whole token from Katapult and paste it again.',
      };
  }
}

export function explain(failure: Failure, ctx: ExplainContext): Explanation {
  const requestId = 'requestId' in failure ? failure.requestId : null;
  return { ...explainWithoutId(failure, ctx), requestId };
}
