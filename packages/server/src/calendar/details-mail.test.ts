import { decodeGlobalID } from '@pothos/plugin-relay';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../../test/kit/app.js';
import { BOOK, CONFIRM, HOLD, call } from '../../test/kit/documents.js';
import { gid, GUEST, HOST, clinic } from '../../test/kit/fixtures.js';
import { parseIcs, queuedMails } from '../../test/kit/mail.js';

/** Issue #20: updateBooking mails the parties when what they see changes (title, notes, party), and only then. */
let t: TestApp;
let c: Awaited<ReturnType<typeof clinic>>;
let staff: string;

const UPDATE = `mutation ($input: UpdateBookingInput!) { updateBooking(input: $input) {
  __typename ... on Booking { icsSequence title notes partySize } ... on Error { code message } } }`;
const mailsOf = (id: string) => queuedMails(t, 'booking_id = $1', [decodeGlobalID(id).id]);

beforeAll(async () => {
  t = await createTestApp();
  c = await clinic(t);
  staff = await t.tokenFor(['manager']);
});
afterAll(() => t?.close());

describe('updateBooking mails', () => {
  it('a new title and notes: an update to host and guest, SEQUENCE + 1, the title as summary and the notes in the description', async () => {
    const slot = await c.slot('2055-01-12T15:00:00Z', 30, 3);
    const { booking, manageToken } = await call(t, BOOK, { slotId: gid('Slot', slot), customer: GUEST, title: 'Skin check', partySize: 2 });
    const invites = await mailsOf(booking.id);
    const invite = invites.find((m) => m.kind === 'invitation' && m.to === GUEST.email)!;
    expect(invite.content.subject).toBe('Invitation: Skin check, Tue Jan 12, 10:00–10:30 AM EST');
    expect(invite.content.text).toContain('Party: 2 people');

    const updated = await call(t, UPDATE, {
      bookingId: booking.id,
      manageToken,
      title: 'Skin and allergy check',
      notes: 'Second opinion\nBring the scans',
    });
    expect(updated).toMatchObject({ __typename: 'Booking', icsSequence: 1 });
    const updates = (await mailsOf(booking.id)).filter((m) => m.kind === 'update');
    expect(updates.map((m) => m.to).sort()).toEqual([HOST.email, GUEST.email].sort());
    for (const mail of updates) {
      expect(mail.icsSequence).toBe(1);
      expect(mail.content.subject).toMatch(/^Updated: Skin and allergy check, /);
      expect(mail.content.text).toContain('Your booking of Skin and allergy check has been updated.');
      expect(mail.content.text).toContain('Notes:\nSecond opinion\nBring the scans');
      expect(mail.content.html).toContain('Second opinion<br>Bring the scans');
      const event = parseIcs(mail.content.calendar!.ics).events[0]!;
      expect(event).toMatchObject({ uid: booking.icsUid, sequence: 1, summary: 'Skin and allergy check', start: '2055-01-12T15:00:00.000Z' });
      expect(event.description).toContain('Second opinion\nBring the scans');
      expect(event.description).toContain('Party: 2 people');
    }
  });

  it('internal notes change nothing the parties see: no mail, same SEQUENCE; a hold sends nothing either', async () => {
    const slot = await c.slot('2055-01-13T15:00:00Z', 30, 3);
    const { booking } = await call(t, BOOK, { slotId: gid('Slot', slot), customer: GUEST });
    const before = (await mailsOf(booking.id)).length;
    expect(await call(t, UPDATE, { bookingId: booking.id, internalNotes: 'Prefers mornings' }, { token: staff })).toMatchObject({ icsSequence: 0 });
    expect((await mailsOf(booking.id)).length).toBe(before);

    // Another guest: one live booking per slot per customer (seed 003).
    const other = { ...GUEST, email: 'ada.guest@mail.example' };
    const held = await call(t, HOLD, { slotId: gid('Slot', slot), customer: other });
    await call(t, UPDATE, { bookingId: held.booking.id, manageToken: held.manageToken, title: 'Held', partySize: 2 });
    expect(await mailsOf(held.booking.id)).toEqual([]);
    // Confirmed later: the invitation carries what was set while held.
    await call(t, CONFIRM, { bookingId: held.booking.id, manageToken: held.manageToken });
    const invite = (await mailsOf(held.booking.id)).find((m) => m.kind === 'invitation' && m.to === other.email)!;
    expect(invite.content.subject).toMatch(/^Invitation: Held, /);
    expect(invite.content.text).toContain('Party: 2 people');
  });
});
