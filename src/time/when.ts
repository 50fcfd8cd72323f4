/**
 * Reading the "when" a person typed after the policy ID in `/katapult <policy-id> [when]`, and
 * checking a chosen deletion time against Katapult's notice rule.
 *
 * Nothing here reads the clock: every function takes `now` as an argument.
 *
 * Decisions (all times are wall-clock times in the user's zone unless an offset is typed):
 * - A bare date (`2026-12-01`), `tomorrow` alone and a weekday alone (`monday`) mean 09:00 that day.
 *   `today` alone is refused (09:00 today is usually past; the reason asks for a time).
 * - A weekday (`monday 10:00`, `mon 10:00`) is its next occurrence: today if today is that weekday
 *   and the time is still ahead of `now`, otherwise the first such day after today (up to 7 days on).
 * - A time alone (`17:00`, `5pm`) is today if still ahead of `now`, otherwise tomorrow.
 * - `today`/`tomorrow`/weekday times and explicit dates may be in the past: parseWhen only reads
 *   the text; checkDeletionTime applies the notice rule.
 * - DST gap (spring forward): a typed local time that does not exist is refused, with a reason
 *   naming the gap. DST overlap (fall back): an ambiguous typed local time resolves to the earlier
 *   instant (the first time the clock shows it, still on summer time).
 * - Relative times use luxon arithmetic in the zone: days and weeks are calendar units, so
 *   `in 3 days` across a DST change keeps the wall-clock time (72 ± 1 real hours), while hours and
 *   minutes are exact durations (`in 90m` is always 90 real minutes). If adding days lands in a
 *   DST gap, luxon moves forward by the gap's length (e.g. 01:30 becomes 02:30); no refusal there,
 *   since the person asked for a duration, not a wall-clock time.
 * - An invalid `zone` is treated as UTC (see safeZone); the returned `at` carries the zone used.
 */
import type * as Luxon from 'luxon';
import type { DateTime } from 'luxon';
import { loadLater } from '../load-later.js';
import { quoteAtMost } from '../text.js';
import { safeZone } from './local.js';

/** Loaded on first use, not at start (src/load-later.ts). */
const luxon = loadLater<typeof Luxon>('luxon');

// What the request path needs without luxon lives in ./local.ts; re-exported for the parser's users.
export {
  checkDeletionTime,
  formatLocal,
  LEAD_MARGIN_SECONDS,
  MAX_AHEAD_DAYS,
  MIN_LEAD_SECONDS,
  safeZone,
  type TimeCheck,
} from './local.js';

export type WhenResult = { ok: true; at: DateTime } | { ok: false; reason: string };

/** Hour a date given without a time of day means (bare date, `tomorrow`, weekday alone). */
const DEFAULT_HOUR = 9;
const QUOTE_MAX = 40;
const MINUTE_MS = 60_000;
const DAY_MS = 86_400_000;
const EXAMPLES = 'Try 2026-12-01 09:30, in 90m, in 3 days or tomorrow 09:00.';

type Clock = { hour: number; minute: number; second: number };
type Ymd = { year: number; month: number; day: number };
type Fail = { ok: false; reason: string };

const fail = (reason: string): Fail => ({ ok: false, reason });

const WEEKDAYS: Record<string, number> = {
  monday: 1,
  mon: 1,
  tuesday: 2,
  tue: 2,
  tues: 2,
  wednesday: 3,
  wed: 3,
  weds: 3,
  thursday: 4,
  thu: 4,
  thur: 4,
  thurs: 4,
  friday: 5,
  fri: 5,
  saturday: 6,
  sat: 6,
  sunday: 7,
  sun: 7,
};
const DAY_WORD = `today|tomorrow|tmrw?|${Object.keys(WEEKDAYS).join('|')}`;
const DAY_FIRST_RE = new RegExp(`^(${DAY_WORD})(?: (?:at )?(.+))?$`);
const DAY_LAST_RE = new RegExp(`^(?:at )?(.+) (${DAY_WORD})$`);
const DATE_RE = /^(\d{4})-(\d{1,2})-(\d{1,2})(?:(?:t| (?:at )?)(.+))?$/;
const CLOCK_RE = /^(\d{1,2})(?::(\d{2}))?(?::(\d{2})(?:[.,]\d{1,9})?)?(?: ?(am|pm|a\.m\.|p\.m\.))?$/;
const OFFSET_SUFFIX_RE = / ?(z|utc|gmt|[+-]\d{2}(?::?\d{2})?)$/;
const UNIT_KEYS = {
  minute: 'minutes',
  hour: 'hours',
  day: 'days',
  week: 'weeks',
} as const;
const UNIT_RE =
  /(\d{1,6}|an?|one) ?(minutes|minute|mins|min|m|hours|hour|hrs|hr|h|days|day|d|weeks|week|wks|wk|w)(?=$|\d| )/y;

