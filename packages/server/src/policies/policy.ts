import { z } from 'zod';
import { addDaysInZone, mondayOf, toLocal } from '../shared/time.js';

/**
 * Booking policies as pure functions: the one rule the booking transaction enforces and every
 * availability read applies, so what is shown is what can be booked.
 */

export const POLICY_FIELDS = [
  'bufferBeforeMinutes',
  'bufferAfterMinutes',
  'minNoticeMinutes',
  'horizonDays',
  'maxBookingsPerDay',
  'maxBookingsPerCustomerPerDay',
  'maxBookingsPerCustomerPerWeek',
] as const;
export type PolicyField = (typeof POLICY_FIELDS)[number];

/** null: no policy on that point. */
export type Policy = Record<PolicyField, number | null>;

/** The database columns, in POLICY_FIELDS order. */
export const POLICY_COLUMNS: Record<PolicyField, string> = {
  bufferBeforeMinutes: 'buffer_before_minutes',
  bufferAfterMinutes: 'buffer_after_minutes',
  minNoticeMinutes: 'min_notice_minutes',
  horizonDays: 'horizon_days',
  maxBookingsPerDay: 'max_bookings_per_day',
  maxBookingsPerCustomerPerDay: 'max_bookings_per_customer_per_day',
  maxBookingsPerCustomerPerWeek: 'max_bookings_per_customer_per_week',
};

const whole = (min: number, max: number) =>
  z.number().int('must be a whole number').min(min, `must be at least ${min}`).max(max, `must be at most ${max}`);

/** Bounds per field (the migration's CHECKs say the same): null clears a policy, absent keeps it. */
export const POLICY_BOUNDS = {
  bufferBeforeMinutes: whole(0, 1440),
  bufferAfterMinutes: whole(0, 1440),
  minNoticeMinutes: whole(0, 525_600),
  horizonDays: whole(1, 3650),
  maxBookingsPerDay: whole(1, 100_000),
  maxBookingsPerCustomerPerDay: whole(1, 1000),
  maxBookingsPerCustomerPerWeek: whole(1, 1000),
} satisfies Record<PolicyField, z.ZodType>;

/** The zod shape of the policy fields in a create or update input (undefined keeps, null clears). */
export const policyInputShape = Object.fromEntries(POLICY_FIELDS.map((f) => [f, POLICY_BOUNDS[f].nullish()])) as {
  [K in PolicyField]: z.ZodOptional<z.ZodNullable<(typeof POLICY_BOUNDS)[K]>>;
};

export const NO_POLICY: Policy = Object.fromEntries(POLICY_FIELDS.map((f) => [f, null])) as Policy;

/** Location values are defaults; a resource's own value (not null) wins. */
export function effectivePolicy(resource: Partial<Policy> | null, location: Partial<Policy>): Policy {
  return Object.fromEntries(POLICY_FIELDS.map((f) => [f, resource?.[f] ?? location[f] ?? null])) as Policy;
}

export function hasBuffers(p: Policy): boolean {
  return (p.bufferBeforeMinutes ?? 0) > 0 || (p.bufferAfterMinutes ?? 0) > 0;
}

/** Policies whose check reads other bookings (and so needs the per-resource lock in the booking tx). */
export function readsBookings(p: Policy): boolean {
  return hasBuffers(p) || p.maxBookingsPerDay !== null || p.maxBookingsPerCustomerPerDay !== null || p.maxBookingsPerCustomerPerWeek !== null;
}

export function isEmptyPolicy(p: Policy): boolean {
  return POLICY_FIELDS.every((f) => p[f] === null);
}

export const POLICY_REASONS = ['MIN_NOTICE', 'HORIZON', 'BUFFER', 'DAILY_LIMIT', 'CUSTOMER_DAILY_LIMIT', 'CUSTOMER_WEEKLY_LIMIT'] as const;
export type PolicyReason = (typeof POLICY_REASONS)[number];

/** The policy field each refusal comes from. */
export const REASON_FIELD: Record<PolicyReason, PolicyField> = {
  MIN_NOTICE: 'minNoticeMinutes',
  HORIZON: 'horizonDays',
  BUFFER: 'bufferAfterMinutes',
  DAILY_LIMIT: 'maxBookingsPerDay',
  CUSTOMER_DAILY_LIMIT: 'maxBookingsPerCustomerPerDay',
  CUSTOMER_WEEKLY_LIMIT: 'maxBookingsPerCustomerPerWeek',
};

/** A live booking (CONFIRMED, or HELD and not expired) on the same resource. */
export interface LiveBooking {
  id: string;
  slotId: string | null;
  start: number;
  end: number;
  /** Made by the customer asking (same email hash or phone hash); false when nobody is asking. */
  sameCustomer: boolean;
}

