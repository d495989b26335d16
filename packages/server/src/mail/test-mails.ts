import type { IcsMethod } from './mail-content.js';
import type { OutboxMail } from './outbox.js';

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
