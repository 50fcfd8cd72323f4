/**
 * Text kept in a stored record (a request's outcome per policy) that came from Katapult: clipped
 * before it is written, so one odd answer cannot grow a record (a 20-policy request of 60 kB errors
 * would be a 1.2 MB record, rewritten after each policy). Slack's builders clip again for display,
 * with the same marker, so a person sees one kind of cut wherever it was made.
 */

import { CLIP_NOTE, clip } from '../text.js';

/** Characters kept of one stored field, the marker included. */
export const STORED_FIELD_MAX = 2_000;

/** The end of a clipped field (the one Slack's builders use: src/slack/limits.ts CLIP_NOTE). */
export const CLIPPED_MARKER = CLIP_NOTE;

/**
 * `text` as stored: whole when it fits `max`, else its start and CLIPPED_MARKER, within `max`. The
 * cut never splits a character (emoji included), a mrkdwn escape (`&amp;`) or a `<…>` token.
 */
export function clipStored(text: string, max: number = STORED_FIELD_MAX): string {
  return clip(text, max, CLIPPED_MARKER);
}