function unitOf(word: string): keyof typeof UNIT_KEYS {
  if (word.startsWith('m')) return 'minute';
  if (word.startsWith('h')) return 'hour';
  if (word.startsWith('d')) return 'day';
  return 'week';
}

/**
 * Parse what a user typed after the policy ID, in the user's IANA zone, relative to `now` (unix ms).
 * Case-insensitive; surrounding spaces are trimmed and inner whitespace collapsed.
 */
export function parseWhen(text: string, zone: string, nowMs: number): WhenResult {
  const z = safeZone(zone);
  const shown = text.trim().replace(/\s+/g, ' ');
  const s = shown.toLowerCase();
  if (s === '') return fail(`No time given. ${EXAMPLES}`);
  const now = luxon().DateTime.fromMillis(nowMs, { zone: z });
  if (!now.isValid) return fail('The current time is not valid.');

  const result = parseNormalised(s, z, now);
  if (result === null) return fail(`Couldn't read "${quoteAtMost(shown, QUOTE_MAX)}". ${EXAMPLES}`);
  if (result.ok && !result.at.isValid) return fail('That is too far ahead to schedule.');
  return result;
}

function parseNormalised(s: string, zone: string, now: DateTime): WhenResult | null {
  const rel = /^in (.+)$/.exec(s);
  if (rel?.[1] !== undefined) return parseRelative(rel[1], now);

  const date = DATE_RE.exec(s);
  if (date) return parseDate(date, zone);

  const dayFirst = DAY_FIRST_RE.exec(s);
  if (dayFirst?.[1] !== undefined) return parseDayWord(dayFirst[1], dayFirst[2], zone, now);
  const dayLast = DAY_LAST_RE.exec(s);
  if (dayLast?.[2] !== undefined && dayLast[1] !== undefined) {
    // Only when the leading part really is a time ("9am tomorrow"), not e.g. "next monday".
    if (parseClock(dayLast[1]) !== null) return parseDayWord(dayLast[2], dayLast[1], zone, now);
    return null;
  }

  const clockText = s.startsWith('at ') ? s.slice(3) : s;
  const clock = parseClock(clockText);
  if (clock === null) return null;
  if ('reason' in clock) return clock;
  return nextOccurrence(zone, now, clock, () => true);
}

/** `in 90m`, `in 1h30m`, `in 1 hour and 30 minutes`, `in 2 days, 3 hours`, `in an hour`. */
function parseRelative(rest: string, now: DateTime): WhenResult | null {
  const body = rest.replace(/,/g, ' ').replace(/ and /g, ' ').replace(/\s+/g, ' ').trim();
  const sums = { minutes: 0, hours: 0, days: 0, weeks: 0 };
  let pos = 0;
  let parts = 0;
  while (pos < body.length) {
    if (body[pos] === ' ') {
      pos++;
      continue;
    }
    UNIT_RE.lastIndex = pos;
    const m = UNIT_RE.exec(body);
    if (!m?.[1] || !m[2]) return null;
    const n = /^\d/.test(m[1]) ? Number(m[1]) : 1;
    sums[UNIT_KEYS[unitOf(m[2])]] += n;
    parts++;
    pos = UNIT_RE.lastIndex;
  }
  if (parts === 0) return null;
  // luxon adds weeks/days on the calendar (wall time kept), then hours/minutes as real time.
  return { ok: true, at: now.plus(sums) };
}

