/**
 * What a form says, inline under its first field, when the identifiers the bot signed into it do not
 * hold (src/slack/platform/signed-metadata.ts): `too_old` when it was opened longer ago than the
 * bot accepts, or before the bot was updated to date its forms; `invalid` when they are not this
 * form's, this workspace's, or were altered. Either way nothing was done and the form must be
 * opened again. Plain text: Slack shows inline errors without formatting.
 */
export type FormProblem = 'too_old' | 'invalid';

const tooOld = (hours: number) =>
  `This form was opened more than ${hours} hours ago, or before the bot was updated, so it can no longer be sent.`;

export const FORMS = {
  /** The scheduling form: opened again with the command in the channel (or a Reschedule button). */
  schedule: (problem: FormProblem, hours: number, command: string): string =>
    problem === 'too_old'
      ? `${tooOld(hours)} Close it and open it again: run ${command} in the channel.`
      : `This form does not say which channel it came from. Close it and run ${command} again in the channel.`,
  /** The Deny form, which asks for a reason. */
  denyTooOld: (hours: number): string => `${tooOld(hours)} Close it and press Deny on the request again.`,
  // The scheduling form's last line, and the shortcuts' notes (issue 21).
  postedInChannel: 'The result is posted in this channel, so the team sees it.',
  postedInThread: 'The result is posted in the thread of that message, so the people there see it.',
  postedInPickedChannel: 'The result is posted in the channel you pick, so the team sees it.',
  channelLabel: 'Post the request in',
  channelHint: 'Its message and everything that follows (reminder, restore offer) go there.',
  pickChannel: 'Pick the channel for the request’s message.',
  /** Message shortcut: how many IDs the message named. */
  foundInMessage: (count: number, more: number): string =>
    `:mag: ${count === 1 ? 'One disk backup policy ID' : `${count} disk backup policy IDs`} found in the message${
      more > 0 ? ` (the first ${count}; ${more} more left out: at most ${count} at once)` : ''
    }. Check them below.`,
  noIdInMessage:
    ':information_source: No disk backup policy ID (like `dbp_1kpkjQeMEI43tztr`) was found in that message: type or pick one below.',
};
