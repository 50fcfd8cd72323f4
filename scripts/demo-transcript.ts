/**
 * Slack calls as the people in the workspace see them, in order: channel posts, thread replies
 * (indented under their parent when the parent is shown too), private notes, edits, messages Slack
 * holds for later, answers at a response_url, forms and the Home tab. Calls nobody sees (users.info,
 * auth.test, …) are left out. Pure, like render-surface.ts: scripts/demo-context.ts feeds it the
 * fake Slack's recorded calls.
 */
import {
  type RenderOptions,
  renderHome,
  renderMessage,
  renderModal,
  renderMrkdwn,
  utcText,
} from './render-surface.js';

/** One recorded Web API call (or `response_url` post), as support/fakes/slack-api.ts records it. */
export interface RecordedCall {
  method: string;
  args: Record<string, unknown>;
  /** Set when Slack refused it: nobody saw it. */
  refused?: unknown;
}

export interface TranscriptOptions extends RenderOptions {
  /** The `ts` Slack gave each posted message, so replies find their parent and edits their message. */
  timestamps?: ReadonlyMap<RecordedCall, string>;
  /** Where answers at a response_url appear (a channel ID; default: no channel named). */
  channel?: string;
  /** Held messages are also timed relative to this: `60 minutes before the move`. */
  relativeTo?: { at: number; label: string };
  /** The app's display name (default `katapult`). */
  app?: string;
}

/** One thing someone sees. */
export interface Shown {
  /** As the terminal shows it (indented when it is a thread reply). */
  text: string;
  /** The surface as Slack took it (for a Block Kit Builder link), or null for a one-line note. */
  surface: unknown;
  call: RecordedCall;
}

const VISIBLE = new Set([
  'chat.postMessage',
  'chat.postEphemeral',
  'chat.update',
  'chat.scheduleMessage',
  'chat.delete',
  'chat.deleteScheduledMessage',
  'response_url',
  'views.open',
  'views.push',
  'views.update',
  'views.publish',
]);
const INDENT = '    ';

/** What the calls show people, in order, thread replies right under their parent. */
export function renderTranscript(calls: readonly RecordedCall[], options: TranscriptOptions = {}): Shown[] {
  const visible = calls.filter((c) => VISIBLE.has(c.method) && !c.refused);
  const byTs = new Map<string, RecordedCall>();
  for (const call of visible) {
    const ts = options.timestamps?.get(call);
    if (ts !== undefined) byTs.set(ts, call);
  }
  const posted = new Set(options.timestamps?.values() ?? []);
  const parentOf = (call: RecordedCall): RecordedCall | undefined => {
    const thread = threadOf(call);
    const parent = thread === undefined ? undefined : byTs.get(thread);
    return parent === call ? undefined : parent;
  };
  const shown: Shown[] = [];
  for (const call of visible) {
    if (parentOf(call) !== undefined) continue;
    shown.push(renderCall(call, options, posted));
    for (const reply of visible.filter((c) => parentOf(c) === call))
      shown.push(renderCall(reply, options, posted));
  }
  return shown;
}

/** The thread a message is posted in, if any. */
function threadOf(call: RecordedCall): string | undefined {
  const ts = call.args.thread_ts;
  return typeof ts === 'string' && ts !== '' ? ts : undefined;
}

function renderCall(call: RecordedCall, options: TranscriptOptions, posted: ReadonlySet<string>): Shown {
  const reply = threadOf(call) !== undefined;
  const width = (options.width ?? 100) - (reply ? INDENT.length : 0);
  const render = { ...options, width };
  const { title, surface } = describe(call, options, posted);
  let text: string;
  if (surface === null) text = `· ${title}`;
  else if (call.method === 'views.publish') text = renderHome(surface, render, title);
  else if (call.method === 'views.update')
    text = renderModal(surface, render).replace('  (modal)', '  (modal, updated)');
  else if (call.method.startsWith('views.')) text = renderModal(surface, render);
  else text = renderMessage(surface, title, render);
  if (reply) text = text.replace(/^/gm, INDENT);
  return { text, surface, call };
}

/** The frame's title (where it appears and who sees it) and the surface drawn in it. */
function describe(
  call: RecordedCall,
  options: TranscriptOptions,
  posted: ReadonlySet<string>,
): { title: string; surface: unknown } {
  const { args } = call;
  const app = `${options.app ?? 'katapult'} (app)`;
  const where = placeOf(args.channel ?? options.channel, options);
  const thread = threadOf(call) === undefined ? '' : ' · thread reply';
  const person = (id: unknown) => `@${options.users?.[String(id)] ?? String(id)}`;
  switch (call.method) {
    case 'chat.postMessage': {
      const broadcast = args.reply_broadcast === true || args.reply_broadcast === 'true';
      return {
        title: `${where}${thread} · ${app}${broadcast ? ' · also sent to the channel' : ''}`,
        surface: args,
      };
    }
    case 'chat.postEphemeral':
      return { title: `${where}${thread} · only ${person(args.user)} sees this`, surface: args };
    case 'chat.update': {
      // Slack edits the message in place; in the terminal it was printed earlier.
      const known = typeof args.ts === 'string' && posted.has(args.ts);
      return {
        title: `${where} · ${app} · ${known ? 'the message above, edited' : 'a message edited'}`,
        surface: args,
      };
    }
    case 'chat.scheduleMessage':
      return {
        title: `${where}${thread} · ${app} · ${heldUntil(Number(args.post_at), options)}`,
        surface: args,
      };
    case 'chat.delete':
    case 'chat.deleteScheduledMessage':
      return {
        title: `${options.app ?? 'katapult'} removes ${call.method === 'chat.delete' ? 'a message' : 'a held message'} in ${where}`,
        surface: null,
      };
    case 'response_url':
      return responseTitle(args, where, app);
    case 'views.publish':
      return { title: `Home tab of ${person(args.user_id)}`, surface: args.view };
    default:
      return { title: 'modal', surface: args.view };
  }
}

function responseTitle(args: Record<string, unknown>, where: string, app: string) {
  if (args.delete_original === true || args.delete_original === 'true')
    return { title: `the message with the button is removed in ${where}`, surface: null };
  const edited = args.replace_original === true || args.replace_original === 'true';
  const who = args.response_type === 'in_channel' ? app : 'only visible to you';
  return {
    title: `${where} · ${who}${edited ? ' · replaces the message with the button' : ''}`,
    surface: args,
  };
}

function placeOf(channel: unknown, options: RenderOptions): string {
  if (typeof channel !== 'string' || channel === '') return 'Slack';
  if (channel.startsWith('D')) return 'direct message';
  return renderMrkdwn(`<#${channel}>`, options);
}

function heldUntil(postAt: number, options: TranscriptOptions): string {
  if (!Number.isFinite(postAt)) return 'held by Slack';
  const base = `held by Slack, posted at ${utcText(postAt)}`;
  const ref = options.relativeTo;
  if (!ref) return base;
  const lead = Math.round((ref.at - postAt) / 60);
  return lead >= 0
    ? `${base} (${lead} min before ${ref.label})`
    : `${base} (${-lead} min after ${ref.label})`;
}
