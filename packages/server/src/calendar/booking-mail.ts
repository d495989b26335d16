import type { SqlQuery } from '../db/database.js';
import type { Booking } from '../generated/prisma/client.js';
import { issueMagicLinks } from '../links/magic-links.js';
import type { Outbox, OutboxMail } from '../mail/outbox.js';
import { pii } from '../shared/pii.js';
import { composeBookingMail, METHOD_OF, type BookingMailKind, type BookingView, type Recipient } from './booking-mail-content.js';
import { manageLinkExpiry, type MailSettings } from './mail-settings.js';
import { cancelPendingReminders, selectBookingsForMail } from './calendar.store.js';

/** What the mail rules look at: a booking's state before and after one change. */
export type BookingState = Pick<Booking, 'id' | 'status' | 'startAt' | 'endAt' | 'icsSequence' | 'slotId' | 'resourceId' | 'locationId'> &
  Partial<Pick<Booking, 'title' | 'notes' | 'partySize'>>;

export interface BookingChange {
  /** null: the booking was created by this change. */
  before: BookingState | null;
  after: BookingState;
}

/** A confirmed booking's time changed (else, for an update: only what the parties see of it). */
export function moved(before: BookingState, after: BookingState): boolean {
  return before.startAt.getTime() !== after.startAt.getTime() || before.endAt.getTime() !== after.endAt.getTime();
}

/** Title, the customer's notes (stored sealed: a rewrite is a change) or party size changed. */
function detailsChanged(before: BookingState, after: BookingState): boolean {
  return before.title !== after.title || before.notes !== after.notes || before.partySize !== after.partySize;
}

/**
 * THE rule for which mail a booking change causes (seed 004 slice 3). Holds are private: a hold,
 * its expiry or its cancellation sends nothing. The first confirmation invites; a time change of a
 * confirmed booking, or a change of what the parties see of it (title, notes, party size), updates;
 * cancelling a confirmed booking cancels. Everything else: nothing.
 */
export function mailKindFor({ before, after }: BookingChange): Exclude<BookingMailKind, 'reminder'> | null {
  if (after.status === 'CONFIRMED' && (!before || before.status === 'HELD')) return 'invitation';
  if (after.status === 'CONFIRMED' && before?.status === 'CONFIRMED') {
    return moved(before, after) || detailsChanged(before, after) ? 'update' : null;
  }
  if (after.status === 'CANCELLED' && before?.status === 'CONFIRMED') return 'cancellation';
  return null;
}

interface MailRow {
  id: string;
  status: string;
  start_at: Date;
  end_at: Date;
  ics_uid: string;
  ics_sequence: number;
  customer_name: string;
  customer_email: string;
  customer_time_zone: string | null;
  resource_kind: string | null;
  resource_name: string | null;
  resource_email: string | null;
  form_title: string | null;
  location_name: string | null;
  location_address: string | null;
  time_zone: string;
  title: string | null;
  notes: string | null;
  party_size: number;
  mailed_before: boolean;
}

/**
 * Queues the mails booking changes cause, inside the transaction that made them (a rollback
 * queues nothing). Called by the booking engine's transaction steps themselves (confirmInTx,
 * cancelInTx, rescheduleInTx, the plain-SQL book and range paths), so every caller of those, the
 * GraphQL mutations, the manage page and reschedule proposals alike, sends the same mails.
 */
export class BookingMailer {
  constructor(
    readonly outbox: Pick<Outbox, 'enqueue'>,
    readonly settings: MailSettings,
  ) {}

  async bookingsChanged(tx: SqlQuery, changes: BookingChange[], now: Date): Promise<void> {
    const due = changes.map((change) => ({ change, kind: mailKindFor(change) })).filter((d) => d.kind !== null);
    if (!due.length) return;
    const rows = await loadBookings(tx, due.map((d) => d.change.after.id));
    const mails: OutboxMail[] = [];
    for (const { change, kind } of due) {
      const row = rows.get(change.after.id)!;
      // Slice 9: a booking nobody was ever mailed about (made before invites existed) is new to
      // its recipients, so its first mail invites, whatever its stored SEQUENCE.
      const effective = kind === 'update' && !row.mailed_before ? 'invitation' : kind!;
      if (kind !== 'invitation') await dropPendingReminders(tx, row.id);
      const detailsOnly = kind === 'update' && !moved(change.before!, change.after);
      mails.push(...(await this.mailsFor(tx, effective, row, now, detailsOnly)));
    }
    await this.outbox.enqueue(tx, mails);
  }

