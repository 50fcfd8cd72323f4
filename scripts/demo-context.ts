/**
 * What every scene of `npm run demo` uses: the output (steps, notes, surfaces, Block Kit Builder
 * links only when asked), requests to the bot as Slack sends them, and the fake Slack's recorded
 * calls shown as people see them (scripts/demo-transcript.ts).
 */
import { ACTIONS } from '../src/slack/ids.js';
import { FAKE_TEAM_ID, type SlackCall } from '../support/fakes/slack-api.js';
import { ADMIN, CHANNEL, type Harness, pressButton, SIGNING_SECRET } from '../support/harness.js';
import { postSigned, type SlackResponse } from '../support/slack-requests.js';
import { renderTranscript, type TranscriptOptions } from './demo-transcript.js';
import { blockKitBuilderUrl, type RenderOptions } from './render-surface.js';

/** Thrown when a step does not produce what it should; its message names the step. */
export class DemoStepError extends Error {}

export const STEP_TIMEOUT_MS = 10_000;
export const COMMAND = '/katapult';

export interface DemoContext {
  h: Harness;
  render: RenderOptions;
  /** Display name of a user ID (`dana`). */
  name(userId: string): string;
  out(...lines: string[]): void;
  /** Dimmed explanation lines. */
  note(...lines: string[]): void;
  step(title: string, what: string): void;
  /** The number and title of the current step. */
  current(): { number: number; title: string };
  /** A surface the scene rendered itself, with its Block Kit Builder link when asked for. */
  surface(text: string, surface: unknown): void;
  /** Where the calls of what comes next start. */
  mark(): number;
  since(mark: number, ...methods: string[]): SlackCall[];
  /** Prints what the calls since `mark` show people, in order; returns those calls. */
  show(mark: number, options?: ShowOptions): SlackCall[];
  /** Waits until the bot has finished what it started after its ack. */
  settle(): Promise<void>;
  expectOk(res: SlackResponse, what: string): void;
  /** `/katapult <text>` typed by `userId` (default the admin) in the channel. */
  command(text: string, userId?: string): Promise<SlackResponse>;
  /** An interactive payload (block actions, suggestions) from `userId`, signed as Slack signs it. */
  interaction(payload: Record<string, unknown>, userId?: string): Promise<SlackResponse>;
  /** A button pressed on the channel message `messageTs`. */
  press(actionId: string, value: string, userId: string, messageTs?: string): Promise<SlackResponse>;
  /** The `ts` Slack gave a posted message (null for other calls). */
  tsOf(call: SlackCall): string | null;
}

export interface ShowOptions extends Pick<TranscriptOptions, 'relativeTo'> {
  /** Methods left out (e.g. held messages already shown once); a line says how many. */
  skip?: { methods: string[]; say: (count: number) => string };
}

export interface ContextOptions {
  write: (text: string) => void;
  render: RenderOptions;
  builderLinks: boolean;
}

export function createContext(h: Harness, options: ContextOptions): DemoContext {
  const { write, render } = options;
  const color = render.color === true;
  let number = 0;
  let title = 'start-up';
  const out = (...lines: string[]) => write(`${lines.join('\n')}\n`);
  const width = render.width ?? 100;
  const dim = (l: string) => (color && l ? `\u001b[2m${l}\u001b[22m` : l);
  const note = (...lines: string[]) => out(...lines.flatMap((l) => wrapProse(l, width)).map(dim));
  const surface = (text: string, shown: unknown) => {
    out(text);
    if (options.builderLinks && shown !== null) note(`  Block Kit Builder: ${blockKitBuilderUrl(shown)}`);
  };
  const since = (mark: number, ...methods: string[]) =>
    h.slack.calls.slice(mark).filter((c) => methods.includes(c.method));
  const ctx: DemoContext = {
    h,
    render,
    name: (id) => render.users?.[id] ?? id,
    out,
    note,
    step(stepTitle, what) {
      number += 1;
      title = stepTitle;
      out('', '─'.repeat(width), `Step ${number}. ${stepTitle}`, '');
      note(what);
    },
    current: () => ({ number, title }),
    surface,
    mark: () => h.slack.calls.length,
    since,
    show(mark, showOptions = {}) {
      const calls = h.slack.calls.slice(mark);
      const skip = showOptions.skip;
      const kept = skip ? calls.filter((c) => !skip.methods.includes(c.method)) : calls;
      const timestamps = fakeSlackTimestamps(h.slack.calls);
      const transcript = { ...render, ...showOptions, timestamps, channel: CHANNEL };
      for (const shown of renderTranscript(kept, transcript)) surface(shown.text, shown.surface);
      const skipped = calls.length - kept.length;
      if (skip && skipped > 0) note(skip.say(skipped));
      return calls;
    },
    async settle() {
      if (!(await h.bot.idle(STEP_TIMEOUT_MS)))
        throw new DemoStepError(`the bot was still busy after ${STEP_TIMEOUT_MS / 1000} s`);
    },
    expectOk(res, what) {
      if (res.status !== 200) throw new DemoStepError(`${what}: the bot answered HTTP ${res.status}`);
    },
    ...slackRequests(h, (id) => render.users?.[id] ?? id),
    tsOf: (call) => fakeSlackTimestamps(h.slack.calls).get(call) ?? null,
  };
  return ctx;
}