/** A time someone wants (or availability would show). */
export interface Candidate {
  slotId: string | null;
  start: number;
  end: number;
}

export interface PolicyContext {
  policy: Policy;
  now: number;
  /** The location's zone: days and weeks are its local dates. */
  timeZone: string;
  /** The resource's live bookings around the candidate (other than the one being moved). */
  bookings: LiveBooking[];
}

const MINUTE_MS = 60_000;

/** Latest allowed start under horizonDays: now + N calendar days in the zone (23 or 25 hours across DST). */
export function horizonEnd(policy: Policy, now: number, timeZone: string): number {
  if (policy.horizonDays === null) return Infinity;
  return addDaysInZone(now, policy.horizonDays, timeZone);
}

/** Earliest allowed start under minNoticeMinutes. */
export function noticeEnd(policy: Policy, now: number): number {
  return now + (policy.minNoticeMinutes ?? 0) * MINUTE_MS;
}

const localDate = (ms: number, timeZone: string) => toLocal(new Date(ms), timeZone).date;

/**
 * Buffers: the minutes before and after a live booking must be free of bookings at other times on
 * the same resource (buffers may overlap each other). Bookings of the same slot share their time,
 * so they never stand in each other's buffers: a shared slot keeps filling up to its capacity.
 */
function inBuffer(c: Candidate, p: Policy, b: LiveBooking): boolean {
  if (c.slotId !== null && c.slotId === b.slotId) return false;
  const before = (p.bufferBeforeMinutes ?? 0) * MINUTE_MS;
  const after = (p.bufferAfterMinutes ?? 0) * MINUTE_MS;
  // c inside b's buffered time, or b inside c's buffered time.
  return (c.start < b.end + after && c.end > b.start - before) || (b.start < c.end + after && b.end > c.start - before);
}

/**
 * The buffer a candidate refused as BUFFER is short of: the one set, or with both set, after when a
 * booking in its way is less than bufferAfterMinutes from it (either side), else before.
 */
export function bufferFieldOf(c: Candidate, p: Policy, bookings: LiveBooking[]): 'bufferBeforeMinutes' | 'bufferAfterMinutes' {
  if (!p.bufferBeforeMinutes) return 'bufferAfterMinutes';
  if (!p.bufferAfterMinutes) return 'bufferBeforeMinutes';
  const inTheWay = bookings.find((b) => inBuffer(c, p, b));
  const gapMinutes = inTheWay ? Math.max(c.start - inTheWay.end, inTheWay.start - c.end) / MINUTE_MS : 0;
  return gapMinutes < p.bufferAfterMinutes ? 'bufferAfterMinutes' : 'bufferBeforeMinutes';
}

/** The first policy that refuses the candidate, or null. Customer limits count only `sameCustomer` bookings. */
export function policyVerdict(c: Candidate, ctx: PolicyContext): PolicyReason | null {
  const { policy: p, now, timeZone } = ctx;
  if (c.start < noticeEnd(p, now)) return 'MIN_NOTICE';
  if (c.start > horizonEnd(p, now, timeZone)) return 'HORIZON';
  if (hasBuffers(p) && ctx.bookings.some((b) => inBuffer(c, p, b))) return 'BUFFER';
  if (p.maxBookingsPerDay === null && p.maxBookingsPerCustomerPerDay === null && p.maxBookingsPerCustomerPerWeek === null) return null;
  const day = localDate(c.start, timeZone);
  const week = mondayOf(day);
  let perDay = 0;
  let customerDay = 0;
  let customerWeek = 0;
  for (const b of ctx.bookings) {
    const bDay = localDate(b.start, timeZone);
    if (bDay === day) perDay++;
    if (!b.sameCustomer) continue;
    if (bDay === day) customerDay++;
    if (mondayOf(bDay) === week) customerWeek++;
  }
  if (p.maxBookingsPerDay !== null && perDay >= p.maxBookingsPerDay) return 'DAILY_LIMIT';
  if (p.maxBookingsPerCustomerPerDay !== null && customerDay >= p.maxBookingsPerCustomerPerDay) return 'CUSTOMER_DAILY_LIMIT';
  if (p.maxBookingsPerCustomerPerWeek !== null && customerWeek >= p.maxBookingsPerCustomerPerWeek) return 'CUSTOMER_WEEKLY_LIMIT';
  return null;
}

/**
 * How far around a candidate window other bookings matter: the buffers (at most a day each) and
 * the candidate's local week, padded for zone offsets.
 */
export const CONTEXT_PAD_MS = 9 * 86_400_000;
