/** Text helpers for Slack mrkdwn. Anything that came from a user or an API goes through `escape`. */
import { visible } from '../text.js';
import { isoSeconds } from '../time/instant.js';

/**
 * Slack's three control characters; after this, `<!channel>` or `<@U123>` in the text is shown, not
 * acted on. Invisible bidirectional controls are shown as `�` (src/text.ts), so text cannot display
 * reordered.
 */
export function escapeMrkdwn(text: string): string {
  return visible(text).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** Inline code with user text inside: escaped, and backticks (which would end the span) replaced. */
export function code(text: string): string {
  return `\`${escapeMrkdwn(text).replace(/`/g, "'")}\``;
}

/** What a time reads as when it cannot be a date (not a number, or past what a date holds: src/time/instant.ts). */
export const UNKNOWN_TIME = 'an unknown time';

/**
 * A time every reader sees in their own zone, with a UTC fallback for clients that cannot render it.
 * Total: a time that cannot be shown (an odd answer from Katapult) is plain text, no token.
 */
export function dateToken(unixSeconds: number, format = '{date_long_pretty} at {time}'): string {
  const fallback = utcFallback(unixSeconds);
  return fallback === UNKNOWN_TIME ? fallback : `<!date^${Math.trunc(unixSeconds)}^${format}|${fallback}>`;
}

/** `2026-11-28 09:00 UTC`, from the ISO string (every message builds a few: no formatter per call). */
export function utcFallback(unixSeconds: number): string {
  const iso = isoSeconds(unixSeconds);
  return iso === null ? UNKNOWN_TIME : `${iso.slice(0, 10)} ${iso.slice(11, 16)} UTC`;
}