/** What people do in Slack, sent to the bot as Slack sends it (signed), from the channel. */
function slackRequests(
  h: Harness,
  name: (userId: string) => string,
): Pick<DemoContext, 'command' | 'interaction' | 'press'> {
  const events = `${h.baseUrl}/slack/events`;
  return {
    command: (text, userId = ADMIN) =>
      h.command({ text, user_id: userId, channel_id: CHANNEL, trigger_id: `${Date.now()}.demo.trigger` }),
    interaction: (payload, userId = ADMIN) =>
      postSigned(
        events,
        SIGNING_SECRET,
        new URLSearchParams({
          payload: JSON.stringify({
            team: { id: FAKE_TEAM_ID, domain: 'fake' },
            user: { id: userId, username: name(userId), team_id: FAKE_TEAM_ID },
            api_app_id: 'A0FAKE001',
            token: 'deprecated-verification-token',
            ...payload,
          }),
        }).toString(),
      ),
    press: (actionId, value, userId, messageTs) =>
      pressButton(h, {
        actionId,
        value,
        userId,
        ...(messageTs ? { messageTs } : {}),
        responseName: actionId === ACTIONS.restore ? 'restore' : 'button',
      }),
  };
}

/** A paragraph wrapped at `width` on spaces, its indentation kept on every line. */
export function wrapProse(text: string, width: number): string[] {
  const indent = /^\s*/.exec(text)?.[0] ?? '';
  const lines: string[] = [];
  let line = '';
  for (const word of text.trim().split(/\s+/)) {
    if (line !== '' && indent.length + line.length + 1 + word.length > width) {
      lines.push(`${indent}${line}`);
      line = word;
    } else line = line === '' ? word : `${line} ${word}`;
  }
  lines.push(line === '' ? '' : `${indent}${line}`);
  return lines;
}

/**
 * The `ts` the fake Slack answered each posted message with: it numbers chat.postMessage,
 * chat.postEphemeral and chat.scheduleMessage in the order it answers them (1700000000.000001, …),
 * which is the order it recorded them; refused calls get no number. (Held messages get a
 * scheduled_message_id instead, so they are counted but not listed.)
 */
export function fakeSlackTimestamps(calls: readonly SlackCall[]): Map<SlackCall, string> {
  const numbered = ['chat.postMessage', 'chat.postEphemeral', 'chat.scheduleMessage'];
  const timestamps = new Map<SlackCall, string>();
  let counter = 0;
  for (const call of calls) {
    if (!numbered.includes(call.method) || call.refused) continue;
    counter += 1;
    if (call.method !== 'chat.scheduleMessage')
      timestamps.set(call, `1700000000.${String(counter).padStart(6, '0')}`);
  }
  return timestamps;
}

/** Every button in the blocks of these calls' messages (and views), as `{action_id, value}`. */
export function buttonsIn(
  calls: readonly SlackCall[],
): { action_id: string; value: string; call: SlackCall }[] {
  const found: { action_id: string; value: string; call: SlackCall }[] = [];
  for (const call of calls) {
    const blocks = call.args.blocks ?? (call.args.view as { blocks?: unknown } | undefined)?.blocks;
    if (!Array.isArray(blocks)) continue;
    for (const block of blocks as { elements?: unknown }[]) {
      for (const e of Array.isArray(block.elements) ? (block.elements as Record<string, unknown>[]) : []) {
        if (e.type === 'button' && typeof e.action_id === 'string')
          found.push({ action_id: e.action_id, value: String(e.value ?? ''), call });
      }
    }
  }
  return found;
}

/** Everything the calls carried, as one string to check for a phrase. */
export const textOf = (calls: readonly SlackCall[]): string => JSON.stringify(calls.map((c) => c.args));
