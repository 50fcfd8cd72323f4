/**
 * Turns Slack surfaces (a modal, the Home tab, a message, an options list) into readable terminal
 * text, and builds Block Kit Builder links for them. Pure: no I/O, no clock, no environment.
 * Used by `npm run demo` (scripts/demo.ts).
 */
import { DateTime } from 'luxon';

/** One value of Slack's `view.state.values[block_id][action_id]`: what the user typed or picked. */
export interface StateValue {
  value?: string | null;
  selected_date_time?: number | null;
  selected_option?: { text?: { text?: string }; value?: string } | null;
  selected_options?: { text?: { text?: string }; value?: string }[] | null;
}

export interface RenderOptions {
  /** Display names for user IDs: `<@U123>` → `@name`. Unknown IDs show as `@U123`. */
  users?: Record<string, string>;
  /** Names for channel IDs: `<#C123>` → `#name`. Unknown IDs show as `#C123`. */
  channels?: Record<string, string>;
  /** IANA zone date-time pickers are shown in (Slack shows them in the viewer's zone). Default UTC. */
  timeZone?: string;
  /** What the user has typed or picked, keyed like `view.state.values`; wins over initial values. */
  state?: Record<string, Record<string, StateValue>>;
  /** ANSI bold and dim (only for a terminal). Default false. */
  color?: boolean;
  /** Wrap lines at this many characters (gutter included). Default 100. */
  width?: number;
  /** A form's inline errors (`response_action: errors`), keyed by block ID: shown under the field. */
  errors?: Record<string, string>;
}

type Json = Record<string, unknown>;

const BUILDER = 'https://app.slack.com/block-kit-builder#';
const BOLD = ['\u001b[1m', '\u001b[22m'] as const;
const DIM = ['\u001b[2m', '\u001b[22m'] as const;

/** The emoji the bot uses, and a few common ones; others stay as `:name:`. */
const EMOJI: Record<string, string> = {
  wastebasket: '🗑',
  warning: '⚠️',
  alarm_clock: '⏰',
  recycle: '♻️',
  mag: '🔍',
  white_check_mark: '✅',
  hourglass_flowing_sand: '⏳',
  no_entry: '⛔',
  x: '❌',
  lock: '🔒',
  key: '🔑',
  information_source: 'ℹ️',
  bulb: '💡',
  tada: '🎉',
  no_entry_sign: '🚫',
  hourglass: '⌛',
  raised_hand: '✋',
  ice_cube: '🧊',
  grey_question: '❔',
  octagonal_sign: '🛑',
  arrows_counterclockwise: '🔄',
};

const isRecord = (value: unknown): value is Json =>
  typeof value === 'object' && value !== null && !Array.isArray(value);
const asArray = (value: unknown): unknown[] => (Array.isArray(value) ? value : []);
const str = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);

/** `&lt;` `&gt;` `&amp;` back to the characters Slack shows. */
export function unescapeMrkdwn(text: string): string {
  return text.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
}

/** `:wastebasket:` → 🗑 for the emoji in the table; others are left as they are. */
export function renderEmoji(text: string): string {
  return text.replace(/:([a-z0-9_+-]+):/g, (whole, name: string) => EMOJI[name] ?? whole);
}

/** A unix time as Slack's clients show a date token without a fallback: in UTC. */
export function utcText(unixSeconds: number): string {
  return DateTime.fromSeconds(unixSeconds, { zone: 'utc' }).toFormat("yyyy-LL-dd HH:mm 'UTC'");
}

/** One `<…>` control sequence of Slack mrkdwn, as a reader sees it. */
function renderControl(inner: string, options: RenderOptions): string {
  const bar = inner.indexOf('|');
  const target = bar === -1 ? inner : inner.slice(0, bar);
  const label = bar === -1 ? undefined : unescapeMrkdwn(inner.slice(bar + 1));
  if (target.startsWith('!date^')) {
    if (label) return label;
    const seconds = Number(target.split('^')[1]);
    return Number.isFinite(seconds) ? utcText(seconds) : target;
  }
  if (target.startsWith('@')) {
    const id = target.slice(1);
    return `@${label ?? options.users?.[id] ?? id}`;
  }
  if (target.startsWith('#')) {
    const id = target.slice(1);
    return `#${label ?? options.channels?.[id] ?? id}`;
  }
  if (target.startsWith('!subteam^')) return label ?? '@group';
  if (target.startsWith('!')) return `@${target.slice(1)}`;
  const url = unescapeMrkdwn(target);
  // Only URLs are links; anything else in angle brackets is shown as typed.
  if (!/^(https?|mailto|slack):/i.test(url)) return `<${unescapeMrkdwn(inner)}>`;
  return label && label !== url ? `${label} (${url})` : url;
}

/**
 * Slack mrkdwn as a reader sees it: date tokens as their fallback text, `<@U…>` as `@name`,
 * `<#C…>` as `#channel`, links as `text (url)`, entities unescaped, known emoji as characters.
 * `*bold*`, `_italic_` and `code` markers stay (or become ANSI bold with `color`).
 */
