/**
 * Starts the real bot (real Bolt HTTP receiver, real WebClient, real Katapult client on node-fetch,
 * real SQLite store) on 127.0.0.1:0 against a fake Slack Web API and a fake Katapult API.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { type Bot, createBot } from '../src/app.js';
import { parseConfig } from '../src/config.js';
import { ACCESS_VIEW, SCHEDULE_VIEW, TOKEN_VIEW } from '../src/slack/ids.js';
import { createMetadataSigner } from '../src/slack/platform/signed-metadata.js';
import { type FakeKatapult, startFakeKatapult } from './fakes/katapult-api.js';
import { FAKE_TEAM_ID, type FakeSlack, startFakeSlack } from './fakes/slack-api.js';
import {
  blockActionBody,
  type CommandFields,
  commandBody,
  postSigned,
  type SignOptions,
  type SlackResponse,
  viewSubmissionBody,
} from './slack-requests.js';

export const SIGNING_SECRET = 'test-signing-secret-0123456789abcdef';
export const BOT_TOKEN = 'xoxb-test-bot-token-1111-2222-3333';
export const KATAPULT_TOKEN = 'kt-valid-token';
export const ADMIN = 'U0ADMIN01';
export const MEMBER = 'U0ALICE01';
export const CHANNEL = 'C0OPS0001';

export interface Harness {
  bot: Bot;
  slack: FakeSlack;
  katapult: FakeKatapult;
  baseUrl: string;
  logs: string[];
  dataDir: string;
  encryptionKey: string;
  command(fields?: CommandFields, options?: SignOptions): Promise<SlackResponse>;
  submitSchedule(
    input: {
      policyId?: string | null;
      /** Policies picked in the modal's multi-select (none by default). */
      picked?: string[];
      at?: number | null;
      channelId?: string;
      userId?: string;
      privateMetadata?: string;
    },
    options?: SignOptions,
  ): Promise<SlackResponse>;
  submitToken(input: { token?: string; remove?: boolean; userId?: string }): Promise<SlackResponse>;
  /** Submits the `/katapult access` form; a field left out is a block the form did not have. */
  submitAccess(form: AccessForm, userId?: string): Promise<SlackResponse>;
  stop(): Promise<void>;
}

/** What an admin fills in on the access form (`who` defaults to everyone). */
export interface AccessForm {
  who?: string;
  groups?: string[];
  channels?: string[];
  /** Checked boxes of "people from outside": ACCESS_VIEW.allowGuestsValue, allowExternalValue. */
  outsiders?: string[];
  approval?: string;
  approvers?: string[];
  limit?: string;
}

/** The access form's `view.state.values` for `form`. */
export function accessFormValues(form: AccessForm) {
  const options = (values: string[]) => values.map((value) => ({ value }));
  const block = (id: string, action: string, element: Record<string, unknown>) => ({
    [id]: { [action]: element },
  });
  const A = ACCESS_VIEW;
  return {
    ...block(A.whoBlock, A.whoAction, {
      type: 'radio_buttons',
      selected_option: { value: form.who ?? 'everyone' },
    }),
    ...(form.groups
      ? block(A.groupsBlock, A.groupsAction, {
          type: 'multi_static_select',
          selected_options: options(form.groups),
        })
      : {}),
    ...(form.channels
      ? block(A.channelsBlock, A.channelsAction, {
          type: 'multi_conversations_select',
          selected_conversations: form.channels,
        })
      : {}),
    ...(form.outsiders
      ? block(A.outsidersBlock, A.outsidersAction, {
          type: 'checkboxes',
          selected_options: options(form.outsiders),
        })
      : {}),
    ...(form.approval
      ? block(A.approvalBlock, A.approvalAction, {
          type: 'radio_buttons',
          selected_option: { value: form.approval },
        })
      : {}),
    ...(form.approvers
      ? block(A.approversBlock, A.approversAction, {
          type: 'multi_static_select',
          selected_options: options(form.approvers),
        })
      : {}),
    ...(form.limit !== undefined
      ? block(A.limitBlock, A.limitAction, { type: 'plain_text_input', value: form.limit })
      : {}),
  };
}

