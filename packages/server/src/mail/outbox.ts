import type { SqlQuery } from '../db/database.js';
import { notifyAtCommit } from '../db/listen.js';
import { insertOutboxRows } from './mail.store.js';
import { pii } from '../shared/pii.js';
import type { IcsMethod, MailContent } from './mail-content.js';
import { checkCalendarPart } from './mime.js';

export interface OutboxMail {
  /** What the mail is about: invitation, update, cancellation, reminder, registration, proposal, ... */
  kind: string;
  to: string;
  content: MailContent;
  bookingId?: string | null;
  registrationId?: string | null;
  /** An invite's identity: (uid, sequence, recipient, method) is queued at most once. */
  ics?: { uid: string; sequence: number; method: IcsMethod };
  /** The duplicate guard of a mail that is not one invite. */
  dedupeKey?: string;
  /** First send time (reminders); now when left out. */
  dueAt?: Date;
}

/**
 * Writes mails to the outbox inside the caller's transaction, so a change and its mails commit or
 * roll back together. A mail whose key is already queued is skipped. Returns the ids queued.
 */
export class Outbox {
  /** Right-hand side of every Message-ID: the sender's domain. */
  private readonly messageIdDomain: string;

  constructor(config: { NOTIFICATIONS_FROM_EMAIL: string }) {
    this.messageIdDomain = config.NOTIFICATIONS_FROM_EMAIL.split('@').pop()!;
  }

  async enqueue(tx: SqlQuery, mails: OutboxMail[]): Promise<string[]> {
    if (!mails.length) return [];
    const p = pii();
    const rows = mails.map((m) => {
      if (!m.ics && !m.dedupeKey) throw new Error(`outbox mail ${m.kind} needs ics or dedupeKey`);
      // A mismatch is a bug in the caller: refused here, in its own transaction, not at delivery.
      if (m.content.calendar) checkCalendarPart(m.content.calendar);
      return {
        kind: m.kind,
        booking_id: m.bookingId ?? null,
        registration_id: m.registrationId ?? null,
        ics_uid: m.ics?.uid ?? null,
        ics_sequence: m.ics?.sequence ?? null,
        ics_method: m.ics?.method ?? null,
        recipient: p.encrypt(m.to),
        recipient_hash: p.emailHash(m.to),
        dedupe_key: m.dedupeKey ?? null,
        content: p.encrypt(JSON.stringify(m.content)),
        due_at: (m.dueAt ?? null)?.toISOString() ?? null,
      };
    });
    const inserted = await insertOutboxRows(tx, JSON.stringify(rows), this.messageIdDomain);
    // Delivered at commit only (never for a rollback): wakes the delivery workers at once (listenForNotifications in src/db/listen.ts).
    if (inserted.length) await notifyAtCommit(tx, OUTBOX_CHANNEL);
    return inserted.map((r) => r.id);
  }
}

/** The NOTIFY channel that announces committed outbox rows. */
export const OUTBOX_CHANNEL = 'slotwise_outbox';

/** The stored content of an outbox row, decrypted. */
export function readMailContent(stored: string): MailContent {
  return JSON.parse(pii().decrypt(stored)) as MailContent;
}