export function renderMrkdwn(text: string, options: RenderOptions = {}): string {
  let out = '';
  let last = 0;
  for (const match of text.matchAll(/<([^<>]*)>/g)) {
    out += unescapeMrkdwn(text.slice(last, match.index));
    out += renderControl(match[1] ?? '', options);
    last = match.index + match[0].length;
  }
  out += unescapeMrkdwn(text.slice(last));
  out = renderEmoji(out);
  if (options.color) out = out.replace(/(^|[\s(])\*([^*\n]+)\*/g, `$1${BOLD[0]}$2${BOLD[1]}`);
  return out;
}

/** A text object (plain_text or mrkdwn) as display text. */
export function renderText(value: unknown, options: RenderOptions = {}): string {
  if (typeof value === 'string') return value;
  if (!isRecord(value)) return '';
  const text = str(value.text) ?? '';
  return value.type === 'mrkdwn' ? renderMrkdwn(text, options) : renderEmoji(text);
}

const bold = (text: string, options: RenderOptions) => (options.color ? `${BOLD[0]}${text}${BOLD[1]}` : text);
const dim = (text: string, options: RenderOptions) => (options.color ? `${DIM[0]}${text}${DIM[1]}` : text);

function stateOf(options: RenderOptions, blockId: unknown, actionId: unknown): StateValue | undefined {
  if (typeof blockId !== 'string' || typeof actionId !== 'string') return undefined;
  return options.state?.[blockId]?.[actionId];
}

function pickerTime(seconds: number, options: RenderOptions): string {
  const zone = options.timeZone ?? 'UTC';
  const time = DateTime.fromSeconds(seconds, { zone });
  return `${time.toFormat('ccc d LLL yyyy, HH:mm')} (${zone})`;
}

/** An interactive element on one line: `[ Button ]`, `[▾ placeholder]`, a typed value, a picked time. */
export function renderElement(element: unknown, options: RenderOptions = {}, blockId?: string): string {
  if (!isRecord(element)) return '';
  const type = str(element.type) ?? '';
  const state = stateOf(options, blockId, element.action_id);
  const placeholder =
    element.placeholder === undefined ? undefined : renderText(element.placeholder, options);
  switch (type) {
    case 'button':
      return `[ ${renderText(element.text, options)} ]`;
    case 'plain_text_input':
    case 'email_text_input':
    case 'url_text_input':
    case 'number_input': {
      const value = state?.value ?? str(element.initial_value);
      if (value) return value;
      return placeholder ? `(${placeholder})` : '(empty)';
    }
    case 'datetimepicker': {
      const seconds = state?.selected_date_time ?? element.initial_date_time;
      return typeof seconds === 'number' ? pickerTime(seconds, options) : '(pick a date and time)';
    }
    case 'datepicker':
      return str(element.initial_date) ?? (placeholder ? `(${placeholder})` : '(pick a date)');
    case 'timepicker':
      return str(element.initial_time) ?? (placeholder ? `(${placeholder})` : '(pick a time)');
    case 'checkboxes':
    case 'radio_buttons': {
      const chosen = new Set(
        [...asArray(element.initial_options), element.initial_option]
          .filter(isRecord)
          .map((o) => str(o.value)),
      );
      const [on, off] = type === 'checkboxes' ? ['☑', '☐'] : ['◉', '○'];
      return asArray(element.options)
        .filter(isRecord)
        .map((o) => `${chosen.has(str(o.value)) ? on : off} ${renderText(o.text, options)}`)
        .join('  ');
    }
    case 'overflow':
      return '[ ⋯ ]';
    default: {
      if (type.endsWith('_select')) {
        const several = state?.selected_options?.map((o) => o.text?.text ?? o.value ?? '?');
        const picked = several?.length ? several.join(', ') : state?.selected_option?.text?.text;
        const initial = isRecord(element.initial_option)
          ? renderText(element.initial_option.text)
          : undefined;
        return `[▾ ${picked ?? initial ?? placeholder ?? 'Select'}]`;
      }
      return `[${type || 'element'}]`;
    }
  }
}

/** Blocks as lines of text (no gutter, not wrapped). */
export function renderBlocks(blocks: unknown, options: RenderOptions = {}): string[] {
  const lines: string[] = [];
  for (const block of asArray(blocks)) {
    if (!isRecord(block)) continue;
    const blockId = str(block.block_id);
    switch (block.type) {
      case 'header':
        lines.push(bold(`■ ${renderText(block.text, options)}`, options));
        break;
      case 'section': {
        const text = block.text === undefined ? [] : renderText(block.text, options).split('\n');
        for (const field of asArray(block.fields)) text.push(...renderText(field, options).split('\n'));
        if (block.accessory !== undefined) {
          const accessory = renderElement(block.accessory, options, blockId);
          if (text.length === 0) text.push(accessory);
          else text[text.length - 1] = `${text[text.length - 1]}  ${accessory}`;
        }
        lines.push(...text);
        break;
      }
      case 'context': {
        const parts = asArray(block.elements).map((e) =>
          isRecord(e) && e.type === 'image' ? `[image: ${str(e.alt_text) ?? ''}]` : renderText(e, options),
        );
        for (const line of parts.join('  ').split('\n')) lines.push(dim(`· ${line}`, options));
        break;
      }
      case 'divider':
        lines.push(dim('┄'.repeat(40), options));
        break;
      case 'actions':
        lines.push(
          asArray(block.elements)
            .map((e) => renderElement(e, options, blockId))
            .join(' '),
        );
        break;
      case 'input': {
        const label = renderText(block.label, options);
        const value = renderElement(block.element, options, blockId);
        lines.push(value.startsWith('[▾') ? `[${label}: ${value.slice(1, -1)}]` : `[${label}: ${value}]`);
        const error = blockId === undefined ? undefined : options.errors?.[blockId];
        if (error !== undefined) lines.push(bold(`  ⚠️ ${error}`, options));
        if (block.hint !== undefined) lines.push(dim(`  ${renderText(block.hint, options)}`, options));
        break;
      }
      case 'image':
        lines.push(`[image: ${str(block.alt_text) ?? ''}]`);
        break;
      default:
        lines.push(`[${String(block.type)} block]`);
    }
  }
  return lines;
}

/** Wraps one line at `width` characters on spaces, keeping its indentation on the following lines. */
export function wrapLine(line: string, width: number): string[] {
  if (line.length <= width) return [line];
  const indent = /^\s*/.exec(line)?.[0] ?? '';
  const out: string[] = [];
  let current = '';
  for (const word of line.trimStart().split(' ')) {
    const next = current === '' ? `${indent}${word}` : `${current} ${word}`;
    if (next.length > width && current.trim() !== '') {
      out.push(current);
      current = `${indent}  ${word}`;
    } else {
      current = next;
    }
  }
  if (current !== '') out.push(current);
  return out;
}

/** Lines in a frame: `┌─ title`, each line behind `│ `, wrapped, then `└─ footer`. */
export function frame(title: string, lines: string[], footer = '', options: RenderOptions = {}): string {
  const width = (options.width ?? 100) - 2;
  const body = lines.flatMap((line) => wrapLine(line, width)).map((line) => `│ ${line}`.trimEnd());
  return [`┌─ ${bold(title, options)}`, ...body, `└─${footer ? ` ${footer}` : ''}`].join('\n');
}

/** A modal as Slack draws it: title, blocks, then its Close and Submit buttons. */
export function renderModal(view: unknown, options: RenderOptions = {}): string {
  const v = isRecord(view) ? view : {};
  const buttons = [v.close, v.submit]
    .filter((b) => b !== undefined)
    .map((b) => `[ ${renderText(b, options)} ]`)
    .join(' ');
  return frame(
    `${renderText(v.title, options) || 'Modal'}  (modal)`,
    renderBlocks(v.blocks, options),
    buttons,
    options,
  );
}

/** The App Home tab; `title` says whose (default `Home tab`). */
export function renderHome(view: unknown, options: RenderOptions = {}, title = 'Home tab'): string {
  const v = isRecord(view) ? view : {};
  return frame(title, renderBlocks(v.blocks, options), '', options);
}

/** A message: its blocks, or its text when it has none. `title` says where it appears. */
export function renderMessage(message: unknown, title: string, options: RenderOptions = {}): string {
  const m = isRecord(message) ? message : {};
  const blocks = asArray(m.blocks);
  const lines =
    blocks.length > 0 ? renderBlocks(blocks, options) : renderMrkdwn(str(m.text) ?? '', options).split('\n');
  return frame(title, lines, '', options);
}

/** An external select's options list, as the menu drops down. */
export function renderOptions(options: unknown, title: string, render: RenderOptions = {}): string {
  const list = asArray(options).filter(isRecord);
  const lines = list.map((o) => `○ ${renderText(o.text, render)}`);
  return frame(title, lines.length > 0 ? lines : ['(no matches)'], `${list.length} option(s)`, render);
}

/**
 * A Block Kit Builder link that opens the surface for editing: a modal with its type, title and
 * buttons, the Home tab as `{type:'home', blocks}`, a message as `{blocks}`.
 */
export function blockKitBuilderUrl(surface: unknown): string {
  const s = isRecord(surface) ? surface : {};
  let payload: Json;
  if (s.type === 'modal') {
    payload = { type: 'modal', title: s.title };
    if (s.submit !== undefined) payload.submit = s.submit;
    if (s.close !== undefined) payload.close = s.close;
    payload.blocks = asArray(s.blocks);
  } else if (s.type === 'home') {
    payload = { type: 'home', blocks: asArray(s.blocks) };
  } else {
    payload = { blocks: asArray(s.blocks) };
  }
  return `${BUILDER}${encodeURIComponent(JSON.stringify(payload))}`;
}
