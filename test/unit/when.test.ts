import { formatAuditLocal } from '../../src/time/local.js';
import {
  checkDeletionTime,
  formatLocal,
  LEAD_MARGIN_SECONDS,
  MAX_AHEAD_DAYS,
  MIN_LEAD_SECONDS,
  parseWhen,
  safeZone,
  type WhenResult,
} from '../../src/time/when.js';

const UTC = 'UTC';
const LON = 'Europe/London';
const NY = 'America/New_York';
const KOL = 'Asia/Kolkata';
const AKL = 'Pacific/Auckland';

/** Monday 2026-06-15 10:00 UTC = 11:00 London (BST), 06:00 New York (EDT), 15:30 Kolkata, 22:00 Auckland (NZST). */
const NOW = Date.UTC(2026, 5, 15, 10, 0, 0);
/** Thursday 2026-12-31 23:30 UTC = 18:30 New York, 2027-01-01 05:00 Kolkata, 2027-01-01 12:30 Auckland (NZDT). */
const NYE = Date.UTC(2026, 11, 31, 23, 30, 0);

/** The result as local ISO with offset, or the reason: one comparable string per case. */
function fmt(r: WhenResult): string {
  return r.ok ? r.at.toFormat("yyyy-MM-dd'T'HH:mm:ssZZ") : `ERR ${r.reason}`;
}

function run(input: string, zone: string, nowMs: number): string {
  const r = parseWhen(input, zone, nowMs);
  if (r.ok) expect(r.at.zoneName).toBe(zone);
  return fmt(r);
}

describe('parseWhen: absolute dates and times', () => {
  test.each([
    ['2026-12-01T09:30', UTC, '2026-12-01T09:30:00+00:00'],
    ['2026-12-01T09:30', LON, '2026-12-01T09:30:00+00:00'],
    ['2026-12-01T09:30', NY, '2026-12-01T09:30:00-05:00'],
    ['2026-12-01T09:30', KOL, '2026-12-01T09:30:00+05:30'],
    ['2026-12-01T09:30', AKL, '2026-12-01T09:30:00+13:00'],
    ['2026-06-20T09:30', LON, '2026-06-20T09:30:00+01:00'],
    ['2026-12-01T09:30:45', UTC, '2026-12-01T09:30:45+00:00'],
    // Explicit offsets are honoured; the result is shown in the user's zone.
    ['2026-12-01T09:30:00Z', AKL, '2026-12-01T22:30:00+13:00'],
    ['2026-12-01T09:30:00.000Z', KOL, '2026-12-01T15:00:00+05:30'],
    ['2026-12-01T09:30+01:00', NY, '2026-12-01T03:30:00-05:00'],
    ['2026-12-01T09:30+0530', UTC, '2026-12-01T04:00:00+00:00'],
    ['2026-12-01T09:30-05:30', UTC, '2026-12-01T15:00:00+00:00'],
    ['2026-12-01 09:30 UTC', LON, '2026-12-01T09:30:00+00:00'],
    // Space-separated.
    ['2026-12-01 09:30', KOL, '2026-12-01T09:30:00+05:30'],
    ['2026-12-01 9:30', NY, '2026-12-01T09:30:00-05:00'],
    ['2026-12-01 5pm', UTC, '2026-12-01T17:00:00+00:00'],
    ['2026-12-01 at 5:45pm', AKL, '2026-12-01T17:45:00+13:00'],
    // Bare date = 09:00 local.
    ['2026-12-01', LON, '2026-12-01T09:00:00+00:00'],
    ['2026-07-01', AKL, '2026-07-01T09:00:00+12:00'],
    ['2026-07-01', NY, '2026-07-01T09:00:00-04:00'],
    ['2028-02-29 10:00', UTC, '2028-02-29T10:00:00+00:00'],
    // A date in the past still parses; checkDeletionTime refuses it.
    ['2020-01-01 09:00', UTC, '2020-01-01T09:00:00+00:00'],
  ])('%s in %s → %s', (input, zone, expected) => {
    expect(run(input, zone, NOW)).toBe(expected);
  });
});

