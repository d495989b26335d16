import { describe, expect, it } from 'vitest';
import { NO_POLICY, effectivePolicy, horizonEnd, policyVerdict, type LiveBooking, type Policy } from './policy.js';

const MIN = 60_000;
const HOUR = 60 * MIN;
const policy = (p: Partial<Policy>): Policy => ({ ...NO_POLICY, ...p });
const iso = (s: string) => Date.parse(s);
const booking = (start: string, end: string, extra: Partial<LiveBooking> = {}): LiveBooking => ({
  id: start,
  slotId: null,
  start: iso(start),
  end: iso(end),
  sameCustomer: false,
  ...extra,
});
const verdict = (
  p: Partial<Policy>,
  start: number,
  minutes: number,
  options: { now: number; timeZone?: string; bookings?: LiveBooking[]; slotId?: string | null },
) =>
  policyVerdict(
    { slotId: options.slotId ?? null, start, end: start + minutes * MIN },
    { policy: policy(p), now: options.now, timeZone: options.timeZone ?? 'UTC', bookings: options.bookings ?? [] },
  );

describe('effective policy', () => {
  it('takes the location value as the default and the resource value over it; null is no policy', () => {
    const location = policy({ minNoticeMinutes: 60, horizonDays: 30, bufferAfterMinutes: 10 });
    const resource = { minNoticeMinutes: 120, horizonDays: null };
    expect(effectivePolicy(resource, location)).toMatchObject({
      minNoticeMinutes: 120,
      horizonDays: 30,
      bufferAfterMinutes: 10,
      maxBookingsPerDay: null,
    });
    expect(effectivePolicy(null, NO_POLICY)).toEqual(NO_POLICY);
  });
});

describe('policy boundaries (one minute inside / outside)', () => {
  const now = iso('2027-01-10T09:00:00Z');

  it('minimum notice: a start exactly N minutes ahead is allowed, one minute sooner is not', () => {
    expect(verdict({ minNoticeMinutes: 120 }, now + 120 * MIN, 30, { now })).toBeNull();
    expect(verdict({ minNoticeMinutes: 120 }, now + 119 * MIN, 30, { now })).toBe('MIN_NOTICE');
  });

  it('horizon: a start exactly N days ahead is allowed, one minute later is not', () => {
    expect(verdict({ horizonDays: 7 }, now + 7 * 24 * HOUR, 30, { now })).toBeNull();
    expect(verdict({ horizonDays: 7 }, now + 7 * 24 * HOUR + MIN, 30, { now })).toBe('HORIZON');
  });

  it('buffer after: a booked 10:00-10:30 with 15 minutes after hides starts before 10:45', () => {
    const bookings = [booking('2027-01-11T10:00:00Z', '2027-01-11T10:30:00Z')];
    expect(verdict({ bufferAfterMinutes: 15 }, iso('2027-01-11T10:44:00Z'), 30, { now, bookings })).toBe('BUFFER');
    expect(verdict({ bufferAfterMinutes: 15 }, iso('2027-01-11T10:45:00Z'), 30, { now, bookings })).toBeNull();
    // The new booking's own after-buffer must be free of the old booking too: it must end by 09:45.
    expect(verdict({ bufferAfterMinutes: 15 }, iso('2027-01-11T09:16:00Z'), 30, { now, bookings })).toBe('BUFFER');
    expect(verdict({ bufferAfterMinutes: 15 }, iso('2027-01-11T09:15:00Z'), 30, { now, bookings })).toBeNull();
  });

  it('buffer before: the minutes before a booking stay free, and buffers do not add up', () => {
    const bookings = [booking('2027-01-11T10:00:00Z', '2027-01-11T10:30:00Z')];
    const p = { bufferBeforeMinutes: 10, bufferAfterMinutes: 15 };
    // Before: the gap must be max(10, 15) = 15 either way (each booking's buffers free of the other booking).
    expect(verdict(p, iso('2027-01-11T09:16:00Z'), 30, { now, bookings })).toBe('BUFFER');
    expect(verdict(p, iso('2027-01-11T09:15:00Z'), 30, { now, bookings })).toBeNull();
    expect(verdict(p, iso('2027-01-11T10:44:00Z'), 30, { now, bookings })).toBe('BUFFER');
    expect(verdict(p, iso('2027-01-11T10:45:00Z'), 30, { now, bookings })).toBeNull();
  });

  it('buffers never separate bookings of the same slot (a shared slot fills up to its capacity)', () => {
    const bookings = [booking('2027-01-11T10:00:00Z', '2027-01-11T10:30:00Z', { slotId: 'slot-a' })];
    expect(verdict({ bufferAfterMinutes: 15 }, iso('2027-01-11T10:00:00Z'), 30, { now, bookings, slotId: 'slot-a' })).toBeNull();
    expect(verdict({ bufferAfterMinutes: 15 }, iso('2027-01-11T10:30:00Z'), 30, { now, bookings, slotId: 'slot-b' })).toBe('BUFFER');
  });

  it('per-day limit: the last place of the day, then none; the next day is free', () => {
    const bookings = [booking('2027-01-11T08:00:00Z', '2027-01-11T08:30:00Z'), booking('2027-01-11T23:00:00Z', '2027-01-11T23:30:00Z')];
    expect(verdict({ maxBookingsPerDay: 3 }, iso('2027-01-11T12:00:00Z'), 30, { now, bookings })).toBeNull();
    expect(verdict({ maxBookingsPerDay: 2 }, iso('2027-01-11T12:00:00Z'), 30, { now, bookings })).toBe('DAILY_LIMIT');
    expect(verdict({ maxBookingsPerDay: 2 }, iso('2027-01-11T23:59:00Z'), 1, { now, bookings })).toBe('DAILY_LIMIT');
    expect(verdict({ maxBookingsPerDay: 2 }, iso('2027-01-12T00:00:00Z'), 30, { now, bookings })).toBeNull();
  });

  it('per-customer limits count only that customer, per local date and per ISO week (Monday to Sunday)', () => {
    const mine = { sameCustomer: true };
    const bookings = [
      booking('2027-01-11T09:00:00Z', '2027-01-11T09:30:00Z', mine), // Monday
      booking('2027-01-11T10:00:00Z', '2027-01-11T10:30:00Z'), // someone else
      booking('2027-01-13T09:00:00Z', '2027-01-13T09:30:00Z', mine), // Wednesday
    ];
    expect(verdict({ maxBookingsPerCustomerPerDay: 1 }, iso('2027-01-11T15:00:00Z'), 30, { now, bookings })).toBe('CUSTOMER_DAILY_LIMIT');
    expect(verdict({ maxBookingsPerCustomerPerDay: 2 }, iso('2027-01-11T15:00:00Z'), 30, { now, bookings })).toBeNull();
    expect(verdict({ maxBookingsPerCustomerPerWeek: 2 }, iso('2027-01-17T23:59:00Z'), 1, { now, bookings })).toBe('CUSTOMER_WEEKLY_LIMIT');
    expect(verdict({ maxBookingsPerCustomerPerWeek: 2 }, iso('2027-01-18T00:00:00Z'), 30, { now, bookings })).toBeNull();
    expect(verdict({ maxBookingsPerCustomerPerWeek: 3 }, iso('2027-01-17T12:00:00Z'), 30, { now, bookings })).toBeNull();
  });
});

