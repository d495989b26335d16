import { describe, expect, it } from 'vitest';
import { ValidationError, parseInput } from './errors.js';
import {
  TIME_ZONE_MESSAGE,
  WINDOW_CAP_DAYS,
  customerSchema,
  dateWindowIssue,
  instantWindowIssue,
  instantWindowSchema,
  isLocalDate,
  localDateSchema,
  timeZoneSchema,
  wallTimeSchema,
  windowEndTimeSchema,
} from './validation.js';

/** The field errors a schema gives for a value, as the API shows them. */
function fieldErrors(schema: Parameters<typeof parseInput>[0], value: unknown, prefix: string[] = ['input']) {
  try {
    parseInput(schema, value, prefix);
    return [];
  } catch (error) {
    if (error instanceof ValidationError) return error.fieldErrors;
    throw error;
  }
}

describe('local dates', () => {
  it('takes real calendar dates only', () => {
    for (const ok of ['2026-03-29', '2028-02-29', '2000-02-29', '1999-12-31']) expect(isLocalDate(ok), ok).toBe(true);
    for (const bad of [
      '2026-02-29',
      '2100-02-29',
      '2026-13-01',
      '2026-04-31',
      '2026-00-10',
      '2026-3-29',
      '2026-03-29T00:00',
      ' 2026-03-29',
      '',
      20260329,
      null,
    ]) {
      expect(isLocalDate(bad), String(bad)).toBe(false);
    }
  });

  it('names the field and the format', () => {
    expect(fieldErrors(localDateSchema, '2026-02-30', ['input', 'date'])).toEqual([
      { path: ['input', 'date'], message: 'must be a date, YYYY-MM-DD' },
    ]);
  });
});

describe('wall times', () => {
  it('takes HH:MM from 00:00 to 23:59 for a start', () => {
    for (const ok of ['00:00', '09:30', '23:59']) expect(wallTimeSchema.safeParse(ok).success, ok).toBe(true);
    for (const bad of ['24:00', '9:30', '09:60', '25:00', '09:30:00', '']) expect(wallTimeSchema.safeParse(bad).success, bad).toBe(false);
    expect(fieldErrors(wallTimeSchema, '24:00', ['input', 'startTime'])).toEqual([
      { path: ['input', 'startTime'], message: 'must be HH:MM between 00:00 and 23:59' },
    ]);
  });

  it('also takes 24:00 for a window end', () => {
    for (const ok of ['00:00', '23:59', '24:00']) expect(windowEndTimeSchema.safeParse(ok).success, ok).toBe(true);
    for (const bad of ['24:01', '24:30', '7:00']) expect(windowEndTimeSchema.safeParse(bad).success, bad).toBe(false);
  });
});

describe('time zones', () => {
  it('takes IANA zones and refuses anything else with one message', () => {
    for (const ok of ['Europe/Berlin', 'America/New_York', 'Australia/Lord_Howe', 'UTC']) expect(timeZoneSchema.safeParse(ok).success, ok).toBe(true);
    expect(fieldErrors(timeZoneSchema, 'Mars/Olympus_Mons', ['input', 'timeZone'])).toEqual([
      { path: ['input', 'timeZone'], message: TIME_ZONE_MESSAGE },
    ]);
    expect(TIME_ZONE_MESSAGE).toBe('must be an IANA time zone, e.g. Europe/Lisbon');
  });
});

describe('customers', () => {
  const customer = { name: ' Ada Lovelace ', email: 'ada@example.com', phone: '+44 20 7946 0958', timeZone: 'Europe/London' };

  it('takes a name, an email, an optional phone and zone', () => {
    expect(customerSchema.parse(customer)).toEqual({ ...customer, name: 'Ada Lovelace' });
    expect(customerSchema.parse({ name: 'Ada', email: 'ada@example.com' })).toEqual({ name: 'Ada', email: 'ada@example.com' });
  });

  it('names every bad field', () => {
    const errors = fieldErrors(customerSchema, { name: ' ', email: 'not-an-email', phone: 'call me', timeZone: 'Europe/Nowhere' }, [
      'input',
      'customer',
    ]);
    expect(errors).toEqual([
      { path: ['input', 'customer', 'name'], message: 'must not be empty' },
      { path: ['input', 'customer', 'email'], message: 'must be an email address' },
      { path: ['input', 'customer', 'phone'], message: 'must be a phone number, e.g. +44 20 7946 0958' },
      { path: ['input', 'customer', 'timeZone'], message: TIME_ZONE_MESSAGE },
    ]);
  });
});

describe('windows', () => {
  it('has one cap per use', () => {
    expect(WINDOW_CAP_DAYS).toEqual({ availability: 93, generation: 93, waitlist: 93, search: 31, bookingList: 366, formSchedule: 366 });
  });

  it('judges instant windows [from, to) by the use cap', () => {
    const from = new Date('2026-03-01T00:00:00Z');
    const daysLater = (days: number) => new Date(from.getTime() + days * 86_400_000);
    expect(instantWindowIssue(from, from, 'availability')).toBe('must be after from');
    expect(instantWindowIssue(from, daysLater(93), 'availability')).toBeNull();
    expect(instantWindowIssue(from, new Date(daysLater(93).getTime() + 1), 'availability')).toBe('the window may span at most 93 days');
    expect(instantWindowIssue(from, daysLater(32), 'search')).toBe('the window may span at most 31 days');
    expect(instantWindowIssue(from, daysLater(366), 'bookingList')).toBeNull();
  });

  it('judges local date windows with both ends counted', () => {
    expect(dateWindowIssue('2026-03-02', '2026-03-01', 'generation')).toBe('must not be before from');
    expect(dateWindowIssue('2026-03-02', '2026-03-01', 'formSchedule', 'startDate')).toBe('must not be before startDate');
    expect(dateWindowIssue('2026-03-01', '2026-03-01', 'generation')).toBeNull();
    expect(dateWindowIssue('2026-03-01', '2026-06-01', 'generation')).toBeNull(); // 93 dates, across the DST change
    expect(dateWindowIssue('2026-03-01', '2026-06-02', 'generation')).toBe('the window may span at most 93 days');
    expect(dateWindowIssue('2028-01-01', '2028-12-31', 'formSchedule')).toBeNull(); // 366 dates of a leap year
    expect(dateWindowIssue('2026-01-01', '2027-01-01', 'formSchedule')).toBeNull(); // 366 dates
    expect(dateWindowIssue('2026-01-01', '2027-01-02', 'formSchedule')).toBe('the window may span at most 366 days');
  });

  it('checks an optional window only when both ends are given', () => {
    const schema = instantWindowSchema('bookingList');
    expect(fieldErrors(schema, { from: new Date('2026-01-01T00:00:00Z') }, [])).toEqual([]);
    expect(fieldErrors(schema, { from: new Date('2026-01-01T00:00:00Z'), to: new Date('2027-01-03T00:00:00Z') }, [])).toEqual([
      { path: ['to'], message: 'the window may span at most 366 days' },
    ]);
  });
});
