/**
 * End to end over loopback: signed Slack requests into the real Bolt receiver, fake Slack Web API,
 * fake Katapult API. Covers the command, the modal, the submission, the Katapult call and the post.
 */
import { DateTime } from 'luxon';
import { SCHEDULE_VIEW } from '../../src/slack/ids.js';
import { type ErrorFixtureCode, errorFixture } from '../../support/fixtures/katapult/index.js';
import {
  BOT_TOKEN,
  CHANNEL,
  type Harness,
  inMinutes,
  KATAPULT_TOKEN,
  MEMBER,
  openedMetadata,
  SIGNING_SECRET,
  setWorkspaceToken,
  startHarness,
} from '../../support/harness.js';
import { leaksOf } from '../helpers/secrets.js';
import { useSharedHarness } from '../helpers/shared-harness.js';

const shared = useSharedHarness();
let h: Harness;
beforeAll(() => {
  h = shared.h;
});

const scheduleCalls = () =>
  h.katapult.requests.filter((r) => r.method === 'DELETE' && r.path.endsWith('/disk_backup_policy/schedule'));

/** The modal as the user ends up seeing it: the last views.open or views.update. */
async function finalView(): Promise<string> {
  await h.slack.waitFor('views.open');
  expect(await h.bot.idle()).toBe(true); // any views.update after it is made by then
  return JSON.stringify(
    [...h.slack.callsTo('views.open'), ...h.slack.callsTo('views.update')].at(-1)?.args.view,
  );
}

async function postedText(): Promise<string> {
  const [post] = await h.slack.waitFor('chat.postMessage');
  return JSON.stringify(post?.args.blocks ?? post?.args.text);
}

describe('slash command', () => {
  test('with no text opens the modal with the trigger, before any other Slack call', async () => {
    const res = await h.command({ text: '', trigger_id: '111.222.trigger' });
    expect(res.status).toBe(200);
    const [open] = await h.slack.waitFor('views.open');
    expect(open?.args.trigger_id).toBe('111.222.trigger');
    expect(h.slack.calls.filter((c) => c.method !== 'auth.test')[0]?.method).toBe('views.open');
    const view = open?.args.view as { callback_id: string; private_metadata: string };
    expect(view.callback_id).toBe(SCHEDULE_VIEW.callbackId);
    // Signed for this form and workspace, and dated: compared by what it opens to, not byte for byte.
    expect(openedMetadata(h.encryptionKey, view.private_metadata)).toBe(JSON.stringify({ c: CHANNEL }));
  });

  test('help answers privately with usage and opens nothing', async () => {
    const res = await h.command({ text: 'help' });
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ response_type: 'ephemeral' });
    expect(JSON.stringify(res.json)).toContain('/katapult token');
    expect(h.slack.callsTo('views.open')).toHaveLength(0);
  });

  test('with an ID and a time opens the modal filled in, in the user’s zone', async () => {
    await h.command({ text: 'dbp_abc123 tomorrow 09:00', user_id: MEMBER });
    const [open] = await h.slack.waitFor('views.open');
    expect(JSON.stringify(open?.args.view)).toContain('"initial_value":"dbp_abc123"');
    const expected = DateTime.now()
      .setZone('America/New_York')
      .plus({ days: 1 })
      .set({ hour: 9, minute: 0, second: 0, millisecond: 0 });
    // Opened at once; filled in by views.update (with the view's hash) or, zone cached, complete.
    expect(await finalView()).toContain(`"initial_date_time":${expected.toSeconds()}`);
    for (const update of h.slack.callsTo('views.update')) expect(update.args.hash).toBeTruthy();
  });

  test('with a time it cannot read leaves the field empty and says why', async () => {
    await h.command({ text: 'dbp_abc123 whenever-ish' });
    const view = await finalView();
    expect(view).not.toContain('initial_date_time');
    expect(view).toContain("Couldn't read");
  });

  test('an expired trigger is explained privately through the response_url', async () => {
    h.slack.fail('views.open', 'expired_trigger_id');
    await h.command({ text: '' });
    const [reply] = await h.slack.waitFor('response_url');
    expect(JSON.stringify(reply?.args)).toContain('run the command again');
  });

  test.each([
    ['', 'invalid_auth'],
    ['token', 'token_revoked'],
  ])('"%s": a modal Slack refuses (%s) is not blamed on time', async (text, slackError) => {
    h.slack.fail('views.open', slackError);
    await h.command({ text });
    const [reply] = await h.slack.waitFor('response_url');
    const said = JSON.stringify(reply?.args);
    expect(said).toContain(`Slack refused to open the form (\`${slackError}\`)`);
    expect(said).not.toContain('took too long');
  });
});

