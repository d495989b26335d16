import { z } from 'zod';
import { daysBetween, isValidTimeZone, type LocalDate } from './time.js';

/** One model per kind of input value: every field of that kind is checked, and refused, alike. */

const LOCAL_DATE = /^\d{4}-\d{2}-\d{2}$/;

/** 'YYYY-MM-DD' naming a real calendar date (2026-02-30 is not one). */
export function isLocalDate(value: unknown): value is LocalDate {
  if (typeof value !== 'string' || !LOCAL_DATE.test(value)) return false;
  const date = new Date(`${value}T00:00:00Z`);
  return !Number.isNaN(date.getTime()) && date.toISOString().startsWith(value);
}

export const LOCAL_DATE_MESSAGE = 'must be a date, YYYY-MM-DD';
export const localDateSchema = z.string().refine(isLocalDate, LOCAL_DATE_MESSAGE);

/** A wall time, 'HH:MM' from 00:00 to 23:59 (a slot start, a window start). */
export const wallTimeSchema = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'must be HH:MM between 00:00 and 23:59');

/** A window end: 'HH:MM', or 24:00 for the end of the day. */
export const windowEndTimeSchema = z.string().regex(/^(([01]\d|2[0-3]):[0-5]\d|24:00)$/, 'must be HH:MM between 00:00 and 24:00');

export const TIME_ZONE_MESSAGE = 'must be an IANA time zone, e.g. Europe/Lisbon';
export const timeZoneSchema = z.string().refine(isValidTimeZone, TIME_ZONE_MESSAGE);

/** A customer as booking, forms and the waitlist take one: who they are, how to reach them, the zone their mails read in. */
export const customerSchema = z.object({
  name: z.string().trim().min(1, 'must not be empty').max(200, 'must be at most 200 characters'),
  email: z.email('must be an email address').max(254),
  phone: z
    .string()
    .trim()
    .regex(/^\+?[0-9][0-9 ()./-]{4,28}[0-9]$/, 'must be a phone number, e.g. +44 20 7946 0958')
    .nullish(),
  /** The zone the customer reads times in (their mails); the location's when left out. */
  timeZone: timeZoneSchema.nullish(),
});

/** The longest window each use accepts, in days (a window of local dates counts both ends). */
export const WINDOW_CAP_DAYS = {
  /** availability, availableDates, exposedSlots, slot subscriptions, nested slot lists (and the cost model) */
  availability: 93,
  /** generateSlots */
  generation: 93,
  /** joining the waitlist for any slot of a resource in a window */
  waitlist: 93,
  /** searchAvailability; nextAvailable looks as far again past the window */
  search: 31,
  /** bookings, myBookings */
  bookingList: 366,
  /** a form's schedule, startDate to endDate */
  formSchedule: 366,
} as const;

export type WindowUse = keyof typeof WINDOW_CAP_DAYS;

const DAY_MS = 86_400_000;

const spanMessage = (use: WindowUse) => `the window may span at most ${WINDOW_CAP_DAYS[use]} days`;

/** Why an instant window [from, to) is refused for a use (its `to` is at fault), or null. */
export function instantWindowIssue(from: Date, to: Date, use: WindowUse): string | null {
  if (to.getTime() <= from.getTime()) return 'must be after from';
  if (to.getTime() - from.getTime() > WINDOW_CAP_DAYS[use] * DAY_MS) return spanMessage(use);
  return null;
}

/** Why a window of local dates, both inclusive, is refused for a use (its last date is at fault), or null. */
export function dateWindowIssue(from: LocalDate, to: LocalDate, use: WindowUse, fromField = 'from'): string | null {
  if (to < from) return `must not be before ${fromField}`;
  if (daysBetween(from, to) + 1 > WINDOW_CAP_DAYS[use]) return spanMessage(use);
  return null;
}

/** An optional instant window [from, to): when both ends are given, `to` is after `from` and within the use's cap. */
export function instantWindowSchema(use: WindowUse) {
  return z.object({ from: z.date().nullish(), to: z.date().nullish() }).superRefine((w, ctx) => {
    const issue = w.from && w.to ? instantWindowIssue(w.from, w.to, use) : null;
    if (issue) ctx.addIssue({ code: 'custom', path: ['to'], message: issue });
  });
}
