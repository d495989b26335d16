import { bookingsChanged } from './booking-changes.js';
import type { SqlQuery } from '../db/database.js';
import type { BookingMailer } from '../calendar/booking-mail.js';
import type { Booking } from '../generated/prisma/client.js';
import type { SlotChange } from '../events/slot-events.js';
import { NotFoundError } from '../shared/errors.js';
import { auditView, type AuditActor } from './audit.js';
import {
  adjustSlot,
  blockSlot,
  lockBookingRow,
  lockLiveBookingsOfSlot,
  markCancelled,
  markConfirmed,
  markExpired,
  slotFormId,
  writeBookingAudit,
} from './booking.store.js';
import { BookingNotActiveError } from './errors.js';
import { enforceFormRules } from './form-rules.js';

/** Throws (NotFoundError) when the caller may not act on this booking; reads, if it must, in the booking's transaction. */
export type Authorize = (booking: Booking, tx: SqlQuery) => void | Promise<void>;

export interface TxContext {
  now: Date;
  actor: AuditActor;
  authorize: Authorize;
  /**
   * Queues the mails a change causes, in the same transaction (services.bookingMail). Every step
   * below hands it the booking before and after; its policy decides (a hold's changes send nothing).
   */
  mail: BookingMailer;
}

/**
 * Locks the booking row and reads it, in one statement. Every path that changes a booking locks
 * it first and its slot second, and the expiry sweeper skips locked holds, so they cannot deadlock
 * one another.
 */
export async function lockBooking(tx: SqlQuery, bookingId: string, authorize: Authorize): Promise<Booking> {
  const booking = await lockBookingRow(tx, bookingId);
  if (!booking) throw new NotFoundError('Booking', bookingId);
  await authorize(booking, tx);
  return booking;
}

export type ConfirmOutcome =
  | { expired: false; booking: Booking; changes: SlotChange[] }
  | { expired: true; booking: Booking; expiredAt: Date; changes: SlotChange[] };

/**
 * HELD -> CONFIRMED (held - party size, booked + party size). A hold past its time is expired here and now, its
 * place given back, and reported as expired; the caller commits that and answers HoldExpiredError.
 * Confirming a confirmed booking again changes nothing.
 */
export async function confirmInTx(tx: SqlQuery, bookingId: string, c: TxContext): Promise<ConfirmOutcome> {
  const booking = await lockBooking(tx, bookingId, c.authorize);
  if (booking.status === 'CONFIRMED') return { expired: false, booking, changes: [] };
  if (booking.status === 'EXPIRED') return { expired: true, booking, expiredAt: booking.holdExpiresAt ?? booking.updatedAt, changes: [] };
  if (booking.status !== 'HELD') throw new BookingNotActiveError(booking.id, booking.status);

  const expiredAt = booking.holdExpiresAt!;
  if (expiredAt.getTime() <= c.now.getTime()) {
    const changes = booking.slotId ? [await adjustSlot(tx, booking.slotId, { held: -booking.partySize }, 'EXPIRED')] : [];
    const updated = await markExpired(tx, booking.id);
    await writeBookingAudit(tx, { actorLabel: 'system:hold-expiry', requestId: c.actor.requestId }, [
      { bookingId: booking.id, action: 'EXPIRED', oldValues: auditView(booking), newValues: auditView(updated) },
    ]);
    changes.push(...(await bookingsChanged(tx, [{ before: booking, after: updated }], c.now, c.mail)));
    return { expired: true, booking: updated, expiredAt, changes };
  }

  if (booking.slotId) {
    const slot = await slotFormId(tx, booking.slotId);
    await enforceFormRules(tx, slot ? [slot] : [], { kind: 'confirm' });
  }
  const changes = booking.slotId ? [await adjustSlot(tx, booking.slotId, { held: -booking.partySize, booked: booking.partySize }, 'CONFIRMED')] : [];
  const updated = await markConfirmed(tx, booking.id, c.now);
  await writeBookingAudit(tx, c.actor, [
    { bookingId: booking.id, action: 'CONFIRMED', oldValues: auditView(booking), newValues: auditView(updated) },
  ]);
  changes.push(...(await bookingsChanged(tx, [{ before: booking, after: updated }], c.now, c.mail)));
  return { expired: false, booking: updated, changes };
}

/**
 * Cancels a live booking and frees its places (held or booked - party size) or its range. SEQUENCE goes up:
 * the calendar CANCEL must outrank the invitation it withdraws. Cancelling twice changes nothing.
 */
export async function cancelInTx(tx: SqlQuery, bookingId: string, c: TxContext): Promise<{ booking: Booking; changes: SlotChange[] }> {
  const booking = await lockBooking(tx, bookingId, c.authorize);
  if (booking.status === 'CANCELLED') return { booking, changes: [] };
  if (booking.status === 'EXPIRED') throw new BookingNotActiveError(booking.id, booking.status);

  const freed = booking.status === 'HELD' ? { held: -booking.partySize } : { booked: -booking.partySize };
  const changes = booking.slotId ? [await adjustSlot(tx, booking.slotId, freed, 'CANCELLED')] : [];
  const updated = await markCancelled(tx, booking.id, c.now);
  await writeBookingAudit(tx, c.actor, [
    { bookingId: booking.id, action: 'CANCELLED', oldValues: auditView(booking), newValues: auditView(updated) },
  ]);
  changes.push(...(await bookingsChanged(tx, [{ before: booking, after: updated }], c.now, c.mail)));
  return { booking: updated, changes };
}

/**
 * Cancels a session (its host declined it): the slot takes no more bookings and every live booking of
 * it is cancelled as cancelInTx does (each party gets the calendar CANCEL). Blocked before the cancels,
 * so the waitlist is not offered the places they free.
 */
export async function cancelSessionInTx(tx: SqlQuery, slotId: string, c: TxContext): Promise<{ changes: SlotChange[] }> {
  // Bookings first, then their slot: the lock order of every booking path. Bookings made while this
  // waited for the slot's lock are read again under it.
  await lockLiveBookingsOfSlot(tx, slotId);
  const changes = [await blockSlot(tx, slotId)];
  for (const id of await lockLiveBookingsOfSlot(tx, slotId)) changes.push(...(await cancelInTx(tx, id, c)).changes);
  return { changes };
}
