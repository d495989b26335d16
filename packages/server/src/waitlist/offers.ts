import type { BookingChange } from '../calendar/booking-mail.js';
import type { MailSettings } from '../calendar/mail-settings.js';
import type { SqlQuery } from '../db/database.js';
import { withSavepoint } from '../db/savepoint.js';
import { freedSlotIds, type PlaceListener } from '../booking/booking-changes.js';
import { bookSlotsInTransaction } from '../booking/multi-slot.js';
import { recordEvents, type DomainEventInput } from '../events/domain-events.js';
import { issueMagicLink } from '../links/magic-links.js';
import type { Outbox } from '../mail/outbox.js';
import { pii } from '../shared/pii.js';
import { localWhen } from '../calendar/wording.js';
import { closeOffers, firstWaiting, lockFreeSlots, markOffered, offerDetails, type WaitlistRow, type WaitlistStatus } from './waitlist.store.js';

/** What ends an offer: the customer confirmed its hold, let it lapse, or cancelled it. */
const OFFER_END: Record<string, WaitlistStatus> = { CONFIRMED: 'BOOKED', EXPIRED: 'LAPSED', CANCELLED: 'LEFT' };

export function waitlistEvent(type: string, entry: WaitlistRow, now: Date, extra: Record<string, unknown> = {}): DomainEventInput {
  return {
    type,
    aggregateType: 'waitlist',
    aggregateId: entry.id,
    occurredAt: now,
    payload: { entryId: entry.id, slotId: entry.slot_id, resourceId: entry.resource_id, status: entry.status, ...extra },
  };
}

/**
 * Gives freed places to the waitlist, inside the transaction that freed them (a cancellation, an
 * expired hold, a move): the public never sees such a place free while someone waits for it. The
 * freed slot is locked first (as every booking path does), so concurrent cancellations of one slot
 * offer its places one after another, in line order. Each offer is a hold of WAITLIST_OFFER_MINUTES
 * and a mail with a link to confirm it; when the hold lapses, its expiry frees the place again and
 * the next one in line gets it. An offer that cannot be made (the customer may not book that slot)
 * is rolled back to its savepoint and the next one is tried: the freeing change always commits.
 */
export class WaitlistOffers implements PlaceListener {
  constructor(
    private readonly outbox: Pick<Outbox, 'enqueue'>,
    private readonly settings: MailSettings,
    private readonly offerMinutes: number,
  ) {}

  async bookingsChanged(tx: SqlQuery, changes: BookingChange[], now: Date): Promise<void> {
    const ended = changes.flatMap(({ before, after }) =>
      before?.status === 'HELD' && OFFER_END[after.status] ? [{ bookingId: after.id, status: OFFER_END[after.status]! }] : [],
    );
    const closed = await closeOffers(tx, ended);
    await recordEvents(
      tx,
      closed.map((entry) => waitlistEvent(`waitlist.${entry.status.toLowerCase()}`, entry, now)),
    );
    await this.placesAdded(tx, freedSlotIds(changes), now);
  }

  /** Offers every free place of these slots to those waiting, first in line first. */
  async placesAdded(tx: SqlQuery, slotIds: string[], now: Date): Promise<void> {
    if (!slotIds.length) return;
    for (const slot of await lockFreeSlots(tx, slotIds, now)) {
      if (slot.free < 1) continue;
      let given = 0;
      for (const entry of await firstWaiting(tx, slot, slot.free + 5)) {
        if (given === slot.free) break;
        if (await this.offer(tx, entry, slot.id, now)) given++;
      }
    }
  }

  private async offer(tx: SqlQuery, entry: WaitlistRow, slotId: string, now: Date): Promise<boolean> {
    const p = pii();
    const customer = {
      name: p.readText(entry.customer_name),
      email: p.decrypt(entry.customer_email),
      phone: entry.customer_phone ? p.decrypt(entry.customer_phone) : null,
      // The zone they read times in, as a booking of their own would keep it.
      timeZone: entry.customer_time_zone ?? undefined,
    };
    try {
      return await withSavepoint(tx, 'waitlist_offer', async () => {
        const { bookings } = await bookSlotsInTransaction(tx, {
          slotIds: [slotId],
          customer,
          actorLabel: 'system:waitlist',
          status: 'HELD',
          now,
          holdTtlMinutes: this.offerMinutes,
          mail: null,
        });
        const booking = bookings[0]!;
        await markOffered(tx, entry.id, booking.id, now);
        await this.mailOffer(tx, entry, customer, booking.id, slotId, booking.holdExpiresAt!);
        await recordEvents(tx, [
          waitlistEvent('waitlist.offered', { ...entry, status: 'OFFERED' }, now, { bookingId: booking.id, offeredSlotId: slotId }),
        ]);
        return true;
      });
    } catch {
      return false;
    }
  }

  private async mailOffer(
    tx: SqlQuery,
    entry: WaitlistRow,
    customer: { name: string; email: string },
    bookingId: string,
    slotId: string,
    until: Date,
  ) {
    const slot = await offerDetails(tx, slotId);
    const token = await issueMagicLink(tx, { purpose: 'manage', bookingId, role: 'guest', email: customer.email, expiresAt: until });
    const link = `${this.settings.publicUrl}/manage?t=${encodeURIComponent(token)}`;
    const zone = entry.customer_time_zone ?? slot.time_zone;
    // As the booking mails write a time: "Mon Dec 7, 9:30–10:00 AM EST".
    const when = localWhen(slot.start_at, slot.end_at, zone);
    const holdUntil = new Intl.DateTimeFormat('en', { dateStyle: 'medium', timeStyle: 'short', timeZone: zone }).format(until);
    const what = [slot.resource_name, slot.location_name].filter(Boolean).join(', ');
    const text = [
      `Hello ${customer.name},`,
      '',
      `A place you were waiting for is free: ${what}, ${when} (${zone}).`,
      `It is held for you until ${holdUntil}. Confirm it here:`,
      link,
      '',
      'If you do not confirm it by then, it goes to the next person waiting.',
    ].join('\n');
    await this.outbox.enqueue(tx, [
      {
        kind: 'waitlist-offer',
        to: customer.email,
        bookingId,
        dedupeKey: `waitlist-offer:${entry.id}:${bookingId}`,
        content: { subject: `A place is free: ${when}`, text },
      },
    ]);
  }
}