  private async mailsFor(tx: SqlQuery, kind: Exclude<BookingMailKind, 'reminder'>, row: MailRow, now: Date, detailsOnly = false): Promise<OutboxMail[]> {
    const view = { ...bookingView(row), detailsOnly };
    const method = METHOD_OF[kind]!;
    const mails: OutboxMail[] = [];
    const to = recipients(row, view);
    const urls = await this.manageUrls(tx, view, to, now);
    for (const [i, recipient] of to.entries()) {
      const manageUrl = urls[i]!;
      const content = composeBookingMail(kind, view, recipient, manageUrl, this.settings, now);
      mails.push({ kind, to: recipient.email, content, bookingId: view.id, ics: { uid: view.uid, sequence: view.sequence, method } });
      if (kind !== 'cancellation') mails.push(...this.reminders(view, recipient, manageUrl, now));
    }
    return mails;
  }

  /** REMINDER_MINUTES_BEFORE: one mail per recipient and lead time still ahead, keyed by SEQUENCE. */
  private reminders(view: BookingView, to: Recipient, manageUrl: string, now: Date): OutboxMail[] {
    return this.settings.reminderMinutes.flatMap((minutes) => {
      const dueAt = new Date(view.startAt.getTime() - minutes * 60_000);
      if (dueAt.getTime() <= now.getTime()) return [];
      return [
        {
          kind: 'reminder',
          to: to.email,
          content: composeBookingMail('reminder', view, to, manageUrl, this.settings, now),
          bookingId: view.id,
          dedupeKey: `reminder:${view.id}:${view.sequence}:${minutes}:${to.role}`,
          dueAt,
        },
      ];
    });
  }

  /** Each recipient's own manage link (one statement for all of them). */
  private async manageUrls(tx: SqlQuery, view: BookingView, to: Recipient[], now: Date): Promise<string[]> {
    const expiresAt = manageLinkExpiry(view.endAt, now);
    const tokens = await issueMagicLinks(tx, to.map((r) => ({ purpose: 'manage' as const, bookingId: view.id, role: r.role, email: r.email, expiresAt })));
    return tokens.map((token) => `${this.settings.publicUrl}/manage?t=${encodeURIComponent(token)}`);
  }
}

/** Reminders of an old time (or of a cancelled booking) that have not gone out are withdrawn. */
async function dropPendingReminders(tx: SqlQuery, bookingId: string): Promise<void> {
  await cancelPendingReminders(tx, bookingId);
}

/** Host (a PERSON resource with an email) and guest (the customer); rooms and facilities: the customer only. */
export function recipients(row: MailRow, view: BookingView): Recipient[] {
  const guest: Recipient = { role: 'guest', email: pii().decrypt(row.customer_email), name: row.customer_name, timeZone: row.customer_time_zone ?? view.timeZone };
  if (!view.session) return [guest];
  return [{ role: 'host', email: row.resource_email!, name: row.resource_name!, timeZone: view.timeZone }, guest];
}

export function bookingView(row: MailRow): BookingView {
  const session = row.resource_kind === 'PERSON' && row.resource_email ? { hostName: row.resource_name!, guestName: row.customer_name } : null;
  return {
    id: row.id,
    uid: row.ics_uid,
    sequence: row.ics_sequence,
    startAt: row.start_at,
    endAt: row.end_at,
    what: row.form_title ?? row.resource_name ?? 'Booking',
    title: row.title,
    // Plaintext in rows older than migration 0006, as the name.
    notes: row.notes ? pii().readText(row.notes) : null,
    partySize: row.party_size,
    session,
    location: row.location_name ? { title: row.location_name, address: row.location_address } : null,
    timeZone: row.time_zone,
  };
}

/** Everything the mails of these bookings show, as this transaction sees them (after the change). */
export async function loadBookings(q: SqlQuery, ids: string[]): Promise<Map<string, MailRow>> {
  const rows = await selectBookingsForMail<MailRow>(q, ids);
  // The name is encrypted at rest (plaintext in rows older than migration 0006).
  return new Map(rows.map((r) => [r.id, { ...r, customer_name: pii().readText(r.customer_name) }]));
}

export type { MailRow };