/** `2026-12-01`, `2026-12-01 09:30`, `2026-12-01T09:30:00Z`, `2026-12-01T09:30+01:00`, `2026-12-01 5pm`. */
function parseDate(m: RegExpExecArray, zone: string): WhenResult | null {
  const ymd = { year: Number(m[1]), month: Number(m[2]), day: Number(m[3]) };
  let rest = m[4];
  let offsetMin: number | null = null;
  if (rest !== undefined) {
    const off = OFFSET_SUFFIX_RE.exec(rest);
    if (off?.[1] !== undefined) {
      const parsed = parseOffset(off[1]);
      if (parsed === null) return fail(`"${off[1].toUpperCase()}" is not a valid UTC offset.`);
      offsetMin = parsed;
      rest = rest.slice(0, off.index).trimEnd();
    }
  }
  const clock = rest === undefined ? { hour: DEFAULT_HOUR, minute: 0, second: 0 } : parseClock(rest);
  if (clock === null) return null;
  const dateError = checkYmd(ymd);
  if (dateError) return dateError;
  if ('reason' in clock) return clock;

  if (offsetMin !== null) {
    const ts = wallAsUtcMs(ymd, clock) - offsetMin * MINUTE_MS;
    return { ok: true, at: luxon().DateTime.fromMillis(ts, { zone }) };
  }
  return atLocal(zone, ymd, clock);
}

/** `z`, `utc`, `gmt`, `+01:00`, `+0100`, `+01`, `-05:30`. */
function parseOffset(text: string): number | null {
  if (text === 'z' || text === 'utc' || text === 'gmt') return 0;
  const m = /^([+-])(\d{2}):?(\d{2})?$/.exec(text);
  if (!m) return null;
  const hours = Number(m[2]);
  const minutes = Number(m[3] ?? '0');
  if (minutes > 59 || hours * 60 + minutes > 14 * 60) return null;
  return (m[1] === '-' ? -1 : 1) * (hours * 60 + minutes);
}

/** `today`, `tomorrow`, or a weekday, with an optional time (default 09:00; `today` needs one). */
function parseDayWord(
  word: string,
  timeText: string | undefined,
  zone: string,
  now: DateTime,
): WhenResult | null {
  let clock: Clock;
  if (timeText === undefined) {
    if (word === 'today') return fail('Say what time today, e.g. today 17:00.');
    clock = { hour: DEFAULT_HOUR, minute: 0, second: 0 };
  } else {
    const parsed = parseClock(timeText);
    if (parsed === null) return null;
    if ('reason' in parsed) return parsed;
    clock = parsed;
  }
  if (word === 'today') return atLocal(zone, dayOffset(now, 0), clock);
  if (word === 'tomorrow' || word === 'tmr' || word === 'tmrw')
    return atLocal(zone, dayOffset(now, 1), clock);
  const weekday = WEEKDAYS[word];
  if (weekday === undefined) return null;
  return nextOccurrence(zone, now, clock, (d) => d.weekday === weekday);
}

/**
 * The first day from today on (at most 7 days ahead) that `matches` and on which `clock` is
 * still ahead of `now`. A DST-gap time on the chosen day is refused, not shifted.
 */
function nextOccurrence(
  zone: string,
  now: DateTime,
  clock: Clock,
  matches: (day: DateTime) => boolean,
): WhenResult {
  const nowWall = wallAsUtcMs(dayOffset(now, 0), now);
  for (let i = 0; i <= 7; i++) {
    const ymd = dayOffset(now, i);
    if (!matches(luxon().DateTime.utc(ymd.year, ymd.month, ymd.day))) continue;
    const resolved = resolveLocal(zone, ymd, clock);
    const ahead = resolved === null ? wallAsUtcMs(ymd, clock) > nowWall : resolved > now.toMillis();
    if (!ahead) continue;
    return resolved === null
      ? gapFailure(zone, ymd, clock)
      : { ok: true, at: luxon().DateTime.fromMillis(resolved, { zone }) };
  }
  // Unreachable: day 7 always matches the same predicate as day 0 and is ahead.
  return fail('Could not find that time in the next week.');
}