describe('parseWhen: relative', () => {
  test.each([
    ['in 90m', UTC, '2026-06-15T11:30:00+00:00'],
    ['in 90 min', LON, '2026-06-15T12:30:00+01:00'],
    ['in 90 minutes', NY, '2026-06-15T07:30:00-04:00'],
    ['in 2h', KOL, '2026-06-15T17:30:00+05:30'],
    ['in 2 hours', AKL, '2026-06-16T00:00:00+12:00'],
    ['in 2 hrs', UTC, '2026-06-15T12:00:00+00:00'],
    ['in 3 days', UTC, '2026-06-18T10:00:00+00:00'],
    ['in 3d', NY, '2026-06-18T06:00:00-04:00'],
    ['in 1 week', LON, '2026-06-22T11:00:00+01:00'],
    ['in 2 weeks', KOL, '2026-06-29T15:30:00+05:30'],
    ['in 1w', AKL, '2026-06-22T22:00:00+12:00'],
    ['in 1h30m', UTC, '2026-06-15T11:30:00+00:00'],
    ['in 1 hour 30 minutes', LON, '2026-06-15T12:30:00+01:00'],
    ['in 1 hour and 30 minutes', NY, '2026-06-15T07:30:00-04:00'],
    ['in 2 days, 3 hours', UTC, '2026-06-17T13:00:00+00:00'],
    ['in 1 day 2h 5m', KOL, '2026-06-16T17:35:00+05:30'],
    ['in an hour', UTC, '2026-06-15T11:00:00+00:00'],
    ['in a week', UTC, '2026-06-22T10:00:00+00:00'],
  ])('%s in %s → %s', (input, zone, expected) => {
    expect(run(input, zone, NOW)).toBe(expected);
  });
});

describe('parseWhen: today, tomorrow, weekdays (now is Monday)', () => {
  test.each([
    ['tomorrow 09:00', UTC, '2026-06-16T09:00:00+00:00'],
    ['tomorrow 9am', NY, '2026-06-16T09:00:00-04:00'],
    ['tomorrow 5:30pm', KOL, '2026-06-16T17:30:00+05:30'],
    ['tomorrow', AKL, '2026-06-16T09:00:00+12:00'],
    ['tomorrow at 12am', UTC, '2026-06-16T00:00:00+00:00'],
    ['tomorrow 12pm', LON, '2026-06-16T12:00:00+01:00'],
    ['9am tomorrow', UTC, '2026-06-16T09:00:00+00:00'],
    ['tmrw 10:00', UTC, '2026-06-16T10:00:00+00:00'],
    ['today 17:00', LON, '2026-06-15T17:00:00+01:00'],
    // Past today is still returned; checkDeletionTime refuses it.
    ['today 08:00', LON, '2026-06-15T08:00:00+01:00'],
    // Weekday = today if the time is still ahead, else the next such day.
    ['monday 10:00', UTC, '2026-06-22T10:00:00+00:00'], // exactly now: not ahead
    ['monday 10:01', UTC, '2026-06-15T10:01:00+00:00'],
    ['mon 10:00', NY, '2026-06-15T10:00:00-04:00'],
    ['monday', AKL, '2026-06-22T09:00:00+12:00'],
    ['tue 10:00', AKL, '2026-06-16T10:00:00+12:00'],
    ['tuesday', UTC, '2026-06-16T09:00:00+00:00'],
    ['wednesday 5pm', UTC, '2026-06-17T17:00:00+00:00'],
    ['thu 9am', LON, '2026-06-18T09:00:00+01:00'],
    ['thursday 9am', LON, '2026-06-18T09:00:00+01:00'],
    ['friday', LON, '2026-06-19T09:00:00+01:00'],
    ['sat 23:59', UTC, '2026-06-20T23:59:00+00:00'],
    ['sunday 18:30', KOL, '2026-06-21T18:30:00+05:30'],
    ['sun 18:30', KOL, '2026-06-21T18:30:00+05:30'],
  ])('%s in %s → %s', (input, zone, expected) => {
    expect(run(input, zone, NOW)).toBe(expected);
  });
});

