import { Temporal } from 'temporal-polyfill';
import { describe, expect, it } from 'vitest';
import {
  addDays,
  addDaysInZone,
  dayOfWeek,
  daysBetween,
  formatWallTime,
  fromDateColumn,
  isRepeatedWallTime,
  isValidTimeZone,
  localDateOf,
  localDatesBetween,
  mondayOf,
  nextLocalDate,
  parseWallTime,
  StableOffsets,
  startOfLocalDate,
  toDateColumn,
  toLocal,
  todayIn,
  wallTimeToInstant,
  windowEdgeToInstant,
} from './time.js';

const iso = (d: Date | null) => d?.toISOString() ?? null;

describe('wallTimeToInstant: a gap is no instant, an overlap its first occurrence (DESIGN.md "Time")', () => {
  // [zone, date, wall time, expected instant or null, what it is]
  const cases: [string, string, string, string | null, string][] = [
    // Europe/Berlin: 2026-03-29 02:00 CET -> 03:00 CEST; 2026-10-25 03:00 CEST -> 02:00 CET.
    ['Europe/Berlin', '2026-03-29', '01:59', '2026-03-29T00:59:00.000Z', 'just before the gap'],
    ['Europe/Berlin', '2026-03-29', '02:00', null, 'the gap starts'],
    ['Europe/Berlin', '2026-03-29', '02:30', null, 'inside the gap'],
    ['Europe/Berlin', '2026-03-29', '03:00', '2026-03-29T01:00:00.000Z', 'the gap ends'],
    ['Europe/Berlin', '2026-10-25', '02:30', '2026-10-25T00:30:00.000Z', 'repeated hour: first (CEST) occurrence'],
    ['Europe/Berlin', '2026-10-25', '03:00', '2026-10-25T02:00:00.000Z', 'after the repeated hour'],
    ['Europe/Berlin', '2026-07-01', '09:00', '2026-07-01T07:00:00.000Z', 'a plain summer day'],
    // America/New_York: 2026-03-08 02:00 EST -> 03:00 EDT; 2026-11-01 02:00 EDT -> 01:00 EST.
    ['America/New_York', '2026-03-08', '02:30', null, 'inside the gap'],
    ['America/New_York', '2026-03-08', '03:00', '2026-03-08T07:00:00.000Z', 'the gap ends'],
    ['America/New_York', '2026-11-01', '01:00', '2026-11-01T05:00:00.000Z', 'repeated hour starts: EDT'],
    ['America/New_York', '2026-11-01', '01:30', '2026-11-01T05:30:00.000Z', 'repeated hour: first (EDT) occurrence'],
    ['America/New_York', '2026-11-01', '02:00', '2026-11-01T07:00:00.000Z', 'after the repeated hour (EST)'],
    // Australia/Sydney (southern hemisphere): 2026-10-04 02:00 AEST -> 03:00 AEDT; 2026-04-05 03:00 AEDT -> 02:00 AEST.
    ['Australia/Sydney', '2026-10-04', '02:30', null, 'inside the October gap'],
    ['Australia/Sydney', '2026-10-04', '03:00', '2026-10-03T16:00:00.000Z', 'the gap ends (AEDT)'],
    ['Australia/Sydney', '2026-04-05', '02:30', '2026-04-04T15:30:00.000Z', 'April repeated hour: first (AEDT) occurrence'],
    ['Australia/Sydney', '2026-04-05', '03:00', '2026-04-04T17:00:00.000Z', 'after the repeated hour (AEST)'],
    // Australia/Lord_Howe (30-minute shift): 2026-10-04 02:00 -> 02:30 (+10:30 -> +11); 2026-04-05 02:00 -> 01:30.
    ['Australia/Lord_Howe', '2026-10-04', '01:59', '2026-10-03T15:29:00.000Z', 'just before the half-hour gap'],
    ['Australia/Lord_Howe', '2026-10-04', '02:15', null, 'inside the half-hour gap'],
    ['Australia/Lord_Howe', '2026-10-04', '02:30', '2026-10-03T15:30:00.000Z', 'the half-hour gap ends'],
    ['Australia/Lord_Howe', '2026-04-05', '01:45', '2026-04-04T14:45:00.000Z', 'repeated half hour: first (+11) occurrence'],
    ['Australia/Lord_Howe', '2026-04-05', '02:00', '2026-04-04T15:30:00.000Z', 'after the repeated half hour (+10:30)'],
  ];

  it.each(cases)('%s %s %s -> %s (%s)', (zone, date, time, expected) => {
    expect(iso(wallTimeToInstant(date, time, zone))).toBe(expected);
    expect(iso(wallTimeToInstant(date, parseWallTime(time), zone))).toBe(expected);
  });

  it('reads 24:00 as the next local midnight', () => {
    expect(iso(wallTimeToInstant('2026-03-28', '24:00', 'Europe/Berlin'))).toBe('2026-03-28T23:00:00.000Z');
    expect(iso(wallTimeToInstant('2026-12-31', 24 * 60, 'America/New_York'))).toBe('2027-01-01T05:00:00.000Z');
  });
});

