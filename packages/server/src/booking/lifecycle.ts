import { bookingsChanged } from './booking-changes.js';
import { sqlIn, type SqlQuery } from '../db/database.js';
import type { BookingMailer } from '../calendar/booking-mail.js';
import type { Booking, Prisma } from '../generated/prisma/client.js';
import type { SlotChange, SlotChangeReason } from '../events/slot-events.js';
import { NotFoundError } from '../shared/errors.js';
import { auditView, writeBookingAudit, type AuditActor } from './audit.js';
import { BookingNotActiveError } from './errors.js';
import { enforceFormRules } from './form-rules.js';

/** Throws (NotFoundError) when the caller may not act on this booking. */
export type Authorize = (booking: Booking) => void | Promise<void>;

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
 * Locks the booking row, then reads it. Every path that changes a booking locks it first and its
 * slot second, and the expiry sweeper skips locked holds, so they cannot deadlock one another.
 */
export async function lockBooking(tx: Prisma.TransactionClient, bookingId: string, authorize: Authorize): Promise<Booking> {
  await tx.$queryRaw`SELECT id FROM bookings WHERE id = ${bookingId}::uuid FOR UPDATE`;
  const booking = await tx.booking.findUnique({ where: { id: bookingId } });
  if (!booking) throw new NotFoundError('Booking', bookingId);
  await authorize(booking);
  return booking;
}

/** Moves a slot's counts and returns the change to publish (with the version after it). */
export async function adjustSlot(
  tx: SqlQuery,
  slotId: string,
  delta: { held?: number; booked?: number },
  reason: SlotChangeReason,
): Promise<SlotChange> {
  const [row] = await tx.query<{ version: number; location_id: string | null; resource_id: string | null; form_id: string | null }>(
    `UPDATE slots SET held = held + $2::int, booked = booked + $3::int
    WHERE id = $1::uuid
    RETURNING version, location_id, resource_id, form_id`,
    [slotId, delta.held ?? 0, delta.booked ?? 0],
  );
  return { slotId, version: row!.version, reason, locationId: row!.location_id, resourceId: row!.resource_id, formId: row!.form_id };
}

export type ConfirmOutcome =
  | { expired: false; booking: Booking; changes: SlotChange[] }
  | { expired: true; booking: Booking; expiredAt: Date; changes: SlotChange[] };

/**
 * HELD -> CONFIRMED (held - party size, booked + party size). A hold past its time is expired here and now, its
 * place given back, and reported as expired; the caller commits that and answers HoldExpiredError.
 * Confirming a confirmed booking again changes nothing.
 */
export async function confirmInTx(tx: Prisma.TransactionClient, bookingId: string, c: TxContext): Promise<ConfirmOutcome> {
  const booking = await lockBooking(tx, bookingId, c.authorize);
  const sql = sqlIn(tx);
  if (booking.status === 'CONFIRMED') return { expired: false, booking, changes: [] };
  if (booking.status === 'EXPIRED') return { expired: true, booking, expiredAt: booking.holdExpiresAt ?? booking.updatedAt, changes: [] };
  if (booking.status !== 'HELD') throw new BookingNotActiveError(booking.id, booking.status);

  const expiredAt = booking.holdExpiresAt!;
  if (expiredAt.getTime() <= c.now.getTime()) {
    const changes = booking.slotId ? [await adjustSlot(sql, booking.slotId, { held: -booking.partySize }, 'EXPIRED')] : [];
    const updated = await tx.booking.update({ where: { id: booking.id }, data: { status: 'EXPIRED' } });
    await writeBookingAudit(sql, { actorLabel: 'system:hold-expiry', requestId: c.actor.requestId }, [
      { bookingId: booking.id, action: 'EXPIRED', oldValues: auditView(booking), newValues: auditView(updated) },
    ]);
    await bookingsChanged(sql, [{ before: booking, after: updated }], c.now, c.mail);
    return { expired: true, booking: updated, expiredAt, changes };
  }

  if (booking.slotId) {
    const slots = await sql.query<{ form_id: string | null }>(`SELECT form_id FROM slots WHERE id = $1::uuid`, [booking.slotId]);
    await enforceFormRules(sql, slots, { kind: 'confirm' });
  }
  const changes = booking.slotId ? [await adjustSlot(sql, booking.slotId, { held: -booking.partySize, booked: booking.partySize }, 'CONFIRMED')] : [];
  const updated = await tx.booking.update({
    where: { id: booking.id },
    data: { status: 'CONFIRMED', confirmedAt: c.now, holdExpiresAt: null },
  });
  await writeBookingAudit(sql, c.actor, [{ bookingId: booking.id, action: 'CONFIRMED', oldValues: auditView(booking), newValues: auditView(updated) }]);
  await bookingsChanged(sql, [{ before: booking, after: updated }], c.now, c.mail);
  return { expired: false, booking: updated, changes };
}

/**
 * Cancels a live booking and frees its places (held or booked - party size) or its range. SEQUENCE goes up:
 * the calendar CANCEL must outrank the invitation it withdraws. Cancelling twice changes nothing.
 */
export async function cancelInTx(tx: Prisma.TransactionClient, bookingId: string, c: TxContext): Promise<{ booking: Booking; changes: SlotChange[] }> {
  const booking = await lockBooking(tx, bookingId, c.authorize);
  const sql = sqlIn(tx);
  if (booking.status === 'CANCELLED') return { booking, changes: [] };
  if (booking.status === 'EXPIRED') throw new BookingNotActiveError(booking.id, booking.status);

  const freed = booking.status === 'HELD' ? { held: -booking.partySize } : { booked: -booking.partySize };
  const changes = booking.slotId ? [await adjustSlot(sql, booking.slotId, freed, 'CANCELLED')] : [];
  const updated = await tx.booking.update({
    where: { id: booking.id },
    data: { status: 'CANCELLED', cancelledAt: c.now, holdExpiresAt: null, icsSequence: { increment: 1 } },
  });
  await writeBookingAudit(sql, c.actor, [{ bookingId: booking.id, action: 'CANCELLED', oldValues: auditView(booking), newValues: auditView(updated) }]);
  await bookingsChanged(sql, [{ before: booking, after: updated }], c.now, c.mail);
  return { booking: updated, changes };
}