describe('parseWhen: time alone = today if ahead, else tomorrow', () => {
  test.each([
    ['10:30', UTC, '2026-06-15T10:30:00+00:00'],
    ['10:00', UTC, '2026-06-16T10:00:00+00:00'],
    ['09:59', UTC, '2026-06-16T09:59:00+00:00'],
    ['23:30', AKL, '2026-06-15T23:30:00+12:00'],
    ['21:00', AKL, '2026-06-16T21:00:00+12:00'],
    ['5pm', NY, '2026-06-15T17:00:00-04:00'],
    ['at 7:15', KOL, '2026-06-16T07:15:00+05:30'],
    ['11:05', LON, '2026-06-15T11:05:00+01:00'],
  ])('%s in %s → %s', (input, zone, expected) => {
    expect(run(input, zone, NOW)).toBe(expected);
  });
});

describe('parseWhen: month and year rollover', () => {
  test.each([
    ['in 90m', UTC, NYE, '2027-01-01T01:00:00+00:00'],
    ['tomorrow 09:00', UTC, NYE, '2027-01-01T09:00:00+00:00'],
    ['23:00', UTC, NYE, '2027-01-01T23:00:00+00:00'],
    ['friday 10:00', UTC, NYE, '2027-01-01T10:00:00+00:00'],
    ['tomorrow', AKL, NYE, '2027-01-02T09:00:00+13:00'],
    ['in 3 days', NY, NYE, '2027-01-03T18:30:00-05:00'],
    ['today 17:00', KOL, NYE, '2027-01-01T17:00:00+05:30'],
    ['in 1 day', UTC, Date.UTC(2026, 0, 31, 12), '2026-02-01T12:00:00+00:00'],
    ['tomorrow', UTC, Date.UTC(2026, 0, 31, 12), '2026-02-01T09:00:00+00:00'],
    ['in 2 weeks', UTC, Date.UTC(2026, 1, 20, 12), '2026-03-06T12:00:00+00:00'],
  ])('%s in %s → %s', (input, zone, now, expected) => {
    expect(run(input, zone, now)).toBe(expected);
  });
});

