import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../../test/kit/app.js';
import { BOOK, CANCEL, RESCHEDULE, call } from '../../test/kit/documents.js';
import { gid, GUEST, HOST, clinic } from '../../test/kit/fixtures.js';
import { parseIcs, renderBookingMail } from '../../test/kit/mail.js';
import { mimeTree, startMailServer, type MailServer, type ReceivedMail } from '../../test/mail-server.js';
import { mailDeliveryFromConfig } from '../mail/delivery.js';

/**
 * Issue #12 end to end: booking changes through the API, the delivery worker, a real SMTP server,
 * every message parsed back with mailparser and its invite with ical.js.
 */
let t: TestApp;
let smtp: MailServer;
let c: Awaited<ReturnType<typeof clinic>>;

beforeAll(async () => {
  smtp = await startMailServer();
  t = await createTestApp({ config: { SMTP_URL: smtp.url } });
  c = await clinic(t);
});
afterAll(async () => {
  await t?.close();
  await smtp?.close();
});

/** Renders the committed changes' mails, delivers what is due (a second ahead of the database clock) and returns the next `count` messages. */
async function deliver(count: number): Promise<ReceivedMail[]> {
  smtp.reset();
  await renderBookingMail(t);
  await mailDeliveryFromConfig(t.app, { now: () => new Date(Date.now() + 1_000) }).runOnce();
  const mails = await smtp.waitForMessages(count);
  expect(smtp.messages).toHaveLength(count);
  return mails;
}

/** One received invite: MIME structure, method agreement, the attachment, and the ICS read back. */
function invite(mail: ReceivedMail) {
  const tree = mimeTree(mail.raw);
  expect(tree.type).toBe('multipart/mixed');
  const [alternative, attachment] = tree.children;
  expect(alternative!.children.map((p) => p.type)).toEqual(['text/plain', 'text/html', 'text/calendar']);
  expect(attachment).toMatchObject({ disposition: 'attachment', filename: 'invite.ics' });
  const ics = mail.parsed.attachments.find((a) => a.filename === 'invite.ics')!.content.toString('utf8');
  const parsed = parseIcs(ics);
  expect(alternative!.children[2]!.params.method).toBe(parsed.method);
  expect(parsed.events).toHaveLength(1);
  const [to] = mail.envelope.to;
  expect(parsed.events[0]!.attendees).toEqual([{ value: `MAILTO:${to}`, rsvp: 'TRUE', partstat: 'NEEDS-ACTION' }]);
  // Privacy: the other party's address is nowhere in what this recipient receives.
  const other = to === HOST.email ? GUEST.email : HOST.email;
  const seen = [mail.raw, mail.parsed.text ?? '', String(mail.parsed.html), ics.replace(/\r\n[ \t]/g, '')].join('\n');
  expect(seen).not.toContain(other);
  return { to: to!, subject: mail.parsed.subject!, method: parsed.method, event: parsed.events[0]! };
}

describe('calendar invites over SMTP', () => {
  it('book -> two REQUESTs; reschedule -> REQUESTs with SEQUENCE + 1; cancel -> CANCELs; same UID throughout', async () => {
    const { booking, manageToken } = await call(t, BOOK, { slotId: gid('Slot', await c.slot('2055-01-05T15:00:00Z')), customer: GUEST });

    const booked = (await deliver(2)).map(invite).sort((a, b) => a.to.localeCompare(b.to));
    expect(booked.map((m) => [m.to, m.method, m.event.uid, m.event.sequence, m.event.start])).toEqual([
      [HOST.email, 'REQUEST', booking.icsUid, 0, '2055-01-05T15:00:00.000Z'],
      [GUEST.email, 'REQUEST', booking.icsUid, 0, '2055-01-05T15:00:00.000Z'],
    ]);
    expect(booked.map((m) => m.subject)).toEqual([
      'Invitation: Session with Grace, Tue Jan 5, 10:00–10:30 AM EST',
      'Invitation: Session with Ada, Tue Jan 5, 10:00–10:30 AM EST',
    ]);

    await call(t, RESCHEDULE, { bookingId: booking.id, manageToken, slotId: gid('Slot', await c.slot('2055-01-06T16:00:00Z', 60)) });
    const moved = (await deliver(2)).map(invite);
    expect(moved.map((m) => [m.method, m.event.uid, m.event.sequence, m.event.start, m.event.end])).toEqual([
      ['REQUEST', booking.icsUid, 1, '2055-01-06T16:00:00.000Z', '2055-01-06T17:00:00.000Z'],
      ['REQUEST', booking.icsUid, 1, '2055-01-06T16:00:00.000Z', '2055-01-06T17:00:00.000Z'],
    ]);
    expect(moved.every((m) => m.subject.startsWith('Updated: '))).toBe(true);

    await call(t, CANCEL, { bookingId: booking.id, manageToken });
    const cancelled = (await deliver(2)).map(invite);
    expect(cancelled.map((m) => [m.method, m.event.uid, m.event.sequence, m.event.status])).toEqual([
      ['CANCEL', booking.icsUid, 2, 'CANCELLED'],
      ['CANCEL', booking.icsUid, 2, 'CANCELLED'],
    ]);
    expect(cancelled.map((m) => m.to).sort()).toEqual([GUEST.email, HOST.email].sort());
  });
});
