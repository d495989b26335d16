import { bookingsChanged } from './booking-changes.js';
import { sqlIn, type SqlQuery } from '../db/database.js';
import type { Booking, Prisma } from '../generated/prisma/client.js';
import type { SlotChange } from '../events/slot-events.js';
import { NotFoundError, ValidationError } from '../shared/errors.js';
import { auditView, writeBookingAudit } from './audit.js';
import { BookingNotActiveError, DuplicateBookingError, HoldExpiredError, SlotFullError, SlotUnavailableError, type TimeRange } from './errors.js';
import { releaseExpiredHoldsIn } from './expiry.js';
import { enforceFormRules } from './form-rules.js';
import { lockExclusiveResources } from './insert.js';
import { adjustSlot, lockBooking, type TxContext } from './lifecycle.js';
import { whyUnavailable, type SlotRow } from './multi-slot.js';
import { enforceBookingPolicies } from '../policies/enforce.js';

export type RescheduleTarget = { slotId: string } | { range: TimeRange };

/**
 * Moves a live booking to another slot (same resource) or another range (same exclusive
 * resource) in one transaction: the old place is freed and the new one taken together, and
 * SEQUENCE goes up so calendars replace the event. A HELD booking stays held (same expiry).
 */
export async function rescheduleInTx(
  tx: Prisma.TransactionClient,
  bookingId: string,
  target: RescheduleTarget,
  c: TxContext,
): Promise<{ booking: Booking; changes: SlotChange[] }> {
  const booking = await lockBooking(tx, bookingId, c.authorize);
  const sql = sqlIn(tx);
  if (booking.status !== 'HELD' && booking.status !== 'CONFIRMED') throw new BookingNotActiveError(booking.id, booking.status);
  if (booking.status === 'HELD' && booking.holdExpiresAt!.getTime() <= c.now.getTime()) {
    throw new HoldExpiredError(booking.id, booking.holdExpiresAt!);
  }

  let changes: SlotChange[] = [];
  let data: Prisma.BookingUpdateInput;
  if ('slotId' in target) {
    if (booking.kind !== 'SLOT') throw ValidationError.field(['input', 'slotId'], 'a range booking moves to another range, not a slot');
    if (target.slotId === booking.slotId) throw ValidationError.field(['input', 'slotId'], 'is already the slot of this booking');
    const { slot, reclaimed } = await lockSlotRow(sql, booking, target.slotId, c.now);
    const column = booking.status === 'HELD' ? 'held' : 'booked';
    // Both slots are locked in id order inside lockSlotRow; adjusting them now cannot deadlock.
    changes = [
      ...reclaimed,
      await adjustSlot(sql, booking.slotId!, { [column]: -booking.partySize }, 'RESCHEDULED'),
      await adjustSlot(sql, slot.id, { [column]: booking.partySize }, 'RESCHEDULED'),
    ];
    // A booking that was a duplicate before migration 0006 follows the rule once it moves.
    data = { slot: { connect: { id: slot.id } }, startAt: slot.start_at, endAt: slot.end_at, legacyDuplicate: false };
  } else {
    if (booking.kind !== 'RANGE') throw ValidationError.field(['input', 'range'], 'a slot booking moves to another slot, not a range');
    data = { startAt: target.range.startAt, endAt: target.range.endAt };
  }
  // Queue behind other writers of the resource (see lockExclusiveResources) before the move.
  if (booking.exclusive) await lockExclusiveResources(sql, [booking.resourceId!]);
  // The new time is judged as a new booking would be, apart from the booking being moved.
  await enforceBookingPolicies(
    sql,
    [{ slotId: 'slotId' in target ? target.slotId : null, resourceId: booking.resourceId, locationId: booking.locationId, start: (data.startAt as Date).getTime(), end: (data.endAt as Date).getTime() }],
    { now: c.now, customer: { emailHash: booking.customerEmailHash, phoneHash: booking.customerPhoneHash }, override: null, ignoreBookingIds: [booking.id] },
  );

  // The exclusion constraint checks the new range against every other live booking here.
  const updated = await tx.booking.update({ where: { id: booking.id }, data: { ...data, icsSequence: { increment: 1 } } });
  await writeBookingAudit(sql, c.actor, [{ bookingId: booking.id, action: 'RESCHEDULED', oldValues: auditView(booking), newValues: auditView(updated) }]);
  await bookingsChanged(sql, [{ before: booking, after: updated }], c.now, c.mail);
  return { booking: updated, changes };
}

/** Locks the current and the target slot in id order, reclaims the target's expired holds, and checks it. */
async function lockSlotRow(
  sql: SqlQuery,
  booking: Booking,
  slotId: string,
  now: Date,
): Promise<{ slot: SlotRow; reclaimed: SlotChange[] }> {
  const ids = [booking.slotId!, slotId].sort();
  const rows = await sql.query<SlotRow>(
    `SELECT id, capacity, booked, held, status, start_at, end_at, resource_id, location_id, form_id
    FROM slots WHERE id = ANY($1::uuid[]) ORDER BY id FOR UPDATE`,
    [ids],
  );
  const slot = rows.find((r) => r.id === slotId);
  const current = rows.find((r) => r.id === booking.slotId);
  if (!slot) throw new NotFoundError('Slot', slotId);
  const sameHome =
    slot.resource_id === current?.resource_id &&
    (slot.resource_id !== null || (slot.location_id === current?.location_id && slot.form_id === current?.form_id));
  await enforceFormRules(sql, [slot], { kind: 'reschedule', fromFormId: current?.form_id ?? null });
  if (!sameHome) throw new SlotUnavailableError(slotId, 'WRONG_RESOURCE');
  const { freed, changes } = await releaseExpiredHoldsIn(sql, { slotIds: [slotId], now });
  // Seed 003: the customer may not already hold the target slot (read under its lock).
  const [own] = await sql.query<{ field: 'email' | 'phone' }>(
    `SELECT CASE WHEN bool_or(customer_email_hash = $3) THEN 'email' ELSE 'phone' END AS field FROM bookings
     WHERE slot_id = $1::uuid AND id <> $2::uuid AND NOT legacy_duplicate AND status IN ('HELD', 'CONFIRMED')
       AND (customer_email_hash = $3 OR customer_phone_hash = $4)
     HAVING count(*) > 0`,
    [slotId, booking.id, booking.customerEmailHash, booking.customerPhoneHash],
  );
  if (own) throw new DuplicateBookingError([slotId], ['input', 'slotId']);
  // The whole party moves: the target must have room for all of it.
  const reason = whyUnavailable(slot, freed.get(slotId) ?? 0, now, booking.partySize);
  if (reason === 'FULL') throw new SlotFullError(slotId, Math.max(0, slot.capacity - slot.booked - slot.held + (freed.get(slotId) ?? 0)));
  if (reason) throw new SlotUnavailableError(slotId, reason as 'BLOCKED' | 'CANCELLED' | 'PAST');
  return { slot, reclaimed: changes };
}