describe('parseWhen: DST', () => {
  const gap = (time: string, date: string, zone: string) =>
    `ERR ${time} does not exist on ${date} in ${zone} (clocks go forward); pick another time.`;

  test.each([
    // London springs forward 2026-03-29 01:00 GMT → 02:00 BST.
    ['2026-03-29 01:30', LON, NOW, gap('01:30', '29 March 2026', LON)],
    ['2026-03-29T01:30', LON, NOW, gap('01:30', '29 March 2026', LON)],
    ['2026-03-29 01:00', LON, NOW, gap('01:00', '29 March 2026', LON)],
    ['2026-03-29 00:59', LON, NOW, '2026-03-29T00:59:00+00:00'],
    ['2026-03-29 02:00', LON, NOW, '2026-03-29T02:00:00+01:00'],
    // An explicit offset pins the instant, so there is no gap to refuse.
    ['2026-03-29T01:30+00:00', LON, NOW, '2026-03-29T02:30:00+01:00'],
    ['tomorrow 01:30', LON, Date.UTC(2026, 2, 28, 12), gap('01:30', '29 March 2026', LON)],
    ['sunday 1:30am', LON, Date.UTC(2026, 2, 27, 12), gap('01:30', '29 March 2026', LON)],
    ['01:30', LON, Date.UTC(2026, 2, 29, 0, 10), gap('01:30', '29 March 2026', LON)],
    ['01:30', LON, Date.UTC(2026, 2, 29, 10), '2026-03-30T01:30:00+01:00'], // gap already behind
    // New York springs forward 2026-03-08 02:00 → 03:00; Auckland 2026-09-27 02:00 → 03:00.
    ['2026-03-08 02:30', NY, NOW, gap('02:30', '8 March 2026', NY)],
    ['2026-09-27 02:15', AKL, NOW, gap('02:15', '27 September 2026', AKL)],
    // Fall back: an ambiguous time is the earlier instant (still summer time).
    ['2026-10-25 01:30', LON, NOW, '2026-10-25T01:30:00+01:00'],
    ['2026-10-25 00:59', LON, NOW, '2026-10-25T00:59:00+01:00'],
    ['2026-10-25 02:00', LON, NOW, '2026-10-25T02:00:00+00:00'],
    ['2026-11-01 01:30', NY, NOW, '2026-11-01T01:30:00-04:00'],
    ['2026-04-05 02:30', AKL, NOW, '2026-04-05T02:30:00+13:00'],
    // now 01:45 BST (first pass): 01:30's earlier instant has passed, so tomorrow.
    ['01:30', LON, Date.UTC(2026, 9, 25, 0, 45), '2026-10-26T01:30:00+00:00'],
  ])('%s in %s (now %d) → %s', (input, zone, now, expected) => {
    expect(run(input, zone, now)).toBe(expected);
  });

  test('ambiguous fall-back time resolves to the earlier instant', () => {
    const r = parseWhen('2026-10-25 01:30', LON, NOW);
    expect(r.ok && r.at.toMillis()).toBe(Date.UTC(2026, 9, 25, 0, 30));
  });

  // Days and weeks keep the wall-clock time; hours and minutes are real elapsed time.
  test.each([
    ['in 3 days', LON, Date.UTC(2026, 2, 27, 12), '2026-03-30T12:00:00+01:00', 71 * 60],
    ['in 3 days', NY, Date.UTC(2026, 9, 30, 14), '2026-11-02T10:00:00-05:00', 73 * 60],
    ['in 1 day', AKL, Date.UTC(2026, 8, 25, 21), '2026-09-27T09:00:00+13:00', 23 * 60],
    ['in 1 week', LON, Date.UTC(2026, 9, 20, 10), '2026-10-27T11:00:00+00:00', (7 * 24 + 1) * 60],
    ['in 90m', LON, Date.UTC(2026, 2, 29, 0, 30), '2026-03-29T03:00:00+01:00', 90],
    ['in 90m', NY, Date.UTC(2026, 10, 1, 5), '2026-11-01T01:30:00-05:00', 90],
    ['in 2h', AKL, Date.UTC(2026, 3, 4, 13, 30), '2026-04-05T03:30:00+12:00', 120],
    // Days landing in a gap move forward by the gap (documented): 01:30 → 02:30, still 24h.
    ['in 1 day', LON, Date.UTC(2026, 2, 28, 1, 30), '2026-03-29T02:30:00+01:00', 24 * 60],
  ])('%s in %s across a change → %s (%d real minutes)', (input, zone, now, expected, minutes) => {
    const r = parseWhen(input, zone, now);
    expect(fmt(r)).toBe(expected);
    expect(r.ok && r.at.toMillis() - now).toBe(minutes * 60_000);
  });
});

describe('parseWhen: invalid input', () => {
  const hint = 'Try 2026-12-01 09:30, in 90m, in 3 days or tomorrow 09:00.';

  test('unreadable input quotes it (original case) and gives examples', () => {
    expect(parseWhen('Next-ISH', UTC, NOW)).toEqual({
      ok: false,
      reason: `Couldn't read "Next-ISH". ${hint}`,
    });
  });

  test('long input is truncated in the quote', () => {
    const r = parseWhen(`soon ${'x'.repeat(100)}`, UTC, NOW);
    expect(r).toEqual({ ok: false, reason: `Couldn't read "soon ${'x'.repeat(34)}…". ${hint}` });
  });

  test.each([
    'next-ish',
    'soon',
    'next monday',
    'tomorrow morning',
    'in a bit',
    'in 3 months',
    'in',
    'in 5',
    '9',
    'yesterday',
    '12/01/2026',
    '2026-12-01 noonish',
    'monday tuesday',
    '1h30m',
  ])('%s is not understood', (input) => {
    expect(fmt(parseWhen(input, LON, NOW))).toBe(`ERR Couldn't read "${input}". ${hint}`);
  });

  test.each([
    ['2026-02-30', 'ERR 2026-02-30 is not a valid date: February 2026 has 28 days.'],
    ['2026-02-29 10:00', 'ERR 2026-02-29 is not a valid date: February 2026 has 28 days.'],
    ['2026-04-31T09:00', 'ERR 2026-04-31 is not a valid date: April 2026 has 30 days.'],
    ['2026-12-00', 'ERR 2026-12-00 is not a valid date: December 2026 has 31 days.'],
    ['2026-13-01', 'ERR 2026-13-01 is not a valid date: there is no month 13.'],
    ['25:00', 'ERR 25:00 is not a valid time of day.'],
    ['tomorrow 25:00', 'ERR 25:00 is not a valid time of day.'],
    ['2026-12-01 24:00', 'ERR 24:00 is not a valid time of day.'],
    ['10:60', 'ERR 10:60 is not a valid time of day.'],
    ['13pm', 'ERR 13pm is not a valid time of day.'],
    ['0am', 'ERR 0am is not a valid time of day.'],
    ['2026-12-01T09:30+15:00', 'ERR "+15:00" is not a valid UTC offset.'],
    ['today', 'ERR Say what time today, e.g. today 17:00.'],
    ['', `ERR No time given. ${hint}`],
    ['   ', `ERR No time given. ${hint}`],
  ])('%j → %s', (input, expected) => {
    expect(fmt(parseWhen(input, UTC, NOW))).toBe(expected);
  });
});

