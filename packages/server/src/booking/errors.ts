import type { BookingStatus } from '../generated/prisma/enums.js';
import { sqlStateOf, violatedConstraint } from '../db/retry.js';
import { AppError } from '../shared/errors.js';

/** Why a slot cannot be booked. */
/** CONFLICT: the slot's exclusive resource is already booked for part of that time (a range booking). */
export type SlotUnavailableReason = 'NOT_FOUND' | 'PAST' | 'BLOCKED' | 'CANCELLED' | 'FULL' | 'CONFLICT' | 'WRONG_RESOURCE';

export interface TimeRange {
  startAt: Date;
  endAt: Date;
}

export class SlotFullError extends AppError {
  readonly code = 'SLOT_FULL';
  /** Places still free: 0, or fewer than the party asked for. */
  constructor(
    readonly slotId: string,
    readonly remaining = 0,
  ) {
    super(remaining > 0 ? `This slot has only ${remaining} place${remaining === 1 ? '' : 's'} left` : 'This slot has no places left');
  }
}

export class SlotUnavailableError extends AppError {
  readonly code = 'SLOT_UNAVAILABLE';
  constructor(
    readonly slotId: string,
    readonly reason: Exclude<SlotUnavailableReason, 'FULL' | 'NOT_FOUND' | 'CONFLICT'>,
  ) {
    super(`This slot cannot be booked: ${reason.toLowerCase().replace('_', ' ')}`);
  }
}

export class HoldExpiredError extends AppError {
  readonly code = 'HOLD_EXPIRED';
  constructor(
    readonly bookingId: string,
    readonly expiredAt: Date,
  ) {
    super('The hold expired before it was confirmed; hold the slot again');
  }
}

/** Names only the conflicting time range, never whose booking it is. */
export class BookingConflictError extends AppError {
  readonly code = 'BOOKING_CONFLICT';
  constructor(
    readonly conflict: TimeRange,
    readonly alternatives: TimeRange[],
  ) {
    super('The resource is already booked at that time');
  }
}

export interface UnavailableSlot {
  slotId: string;
  reason: SlotUnavailableReason;
  /** FULL: the places still free (fewer than the party). */
  remaining?: number;
}

/** A slot's resource and time, as the booking transaction read them under the slot's lock. */
export interface SlotTime extends TimeRange {
  resourceId: string;
}

/** All-or-nothing booking of several slots failed; every slot that stood in the way is listed. */
export class SlotsUnavailableError extends AppError {
  readonly code = 'SLOTS_UNAVAILABLE';
  constructor(
    readonly unavailable: UnavailableSlot[],
    /** CONFLICT slots: where they stand, so the conflict is answered without reading them again. */
    readonly conflicts: ReadonlyMap<string, SlotTime> = new Map(),
  ) {
    super(`${unavailable.length} of the chosen slots cannot be booked`);
  }
}

/** The booking is cancelled or expired; it cannot be confirmed or moved any more. */
export class BookingNotActiveError extends AppError {
  readonly code = 'BOOKING_NOT_ACTIVE';
  constructor(
    readonly bookingId: string,
    readonly status: BookingStatus,
  ) {
    super(`The booking is ${status.toLowerCase()}`);
  }
}

/**
 * Seed 003: one live booking per slot per customer. This customer (same email, or same phone) already
 * holds or has booked these slots; `field` is the input that matched. Nothing was written.
 */
export class DuplicateBookingError extends AppError {
  readonly code = 'DUPLICATE_BOOKING';
  constructor(
    readonly slotIds: string[],
    readonly field: string[],
  ) {
    super('You already have a booking for this slot');
  }
}

/** The unique indexes of migration 0006 and the customer detail each one compares. */
const ONE_LIVE_BOOKING: Record<string, 'email' | 'phone'> = {
  bookings_one_live_per_email: 'email',
  bookings_one_live_per_phone: 'phone',
};

/**
 * The database refused a second live booking of a slot for one customer (unique_violation on the
 * indexes above): which customer detail matched, else null. The code checks first, with the slots
 * locked; this is what a writer that did not check runs into.
 */
export function duplicateBookingField(error: unknown): 'email' | 'phone' | null {
  if (sqlStateOf(error) !== '23505') return null;
  return ONE_LIVE_BOOKING[violatedConstraint(error) ?? ''] ?? null;
}
