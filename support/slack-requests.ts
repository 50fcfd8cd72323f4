/**
 * Requests exactly as Slack sends them: signed with the signing secret, slash commands form-encoded,
 * interactions as a form with one `payload` field. Content-Type is exactly
 * `application/x-www-form-urlencoded` (Bolt does not parse it as a form with a charset suffix).
 */
import { createHmac } from 'node:crypto';
import { FAKE_TEAM_ID } from './fakes/slack-api.js';

export interface SignOptions {
  /** Unix seconds; default now. */
  timestamp?: number;
  /** Replace the computed signature (forgery tests). */
  signature?: string;
  headers?: Record<string, string>;
}

export function sign(secret: string, timestamp: number, body: string): string {
  return `v0=${createHmac('sha256', secret).update(`v0:${timestamp}:${body}`).digest('hex')}`;
}

export interface SlackResponse {
  status: number;
  text: string;
  json: unknown;
}

export async function postSigned(
  url: string,
  secret: string,
  body: string,
  options: SignOptions & { contentType?: string } = {},
): Promise<SlackResponse> {
  const timestamp = options.timestamp ?? Math.floor(Date.now() / 1000);
  const res = await fetch(url, {
    method: 'POST',
    headers: {
      'Content-Type': options.contentType ?? 'application/x-www-form-urlencoded',
      'X-Slack-Request-Timestamp': String(timestamp),
      'X-Slack-Signature': options.signature ?? sign(secret, timestamp, body),
      ...options.headers,
    },
    body,
  });
  const text = await res.text();
  let json: unknown = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    json = null;
  }
  return { status: res.status, text, json };
}

export interface CommandFields {
  text?: string;
  user_id?: string;
  channel_id?: string;
  team_id?: string;
  /** With it, the command comes from an org-wide install of this enterprise. */
  enterprise_id?: string;
  trigger_id?: string;
  response_url?: string;
  command?: string;
}

export function commandBody(fields: CommandFields): string {
  return new URLSearchParams({
    token: 'deprecated-verification-token',
    team_id: fields.team_id ?? FAKE_TEAM_ID,
    team_domain: 'fake',
    channel_id: fields.channel_id ?? 'C0OPS0001',
    channel_name: 'ops',
    user_id: fields.user_id ?? 'U0ALICE01',
    user_name: 'alice',
    command: fields.command ?? '/katapult',
    text: fields.text ?? '',
    api_app_id: 'A0FAKE001',
    ...(fields.enterprise_id ? { enterprise_id: fields.enterprise_id } : {}),
    is_enterprise_install: fields.enterprise_id ? 'true' : 'false',
    response_url: fields.response_url ?? 'http://127.0.0.1:9/response/none',
    trigger_id: fields.trigger_id ?? `${Date.now()}.trigger`,
  }).toString();
}

export interface ViewSubmissionFields {
  callbackId: string;
  values: Record<string, Record<string, Record<string, unknown>>>;
  privateMetadata?: string;
  userId?: string;
  teamId?: string;
  viewId?: string;
}

let viewCounter = 0;

export function viewSubmissionBody(fields: ViewSubmissionFields): string {
  const teamId = fields.teamId ?? FAKE_TEAM_ID;
  const payload = {
    type: 'view_submission',
    team: { id: teamId, domain: 'fake' },
    user: { id: fields.userId ?? 'U0ALICE01', username: 'alice', name: 'alice', team_id: teamId },
    api_app_id: 'A0FAKE001',
    token: 'deprecated-verification-token',
    trigger_id: `${Date.now()}.trigger`,
    view: {
      // Each submission is of a different modal unless the test says otherwise (duplicate tests).
      id: fields.viewId ?? `VSUB${process.pid}X${++viewCounter}`,
      team_id: teamId,
      type: 'modal',
      blocks: [],
      private_metadata: fields.privateMetadata ?? '',
      callback_id: fields.callbackId,
      state: { values: fields.values },
      hash: '1700000000.hash',
      title: { type: 'plain_text', text: 'x' },
      app_id: 'A0FAKE001',
      bot_id: 'BFAKE0001',
    },
    response_urls: [],
    is_enterprise_install: false,
    enterprise: null,
  };
  return new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
}

export interface BlockActionFields {
  actionId: string;
  value: string;
  userId?: string;
  teamId?: string;
  /** Absent for a button in App Home. */
  channelId?: string;
  messageTs?: string;
  /** The message is a reply in this thread (a follow-up in a request's thread). */
  threadTs?: string;
  responseUrl?: string;
  /** The block the button is in (default `b1`). */
  blockId?: string;
}

