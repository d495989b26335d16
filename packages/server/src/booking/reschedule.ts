import { bookingsChanged } from './booking-changes.js';
import type { SqlQuery } from '../db/database.js';
import type { Booking } from '../generated/prisma/client.js';
import type { SlotChange } from '../events/slot-events.js';
import { NotFoundError, ValidationError } from '../shared/errors.js';
import { auditView } from './audit.js';
import {
  adjustSlot,
  customerHoldsSlot,
  lockExclusiveResources,
  lockSlots,
  lockSlotsDuring,
  moveBooking,
  writeBookingAudit,
  type SlotRow,
} from './booking.store.js';
import { BookingNotActiveError, DuplicateBookingError, HoldExpiredError, SlotFullError, SlotUnavailableError, type TimeRange } from './errors.js';
import { releaseExpiredHoldsIn } from './expiry.js';
import { enforceFormRules } from './form-rules.js';
import { lockBooking, type TxContext } from './lifecycle.js';
import { whyUnavailable } from './multi-slot.js';
import { isOverlapViolation, overlapOf } from './range.js';
import { enforceBookingPolicies } from '../policies/enforce.js';

export type RescheduleTarget = { slotId: string } | { range: TimeRange };

/**
 * Moves a live booking to another slot (same resource) or another range (same exclusive
 * resource) in one transaction: the old place is freed and the new one taken together, and
 * SEQUENCE goes up so calendars replace the event. A HELD booking stays held (same expiry).
 */
export async function rescheduleInTx(
  tx: SqlQuery,
  bookingId: string,
  target: RescheduleTarget,
  c: TxContext,
): Promise<{ booking: Booking; changes: SlotChange[] }> {
  const booking = await lockBooking(tx, bookingId, c.authorize);
  if (booking.status !== 'HELD' && booking.status !== 'CONFIRMED') throw new BookingNotActiveError(booking.id, booking.status);
  if (booking.status === 'HELD' && booking.holdExpiresAt!.getTime() <= c.now.getTime()) {
    throw new HoldExpiredError(booking.id, booking.holdExpiresAt!);
  }

  let changes: SlotChange[] = [];
  let to: TimeRange & { slotId: string | null };
  if ('slotId' in target) {
    if (booking.kind !== 'SLOT') throw ValidationError.field(['input', 'slotId'], 'a range booking moves to another range, not a slot');
    if (target.slotId === booking.slotId) throw ValidationError.field(['input', 'slotId'], 'is already the slot of this booking');
    const { slot, reclaimed } = await lockSlotRow(tx, booking, target.slotId, c.now);
    const column = booking.status === 'HELD' ? 'held' : 'booked';
    // Both slots are locked in id order inside lockSlotRow; adjusting them now cannot deadlock.
    changes = [
      ...reclaimed,
      await adjustSlot(tx, booking.slotId!, { [column]: -booking.partySize }, 'RESCHEDULED'),
      await adjustSlot(tx, slot.id, { [column]: booking.partySize }, 'RESCHEDULED'),
    ];
    to = { slotId: slot.id, startAt: slot.start_at, endAt: slot.end_at };
  } else {
    if (booking.kind !== 'RANGE') throw ValidationError.field(['input', 'range'], 'a slot booking moves to another slot, not a range');
    to = { slotId: null, startAt: target.range.startAt, endAt: target.range.endAt };
  }
  // Queue behind other writers of the resource (see lockExclusiveResources) before the move; a range
  // first locks the slots it will cover, as insertRangeInTx does.
  if (booking.exclusive) {
    if (!to.slotId) await lockSlotsDuring(tx, booking.resourceId!, to);
    await lockExclusiveResources(tx, [booking.resourceId!]);
  }
  // The new time is judged as a new booking would be, apart from the booking being moved.
  await enforceBookingPolicies(
    tx,
    [{ slotId: to.slotId, resourceId: booking.resourceId, locationId: booking.locationId, start: to.startAt.getTime(), end: to.endAt.getTime() }],
    {
      now: c.now,
      customer: { emailHash: booking.customerEmailHash, phoneHash: booking.customerPhoneHash },
      override: null,
      ignoreBookingIds: [booking.id],
    },
  );

  const updated = await moveBooking(tx, booking.id, to).catch((error: unknown) => {
    // The exclusion constraint found another live booking in the new time.
    throw isOverlapViolation(error) ? overlapOf({ resourceId: booking.resourceId, ...to }) : error;
  });
  await writeBookingAudit(tx, c.actor, [
    { bookingId: booking.id, action: 'RESCHEDULED', oldValues: auditView(booking), newValues: auditView(updated) },
  ]);
  changes.push(...(await bookingsChanged(tx, [{ before: booking, after: updated }], c.now, c.mail)));
  return { booking: updated, changes };
}

/** Locks the current and the target slot in id order, reclaims the target's expired holds, and checks it. */
async function lockSlotRow(sql: SqlQuery, booking: Booking, slotId: string, now: Date): Promise<{ slot: SlotRow; reclaimed: SlotChange[] }> {
  const rows = await lockSlots(sql, [booking.slotId!, slotId]);
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
  const own = await customerHoldsSlot(sql, slotId, booking.id, { emailHash: booking.customerEmailHash, phoneHash: booking.customerPhoneHash });
  if (own) throw new DuplicateBookingError([slotId], ['input', 'slotId']);
  // The whole party moves: the target must have room for all of it.
  const reason = whyUnavailable(slot, freed.get(slotId) ?? 0, now, booking.partySize);
  if (reason === 'FULL') throw new SlotFullError(slotId, Math.max(0, slot.capacity - slot.booked - slot.held + (freed.get(slotId) ?? 0)));
  if (reason) throw new SlotUnavailableError(slotId, reason as 'BLOCKED' | 'CANCELLED' | 'PAST');
  return { slot, reclaimed: changes };
}
