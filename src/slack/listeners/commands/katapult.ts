/**
 * `/katapult`: help, the token modal, or the scheduling modal (optionally filled in from the text).
 * The modal is opened before any other network call: its trigger expires 3 seconds after the command.
 */
import type { AllMiddlewareArgs, App, SlackCommandMiddlewareArgs, webApi } from '@slack/bolt';
import { checkDeletionTime, parseWhen } from '../../../time/when.js';
import { helpMessage, plainEphemeral } from '../../blocks/messages.js';
import { buildScheduleModal, type ScheduleModalInput } from '../../blocks/schedule-modal.js';
import {
  tokenDoneView,
  tokenFormView,
  tokenLoadingView,
  tokenRefusedView,
} from '../../blocks/token-modal.js';
import { slackErrorCode, workspaceIdOf } from '../../workspace.js';
import type { ListenerDeps } from '../deps.js';
import { parseCommandText } from './command-text.js';

type Args = SlackCommandMiddlewareArgs & AllMiddlewareArgs;

const TRIGGER_EXPIRED =
  'Slack took too long to hand over the form, so it could not open. Please run the command again.';

export function registerKatapultCommand(app: App, deps: ListenerDeps): void {
  app.command(deps.command, async (args) => {
    const intent = parseCommandText(args.command.text);
    if (intent.kind === 'help') {
      await args.ack({ response_type: 'ephemeral', ...helpMessage(deps.command) });
      return;
    }
    const workspaceId = workspaceIdOf(args.context);
    if (!workspaceId) {
      await args.ack(
        plainEphemeral('Slack did not say which workspace this came from, so nothing was done.'),
      );
      return;
    }
    await args.ack();
    if (intent.kind === 'token') {
      await openTokenModal(args, deps, workspaceId);
    } else {
      await openScheduleModal(args, deps, workspaceId, intent.policyId, intent.when);
    }
  });
}

async function openView(args: Args, deps: ListenerDeps, view: webApi.ViewsOpenArguments['view']) {
  try {
    const { view: opened } = await args.client.views.open({ trigger_id: args.command.trigger_id, view });
    return opened?.id ? { id: opened.id, hash: opened.hash } : null;
  } catch (error) {
    deps.logger.event('warn', 'views_open_failed', { slack_error: slackErrorCode(error) ?? String(error) });
    await args.respond(plainEphemeral(TRIGGER_EXPIRED)).catch(() => undefined);
    return null;
  }
}

function prefill(deps: ListenerDeps, base: ScheduleModalInput, when: string, tz: string): ScheduleModalInput {
  const parsed = parseWhen(when, tz, deps.now());
  if (!parsed.ok) return { ...base, whenProblem: parsed.reason };
  const check = checkDeletionTime(Math.floor(parsed.at.toSeconds()), deps.now());
  if (!check.ok) return { ...base, whenProblem: check.reason };
  return { ...base, initialAt: check.atSeconds };
}

async function openScheduleModal(
  args: Args,
  deps: ListenerDeps,
  workspaceId: string,
  policyId: string | null,
  when: string | null,
): Promise<void> {
  const { channel_id: channelId, user_id: userId } = args.command;
  const base: ScheduleModalInput = { channelId, ...(policyId ? { policyId } : {}) };
  // With the user's zone already known, the modal opens complete; otherwise it opens at once and
  // the time is filled in after users.info answers.
  const knownZone = when ? deps.users.cached(workspaceId, userId)?.tz : undefined;
  const first = when && knownZone ? prefill(deps, base, when, knownZone) : base;
  const opened = await openView(args, deps, buildScheduleModal(first));
  if (!opened || !when || knownZone) return;
  try {
    const { tz } = await deps.users.lookup(args.client, workspaceId, userId);
    await args.client.views.update({
      view_id: opened.id,
      ...(opened.hash ? { hash: opened.hash } : {}),
      view: buildScheduleModal(prefill(deps, base, when, tz)),
    });
  } catch (error) {
    // The modal is open and usable; the user picks the time by hand.
    deps.logger.event('warn', 'prefill_failed', { slack_error: slackErrorCode(error) ?? String(error) });
  }
}

async function openTokenModal(args: Args, deps: ListenerDeps, workspaceId: string): Promise<void> {
  const opened = await openView(args, deps, tokenLoadingView());
  if (!opened) return;
  let view: webApi.ViewsUpdateArguments['view'];
  try {
    const profile = await deps.users.lookup(args.client, workspaceId, args.command.user_id);
    if (!profile.isAdmin) {
      view = tokenRefusedView();
    } else {
      const status = await deps.tokens.status(workspaceId);
      view = status.ok
        ? tokenFormView({ status: status.status, fallback: status.fallback })
        : tokenFormView({
            status: null,
            fallback: false,
            problem: 'The bot could not read its storage; try again shortly.',
          });
    }
  } catch (error) {
    deps.logger.event('warn', 'token_modal_lookup_failed', {
      slack_error: slackErrorCode(error) ?? String(error),
    });
    view = tokenDoneView(
      ':warning: Slack did not say whether you are a workspace admin, so the token settings cannot open. Try again in a moment.',
    );
  }
  await args.client.views
    .update({ view_id: opened.id, ...(opened.hash ? { hash: opened.hash } : {}), view })
    .catch((error: unknown) =>
      deps.logger.event('warn', 'views_update_failed', {
        slack_error: slackErrorCode(error) ?? String(error),
      }),
    );
}