/** A button press, as Slack sends it: a form with one `payload` field. */
export function blockActionBody(fields: BlockActionFields): string {
  const teamId = fields.teamId ?? FAKE_TEAM_ID;
  const payload = {
    type: 'block_actions',
    team: { id: teamId, domain: 'fake' },
    user: { id: fields.userId ?? 'U0ALICE01', username: 'alice', name: 'alice', team_id: teamId },
    api_app_id: 'A0FAKE001',
    token: 'deprecated-verification-token',
    trigger_id: `${Date.now()}.trigger`,
    container: fields.channelId
      ? {
          type: 'message',
          message_ts: fields.messageTs ?? '1700000000.000100',
          channel_id: fields.channelId,
          is_ephemeral: false,
        }
      : { type: 'view', view_id: 'VHOME0001' },
    ...(fields.channelId
      ? {
          channel: { id: fields.channelId, name: 'ops' },
          message: {
            type: 'message',
            ts: fields.messageTs ?? '1700000000.000100',
            ...(fields.threadTs ? { thread_ts: fields.threadTs } : {}),
            text: 'x',
            user: 'UBOT00001',
          },
          response_url: fields.responseUrl ?? 'http://127.0.0.1:9/response/none',
        }
      : {
          view: {
            id: 'VHOME0001',
            type: 'home',
            callback_id: '',
            private_metadata: '',
            state: { values: {} },
            hash: 'h',
          },
        }),
    actions: [
      {
        type: 'button',
        action_id: fields.actionId,
        block_id: fields.blockId ?? 'b1',
        value: fields.value,
        text: { type: 'plain_text', text: 'x' },
        action_ts: '1700000000.1',
      },
    ],
  };
  return new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
}

/** An Events API callback, as Slack sends it (JSON; post it with contentType application/json). */
export function eventBody(event: Record<string, unknown>, teamId: string = FAKE_TEAM_ID): string {
  return JSON.stringify({
    token: 'deprecated-verification-token',
    team_id: teamId,
    api_app_id: 'A0FAKE001',
    event,
    type: 'event_callback',
    event_id: `Ev${Date.now()}${Math.floor(Math.random() * 1e6)}`,
    event_time: Math.floor(Date.now() / 1000),
  });
}

/**
 * A `function_executed` event callback as Slack sends it when a workflow runs a custom step: the
 * execution's ID, its inputs, its own `bot_access_token` and the function's definition.
 */
export function functionExecutedBody(
  fields: { callbackId: string; executionId: string; token: string; inputs: Record<string, unknown> },
  teamId: string = FAKE_TEAM_ID,
): string {
  return eventBody(
    {
      type: 'function_executed',
      function: {
        id: 'Fn0FAKE001',
        callback_id: fields.callbackId,
        title: 'Schedule disk backup policy deletion',
        type: 'app',
        input_parameters: [],
        output_parameters: [],
        app_id: 'A0FAKE001',
        date_created: 1700000000,
        date_updated: 1700000000,
        date_deleted: 0,
      },
      inputs: fields.inputs,
      function_execution_id: fields.executionId,
      workflow_execution_id: `Wx${fields.executionId}`,
      event_ts: `${Math.floor(Date.now() / 1000)}.000100`,
      bot_access_token: fields.token,
    },
    teamId,
  );
}

export interface MessageActionFields {
  callbackId: string;
  channelId: string;
  /** The message the shortcut is used on, as Slack sends it (ts, text, blocks, attachments, thread_ts). */
  message: Record<string, unknown> & { ts: string };
  userId?: string;
  teamId?: string;
  responseUrl?: string;
  triggerId?: string;
}

/** A message shortcut, as Slack sends it: a form with one `payload` field of type `message_action`. */
export function messageActionBody(fields: MessageActionFields): string {
  const teamId = fields.teamId ?? FAKE_TEAM_ID;
  const payload = {
    type: 'message_action',
    token: 'deprecated-verification-token',
    action_ts: `${Math.floor(Date.now() / 1000)}.000001`,
    team: { id: teamId, domain: 'fake' },
    user: { id: fields.userId ?? 'U0ALICE01', username: 'alice', name: 'alice', team_id: teamId },
    channel: { id: fields.channelId, name: 'ops' },
    is_enterprise_install: false,
    enterprise: null,
    callback_id: fields.callbackId,
    trigger_id: fields.triggerId ?? `${Date.now()}.trigger`,
    response_url: fields.responseUrl ?? 'http://127.0.0.1:9/response/none',
    message_ts: fields.message.ts,
    message: { type: 'message', ...fields.message },
  };
  return new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
}

/** A global shortcut, as Slack sends it: type `shortcut`, no channel and no response_url. */
export function globalShortcutBody(fields: {
  callbackId: string;
  userId?: string;
  teamId?: string;
  triggerId?: string;
}): string {
  const teamId = fields.teamId ?? FAKE_TEAM_ID;
  const payload = {
    type: 'shortcut',
    token: 'deprecated-verification-token',
    action_ts: `${Math.floor(Date.now() / 1000)}.000001`,
    team: { id: teamId, domain: 'fake' },
    user: { id: fields.userId ?? 'U0ALICE01', username: 'alice', team_id: teamId },
    is_enterprise_install: false,
    enterprise: null,
    callback_id: fields.callbackId,
    trigger_id: fields.triggerId ?? `${Date.now()}.trigger`,
  };
  return new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
}
