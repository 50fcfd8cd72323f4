/**
 * How far a time read from outside (Katapult, a stored record) may go and still be shown as a date.
 * A JavaScript Date holds ±8.64e15 ms; past it `toISOString()` throws, and after 9999 its ISO form
 * grows a sign and six digits. So a time is shown only from 1970 to the end of 9999 (UTC).
 */
export const MAX_UNIX_SECONDS = 253_402_300_799;

/** A unix-seconds time a message can show as a date: a finite number from 0 to MAX_UNIX_SECONDS. */
const isShowableTime = (unixSeconds: number): boolean =>
  Number.isFinite(unixSeconds) && unixSeconds >= 0 && unixSeconds <= MAX_UNIX_SECONDS;

/** `2026-11-28T09:00:00Z`, or null for a time that cannot be shown (isShowableTime). */
export function isoSeconds(unixSeconds: number): string | null {
  if (!isShowableTime(unixSeconds)) return null;
  return new Date(Math.trunc(unixSeconds) * 1000).toISOString().replace('.000Z', 'Z');
}