describe('isRepeatedWallTime', () => {
  it('is true for both instants of a repeated wall time only', () => {
    for (const [zone, first, second] of [
      ['Europe/Berlin', '2026-10-25T00:30:00Z', '2026-10-25T01:30:00Z'],
      ['America/New_York', '2026-11-01T05:30:00Z', '2026-11-01T06:30:00Z'],
      ['Australia/Lord_Howe', '2026-04-04T14:45:00Z', '2026-04-04T15:15:00Z'],
    ] as const) {
      expect(isRepeatedWallTime(new Date(first), zone), `${zone} ${first}`).toBe(true);
      expect(isRepeatedWallTime(new Date(second), zone), `${zone} ${second}`).toBe(true);
    }
    expect(isRepeatedWallTime(new Date('2026-10-25T02:00:00Z'), 'Europe/Berlin')).toBe(false); // 03:00 CET, once
    expect(isRepeatedWallTime(new Date('2026-03-29T01:00:00Z'), 'Europe/Berlin')).toBe(false); // 03:00 CEST, after the gap
    expect(isRepeatedWallTime(new Date('2026-04-04T15:30:00Z'), 'Australia/Lord_Howe')).toBe(false); // 02:00, once
  });
});

describe('StableOffsets', () => {
  it('gives the offset of a date with no transition near it, and null near one', () => {
    const on = (date: string) => Temporal.PlainDate.from(date);
    const berlin = new StableOffsets('Europe/Berlin');
    expect(berlin.of(on('2026-07-01'))).toBe(2 * 3_600_000);
    expect(berlin.of(on('2026-03-28'))).toBeNull(); // the transition is 14 hours after its noon
    expect(berlin.of(on('2026-03-29'))).toBeNull();
    expect(berlin.of(on('2026-03-31'))).toBe(2 * 3_600_000);
    expect(berlin.of(on('2026-01-15'))).toBe(3_600_000);
    expect(new StableOffsets('Australia/Lord_Howe').of(on('2026-07-01'))).toBe(10.5 * 3_600_000);
    expect(new StableOffsets('Australia/Lord_Howe').of(on('2026-10-04'))).toBeNull();
    expect(new StableOffsets('UTC').of(on('2026-03-29'))).toBe(0);
  });
});

