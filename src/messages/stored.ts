/**
 * Text kept in a stored record (a request's outcome per policy) that came from Katapult: clipped
 * before it is written, so one odd answer cannot grow a record (a 20-policy request of 60 kB errors
 * would be a 1.2 MB record, rewritten after each policy). Slack's builders clip again for display,
 * with the same marker, so a person sees one kind of cut wherever it was made.
 */

/** Characters kept of one stored field, the marker included. */
export const STORED_FIELD_MAX = 2_000;

/** The end of a clipped field (the one Slack's builders use: src/slack/limits.ts CLIP_NOTE). */
export const CLIPPED_MARKER = '…(clipped)';

/** How far back a cut looks for the start of a character, an escape or a Slack token. */
const LOOK_BACK = 160;

let graphemes: Intl.Segmenter | undefined;

/**
 * `text` as stored: whole when it fits `max`, else its start and CLIPPED_MARKER, within `max`. The
 * cut never splits a character (emoji included), a mrkdwn escape (`&amp;`) or a `<…>` token.
 */
export function clipStored(text: string, max: number = STORED_FIELD_MAX): string {
  if (text.length <= max) return text;
  return text.slice(0, safeCut(text, Math.max(0, max - CLIPPED_MARKER.length))) + CLIPPED_MARKER;
}

function safeCut(text: string, at: number): number {
  let cut = graphemeStart(text, at);
  const amp = text.lastIndexOf('&', cut - 1);
  if (amp >= 0 && ['&amp;', '&lt;', '&gt;'].some((e) => text.startsWith(e, amp) && amp + e.length > cut))
    cut = amp;
  const open = text.lastIndexOf('<', cut - 1);
  if (open >= cut - LOOK_BACK && open > text.lastIndexOf('>', cut - 1)) cut = Math.max(open, 0);
  return cut;
}

/** The start of the character (grapheme) at `at`, or `at` itself when one starts there. */
function graphemeStart(text: string, at: number): number {
  const from = Math.max(0, at - LOOK_BACK);
  graphemes ??= new Intl.Segmenter('en', { granularity: 'grapheme' });
  let boundary = from;
  for (const { index } of graphemes.segment(text.slice(from, at + 4))) {
    if (from + index > at) break;
    boundary = from + index;
  }
  return boundary;
}