describe('across a DST change (America/New_York, spring forward 2027-03-14)', () => {
  const timeZone = 'America/New_York';

  it('horizon counts local calendar days: one day from 12:00 on the 13th is 12:00 on the 14th, 23 hours later', () => {
    const now = iso('2027-03-13T17:00:00Z'); // 12:00 EST
    expect(horizonEnd(policy({ horizonDays: 1 }), now, timeZone)).toBe(iso('2027-03-14T16:00:00Z')); // 12:00 EDT
    expect(verdict({ horizonDays: 1 }, iso('2027-03-14T16:00:00Z'), 30, { now, timeZone })).toBeNull();
    expect(verdict({ horizonDays: 1 }, iso('2027-03-14T16:01:00Z'), 30, { now, timeZone })).toBe('HORIZON');
  });

  it('minimum notice is elapsed time: 120 minutes across the skipped hour', () => {
    const now = iso('2027-03-14T06:30:00Z'); // 01:30 EST; 02:00 becomes 03:00
    expect(verdict({ minNoticeMinutes: 120 }, iso('2027-03-14T08:30:00Z'), 30, { now, timeZone })).toBeNull(); // 04:30 EDT
    expect(verdict({ minNoticeMinutes: 120 }, iso('2027-03-14T08:29:00Z'), 30, { now, timeZone })).toBe('MIN_NOTICE');
  });

  it('per-day limits use the local date of the 23-hour day: its first and last minutes count together', () => {
    const now = iso('2027-03-01T12:00:00Z');
    // 00:00 EST on the 14th is 05:00Z; 23:59 EDT on the 14th is 03:59Z on the 15th.
    const bookings = [booking('2027-03-14T05:00:00Z', '2027-03-14T05:30:00Z')];
    expect(verdict({ maxBookingsPerDay: 1 }, iso('2027-03-15T03:30:00Z'), 29, { now, timeZone, bookings })).toBe('DAILY_LIMIT');
    expect(verdict({ maxBookingsPerDay: 1 }, iso('2027-03-15T04:00:00Z'), 30, { now, timeZone, bookings })).toBeNull(); // 00:00 on the 15th
    expect(verdict({ maxBookingsPerDay: 1 }, iso('2027-03-14T04:59:00Z'), 1, { now, timeZone, bookings })).toBeNull(); // 23:59 on the 13th
  });
});