describe('parseWhen: case and whitespace tolerance', () => {
  test.each([
    ['  TOMORROW   9AM ', '2026-06-16T09:00:00+01:00'],
    ['Tomorrow 5:30 PM', '2026-06-16T17:30:00+01:00'],
    ['In  90   Minutes', '2026-06-15T12:30:00+01:00'],
    ['IN 1H30M', '2026-06-15T12:30:00+01:00'],
    ['2026-12-01t09:30:00z', '2026-12-01T09:30:00+00:00'],
    ['\n2026-12-01   09:30 \n', '2026-12-01T09:30:00+00:00'],
    ['Mon\t10:00', '2026-06-22T10:00:00+01:00'],
    ['FRIDAY', '2026-06-19T09:00:00+01:00'],
  ])('%j → %s', (input, expected) => {
    expect(run(input, LON, NOW)).toBe(expected);
  });
});

describe('parseWhen: zones', () => {
  test('an invalid zone falls back to UTC', () => {
    const r = parseWhen('tomorrow 09:00', 'Mars/Olympus_Mons', NOW);
    expect(r.ok && r.at.zoneName).toBe('UTC');
    expect(fmt(r)).toBe('2026-06-16T09:00:00+00:00');
  });

  test('the same input means different instants in different zones', () => {
    const instants = [UTC, LON, NY, KOL, AKL].map((z) => {
      const r = parseWhen('2026-12-01 09:30', z, NOW);
      return r.ok ? r.at.toMillis() : null;
    });
    expect(instants).toEqual([
      Date.UTC(2026, 11, 1, 9, 30),
      Date.UTC(2026, 11, 1, 9, 30),
      Date.UTC(2026, 11, 1, 14, 30),
      Date.UTC(2026, 11, 1, 4, 0),
      Date.UTC(2026, 10, 30, 20, 30),
    ]);
  });
});

describe('checkDeletionTime', () => {
  const nowS = NOW / 1000;
  const tooSoon = "Pick a time at least 6 minutes from now: Katapult needs 5 minutes' notice.";
  const passed = 'That time has already passed; pick one at least 6 minutes from now.';
  const tooFar = 'That is more than a year ahead; pick a date within 366 days.';
  const notInt = 'That is not a valid time; pick a date and time again.';

  test('constants', () => {
    expect([MIN_LEAD_SECONDS, LEAD_MARGIN_SECONDS, MAX_AHEAD_DAYS]).toEqual([300, 60, 366]);
  });

  test.each([
    ['exactly min lead + margin', nowS + 360, NOW, null],
    ['one second short', nowS + 359, NOW, tooSoon],
    ['one second ahead', nowS + 1, NOW, tooSoon],
    ['exactly now', nowS, NOW, passed],
    ['in the past', nowS - 3600, NOW, passed],
    ['now has milliseconds: 359.5 s ahead', nowS + 360, NOW + 500, tooSoon],
    ['now has milliseconds: 360.5 s ahead', nowS + 361, NOW + 500, null],
    ['exactly max days ahead', nowS + 366 * 86400, NOW, null],
    ['one second beyond max', nowS + 366 * 86400 + 1, NOW, tooFar],
    ['ten years ahead', nowS + 3650 * 86400, NOW, tooFar],
    ['non-integer', nowS + 3600.5, NOW, notInt],
    ['NaN', Number.NaN, NOW, notInt],
    ['Infinity', Number.POSITIVE_INFINITY, NOW, notInt],
    ['milliseconds by mistake', NOW + 3_600_000, NOW, tooFar],
  ])('%s', (_name, at, now, reason) => {
    expect(checkDeletionTime(at, now)).toEqual(
      reason === null ? { ok: true, atSeconds: at } : { ok: false, reason },
    );
  });

  test.each([
    ['in 6m', true],
    ['in 5m', false],
    ['in 366 days', true],
    ['in 367 days', false],
  ])('parseWhen(%s) then checkDeletionTime → ok %s', (input, ok) => {
    const r = parseWhen(input, LON, NOW);
    if (!r.ok) throw new Error(r.reason);
    expect(checkDeletionTime(r.at.toSeconds(), NOW).ok).toBe(ok);
  });
});

