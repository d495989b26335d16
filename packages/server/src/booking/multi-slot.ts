import { changeRecords, recordedBookingsChanged } from './booking-changes.js';
import type { BookingMailer } from '../calendar/booking-mail.js';
import type { SqlQuery } from '../db/database.js';
import type { Booking } from '../generated/prisma/client.js';
import type { SlotChange } from '../events/slot-events.js';
import { ValidationError, parseInput } from '../shared/errors.js';
import { customerColumns, customerSchema, newIcsUid, newManageToken, type Customer } from './customer.js';
import { detailColumns, type BookingDetails } from './details.js';
import { DuplicateBookingError, SlotsUnavailableError, type SlotTime, type UnavailableSlot } from './errors.js';
import { releaseExpiredHoldsIn } from './expiry.js';
import { enforceFormRules } from './form-rules.js';
import { asBooking, newBookingId } from './insert.js';
import { lockExclusiveResources, lockSlotsToBook, slotsTakenOnExclusiveResources, type LockedSlot, type SlotRow } from './booking.store.js';
import { insertWithoutOverlap } from './range.js';
import { enforceBookingPolicies, type PolicyOverride } from '../policies/enforce.js';
import { writeOverrideAudit } from '../policies/policies.store.js';

export interface BookSlotsInput {
  slotIds: string[];
  customer: { name: string; email: string; phone?: string | null; timeZone?: string | null };
  /** The signed-in customer, if any (their bookings show in myBookings). */
  userId?: string | null;
  actorLabel: string;
  /** Who acted, for the audit row (a staff member booking for a customer, or the customer). */
  actorId?: string | null;
  requestId?: string;
  status: 'HELD' | 'CONFIRMED';
  now?: Date;
  /** How long a HELD booking keeps its place (default 10 minutes). */
  holdTtlMinutes?: number;
  /**
   * Queues each new booking's mails in this transaction; null when the caller sends its own
   * (a form registration mails one list of all its slots).
   */
  mail: BookingMailer | null;
  /** `register` for a form registration; hold and book are `direct` (refused on a form's slots). */
  entry?: 'register' | 'direct';
  /** Where the customer's email and phone sit in the caller's input (DuplicateBookingError.field). */
  customerPath?: string[];
  /** A staff member booking outside the booking policies (checked by the caller: staff only). */
  override?: PolicyOverride | null;
  /** Title, notes and party size of every new booking (validated by the caller); a party of one when left out. */
  details?: BookingDetails;
}

export interface BookSlotsResult {
  bookings: Booking[];
  /** Slot changes to publish after the caller's transaction commits. */
  changes: SlotChange[];
  /** One manage token per booking, same order; shown once, only hashes are stored. */
  manageTokens: string[];
  /** Resources whose buffers or limits these bookings may have changed for their other slots (see publishPolicyNeighbours). */
  policyKeys: string[];
}

/**
 * Books every slot or none, inside the caller's transaction (forms add their registration rows
 * to the same one). Slots are locked in id order, so two requests over the same slots queue
 * instead of deadlocking, whatever order their callers listed them in. Throws
 * SlotsUnavailableError naming every slot that stands in the way, having written nothing.
 */
