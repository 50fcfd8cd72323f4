/** Clicks and the Deny form, as Slack delivers them, for the approval tests. */
import { DENY_VIEW } from '../../src/slack/ids.js';
import { type Harness, pressButton as pressAs, SIGNING_SECRET } from '../../support/harness.js';
import { postSigned, viewSubmissionBody } from '../../support/slack-requests.js';

/** A click on a button of a message in CHANNEL. */
export const pressButton = (h: Harness, actionId: string, value: string, userId: string) =>
  pressAs(h, { actionId, value, userId });

/** Submits the Deny form the bot opened (its signed `private_metadata`) with `reason`. */
export const submitDenyReason = (h: Harness, privateMetadata: string, userId: string, reason: string) =>
  postSigned(
    `${h.baseUrl}/slack/events`,
    SIGNING_SECRET,
    viewSubmissionBody({
      callbackId: DENY_VIEW.callbackId,
      userId,
      privateMetadata,
      values: {
        [DENY_VIEW.reasonBlock]: { [DENY_VIEW.reasonAction]: { type: 'plain_text_input', value: reason } },
      },
    }),
  );