/** Calendar date `days` after now's date in now's zone. */
function dayOffset(now: DateTime, days: number): Ymd {
  const d = luxon().DateTime.utc(now.year, now.month, now.day).plus({ days });
  return { year: d.year, month: d.month, day: d.day };
}

/** `09:30`, `9:30`, `09:30:15`, `9am`, `9 am`, `5:30pm`. Null when it is not time-like at all. */
function parseClock(text: string): Clock | Fail | null {
  const m = CLOCK_RE.exec(text.trim());
  if (!m) return null;
  const [, h, mi, se, ampm] = m;
  if (mi === undefined && ampm === undefined) return null; // a bare number is not a time
  let hour = Number(h);
  const minute = Number(mi ?? '0');
  const second = Number(se ?? '0');
  const bad = fail(`${text.trim()} is not a valid time of day.`);
  if (minute > 59 || second > 59) return bad;
  if (ampm !== undefined) {
    if (hour < 1 || hour > 12) return bad;
    const pm = ampm.startsWith('p');
    hour = (hour % 12) + (pm ? 12 : 0);
  } else if (hour > 23) {
    return bad;
  }
  return { hour, minute, second };
}

function checkYmd({ year, month, day }: Ymd): Fail | null {
  const typed = `${String(year).padStart(4, '0')}-${pad(month)}-${pad(day)}`;
  if (month < 1 || month > 12) return fail(`${typed} is not a valid date: there is no month ${month}.`);
  const first = luxon().DateTime.utc(year, month, 1);
  const days = first.daysInMonth ?? 31;
  if (day < 1 || day > days) {
    return fail(
      `${typed} is not a valid date: ${first.toFormat('LLLL yyyy', { locale: 'en' })} has ${days} days.`,
    );
  }
  return null;
}

/** A local wall time in `zone`: refused if it falls in a DST gap, the earlier instant if ambiguous. */
function atLocal(zone: string, ymd: Ymd, clock: Clock): WhenResult {
  const ts = resolveLocal(zone, ymd, clock);
  if (ts === null) return gapFailure(zone, ymd, clock);
  return { ok: true, at: luxon().DateTime.fromMillis(ts, { zone }) };
}

/**
 * The earliest instant at which `zone`'s clocks show this wall time, or null if none (a DST gap).
 * Offsets are probed a day either side, which covers any real-world transition.
 */
function resolveLocal(zone: string, ymd: Ymd, clock: Clock): number | null {
  const z = luxon().IANAZone.create(zone);
  const wall = wallAsUtcMs(ymd, clock);
  const offsets = new Set([z.offset(wall - DAY_MS), z.offset(wall), z.offset(wall + DAY_MS)]);
  let best: number | null = null;
  for (const off of offsets) {
    const ts = wall - off * MINUTE_MS;
    if (z.offset(ts) === off && (best === null || ts < best)) best = ts;
  }
  return best;
}

function gapFailure(zone: string, ymd: Ymd, clock: Clock): Fail {
  const date = luxon().DateTime.utc(ymd.year, ymd.month, ymd.day).toFormat('d LLLL yyyy', { locale: 'en' });
  const time = `${pad(clock.hour)}:${pad(clock.minute)}${clock.second ? `:${pad(clock.second)}` : ''}`;
  return fail(`${time} does not exist on ${date} in ${zone} (clocks go forward); pick another time.`);
}

/** The wall time's fields read as if they were UTC, in ms (works for years before 100 too). */
function wallAsUtcMs(ymd: Ymd, clock: Clock): number {
  const d = new Date(0);
  d.setUTCFullYear(ymd.year, ymd.month - 1, ymd.day);
  d.setUTCHours(clock.hour, clock.minute, clock.second, 0);
  return d.getTime();
}

function pad(n: number): string {
  return String(n).padStart(2, '0');
}
