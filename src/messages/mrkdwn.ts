/** Text helpers for Slack mrkdwn. Anything that came from a user or an API goes through `escape`. */
import { visible } from '../text.js';

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

/** A time every reader sees in their own zone, with a UTC fallback for clients that cannot render it. */
export function dateToken(unixSeconds: number, format = '{date_long_pretty} at {time}'): string {
  return `<!date^${Math.trunc(unixSeconds)}^${format}|${utcFallback(unixSeconds)}>`;
}

/** `2026-11-28 09:00 UTC`, from the ISO string (every message builds a few: no formatter per call). */
export function utcFallback(unixSeconds: number): string {
  const iso = new Date(unixSeconds * 1000).toISOString();
  return `${iso.slice(0, 10)} ${iso.slice(11, 16)} UTC`;
}