describe('submission', () => {
  test('schedules with one Katapult call carrying the exact body, then posts in the channel', async () => {
    const at = inMinutes(60);
    const res = await h.submitSchedule({ policyId: 'dbp_1kpkjQeMEI43tztr', at });
    expect(res.status).toBe(200);
    expect(res.text).toBe('');
    const text = await postedText();
    const calls = scheduleCalls();
    expect(calls).toHaveLength(1);
    expect(calls[0]?.body).toEqual({ disk_backup_policy: { id: 'dbp_1kpkjQeMEI43tztr' }, timestamp: at });
    expect(calls[0]?.headers.authorization).toBe(`Bearer ${KATAPULT_TOKEN}`);
    const post = h.slack.callsTo('chat.postMessage')[0];
    expect(post?.args.channel).toBe(CHANNEL);
    expect(text).toContain(`<!date^${at}^{date_long_pretty} at {time}|`);
    expect(text).toContain(`<@${MEMBER}>`);
    expect(text).toContain('dbp_1kpkjQeMEI43tztr');
    expect(text).toContain('vm_1kpkjQeMEI43tztr');
  });

  test.each([
    ['too soon', { policyId: 'dbp_ok', at: inMinutes(2) }, SCHEDULE_VIEW.whenBlock],
    ['missing time', { policyId: 'dbp_ok', at: null }, SCHEDULE_VIEW.whenBlock],
    ['absurdly far', { policyId: 'dbp_ok', at: inMinutes(60 * 24 * 400) }, SCHEDULE_VIEW.whenBlock],
    ['hostile ID', { policyId: '<!channel>', at: inMinutes(60) }, SCHEDULE_VIEW.policyBlock],
    ['empty ID', { policyId: '  ', at: inMinutes(60) }, SCHEDULE_VIEW.policyBlock],
    ['long ID', { policyId: 'x'.repeat(65), at: inMinutes(60) }, SCHEDULE_VIEW.policyBlock],
    [
      'lost channel',
      { policyId: 'dbp_ok', at: inMinutes(60), privateMetadata: 'garbage' },
      SCHEDULE_VIEW.policyBlock,
    ],
  ])('%s: inline error, no Katapult call, no post', async (_name, input, block) => {
    const res = await h.submitSchedule(input);
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ response_action: 'errors', errors: { [block]: expect.any(String) } });
    expect(await h.bot.idle()).toBe(true);
    expect(scheduleCalls()).toHaveLength(0);
    expect(h.slack.callsTo('chat.postMessage')).toHaveLength(0);
  });

  // Each documented code, and the framework's own, with a fragment of the plain-words message.
  const expectations: Partial<Record<ErrorFixtureCode, string>> = {
    missing_api_token: 'received no API token',
    invalid_timestamp: 'at least 5 minutes in the future',
    unauthorized_network_for_api_token: 'allowed networks',
    invalid_api_token: 'does not accept the API token',
    invalid_capabilities_token: 'capabilities token',
    scope_not_granted: 'disk_backup_policies',
    permission_denied: 'not allowed',
    disk_backup_policy_not_found: 'no disk backup policy with this ID',
    object_in_trash: 'already in the trash',
    rate_limit_reached: 'rate limit',
    service_unavailable: 'unavailable',
    invalid_argument: 'malformed',
    missing_required_argument: 'malformed',
    route_not_found: 'KATAPULT_API_URL',
    unhandled_exception: 'internal error',
  };
  test.each(Object.entries(expectations) as [ErrorFixtureCode, string][])(
    '%s is explained in the channel',
    async (codeName, fragment) => {
      const fixture = errorFixture(codeName);
      const retried = fixture.status === 429 || fixture.status === 503;
      const replies = Array.from({ length: retried ? 4 : 1 }, () => ({
        status: fixture.status,
        body: fixture.body,
      }));
      h.katapult.enqueue('DELETE /disk_backup_policies/disk_backup_policy/schedule', ...replies);
      await h.submitSchedule({ policyId: 'dbp_err', at: inMinutes(30) });
      const text = await postedText();
      expect(text).toContain('not* scheduled');
      expect(text).toContain('dbp_err');
      expect(text).toContain(fragment);
      expect(scheduleCalls()).toHaveLength(retried ? 4 : 1);
    },
    30_000,
  );

  test('429 then success: retried, and the success is posted', async () => {
    const fixture = errorFixture('rate_limit_reached');
    h.katapult.enqueue('DELETE /disk_backup_policies/disk_backup_policy/schedule', {
      status: 429,
      body: fixture.body,
    });
    await h.submitSchedule({ policyId: 'dbp_retry', at: inMinutes(30) });
    const text = await postedText();
    expect(scheduleCalls()).toHaveLength(2);
    expect(text).toContain('scheduled disk backup policy');
  });

  test('an HTML 502 page from a proxy is explained, not retried', async () => {
    h.katapult.enqueue('DELETE /disk_backup_policies/disk_backup_policy/schedule', {
      status: 502,
      rawBody: '<html><body><h1>502 Bad Gateway</h1></body></html>',
      headers: { 'Content-Type': 'text/html' },
    });
    await h.submitSchedule({ policyId: 'dbp_html', at: inMinutes(30) });
    const text = await postedText();
    expect(text).toContain('HTTP 502');
    expect(text).not.toContain('<html>');
    expect(scheduleCalls()).toHaveLength(1);
  });

  test('a timeout says plainly that the outcome is unknown', async () => {
    // A bot of its own whose Katapult calls time out after 200 ms (KATAPULT_TIMEOUT_MS) rather
    // than this file's 1.5 s: four timed-out attempts and their back-offs take about 3 s, not 9 s.
    const slow = await startHarness({ env: { KATAPULT_TIMEOUT_MS: '200' } });
    try {
      await setWorkspaceToken(slow);
      slow.katapult.enqueue(
        'DELETE /disk_backup_policies/disk_backup_policy/schedule',
        ...Array.from({ length: 4 }, () => ({ status: 200, body: {}, delayMs: 4000 })),
      );
      await slow.submitSchedule({ policyId: 'dbp_slow', at: inMinutes(30) });
      const [post] = await slow.slack.waitFor('chat.postMessage', 1, 25_000);
      expect(JSON.stringify(post?.args.blocks)).toContain('cannot tell whether');
      const attempts = slow.katapult.requests.filter((r) => r.method === 'DELETE');
      expect(attempts.length).toBeGreaterThan(1); // a timed-out schedule call is retried (same time: idempotent)
      expect(leaksOf(slow, [KATAPULT_TOKEN, BOT_TOKEN, SIGNING_SECRET, slow.encryptionKey])).toEqual([]);
    } finally {
      await slow.stop();
    }
  }, 30_000);

  test('API text is escaped: an error detail cannot ping the channel or hide a link', async () => {
    h.katapult.enqueue('DELETE /disk_backup_policies/disk_backup_policy/schedule', {
      status: 403,
      body: {
        error: {
          code: 'permission_denied',
          description: 'x',
          detail: { details: '<!channel> see <https://evil.example|docs> & more' },
        },
      },
    });
    await h.submitSchedule({ policyId: 'dbp_esc', at: inMinutes(30) });
    const text = await postedText();
    expect(text).toContain('&lt;!channel&gt;');
    expect(text).toContain('&lt;https://evil.example|docs&gt; &amp; more');
    expect(text).not.toContain('<!channel>');
  });

  test('a token Katapult echoes back in an error is not posted to the channel', async () => {
    h.katapult.enqueue(
      'DELETE /disk_backup_policies/disk_backup_policy/schedule',
      {
        status: 403,
        body: {
          error: {
            code: 'permission_denied',
            description: 'x',
            detail: { details: `Bearer ${KATAPULT_TOKEN} may not touch this policy` },
          },
        },
      },
      {
        status: 418,
        body: { error: { code: 'teapot', description: `token ${KATAPULT_TOKEN} is short and stout` } },
      },
    );
    await h.submitSchedule({ policyId: 'dbp_echo1', at: inMinutes(30) });
    await h.submitSchedule({ policyId: 'dbp_echo2', at: inMinutes(30) });
    const posts = await h.slack.waitFor('chat.postMessage', 2);
    const text = JSON.stringify(posts.map((p) => p.args));
    expect(text).toContain('may not touch this policy');
    expect(text).toContain('is short and stout');
    expect(text).not.toContain(KATAPULT_TOKEN);
  });

  test('when the bot is not in the channel, the outcome goes to the user privately with the fix', async () => {
    h.slack.fail('chat.postMessage', 'not_in_channel');
    await h.submitSchedule({ policyId: 'dbp_dm', at: inMinutes(30) });
    const posts = await h.slack.waitFor('chat.postMessage', 2);
    expect(posts[0]?.args.channel).toBe(CHANNEL);
    expect(posts[1]?.args.channel).toBe(MEMBER);
    const text = JSON.stringify(posts[1]?.args.blocks);
    expect(text).toContain('/invite');
    expect(text).toContain('dbp_dm');
    expect(scheduleCalls()).toHaveLength(1);
  });
});

describe('request verification', () => {
  test('a forged signature is refused with 401 and causes nothing', async () => {
    const res = await h.submitSchedule(
      { policyId: 'dbp_forged', at: inMinutes(30) },
      { signature: `v0=${'0'.repeat(64)}` },
    );
    expect(res.status).toBe(401);
    expect(await h.bot.idle()).toBe(true);
    expect(scheduleCalls()).toHaveLength(0);
    expect(h.slack.calls).toHaveLength(0);
  });

  test('a stale (replayed) request is refused with 401 and causes nothing', async () => {
    const res = await h.command({ text: '' }, { timestamp: Math.floor(Date.now() / 1000) - 10 * 60 });
    expect(res.status).toBe(401);
    expect(await h.bot.idle()).toBe(true);
    expect(h.slack.calls).toHaveLength(0);
  });

  test('health check answers once ready', async () => {
    const res = await fetch(`${h.baseUrl}/healthz`);
    expect(res.status).toBe(200);
  });
});
