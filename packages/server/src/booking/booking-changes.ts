import { MAIL_INTENTS_CHANNEL, type BookingChange, type BookingMailer, type BookingState } from '../calendar/booking-mail.js';
import type { SqlQuery } from '../db/database.js';
import { DOMAIN_EVENTS_CHANNEL, eventsJson, type DomainEventInput } from '../events/domain-events.js';
import type { SlotChange } from '../events/slot-events.js';
import { insertChangeRecords, selectCoveredSlots, type ChangeRecords, type CoverSpan } from './booking.store.js';

/**
 * Every booking change goes through here, inside its transaction: its lifecycle event is recorded
 * and, unless the caller mails otherwise (registrations send one mail for all slots), its mail
 * intent (rendered and queued after commit, see calendar/booking-mail.ts). Returns the changes of
 * the other slots it covered or uncovered, for the caller to publish with its own (coveredSlotChanges).
 */
export async function bookingsChanged(tx: SqlQuery, changes: BookingChange[], now: Date, mail: BookingMailer | null): Promise<SlotChange[]> {
  await insertChangeRecords(tx, changeRecords(changes, now, mail));
  return recordedBookingsChanged(tx, changes, now);
}

/** What bookingsChanged writes, for a caller that writes it in its own statement (new bookings: insertBookings); it then calls recordedBookingsChanged. */
export function changeRecords(changes: BookingChange[], now: Date, mail: BookingMailer | null): ChangeRecords {
  const events = changes.flatMap((change) => bookingEvent(change, now) ?? []);
  const intents = mail?.intentsOf(changes) ?? [];
  return {
    events: events.length ? { json: eventsJson(events), channel: DOMAIN_EVENTS_CHANNEL } : null,
    intents: intents.length ? { json: JSON.stringify(intents), channel: MAIL_INTENTS_CHANNEL } : null,
    now,
  };
}

/**
 * The rest of bookingsChanged once the change's records are written: the waitlist gives away freed
 * places; returns the covered or uncovered slots' changes to publish.
 */
export async function recordedBookingsChanged(tx: SqlQuery, changes: BookingChange[], now: Date): Promise<SlotChange[]> {
  await listener?.bookingsChanged(tx, changes, now);
  return coveredSlotChanges(tx, changes, now);
}

/**
 * A live booking on an exclusive resource takes the time of the resource's other slots it overlaps:
 * the database counts it in their `covered` (migration 0016), which makes them FULL. Those slots
 * changed with this transaction although nobody booked them; their changes are published like the
 * booking's own slot's, so live feeds and cached availability drop them, and show them again when
 * the booking is cancelled, expires or moves. One statement, only when such a booking's time changed.
 */
async function coveredSlotChanges(tx: SqlQuery, changes: BookingChange[], now: Date): Promise<SlotChange[]> {
  let uncovers = false;
  const spans = changes.flatMap(({ before, after }): CoverSpan[] => {
    const was = before && coverSpan(before);
    const is = coverSpan(after);
    if (was && is && was.resourceId === is.resourceId && was.slotId === is.slotId && sameTime(was, is)) return [];
    if (was) uncovers = true;
    return [was, is].filter((span): span is CoverSpan => Boolean(span));
  });
  if (!spans.length) return [];
  const slots = await selectCoveredSlots(tx, spans);
  // A slot given back its time has a place again: the waitlist may offer it.
  if (uncovers)
    await placesAdded(
      tx,
      slots.filter((s) => s.open).map((s) => s.change.slotId),
      now,
    );
  return slots.map((s) => s.change);
}

function coverSpan(state: BookingState): CoverSpan | null {
  if (!state.exclusive || !state.resourceId || !LIVE.has(state.status)) return null;
  return { resourceId: state.resourceId, startAt: state.startAt, endAt: state.endAt, slotId: state.slotId };
}

const sameTime = (a: CoverSpan, b: CoverSpan) => a.startAt.getTime() === b.startAt.getTime() && a.endAt.getTime() === b.endAt.getTime();

/** Slots whose capacity may have grown (a rule change), inside the transaction that changed them. */
export async function placesAdded(tx: SqlQuery, slotIds: string[], now: Date): Promise<void> {
  if (slotIds.length) await listener?.placesAdded(tx, slotIds, now);
}

/** Runs last in every booking change's transaction: the waitlist gives away the places a change frees. */
export interface PlaceListener {
  bookingsChanged(tx: SqlQuery, changes: BookingChange[], now: Date): Promise<void>;
  placesAdded(tx: SqlQuery, slotIds: string[], now: Date): Promise<void>;
}
let listener: PlaceListener | null = null;

/** Set once per process when services are built (the expiry sweeper changes bookings too, with no caller to pass it). */
export function listenForFreedPlaces(next: PlaceListener): void {
  listener = next;
}

const LIVE = new Set(['HELD', 'CONFIRMED']);

/** The slots a change gave a place back on: a live booking cancelled, expired or moved elsewhere. */
export function freedSlotIds(changes: BookingChange[]): string[] {
  const freed = changes.flatMap(({ before, after }) =>
    before && LIVE.has(before.status) && before.slotId && (!LIVE.has(after.status) || after.slotId !== before.slotId) ? [before.slotId] : [],
  );
  return [...new Set(freed)].sort();
}

/** THE rule for which lifecycle event a booking change is (null: none, e.g. a confirm replayed). */
export function bookingEventType({ before, after }: BookingChange): string | null {
  if (!before) return after.status === 'HELD' ? 'booking.held' : after.status === 'CONFIRMED' ? 'booking.confirmed' : null;
  if (before.status === after.status) {
    const moved = before.startAt.getTime() !== after.startAt.getTime() || before.endAt.getTime() !== after.endAt.getTime();
    return moved ? 'booking.rescheduled' : null;
  }
  if (after.status === 'CONFIRMED') return 'booking.confirmed';
  if (after.status === 'CANCELLED') return 'booking.cancelled';
  if (after.status === 'EXPIRED') return 'booking.expired';
  return null;
}

function bookingEvent(change: BookingChange, now: Date): DomainEventInput | null {
  const type = bookingEventType(change);
  if (!type) return null;
  const { before, after } = change;
  return {
    type,
    aggregateType: 'booking',
    aggregateId: after.id,
    occurredAt: now,
    newAggregate: !before,
    payload: {
      bookingId: after.id,
      status: after.status,
      previousStatus: before?.status ?? null,
      slotId: after.slotId,
      resourceId: after.resourceId,
      locationId: after.locationId,
      startAt: after.startAt.toISOString(),
      endAt: after.endAt.toISOString(),
      ...(type === 'booking.rescheduled' ? { previousStartAt: before!.startAt.toISOString(), previousEndAt: before!.endAt.toISOString() } : {}),
      icsSequence: after.icsSequence,
    },
  };
}
