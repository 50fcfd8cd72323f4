/**
 * What the baselines send to Slack: the same Block Kit payloads as the bot, written by hand as a
 * hand-written bot would write them (object literals, template strings, no framework of its own).
 * The content of a modal or a message is the product, not overhead: without this, the bot's
 * larger payloads (the Web client serialises, redacts for its debug line and form-encodes every
 * byte) would be charged to the bot as overhead. test/unit/bench/baseline-payloads.test.ts checks
 * that these stay the same shape and size as the bot's builders (src/slack/blocks/).
 *
 * No imports: the baselines must not run the bot's code.
 */

const plain = (text) => ({ type: 'plain_text', text, emoji: true });
const md = (text) => ({ type: 'mrkdwn', text });
const section = (text) => ({ type: 'section', text: md(text) });
const context = (text) => ({ type: 'context', elements: [md(text)] });
const button = (text, actionId, value, style) => ({
  type: 'button',
  text: plain(text),
  action_id: actionId,
  value,
  ...(style ? { style } : {}),
});

/** `2026-11-28 09:00 UTC` */
const utc = (at) => {
  const iso = new Date(at * 1000).toISOString();
  return `${iso.slice(0, 10)} ${iso.slice(11, 16)} UTC`;
};
const dateToken = (at) => `<!date^${at}^{date_long_pretty} at {time}|${utc(at)}>`;

/** The bot's scheduling modal (src/slack/blocks/schedule-modal.ts), `private_metadata` as given. */
export function scheduleModal(privateMetadata) {
  return {
    type: 'modal',
    callback_id: 'katapult_schedule',
    title: plain('Schedule deletion'),
    submit: plain('Schedule'),
    close: plain('Cancel'),
    private_metadata: privateMetadata,
    blocks: [
      section(
        'The policy keeps working until the time you pick. Then Katapult moves it to the trash, where it is kept for a while before it is purged for good.',
      ),
      {
        type: 'input',
        block_id: 'policy_id',
        label: plain('Disk backup policy ID'),
        optional: true,
        dispatch_action: true,
        hint: plain('Press Enter to see what the policy backs up.'),
        element: {
          type: 'plain_text_input',
          action_id: 'policy_id_input',
          max_length: 64,
          placeholder: plain('e.g. dbp_1kpkjQeMEI43tztr'),
          dispatch_action_config: { trigger_actions_on: ['on_enter_pressed'] },
        },
      },
      {
        type: 'input',
        block_id: 'policy_pick',
        label: plain('…or pick one or more'),
        optional: true,
        dispatch_action: true,
        hint: plain(
          'Up to 20 policies, all moved to the trash at the same time. Each one is scheduled on its own.',
        ),
        element: {
          type: 'multi_external_select',
          action_id: 'policy_pick_input',
          placeholder: plain('Search by VM, disk or policy ID'),
          min_query_length: 0,
          max_selected_items: 20,
        },
      },
      {
        type: 'input',
        block_id: 'when',
        label: plain('Move it to the trash at'),
        hint: plain('In your own time zone. At least 6 minutes from now (Katapult needs 5 minutes’ notice).'),
        element: { type: 'datetimepicker', action_id: 'when_input' },
      },
      context('The result is posted in this channel, so the team sees it.'),
    ],
  };
}

/** The request's one channel post after Katapult accepted the schedule (the bot's requestOutcomeMessage). */
export function scheduledMessage({ user, policyId, at, targetId, requestId }) {
  return {
    text: `Disk backup policy ${policyId} will move to the trash at ${utc(at)}.`,
    blocks: [
      section(
        `:wastebasket: <@${user}> scheduled disk backup policy \`${policyId}\` (for virtual machine \`${targetId}\`) to move to the trash on *${dateToken(at)}*.`,
      ),
      context(
        `It keeps working until then. Scheduling again with a new time replaces this one.${requestId ? ` Katapult request \`${requestId}\`.` : ''}`,
      ),
    ],
  };
}

/** The post when Katapult refused (the bot's failureMessage, with its explanation's two sentences). */
export function refusedMessage({ user, policyId, summary, next }) {
  return {
    text: `Could not schedule disk backup policy ${policyId}: ${summary}`,
    blocks: [
      section(
        `:warning: <@${user}> tried to schedule disk backup policy \`${policyId}\` for deletion, but it was *not* scheduled.\n${summary}`,
      ),
      context(`*What now:* ${next}`),
    ],
  };
}

/** The reminder Slack holds until an hour before the move, in the post's thread (the bot's reminderMessage). */
export function reminderMessage({ user, policyId, at }) {
  return {
    text: `Reminder: disk backup policy ${policyId} moves to the trash in 1 hour (${utc(at)}).`,
    blocks: [
      section(
        `:alarm_clock: Disk backup policy \`${policyId}\` moves to the trash in *1 hour*, on ${dateToken(at)} (scheduled by <@${user}>).`,
      ),
      { type: 'actions', elements: [button('Reschedule', 'katapult_reschedule', policyId)] },
    ],
  };
}

/** The restore offer Slack holds until just after the move, in the post's thread (the bot's movedMessage). */
export function restoreOfferMessage({ policyId, at }) {
  return {
    text: `Disk backup policy ${policyId} was due to move to the trash at ${utc(at)}.`,
    blocks: [
      section(
        `:wastebasket: Disk backup policy \`${policyId}\` was due to move to Katapult's trash on ${dateToken(at)}. Until it is purged it can be restored.`,
      ),
      { type: 'actions', elements: [button('Restore from trash', 'katapult_restore', policyId, 'primary')] },
      context('Restoring needs an API token with the trash_objects:restore scope.'),
    ],
  };
}
