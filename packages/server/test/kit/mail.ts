import ICAL from 'ical.js';
import type { SqlQuery } from '../../src/db/database.js';
import type { IcsMethod, MailContent } from '../../src/mail/mail-content.js';
import { readMailContent, type OutboxMail } from '../../src/mail/outbox.js';
import { pii } from '../../src/shared/pii.js';
import type { TestApp } from './app.js';

/** Outbox rows as a test reads them: recipient and content decrypted. */
export interface QueuedMail {
  id: string;
  kind: string;
  to: string;
  bookingId: string | null;
  registrationId: string | null;
  icsUid: string | null;
  icsSequence: number | null;
  icsMethod: string | null;
  dedupeKey: string | null;
  status: string;
  dueAt: Date;
  content: MailContent;
}

/**
 * Booking mails are rendered after their change commits (a server's background job): a test renders
 * them now, and waits for any a running server's job has claimed (failed ones waiting to be retried aside).
 */
export async function renderBookingMail(t: TestApp): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    await t.app.services.bookingMail.renderQueued(t.app.db.sql);
    const [row] = await t.app.db.sql.query<{ due: boolean }>(`SELECT EXISTS (SELECT 1 FROM booking_mail_intents WHERE due_at <= now()) AS due`);
    if (!row!.due) return;
    if (Date.now() > deadline) throw new Error('booking mail intents still pending after 10 s');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** The outbox rows matching `where`; given the test app, the booking mails of committed changes are rendered first. */
export async function queuedMails(from: SqlQuery | TestApp, where = 'true', params: unknown[] = []): Promise<QueuedMail[]> {
  if ('app' in from) await renderBookingMail(from);
  const sql = 'app' in from ? from.app.db.sql : from;
  const rows = await sql.query<Record<string, any>>(
    `SELECT id, kind, recipient, booking_id, registration_id, ics_uid, ics_sequence, ics_method, dedupe_key, status::text AS status, due_at, content
     FROM outbox_messages WHERE ${where} ORDER BY created_at, id`,
    params,
  );
  return rows.map((r) => ({
    id: r.id,
    kind: r.kind,
    to: pii().decrypt(r.recipient),
    bookingId: r.booking_id,
    registrationId: r.registration_id,
    icsUid: r.ics_uid,
    icsSequence: r.ics_sequence,
    icsMethod: r.ics_method,
    dedupeKey: r.dedupe_key,
    status: r.status,
    dueAt: new Date(r.due_at),
    content: readMailContent(r.content),
  }));
}

export interface ParsedEvent {
  uid: string;
  sequence: number;
  start: string;
  end: string;
  /** TZID of DTSTART, or 'UTC'. */
  zone: string;
  status: string;
  summary: string;
  description: string;
  location: string;
  organizer: string;
  attendees: { value: string; rsvp: string; partstat: string }[];
  stamp: string;
}

/** Parses an iCalendar object with ical.js (a real parser): METHOD, VTIMEZONEs and every VEVENT. */
export function parseIcs(ics: string): { method: string; timezones: ICAL.Component[]; events: ParsedEvent[] } {
  const calendar = new ICAL.Component(ICAL.parse(ics));
  const timezones = calendar.getAllSubcomponents('vtimezone');
  for (const vtz of timezones) ICAL.TimezoneService.register(vtz);
  try {
    const events = calendar.getAllSubcomponents('vevent').map((vevent) => {
      const event = new ICAL.Event(vevent);
      const stamp = vevent.getFirstPropertyValue('dtstamp') as ICAL.Time;
      return {
        uid: event.uid,
        sequence: event.sequence,
        start: event.startDate.toJSDate().toISOString(),
        end: event.endDate.toJSDate().toISOString(),
        zone: event.startDate.zone?.tzid ?? 'floating',
        status: String(vevent.getFirstPropertyValue('status')),
        summary: event.summary,
        description: event.description,
        location: event.location,
        organizer: String(vevent.getFirstPropertyValue('organizer')),
        attendees: vevent.getAllProperties('attendee').map((p) => ({
          value: String(p.getFirstValue()),
          rsvp: String(p.getParameter('rsvp')),
          partstat: String(p.getParameter('partstat')),
        })),
        stamp: stamp.toJSDate().toISOString(),
      };
    });
    return { method: String(calendar.getFirstPropertyValue('method')), timezones, events };
  } finally {
    for (const vtz of timezones) ICAL.TimezoneService.remove(String(vtz.getFirstPropertyValue('tzid')));
  }
}

/** Every text a recipient can see in one mail (subject, bodies, calendar part). */
export function allText(content: MailContent): string {
  // Long iCalendar lines are folded (CRLF + space): unfolded, an address split by a fold is found too.
  return [content.subject, content.text, content.html ?? '', (content.calendar?.ics ?? '').replace(/\r\n[ \t]/g, '')].join('\n');
}

/** NOTIFICATIONS_FROM_EMAIL in mail tests. */
export const FROM = 'bookings@slotwise.test';

/** A minimal hand-written iCalendar object: one VEVENT, one ATTENDEE. */
export function testIcs(method: IcsMethod, uid: string, sequence = 0): string {
  return [
    'BEGIN:VCALENDAR',
    'VERSION:2.0',
    'PRODID:-//Slotwise//delivery test//EN',
    `METHOD:${method}`,
    'BEGIN:VEVENT',
    `UID:${uid}`,
    `SEQUENCE:${sequence}`,
    'DTSTAMP:20261130T090000Z',
    'DTSTART:20261207T170000Z',
    'DTEND:20261207T180000Z',
    'SUMMARY:Session with Ada',
    `ORGANIZER:mailto:${FROM}`,
    'ATTENDEE;RSVP=TRUE;PARTSTAT=NEEDS-ACTION:mailto:guest@example.org',
    'END:VEVENT',
    'END:VCALENDAR',
    '',
  ].join('\r\n');
}

let uids = 0;
/** An invite to queue, with a fresh UID; its calendar part's method agrees with its ICS. */
export function invite(to: string, method: IcsMethod = 'REQUEST', sequence = 0): OutboxMail {
  const uid = `test-${++uids}-${Date.now()}@slotwise.test`;
  return {
    kind: method === 'CANCEL' ? 'cancellation' : 'invitation',
    to,
    ics: { uid, sequence, method },
    content: {
      subject: `Invitation: Session with Ada, Mon Dec 7, 5:00 PM`,
      text: 'You are invited.',
      html: '<p>You are invited.</p>',
      calendar: { method, ics: testIcs(method, uid, sequence) },
    },
  };
}