export async function bookSlotsInTransaction(tx: SqlQuery, input: BookSlotsInput): Promise<BookSlotsResult> {
  const customer: Customer = parseInput(customerSchema, input.customer, ['customer']);
  const ids = [...new Set(input.slotIds)].sort();
  if (!ids.length) throw ValidationError.field('slotIds', 'choose at least one slot');
  if (ids.length !== input.slotIds.length) throw ValidationError.field('slotIds', 'must not name a slot twice');
  const now = input.now ?? new Date();
  const contact = { ...customerColumns(customer), ...detailColumns(input.details ?? {}) };

  // The customer's own live bookings of these slots are read under the slot locks (see lockSlotsToBook).
  // (Expired holds do not count: they are reclaimed below.)
  const slots = await lockSlotsToBook(tx, ids, now, { emailHash: contact.customerEmailHash, phoneHash: contact.customerPhoneHash });
  const actor = { actorId: input.actorId, actorLabel: input.actorLabel, requestId: input.requestId };
  // Most of the time nothing has expired: the reclaim statement runs only when the lock read saw some.
  const withExpired = slots.filter((s) => s.has_expired).map((s) => s.id);
  const reclaimed = withExpired.length
    ? await releaseExpiredHoldsIn(tx, { slotIds: withExpired, now }, { ...actor, actorLabel: 'system:hold-expiry' })
    : { changes: [], freed: new Map<string, number>() };

  await enforceFormRules(tx, slots, { kind: input.entry ?? 'direct' });
  const duplicates = slots.filter((s) => s.duplicate);
  if (duplicates.length) {
    const field = duplicates.some((s) => s.duplicate === 'email') ? 'email' : 'phone';
    throw new DuplicateBookingError(
      duplicates.map((s) => s.id),
      [...(input.customerPath ?? ['input', 'customer']), field],
    );
  }
  const places = input.details?.partySize ?? 1;
  if (places > 1 && slots.some((s) => s.exclusive)) {
    throw ValidationError.field(['input', 'partySize'], 'an exclusive resource takes one party of 1');
  }
  const byId = new Map(slots.map((s) => [s.id, s]));
  const taken = await takenOnExclusiveResources(tx, slots);
  const unavailable: UnavailableSlot[] = [];
  const conflicts = new Map<string, SlotTime>();
  for (const id of input.slotIds) {
    const slot = byId.get(id);
    const freed = reclaimed.freed.get(id) ?? 0;
    const reason = slot ? (whyUnavailable(slot, freed, now, places) ?? (taken.has(id) ? 'CONFLICT' : null)) : 'NOT_FOUND';
    if (reason === 'FULL') unavailable.push({ slotId: id, reason, remaining: Math.max(0, slot!.capacity - slot!.booked - slot!.held + freed) });
    else if (reason) unavailable.push({ slotId: id, reason });
    if (reason === 'CONFLICT') conflicts.set(id, { resourceId: slot!.resource_id!, startAt: slot!.start_at, endAt: slot!.end_at });
  }
  if (unavailable.length) throw new SlotsUnavailableError(unavailable, conflicts);
  const { overridden, counted } = await enforceBookingPolicies(
    tx,
    input.slotIds.map((id) => {
      const slot = byId.get(id)!;
      return { slotId: id, resourceId: slot.resource_id, locationId: slot.location_id, start: slot.start_at.getTime(), end: slot.end_at.getTime() };
    }),
    {
      now,
      customer: { emailHash: contact.customerEmailHash, phoneHash: contact.customerPhoneHash },
      override: input.override ?? null,
      policies: new Map(slots.flatMap((s) => (s.policy ? [[(s.resource_id ?? s.location_id)!, s.policy] as const] : []))),
    },
  );

  const holdExpiresAt = input.status === 'HELD' ? new Date(now.getTime() + (input.holdTtlMinutes ?? 10) * 60_000) : null;
  const tokens = input.slotIds.map(() => newManageToken());
  const bookings = input.slotIds.map((id, i) => {
    const slot = byId.get(id)!;
    return asBooking({
      id: newBookingId(),
      kind: 'SLOT',
      slotId: id,
      resourceId: slot.resource_id,
      locationId: slot.location_id,
      exclusive: slot.exclusive ?? false,
      startAt: slot.start_at,
      endAt: slot.end_at,
      status: input.status,
      holdExpiresAt,
      confirmedAt: input.status === 'CONFIRMED' ? now : null,
      userId: input.userId ?? null,
      ...contact,
      manageTokenHash: tokens[i]!.hash,
      icsUid: newIcsUid(),
      createdAt: now,
    });
  });
  const bookingChanges = bookings.map((after) => ({ before: null, after }));
  const versions = await insertWithoutOverlap(
    tx,
    bookings,
    actor,
    { column: input.status === 'HELD' ? 'held' : 'booked' },
    changeRecords(bookingChanges, now, input.mail),
  );
  await writeOverrideAudit(
    tx,
    actor,
    [...overridden].map(([i, policy]) => ({ bookingId: bookings[i]!.id, policies: [policy], reason: input.override!.reason })),
  );
  const covered = await recordedBookingsChanged(tx, bookingChanges, now);
  const changes: SlotChange[] = [
    ...reclaimed.changes,
    ...ids.map((id) => {
      const slot = byId.get(id)!;
      return {
        slotId: id,
        version: versions.get(id)!,
        reason: input.status,
        locationId: slot.location_id,
        resourceId: slot.resource_id,
        formId: slot.form_id,
      };
    }),
    ...covered,
  ];
  return { bookings, changes, manageTokens: tokens.map((t) => t.token), policyKeys: counted };
}

/**
 * The one rule for whether a locked slot can take a party of `places` (`freed`: places of expired
 * holds just reclaimed).
 */
export function whyUnavailable(slot: SlotRow, freed: number, now: Date, places = 1): UnavailableSlot['reason'] | null {
  if (slot.status === 'BLOCKED') return 'BLOCKED';
  if (slot.status === 'CANCELLED') return 'CANCELLED';
  if (slot.start_at.getTime() <= now.getTime()) return 'PAST';
  if (slot.capacity - slot.booked - (slot.held - freed) < places) return 'FULL';
  return null;
}

/**
 * Slots on exclusive resources whose time is already (partly) booked there, e.g. by a range.
 * Asked under the resources' advisory locks, so no range booking can slip in before the insert.
 */
async function takenOnExclusiveResources(tx: SqlQuery, slots: LockedSlot[]): Promise<Set<string>> {
  const exclusive = slots.filter((s) => s.exclusive && s.resource_id);
  if (!exclusive.length) return new Set();
  await lockExclusiveResources(
    tx,
    exclusive.map((s) => s.resource_id!),
  );
  return slotsTakenOnExclusiveResources(
    tx,
    exclusive.map((s) => s.id),
  );
}
