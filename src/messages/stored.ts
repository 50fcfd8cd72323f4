/**
 * Text kept in a stored record (a request's outcome per policy) that came from Katapult: clipped
 * before it is written, so one odd answer cannot grow a record (a 20-policy request of 60 kB errors
 * would be a 1.2 MB record, rewritten after each policy). Slack's builders clip again for display.
 */

/** Characters kept of one stored field. */
export const STORED_FIELD_MAX = 2_000;

/** The marker at the end of a clipped field (the count is of the characters left out). */
export const clippedMarker = (left: number) => `… [clipped: ${left} more characters]`;

/** `text` as stored: whole when it fits `max`, else its start and the clipped marker, within `max`. */
export function clipStored(text: string, max: number = STORED_FIELD_MAX): string {
  if (text.length <= max) return text;
  // The marker's own length depends on the count; one pass with the largest count is enough.
  let keep = Math.max(0, max - clippedMarker(text.length).length);
  // Never half a surrogate pair.
  if (keep > 0 && /[\uD800-\uDBFF]/.test(text.charAt(keep - 1))) keep -= 1;
  return `${text.slice(0, keep)}${clippedMarker(text.length - keep)}`;
}