describe('windowEdgeToInstant: window edges always exist', () => {
  it('moves a wall time in a gap forward by the gap', () => {
    expect(iso(windowEdgeToInstant('2026-03-29', 150, 'Europe/Berlin'))).toBe('2026-03-29T01:30:00.000Z'); // 02:30 -> 03:30 CEST
    expect(iso(windowEdgeToInstant('2026-03-08', 150, 'America/New_York'))).toBe('2026-03-08T07:30:00.000Z'); // 02:30 -> 03:30 EDT
    expect(iso(windowEdgeToInstant('2026-10-04', 150, 'Australia/Sydney'))).toBe('2026-10-03T16:30:00.000Z'); // 02:30 -> 03:30 AEDT
    expect(iso(windowEdgeToInstant('2026-10-04', 135, 'Australia/Lord_Howe'))).toBe('2026-10-03T15:45:00.000Z'); // 02:15 -> 02:45
  });

  it('takes the first occurrence of a repeated wall time, and 1440 as the next midnight', () => {
    expect(iso(windowEdgeToInstant('2026-10-25', 150, 'Europe/Berlin'))).toBe('2026-10-25T00:30:00.000Z');
    expect(iso(windowEdgeToInstant('2026-11-01', 90, 'America/New_York'))).toBe('2026-11-01T05:30:00.000Z');
    expect(iso(windowEdgeToInstant('2026-04-05', 105, 'Australia/Lord_Howe'))).toBe('2026-04-04T14:45:00.000Z');
    expect(iso(windowEdgeToInstant('2026-10-24', 1440, 'Europe/Berlin'))).toBe('2026-10-24T22:00:00.000Z');
  });
});

