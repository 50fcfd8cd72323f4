/** Signed requests from a workspace the bot must not serve, and the empty answers they get. */
import { SIGNING_SECRET } from '../../support/harness.js';
import { eventBody, postSigned } from '../../support/slack-requests.js';

/**
 * Posts each signed interaction body, then `user`'s `app_home_opened` from `teamId`, to the bot's
 * events URL: the interactions are answered 200 with nothing, the event 200.
 */
export async function postAllFromForeignTeam(
  eventsUrl: string,
  bodies: string[],
  home: { teamId: string; user: string },
): Promise<void> {
  for (const body of bodies) {
    const res = await postSigned(eventsUrl, SIGNING_SECRET, body);
    expect(res.status).toBe(200);
    expect(res.text).toBe('');
  }
  const opened = await postSigned(
    eventsUrl,
    SIGNING_SECRET,
    eventBody({ type: 'app_home_opened', user: home.user, channel: 'D0HOME001', tab: 'home' }, home.teamId),
    { contentType: 'application/json' },
  );
  expect(opened.status).toBe(200);
}
