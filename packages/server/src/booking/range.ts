import { changeRecords, recordedBookingsChanged } from './booking-changes.js';
import type { BookingMailer } from '../calendar/booking-mail.js';
import type { SqlQuery } from '../db/database.js';
import type { Booking } from '../generated/prisma/client.js';
import { sqlStateOf, violatedConstraint } from '../db/retry.js';
import { NotFoundError, ValidationError, type FieldError } from '../shared/errors.js';
import type { AuditActor } from './audit.js';
import { OverlapError, asBooking, newBookingId } from './insert.js';
import { insertBookings, loadResource, lockExclusiveResources, lockSlotsDuring, type ChangeRecords } from './booking.store.js';
import type { SlotChange } from '../events/slot-events.js';
import { customerColumns, newIcsUid, newManageToken, type Customer } from './customer.js';
import { detailColumns, type BookingDetails } from './details.js';
import { findConflict, type ConflictResource } from './alternatives.js';
import { BookingConflictError, type TimeRange } from './errors.js';
import { enforceBookingPolicies, type PolicyOverride } from '../policies/enforce.js';
import { writeOverrideAudit } from '../policies/policies.store.js';

const QUARTER_HOUR_MS = 15 * 60_000;
export const MAX_RANGE_MS = 8 * 60 * 60_000;

/**
 * Seed 002's rules for a free range: 15-minute boundaries, at most 8 hours, not in the past.
 * (The database checks the first two as well; this names the field.)
 */
export function validateRange(range: TimeRange, now: Date, path: string[]): void {
  const errors: FieldError[] = [];
  const { startAt, endAt } = range;
  if (startAt.getTime() % QUARTER_HOUR_MS !== 0)
    errors.push({ path: [...path, 'startAt'], message: 'must be on a 15-minute boundary (:00, :15, :30, :45)' });
  if (endAt.getTime() % QUARTER_HOUR_MS !== 0)
    errors.push({ path: [...path, 'endAt'], message: 'must be on a 15-minute boundary (:00, :15, :30, :45)' });
  if (endAt.getTime() <= startAt.getTime()) errors.push({ path: [...path, 'endAt'], message: 'must be after startAt' });
  else if (endAt.getTime() - startAt.getTime() > MAX_RANGE_MS)
    errors.push({ path: [...path, 'endAt'], message: 'a booking is at most 8 hours long' });
  if (startAt.getTime() < now.getTime()) errors.push({ path: [...path, 'startAt'], message: 'must not be in the past' });
  if (errors.length) throw new ValidationError(errors);
}

/** The exclusive, active resource a range is booked on. */
export async function rangeResource(sql: SqlQuery, resourceId: string, path: string[]): Promise<ConflictResource> {
  const resource = await loadResource(sql, resourceId);
  if (!resource?.active) throw new NotFoundError('Resource', resourceId);
  if (!resource.exclusive) throw ValidationError.field(path, 'is not bookable by time range (not an exclusive resource); book one of its slots');
  return { id: resource.id, locationId: resource.locationId, timeZone: resource.timeZone };
}

/** The guard in insertBookings, or the exclusion constraint itself, refused an overlap. */
export function isOverlapViolation(error: unknown): boolean {
  return error instanceof OverlapError || (sqlStateOf(error) === '23P01' && violatedConstraint(error) === 'bookings_no_overlap');
}

/**
 * insertBookings, with an overlap on an exclusive resource (skipped by its guard, or refused by the
 * exclusion constraint) thrown as OverlapError naming the booking's resource and time. Returns the
 * slots' new versions.
 */
export async function insertWithoutOverlap(
  tx: SqlQuery,
  bookings: Booking[],
  actor: AuditActor,
  slotCounts?: { column: 'held' | 'booked' },
  records?: ChangeRecords,
): Promise<Map<string, number>> {
  let result: Awaited<ReturnType<typeof insertBookings>>;
  try {
    result = await insertBookings(tx, bookings, actor, slotCounts, records);
  } catch (error) {
    const exclusive = bookings.find((b) => b.exclusive);
    if (exclusive && isOverlapViolation(error)) throw overlapOf(exclusive);
    throw error;
  }
  const skipped = bookings.find((b) => !result.inserted.has(b.id));
  if (skipped) throw overlapOf(skipped);
  return result.versions;
}

/** The overlap a booking on an exclusive resource ran into, as read in its transaction. */
export function overlapOf(booking: Pick<Booking, 'resourceId' | 'startAt' | 'endAt'>): OverlapError {
  return new OverlapError(booking.resourceId!, { startAt: booking.startAt, endAt: booking.endAt });
}

/** Turns the exclusion constraint's refusal into the typed conflict with free alternatives. */
export async function conflictError(sql: SqlQuery, resource: ConflictResource | string, range: TimeRange, now: Date, ignoreBookingId?: string) {
  const { conflict, alternatives } = await findConflict(sql, resource, range, now, ignoreBookingId);
  return new BookingConflictError(conflict, alternatives);
}

/**
 * Inserts a CONFIRMED range booking. Writers of one resource queue on its advisory lock, and the
 * INSERT skips itself when a live booking overlaps (OverlapError): a conflict costs no database
 * error and no deadlock. The exclusion constraint still guarantees no overlap whatever the path;
 * everything runs inside the transaction, so even its refusal does not cost the pool a reconnect.
 */
export async function insertRangeInTx(
  tx: SqlQuery,
  input: {
    resourceId: string;
    locationId: string;
    range: TimeRange;
    customer: Customer;
    userId: string | null;
    details?: BookingDetails;
    now: Date;
    actor: AuditActor;
    mail: BookingMailer;
    /** A staff member booking outside the booking policies (checked by the caller: staff only). */
    override?: PolicyOverride | null;
  },
): Promise<{ booking: Booking; manageToken: string; policyKeys: string[]; changes: SlotChange[] }> {
  const token = newManageToken();
  const booking = asBooking({
    id: newBookingId(),
    kind: 'RANGE',
    slotId: null,
    resourceId: input.resourceId,
    locationId: input.locationId,
    exclusive: true,
    startAt: input.range.startAt,
    endAt: input.range.endAt,
    status: 'CONFIRMED',
    holdExpiresAt: null,
    confirmedAt: input.now,
    userId: input.userId,
    ...customerColumns(input.customer),
    ...detailColumns(input.details ?? {}),
    manageTokenHash: token.hash,
    icsUid: newIcsUid(),
    createdAt: input.now,
  });
  // The resource's slots this range will cover are locked before the resource, in id order, as a
  // booking of one of them locks it: each waits for the other instead of deadlocking.
  await lockSlotsDuring(tx, input.resourceId, input.range);
  await lockExclusiveResources(tx, [input.resourceId]);
  const { overridden, counted } = await enforceBookingPolicies(
    tx,
    [{ slotId: null, resourceId: input.resourceId, locationId: input.locationId, start: booking.startAt.getTime(), end: booking.endAt.getTime() }],
    { now: input.now, customer: { emailHash: booking.customerEmailHash, phoneHash: booking.customerPhoneHash }, override: input.override ?? null },
  );
  const changes = [{ before: null, after: booking }];
  await insertWithoutOverlap(tx, [booking], input.actor, undefined, changeRecords(changes, input.now, input.mail));
  const policy = overridden.get(0);
  if (policy) await writeOverrideAudit(tx, input.actor, [{ bookingId: booking.id, policies: [policy], reason: input.override!.reason }]);
  const covered = await recordedBookingsChanged(tx, changes, input.now);
  return { booking, manageToken: token.token, policyKeys: counted, changes: covered };
}
