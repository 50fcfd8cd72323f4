/**
 * Zones, local times and the notice rule, without luxon: these run on every request (the user's
 * zone, the audit line, the chosen time), while luxon (src/time/when.ts, ~0.7 MB of heap once
 * loaded) is only needed to read a time typed after `/katapult <policy-id>`.
 *
 * Nothing here reads the clock: every function takes `now` as an argument.
 */

export const MIN_LEAD_SECONDS = 5 * 60;
export const LEAD_MARGIN_SECONDS = 60;
export const MAX_AHEAD_DAYS = 366;
export type TimeCheck = { ok: true; atSeconds: number } | { ok: false; reason: string };

const DAY_MS = 86_400_000;

/**
 * safeZone's answers by the name given. Checking a zone makes an Intl.DateTimeFormat (~0.1 ms), and
 * a cold user cache (a request from each of thousands of workspaces) checks one per request; the
 * names are few (a few hundred zones, none longer than 32 characters), so their answers are kept,
 * up to a bound; a longer text is checked each time.
 */
const ZONES_KEPT = 1000;
const ZONE_KEPT_LENGTH = 64;
const zones = new Map<string, string>();

/** A zone that Intl knows, or 'UTC' if the given one is missing/invalid (Slack users.info tz can be absent). */
export function safeZone(zone: string | undefined | null): string {
  if (typeof zone !== 'string') return 'UTC';
  if (zone.length > ZONE_KEPT_LENGTH) return checkZone(zone);
  let safe = zones.get(zone);
  if (safe === undefined) {
    safe = checkZone(zone);
    if (zones.size >= ZONES_KEPT) zones.delete(zones.keys().next().value as string);
    zones.set(zone, safe);
  }
  return safe;
}

function checkZone(zone: string): string {
  const z = zone.trim();
  // Only named zones: Intl accepts offsets (`+01:00`) too from Node 24 on, and an offset has no DST.
  if (z === '' || /^[+-]/.test(z)) return 'UTC';
  let resolved: string;
  try {
    resolved = new Intl.DateTimeFormat('en-US', { timeZone: z }).resolvedOptions().timeZone;
  } catch {
    return 'UTC';
  }
  // Fix only the case (`europe/london` -> `Europe/London`); Intl may also swap aliases
  // (Asia/Kolkata -> Asia/Calcutta), which would surprise people, so keep the given name otherwise.
  return resolved.toLowerCase() === z.toLowerCase() ? resolved : z;
}

/** Formatters by zone. Zones are a closed set (a few hundred names), and few are in use at once. */
const FORMATS_KEPT = 64;
const formats = new Map<string, Intl.DateTimeFormat>();