export interface HarnessOptions {
  env?: Record<string, string>;
  /** Reuse a data folder (restart tests). */
  dataDir?: string;
  encryptionKey?: string;
  slack?: FakeSlack;
  katapult?: FakeKatapult;
  /** The bot's clock (unix ms; default Date.now): also judges the store's audit retention. */
  now?: () => number;
  /** Per-attempt timeout of the bot's Slack writes for requests (default 10 s). */
  slackWriteTimeoutMs?: number;
}

export async function startHarness(options: HarnessOptions = {}): Promise<Harness> {
  const slack = options.slack ?? (await startFakeSlack());
  const katapult = options.katapult ?? (await startFakeKatapult());
  slack.users.set(ADMIN, { tz: 'Europe/London', is_admin: true });
  slack.users.set(MEMBER, { tz: 'America/New_York' });
  const dataDir = options.dataDir ?? (await mkdtemp(path.join(tmpdir(), 'katapult-chatops-')));
  const encryptionKey = options.encryptionKey ?? randomBytes(32).toString('base64');
  const logs: string[] = [];
  const oauth = Boolean(options.env?.SLACK_CLIENT_ID);
  const config = parseConfig({
    // With OAuth each workspace's bot token comes from its installation instead.
    ...(oauth ? {} : { SLACK_BOT_TOKEN: BOT_TOKEN }),
    SLACK_SIGNING_SECRET: SIGNING_SECRET,
    SLACK_API_URL: slack.apiUrl,
    KATAPULT_API_URL: katapult.baseUrl,
    KATAPULT_TIMEOUT_MS: '1500',
    DATA_DIR: dataDir,
    TOKEN_ENCRYPTION_KEY: encryptionKey,
    PORT: '0',
    LOG_LEVEL: 'debug',
    // Most suites test scheduling itself; test/e2e/guardrails.test.ts tests the default-deny policy.
    KATAPULT_DEFAULT_ACCESS: 'everyone',
    ...options.env,
  });
  const bot = await createBot(config, {
    host: '127.0.0.1',
    logSink: (line) => logs.push(line),
    ...(options.now ? { now: options.now } : {}),
    ...(options.slackWriteTimeoutMs ? { slackWriteTimeoutMs: options.slackWriteTimeoutMs } : {}),
  });
  const { port } = await bot.start();
  const baseUrl = `http://127.0.0.1:${port}`;
  const events = `${baseUrl}/slack/events`;

  return {
    bot,
    slack,
    katapult,
    baseUrl,
    logs,
    dataDir,
    encryptionKey,
    command: (fields = {}, signOptions) =>
      postSigned(
        events,
        SIGNING_SECRET,
        commandBody({ response_url: slack.responseUrl(), ...fields }),
        signOptions,
      ),
    submitSchedule: (input, signOptions) =>
      postSigned(
        events,
        SIGNING_SECRET,
        viewSubmissionBody({
          callbackId: SCHEDULE_VIEW.callbackId,
          userId: input.userId ?? MEMBER,
          privateMetadata:
            input.privateMetadata ??
            // Signed when the bot's clock says it is now: suites with a clock of their own move it by days.
            signedMetadata(encryptionKey, input.channelId ?? CHANNEL, {
              issuedAt: (options.now ?? Date.now)(),
            }),
          values: {
            [SCHEDULE_VIEW.policyBlock]: {
              [SCHEDULE_VIEW.policyAction]: { type: 'plain_text_input', value: input.policyId ?? null },
            },
            ...(input.picked
              ? {
                  [SCHEDULE_VIEW.pickBlock]: {
                    [SCHEDULE_VIEW.pickAction]: {
                      type: 'multi_external_select',
                      selected_options: input.picked.map((value) => ({
                        value,
                        text: { type: 'plain_text', text: value },
                      })),
                    },
                  },
                }
              : {}),
            [SCHEDULE_VIEW.whenBlock]: {
              [SCHEDULE_VIEW.whenAction]: { type: 'datetimepicker', selected_date_time: input.at ?? null },
            },
          },
        }),
        signOptions,
      ),
    submitToken: (input) =>
      postSigned(
        events,
        SIGNING_SECRET,
        viewSubmissionBody({
          callbackId: TOKEN_VIEW.callbackId,
          userId: input.userId ?? ADMIN,
          values: {
            [TOKEN_VIEW.tokenBlock]: {
              [TOKEN_VIEW.tokenAction]: { type: 'plain_text_input', value: input.token ?? null },
            },
            [TOKEN_VIEW.removeBlock]: {
              [TOKEN_VIEW.removeAction]: {
                type: 'checkboxes',
                selected_options: input.remove
                  ? [{ value: TOKEN_VIEW.removeValue, text: { type: 'plain_text', text: 'Remove' } }]
                  : [],
              },
            },
          },
        }),
      ),
    submitAccess: (form, userId = ADMIN) =>
      postSigned(
        events,
        SIGNING_SECRET,
        viewSubmissionBody({ callbackId: ACCESS_VIEW.callbackId, userId, values: accessFormValues(form) }),
      ),
    async stop() {
      await bot.stop();
      if (!options.slack) await slack.close();
      if (!options.katapult) await katapult.close();
      if (!options.dataDir) await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** Sets the workspace token through the real admin flow and waits until it is saved. */
export async function setWorkspaceToken(h: Harness, token = KATAPULT_TOKEN): Promise<void> {
  const before = h.slack.callsTo('views.update').length;
  const res = await h.submitToken({ token });
  if (res.status !== 200) throw new Error(`token submission answered ${res.status}`);
  // The save waits for Katapult to accept the token (its calls time out after KATAPULT_TIMEOUT_MS,
  // and are retried): a loaded machine may need well over 5 s.
  await h.slack.waitFor('views.update', before + 1, 20_000);
}

/**
 * Which form and workspace a modal's metadata is signed for, and when (unix ms). By default the
 * scheduling form, the fake Slack's team, now: what the bot writes when /katapult opens the form.
 */
export interface MetadataFor {
  form?: string;
  workspaceId?: string;
  issuedAt?: number;
}

const bindingOf = (as: MetadataFor) => ({
  form: as.form ?? SCHEDULE_VIEW.callbackId,
  workspaceId: as.workspaceId ?? FAKE_TEAM_ID,
});

/** A schedule modal's `private_metadata` for `channelId`, signed as the bot with this encryption key signs it. */
export function signedMetadata(
  encryptionKey: string,
  channelId: string = CHANNEL,
  as: MetadataFor = {},
): string {
  return sealedMetadata(encryptionKey, JSON.stringify({ c: channelId }), as);
}

/** Any payload signed as the bot with this encryption key signs a modal's `private_metadata`. */
export function sealedMetadata(encryptionKey: string, payload: string, as: MetadataFor = {}): string {
  return createMetadataSigner({ current: Buffer.from(encryptionKey, 'base64') }).seal(
    payload,
    bindingOf(as),
    as.issuedAt ?? Date.now(),
  );
}

/** The payload of `sealed` when it verifies as the bot checks it (for `as`'s form and workspace, at `now`), else null. */
export function openedMetadata(
  encryptionKey: string,
  sealed: string,
  as: Omit<MetadataFor, 'issuedAt'> = {},
  now = Date.now(),
): string | null {
  const opened = createMetadataSigner({ current: Buffer.from(encryptionKey, 'base64') }).open(
    sealed,
    bindingOf(as),
    now,
  );
  return opened.ok ? opened.payload : null;
}

export const inMinutes = (minutes: number) => Math.floor(Date.now() / 1000) + minutes * 60;

/** A click on a button of a message in CHANNEL, as Slack delivers it (`responseName`: its response_url's name in the fake). */
export function pressButton(
  h: Pick<Harness, 'baseUrl' | 'slack'>,
  click: { actionId: string; value: string; userId: string; messageTs?: string; responseName?: string },
): Promise<SlackResponse> {
  return postSigned(
    `${h.baseUrl}/slack/events`,
    SIGNING_SECRET,
    blockActionBody({
      actionId: click.actionId,
      value: click.value,
      userId: click.userId,
      channelId: CHANNEL,
      ...(click.messageTs ? { messageTs: click.messageTs } : {}),
      responseUrl: h.slack.responseUrl(click.responseName ?? 'btn'),
    }),
  );
}