describe('local dates in a zone', () => {
  it('starts a local date at midnight, or after a gap at midnight', () => {
    expect(iso(startOfLocalDate('2026-03-29', 'Europe/Berlin'))).toBe('2026-03-28T23:00:00.000Z');
    expect(iso(startOfLocalDate('2026-03-30', 'Europe/Berlin'))).toBe('2026-03-29T22:00:00.000Z'); // a 23-hour day before
    expect(iso(startOfLocalDate('2026-10-26', 'Europe/Berlin'))).toBe('2026-10-25T23:00:00.000Z'); // a 25-hour day before
    expect(iso(startOfLocalDate('2026-10-04', 'Australia/Lord_Howe'))).toBe('2026-10-03T13:30:00.000Z');
    expect(iso(startOfLocalDate('2026-10-05', 'Australia/Lord_Howe'))).toBe('2026-10-04T13:00:00.000Z'); // 23.5 hours
    // America/Sao_Paulo, 2018-11-04: clocks went from 00:00 to 01:00, so the day began at 01:00 -02:00.
    expect(iso(startOfLocalDate('2018-11-04', 'America/Sao_Paulo'))).toBe('2018-11-04T03:00:00.000Z');
  });

  it('reads the local date of an instant, and today, in the zone', () => {
    const instant = new Date('2026-03-29T22:30:00Z');
    expect(localDateOf(instant, 'UTC')).toBe('2026-03-29');
    expect(localDateOf(instant, 'Europe/Berlin')).toBe('2026-03-30');
    expect(localDateOf(instant.getTime(), 'America/New_York')).toBe('2026-03-29');
    expect(localDateOf(instant, 'Australia/Lord_Howe')).toBe('2026-03-30');
    expect(todayIn('Pacific/Kiritimati', new Date('2026-12-31T10:00:00Z'))).toBe('2027-01-01');
    expect(todayIn('Pacific/Pago_Pago', new Date('2026-01-01T10:00:00Z'))).toBe('2025-12-31');
  });

  it('reads UTC wall times as the instant itself (the one zone read without Intl)', () => {
    for (const at of ['2026-03-29T00:00:00.000Z', '2026-03-29T23:59:59.999Z', '2024-02-29T12:07:00.000Z', '1999-12-31T23:30:00.000Z']) {
      const local = toLocal(new Date(at), 'UTC');
      expect([local.date, local.time, local.hour], at).toEqual([at.slice(0, 10), at.slice(11, 16), Number(at.slice(11, 13))]);
      expect(toLocal(new Date(at), 'Etc/UTC').time, at).toBe(local.time);
    }
  });

  it('agrees with toLocal on both sides of every transition', () => {
    for (const [zone, around] of [
      ['Europe/Berlin', '2026-03-29T01:00:00Z'],
      ['America/New_York', '2026-11-01T06:00:00Z'],
      ['Australia/Sydney', '2026-10-03T16:00:00Z'],
      ['Australia/Lord_Howe', '2026-04-04T15:00:00Z'],
    ] as const) {
      for (const offsetMinutes of [-61, -1, 0, 1, 61, 24 * 60 - 1]) {
        const instant = new Date(Date.parse(around) + offsetMinutes * 60_000);
        expect(localDateOf(instant, zone), `${zone} ${instant.toISOString()}`).toBe(toLocal(instant, zone).date);
      }
    }
  });

  it('adds days on the calendar, with no zone involved', () => {
    expect(nextLocalDate('2026-03-28')).toBe('2026-03-29');
    expect(nextLocalDate('2028-02-28')).toBe('2028-02-29');
    expect(nextLocalDate('2026-12-31')).toBe('2027-01-01');
    expect(addDays('2026-03-01', -1)).toBe('2026-02-28');
    expect(addDays('2026-01-31', 30)).toBe('2026-03-02');
    expect(daysBetween('2026-03-28', '2026-03-30')).toBe(2); // across Berlin's spring forward: still 2
    expect(daysBetween('2026-11-01', '2026-02-01')).toBe(-273);
    expect(daysBetween('2026-01-01', '2027-01-01')).toBe(365);
    expect(daysBetween('2028-01-01', '2029-01-01')).toBe(366);
  });

  it('knows days of the week and lists dates between two, both inclusive', () => {
    expect(dayOfWeek('2026-03-29')).toBe(7); // a Sunday
    expect(dayOfWeek('2026-03-30')).toBe(1);
    expect(mondayOf('2026-03-29')).toBe('2026-03-23');
    expect(mondayOf('2027-01-01')).toBe('2026-12-28');
    expect(localDatesBetween('2026-12-30', '2027-01-02')).toEqual([
      { date: '2026-12-30', dayOfWeek: 3 },
      { date: '2026-12-31', dayOfWeek: 4 },
      { date: '2027-01-01', dayOfWeek: 5 },
      { date: '2027-01-02', dayOfWeek: 6 },
    ]);
    expect(localDatesBetween('2026-01-02', '2026-01-01')).toEqual([]);
  });

  it('adds days in a zone at the same wall time (23 or 25 hours across DST)', () => {
    const before = Date.parse('2026-03-28T09:00:00Z'); // 10:00 CET
    expect(new Date(addDaysInZone(before, 1, 'Europe/Berlin')).toISOString()).toBe('2026-03-29T08:00:00.000Z'); // 10:00 CEST
    const fallBack = Date.parse('2026-10-31T13:00:00Z'); // 09:00 EDT
    expect(new Date(addDaysInZone(fallBack, 1, 'America/New_York')).toISOString()).toBe('2026-11-01T14:00:00.000Z'); // 09:00 EST
  });

  it('maps PostgreSQL date columns to local dates and back', () => {
    expect(fromDateColumn(new Date('2026-03-29T00:00:00Z'))).toBe('2026-03-29');
    expect(toDateColumn('2026-03-29').toISOString()).toBe('2026-03-29T00:00:00.000Z');
  });
});

describe('wall times and zones', () => {
  it('parses and formats HH:MM', () => {
    expect(parseWallTime('00:00')).toBe(0);
    expect(parseWallTime('09:30')).toBe(570);
    expect(parseWallTime('24:00')).toBe(1440);
    expect(() => parseWallTime('24:01')).toThrow(RangeError);
    expect(() => parseWallTime('9:30')).toThrow(RangeError);
    expect(() => parseWallTime('09:60')).toThrow(RangeError);
    expect(formatWallTime(570)).toBe('09:30');
    expect(formatWallTime(1440)).toBe('24:00');
  });

  it('knows IANA zones', () => {
    expect(isValidTimeZone('Europe/Berlin')).toBe(true);
    expect(isValidTimeZone('Australia/Lord_Howe')).toBe(true);
    expect(isValidTimeZone('Mars/Olympus_Mons')).toBe(false);
    expect(isValidTimeZone('')).toBe(false);
    // An offset or a date-time is not a zone (Temporal takes them; Intl, which writes every label, does not).
    for (const notAZone of ['+05:00', '-03', '2027-01-01T00:00Z[Europe/Berlin]']) expect(isValidTimeZone(notAZone), notAZone).toBe(false);
  });
});