function formatIn(zone: string): Intl.DateTimeFormat {
  let format = formats.get(zone);
  if (!format) {
    format = new Intl.DateTimeFormat('en', {
      timeZone: zone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    if (formats.size >= FORMATS_KEPT) formats.delete(formats.keys().next().value as string);
    formats.set(zone, format);
  }
  return format;
}

// English names as luxon writes them with `locale: 'en'` (fixed tables, whatever the ICU version).
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const WEEKDAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];

interface Wall {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  /** Minutes ahead of UTC. */
  offset: number;
  /** The wall time's fields as a UTC date (for the weekday). */
  asUtc: Date;
}

/** What the clocks of `zone` (a valid zone) show at `unixMs`, and their offset from UTC. */
function wallClock(unixMs: number, zone: string): Wall {
  const parts: Record<string, string> = {};
  for (const part of formatIn(zone).formatToParts(unixMs)) parts[part.type] = part.value;
  const wall: Wall = {
    year: Number(parts.year),
    month: Number(parts.month),
    day: Number(parts.day),
    hour: Number(parts.hour),
    minute: Number(parts.minute),
    offset: 0,
    asUtc: new Date(0),
  };
  // The wall time read as if it were UTC: its distance from the instant is the zone's offset.
  wall.asUtc.setUTCFullYear(wall.year, wall.month - 1, wall.day);
  wall.asUtc.setUTCHours(wall.hour, wall.minute, Number(parts.second), 0);
  const wholeSecond = unixMs - (((unixMs % 1000) + 1000) % 1000);
  wall.offset = Math.round((wall.asUtc.getTime() - wholeSecond) / 60_000);
  return wall;
}

const pad = (n: number, width = 2) => String(n).padStart(width, '0');

/**
 * A moment as a person reads it in their own zone, for plain text where Slack's `<!date^…>` tokens
 * do not render (a modal's inline errors): e.g. `Fri 28 Nov 2026, 09:30 (Europe/London)`.
 */
export function formatLocal(unixMs: number, zone: string | null | undefined): string {
  const z = safeZone(zone);
  const w = wallClock(unixMs, z);
  const weekday = WEEKDAYS[w.asUtc.getUTCDay()];
  return `${weekday} ${w.day} ${MONTHS[w.month - 1]} ${pad(w.year, 4)}, ${pad(w.hour)}:${pad(w.minute)} (${z})`;
}

/**
 * The audit lines' local times by zone and instant: every policy of a request has the same (an ICU
 * formatting costs tens of µs, the dearest step of an audit line), so the last few are kept.
 */
const AUDIT_LOCAL_KEPT = 64;
const auditLocal = new Map<string, string>();

/** `2026-11-28 09:30 +00:00` in `zone` (the audit line's local time); `Invalid DateTime` for an unknown zone. */
export function formatAuditLocal(unixSeconds: number, zone: string): string {
  const key = `${unixSeconds} ${zone}`;
  let text = auditLocal.get(key);
  if (text === undefined) {
    text = auditLocalOf(unixSeconds, zone);
    if (auditLocal.size >= AUDIT_LOCAL_KEPT) auditLocal.delete(auditLocal.keys().next().value as string);
    auditLocal.set(key, text);
  }
  return text;
}

function auditLocalOf(unixSeconds: number, zone: string): string {
  let w: Wall;
  try {
    w = wallClock(unixSeconds * 1000, zone);
  } catch {
    return 'Invalid DateTime';
  }
  const off = Math.abs(w.offset);
  const sign = w.offset < 0 ? '-' : '+';
  return `${pad(w.year, 4)}-${pad(w.month)}-${pad(w.day)} ${pad(w.hour)}:${pad(w.minute)} ${sign}${pad(Math.floor(off / 60))}:${pad(off % 60)}`;
}

/** Validate a chosen deletion time (unix seconds) against now (unix ms). */
export function checkDeletionTime(atSeconds: number, nowMs: number): TimeCheck {
  if (!Number.isSafeInteger(atSeconds)) {
    return { ok: false, reason: 'That is not a valid time; pick a date and time again.' };
  }
  const leadMs = atSeconds * 1000 - nowMs;
  const minMinutes = Math.ceil((MIN_LEAD_SECONDS + LEAD_MARGIN_SECONDS) / 60);
  const katapultMinutes = Math.ceil(MIN_LEAD_SECONDS / 60);
  if (leadMs <= 0) {
    return {
      ok: false,
      reason: `That time has already passed; pick one at least ${minMinutes} minutes from now.`,
    };
  }
  if (leadMs < (MIN_LEAD_SECONDS + LEAD_MARGIN_SECONDS) * 1000) {
    return {
      ok: false,
      reason: `Pick a time at least ${minMinutes} minutes from now: Katapult needs ${katapultMinutes} minutes' notice.`,
    };
  }
  if (leadMs > MAX_AHEAD_DAYS * DAY_MS) {
    return {
      ok: false,
      reason: `That is more than a year ahead; pick a date within ${MAX_AHEAD_DAYS} days.`,
    };
  }
  return { ok: true, atSeconds };
}
