/**
 * Every piece of text a Slack message carries, for a shortcut used on it: its `text`, and each
 * string inside its blocks and attachments (rich text, sections, fields, a legacy attachment's
 * title, text and fields), so an ID is found wherever the message shows it. Pure; bounded.
 */

/** Strings read at most, and how deep the message's structure is followed. */
const MAX_STRINGS = 2_000;
const MAX_DEPTH = 12;
/** Keys whose values are Slack's own identifiers or settings, never what the message says. */
const SKIPPED = new Set([
  'type',
  'block_id',
  'action_id',
  'style',
  'image_url',
  'color',
  'ts',
  'user',
  'team',
]);

export function messageTexts(message: { text?: unknown; blocks?: unknown; attachments?: unknown }): string[] {
  const out: string[] = [];
  const walk = (value: unknown, depth: number) => {
    if (out.length >= MAX_STRINGS || depth > MAX_DEPTH) return;
    if (typeof value === 'string') {
      out.push(value);
    } else if (Array.isArray(value)) {
      for (const item of value) walk(item, depth + 1);
    } else if (typeof value === 'object' && value !== null) {
      for (const [key, item] of Object.entries(value)) if (!SKIPPED.has(key)) walk(item, depth + 1);
    }
  };
  walk(message.text, 0);
  walk(message.blocks, 0);
  walk(message.attachments, 0);
  return out;
}
