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
};
