import type { SqlQuery, SqlRunner } from '../db/database.js';
import type { Booking } from '../generated/prisma/client.js';
import { issueMagicLinks, renewManageLinks } from '../links/magic-links.js';
import { withoutAddresses } from '../mail/delivery.js';
import type { Outbox, OutboxMail } from '../mail/outbox.js';
import { pii } from '../shared/pii.js';
import { composeBookingMail, METHOD_OF, type BookingMailKind, type BookingView, type Recipient } from './booking-mail-content.js';
import { manageLinkExpiry, type MailSettings } from './mail-settings.js';
import {
  cancelPendingReminders,
  claimMailIntents,
  countMailIntents,
  deleteMailIntents,
  nextMailIntentIds,
  postponeMailIntent,
  selectBookingsForMail,
  type MailIntentRow,
} from './calendar.store.js';

/** What the mail rules look at: a booking's state before and after one change. */
export type BookingState = Pick<
  Booking,
  'id' | 'status' | 'startAt' | 'endAt' | 'icsSequence' | 'slotId' | 'resourceId' | 'locationId' | 'exclusive'
> &
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
 * A booking as one change left it: what its mail shows, whatever changed after. No personal data:
 * the customer's notes (a later change of them mails again) and contact data are read when rendering.
 */
interface IntentState {
  startAt: string;
  endAt: string;
  icsSequence: number;
  title?: string | null;
  partySize?: number;
}

/** A new intent row, as insertMailIntentsSql reads it. */
export type NewMailIntent = Pick<MailIntentRow<IntentState>, 'booking_id' | 'kind' | 'details_only' | 'state'>;

/** What one consumer run did. */
export interface MailRenderRun {
  /** Intents rendered into outbox mails. */
  rendered: number;
  /** Intents whose rendering failed; each waits (backoff) and is tried again. */
  failed: number;
}

/** Woken at commit by a change that recorded mail intents: the render job's channel (the outbox's wakes delivery). */
export const MAIL_INTENTS_CHANNEL = 'slotwise_mail_intents';

const RENDER_BATCH = 50;
const MAX_BATCHES_PER_RUN = 10;
const RETRY_BASE_MS = 5_000;
const RETRY_MAX_MS = 15 * 60_000;

/**
 * The mails booking changes cause, in two steps. Inside the change's transaction
 * (`intentsOf`, written by booking/booking-changes.ts for every booking change, so the GraphQL mutations,
 * the manage page and reschedule proposals send the same mails) only the intent is recorded:
 * which mail, and the booking as the change left it; a rollback records nothing. After commit,
 * `renderQueued` (a background job on every instance, woken at commit through MAIL_INTENTS_CHANNEL) renders the
 * mails and queues them in the outbox, deleting the intent in the same transaction: every
 * committed change gets its mails exactly once, and a crash leaves the intent for the next run.
 */
export class BookingMailer {
  constructor(
    readonly outbox: Pick<Outbox, 'enqueue'>,
    readonly settings: MailSettings,
  ) {}

  /** The intent rows of the changes that mail, as insertMailIntentsSql reads them (written with the change's other rows, booking/booking-changes.ts). */
  intentsOf(changes: BookingChange[]): NewMailIntent[] {
    return changes.flatMap((change) => {
      const kind = mailKindFor(change);
      if (!kind) return [];
      const { after } = change;
      const state: IntentState = {
        startAt: after.startAt.toISOString(),
        endAt: after.endAt.toISOString(),
        icsSequence: after.icsSequence,
        ...(after.title !== undefined ? { title: after.title } : {}),
        ...(after.partySize !== undefined ? { partySize: after.partySize } : {}),
      };
      return [{ booking_id: after.id, kind, details_only: kind === 'update' && !moved(change.before!, after), state }];
    });
  }

  /**
   * Renders due intents into outbox mails, in batches, each batch one transaction. Safe on many
   * instances: claims are FOR UPDATE SKIP LOCKED, and an intent waits while an earlier one of its
   * booking is pending (reminders withdrawn by an update must have been queued first). A batch that
   * fails is retried one intent at a time, so one bad intent holds back only its own booking.
   */
  async renderQueued(db: SqlRunner, batchSize = RENDER_BATCH): Promise<MailRenderRun> {
    const run: MailRenderRun = { rendered: 0, failed: 0 };
    for (let batch = 0; batch < MAX_BATCHES_PER_RUN; batch++) {
      let done: MailRenderRun;
      try {
        done = { rendered: await db.transaction((tx) => this.renderBatch(tx, batchSize)), failed: 0 };
      } catch {
        done = await this.renderOneByOne(db, batchSize);
      }
      run.rendered += done.rendered;
      run.failed += done.failed;
      if (done.rendered + done.failed < batchSize) break;
    }
    return run;
  }

  /** Intents waiting to be rendered (due or not): the consumer's backlog. */
  async backlog(db: SqlQuery): Promise<number> {
    return countMailIntents(db);
  }

