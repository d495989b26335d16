import type { SqlQuery } from '../db/database.js';
import { sqlStateOf } from '../db/retry.js';
import type { Booking } from '../generated/prisma/client.js';
import type { SlotChange } from '../events/slot-events.js';
import { ValidationError } from '../shared/errors.js';
import { auditView } from './audit.js';
import { adjustSlot, insertChangeRecords, lockSlots, updateBookingDetails, writeBookingAudit } from './booking.store.js';
import { changeRecords } from './booking-changes.js';
import { detailColumns, openNotes, type BookingDetails } from './details.js';
import { BookingNotActiveError, SlotFullError } from './errors.js';
import { releaseExpiredHoldsIn } from './expiry.js';
import { lockBooking, type TxContext } from './lifecycle.js';

/** The details the parties see in their mails and calendars (internal notes are staff-only). */
const SHOWN = ['title', 'notes', 'partySize'] as const;

export type DetailField = keyof BookingDetails;

/**
 * Changes a booking's details in one transaction: the booking row, its slot's counts when the
 * party grows or shrinks (checked under the slot's row lock; the slots CHECK refuses an
 * overbooking whatever happens), the audit row, and, when the parties see the change, a calendar
 * SEQUENCE + 1 and the update mail. Only what differs is written; an unchanged call changes nothing.
 */
export async function updateDetailsInTx(
  tx: SqlQuery,
  bookingId: string,
  patch: BookingDetails,
  c: TxContext,
): Promise<{ booking: Booking; changes: SlotChange[]; changed: DetailField[] }> {
  const booking = await lockBooking(tx, bookingId, c.authorize);
  const changed = changedFields(booking, patch);
  if (!changed.length) return { booking, changes: [], changed };

  let changes: SlotChange[] = [];
  if (changed.includes('partySize')) {
    if (booking.status !== 'HELD' && booking.status !== 'CONFIRMED') throw new BookingNotActiveError(booking.id, booking.status);
    if (booking.exclusive) throw ValidationError.field(['input', 'partySize'], 'an exclusive resource takes one party of 1');
    changes = await resizeParty(tx, booking, patch.partySize!, c.now);
  }

  const columns = detailColumns(Object.fromEntries(changed.map((k) => [k, patch[k]])) as BookingDetails);
  const shown = changed.some((k) => (SHOWN as readonly string[]).includes(k));
  const updated = await updateBookingDetails(tx, booking.id, columns, shown);
  // What changed, never the text itself: audit rows carry no customer-written content.
  await writeBookingAudit(tx, c.actor, [
    {
      bookingId: booking.id,
      action: 'UPDATED',
      oldValues: { ...auditView(booking), changed },
      newValues: { ...auditView(updated), changed },
    },
  ]);
  // A detail update has no lifecycle event: what it records is its mail intent.
  if (shown) await insertChangeRecords(tx, changeRecords([{ before: booking, after: updated }], c.now, c.mail));
  return { booking: updated, changes, changed };
}

/** The fields whose value the patch really changes (notes compared as plain text). */
function changedFields(booking: Booking, patch: BookingDetails): DetailField[] {
  const current: Record<DetailField, unknown> = {
    title: booking.title,
    notes: openNotes(booking.notes),
    internalNotes: openNotes(booking.internalNotes),
    partySize: booking.partySize,
  };
  return (Object.keys(current) as DetailField[]).filter((k) => patch[k] !== undefined && patch[k] !== current[k]);
}

/** Moves the slot's held or booked count by the party's growth; a growth must fit its free places. */
async function resizeParty(sql: SqlQuery, booking: Booking, partySize: number, now: Date): Promise<SlotChange[]> {
  if (!booking.slotId) throw ValidationError.field(['input', 'partySize'], 'a range booking is one party of 1');
  const delta = partySize - booking.partySize;
  const [slot] = await lockSlots(sql, [booking.slotId]);
  const { changes: reclaimed, freed } = await releaseExpiredHoldsIn(sql, { slotIds: [booking.slotId], now });
  const free = slot!.capacity - slot!.booked - (slot!.held - (freed.get(booking.slotId) ?? 0));
  if (delta > 0 && free < delta) throw new SlotFullError(booking.slotId, Math.max(0, free));
  const column = booking.status === 'HELD' ? 'held' : 'booked';
  try {
    return [...reclaimed, await adjustSlot(sql, booking.slotId, { [column]: delta }, 'UPDATED')];
  } catch (error) {
    // 23514: the slots CHECK (booked + held <= capacity), the database's own refusal to overbook.
    if (sqlStateOf(error) === '23514') throw new SlotFullError(booking.slotId);
    throw error;
  }
}