describe('safeZone', () => {
  test.each([
    [undefined, 'UTC'],
    [null, 'UTC'],
    ['', 'UTC'],
    ['   ', 'UTC'],
    ['Not/AZone', 'UTC'],
    ['Mars/Olympus_Mons', 'UTC'],
    ['local', 'UTC'],
    ['UTC+1', 'UTC'],
    ['+01:00', 'UTC'],
    ['UTC', 'UTC'],
    ['Europe/London', 'Europe/London'],
    [' Europe/London ', 'Europe/London'],
    ['europe/london', 'Europe/London'],
    ['Asia/Kolkata', 'Asia/Kolkata'],
    ['Pacific/Auckland', 'Pacific/Auckland'],
    ['America/New_York', 'America/New_York'],
  ])('%j → %s', (zone, expected) => {
    expect(safeZone(zone)).toBe(expected);
  });
});

test('formatLocal: the moment in the person’s zone, named; an unknown zone reads as UTC', () => {
  const at = Date.UTC(2026, 10, 28, 9, 30);
  expect(formatLocal(at, 'America/New_York')).toBe('Sat 28 Nov 2026, 04:30 (America/New_York)');
  expect(formatLocal(at, 'Not/AZone')).toBe('Sat 28 Nov 2026, 09:30 (UTC)');
});

test('formatAuditLocal: the audit line’s local time with its offset, as luxon wrote it', () => {
  const winter = Date.UTC(2026, 10, 28, 9, 30) / 1000;
  const summer = Date.UTC(2026, 6, 1, 23, 59, 59) / 1000;
  expect(formatAuditLocal(winter, LON)).toBe('2026-11-28 09:30 +00:00');
  expect(formatAuditLocal(summer, LON)).toBe('2026-07-02 00:59 +01:00');
  expect(formatAuditLocal(winter, NY)).toBe('2026-11-28 04:30 -05:00');
  expect(formatAuditLocal(winter, 'Asia/Kathmandu')).toBe('2026-11-28 15:15 +05:45');
  expect(formatAuditLocal(winter, UTC)).toBe('2026-11-28 09:30 +00:00');
  expect(formatAuditLocal(winter, 'Not/AZone')).toBe('Invalid DateTime');
});

test('formatAuditLocal: the same answers when asked again, past the few it keeps', () => {
  // Every quarter of an hour over three days around London's autumn change, and each again backwards.
  const start = Date.UTC(2026, 9, 24, 0, 0) / 1000;
  const instants = Array.from({ length: 288 }, (_, i) => start + i * 900);
  const first = instants.map((t) => formatAuditLocal(t, LON));
  const again = [...instants]
    .reverse()
    .map((t) => formatAuditLocal(t, LON))
    .reverse();
  expect(again).toEqual(first);
  expect(first[0]).toBe('2026-10-24 01:00 +01:00');
  expect(first.at(-1)).toBe('2026-10-26 23:45 +00:00');
  expect(formatAuditLocal(Date.UTC(2026, 9, 25, 0, 30) / 1000, LON)).toBe('2026-10-25 01:30 +01:00');
  expect(formatAuditLocal(Date.UTC(2026, 9, 25, 1, 30) / 1000, LON)).toBe('2026-10-25 01:30 +00:00');
  // Kept by zone too: the same instant elsewhere is not London's.
  expect(formatAuditLocal(start, NY)).toBe('2026-10-23 20:00 -04:00');
});