  /** After a failed batch: each intent in its own transaction; one that fails again waits (doubling backoff). */
  private async renderOneByOne(db: SqlRunner, limit: number): Promise<MailRenderRun> {
    const run: MailRenderRun = { rendered: 0, failed: 0 };
    for (const id of await nextMailIntentIds(db, limit)) {
      try {
        run.rendered += await db.transaction((tx) => this.renderBatch(tx, 1, id));
      } catch (error) {
        run.failed++;
        await postponeMailIntent(db, id, withoutAddresses(error instanceof Error ? error.message : String(error)), RETRY_BASE_MS, RETRY_MAX_MS);
      }
    }
    return run;
  }

  /** Claims up to `limit` due intents (or the one given), renders and queues their mails, deletes them. Returns how many. */
  private async renderBatch(tx: SqlQuery, limit: number, onlyId?: string): Promise<number> {
    const intents = await claimMailIntents<IntentState>(tx, limit, onlyId);
    if (!intents.length) return 0;
    const rows = await loadBookings(tx, [...new Set(intents.map((i) => i.booking_id))]);
    const withdrawn = intents.filter((i) => i.kind !== 'invitation').map((i) => i.booking_id);
    if (withdrawn.length) await dropPendingReminders(tx, withdrawn);
    const views = intents.map((intent) => {
      const row = rows.get(intent.booking_id)!;
      // Slice 9: a booking nobody was ever mailed about (made before invites existed) is new to
      // its recipients, so its first mail invites, whatever its stored SEQUENCE.
      const kind = intent.kind === 'update' && !row.mailed_before ? 'invitation' : intent.kind;
      const view = { ...bookingView(row), ...stateView(intent.state), detailsOnly: intent.details_only };
      return { kind, view, row, now: intent.occurred_at };
    });
    const to = views.map(({ row, view }) => recipients(row, view));
    // The links in a moved booking's earlier mails keep working as long as the new ones.
    await renewManageLinks(
      tx,
      views
        .filter(({ kind, view }) => kind === 'update' && !view.detailsOnly)
        .map(({ view, now }) => ({ bookingId: view.id, expiresAt: manageLinkExpiry(view.endAt, now) })),
    );
    const urls = await this.manageUrls(
      tx,
      views.flatMap(({ view, now }, i) => to[i]!.map((recipient) => ({ view, recipient, now }))),
    );
    let next = 0;
    const mails = views.flatMap(({ kind, view, now }, i) =>
      to[i]!.flatMap((recipient) => {
        const manageUrl = urls[next++]!;
        const content = composeBookingMail(kind, view, recipient, manageUrl, this.settings, now);
        const mail: OutboxMail = {
          kind,
          to: recipient.email,
          content,
          bookingId: view.id,
          ics: { uid: view.uid, sequence: view.sequence, method: METHOD_OF[kind]! },
        };
        return kind === 'cancellation' ? [mail] : [mail, ...this.reminders(view, recipient, manageUrl, now)];
      }),
    );
    await this.outbox.enqueue(tx, mails);
    await deleteMailIntents(
      tx,
      intents.map((i) => i.id),
    );
    return intents.length;
  }

  /** REMINDER_MINUTES_BEFORE: one mail per recipient and lead time still ahead, keyed by SEQUENCE. */
  private reminders(view: BookingView, to: Recipient, manageUrl: string, now: Date): OutboxMail[] {
    // Rendered late (a backlog), a reminder whose time has passed since the change is not sent.
    const cutoff = Math.max(now.getTime(), Date.now());
    return this.settings.reminderMinutes.flatMap((minutes) => {
      const dueAt = new Date(view.startAt.getTime() - minutes * 60_000);
      if (dueAt.getTime() <= cutoff) return [];
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
  private async manageUrls(tx: SqlQuery, wanted: { view: BookingView; recipient: Recipient; now: Date }[]): Promise<string[]> {
    const tokens = await issueMagicLinks(
      tx,
      wanted.map(({ view, recipient, now }) => ({
        purpose: 'manage' as const,
        bookingId: view.id,
        role: recipient.role,
        email: recipient.email,
        expiresAt: manageLinkExpiry(view.endAt, now),
      })),
    );
    return tokens.map((token) => `${this.settings.publicUrl}/manage?t=${encodeURIComponent(token)}`);
  }
}

/** The recorded state over the booking as it is now. */
function stateView(state: IntentState): Partial<BookingView> {
  return {
    startAt: new Date(state.startAt),
    endAt: new Date(state.endAt),
    sequence: state.icsSequence,
    ...(state.title !== undefined ? { title: state.title } : {}),
    ...(state.partySize !== undefined ? { partySize: state.partySize } : {}),
  };
}

/** Reminders of an old time (or of a cancelled booking) that have not gone out are withdrawn. */
async function dropPendingReminders(tx: SqlQuery, bookingIds: string[]): Promise<void> {
  await cancelPendingReminders(tx, bookingIds);
}

/** Host (a PERSON resource with an email) and guest (the customer); rooms and facilities: the customer only. */
export function recipients(row: MailRow, view: BookingView): Recipient[] {
  const guest: Recipient = {
    role: 'guest',
    email: pii().decrypt(row.customer_email),
    name: row.customer_name,
    timeZone: row.customer_time_zone ?? view.timeZone,
  };
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
