import { decodeGlobalID } from '@pothos/plugin-relay';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, expectNoErrors, type TestApp } from '../../test/kit/app.js';
import { CANCEL, call } from '../../test/kit/documents.js';
import { gid } from '../../test/kit/fixtures.js';
import { REGISTER, publishedForm } from '../../test/kit/forms.js';
import { allText, parseIcs, queuedMails } from '../../test/kit/mail.js';

let t: TestApp;
let adminEmail: string;

beforeAll(async () => {
  t = await createTestApp();
  const now = () => new Date('2054-12-01T12:00:00Z');
  t.app.services.forms.now = now;
  t.app.services.registrations.now = now;
  adminEmail = expectNoErrors(await t.execute(`{ me { email } }`, {}, { token: t.adminToken })).me.email;
});
afterAll(() => t?.close());

const registrant = { name: 'Ada Lovelace', email: 'ada.registrant@mail.example' };

describe('registration mails (seed 000 MR-TS-6)', () => {
  it("list every slot in the form's zone across the spring-forward change, one VEVENT per slot; the creator gets the list too; a cancelled slot sends its CANCEL", async () => {
    // Sat, Sun (clocks go forward at 02:00) and Mon in New York, 5-6 PM: 22:00Z, then 21:00Z.
    const form = await publishedForm(t, {
      title: 'Soccer coaching',
      schedule: { daysOfWeek: [6, 7, 1], startTime: '17:00', endTime: '18:00', slotMinutes: 60, startDate: '2055-03-13', endDate: '2055-03-15' },
    });
    expect(form.slots.map((s) => s.startAt)).toEqual(['2055-03-13T22:00:00.000Z', '2055-03-14T21:00:00.000Z', '2055-03-15T21:00:00.000Z']);
    const result = expectNoErrors(
      await t.execute(REGISTER, { input: { formId: form.id, ...registrant, slotIds: [form.slots[2]!.id, form.slots[0]!.id, form.slots[1]!.id] } }),
    ).register;
    expect(result.__typename).toBe('Registration');
    const registrationId = decodeGlobalID(result.id).id;
    const mails = await queuedMails(t, 'registration_id = $1', [registrationId]);
    // Written in one statement: the same created_at, so read in kind order.
    expect(mails.map((m) => [m.kind, m.to, m.dedupeKey]).sort((a, b) => a[0]!.localeCompare(b[0]!))).toEqual([
      ['registration', registrant.email, `registration:${registrationId}`],
      ['registration-notice', adminEmail, `registration:${registrationId}:creator`],
    ]);
    // No per-booking invitations beside the one list.
    expect(await queuedMails(t, `kind = 'invitation'`)).toEqual([]);

    const toRegistrant = mails.find((m) => m.kind === 'registration');
    const toCreator = mails.find((m) => m.kind === 'registration-notice');
    expect(toRegistrant!.content.subject).toBe('Invitation: Soccer coaching, Sat Mar 13, 5:00–6:00 PM EST (+2 more)');
    const lines = toRegistrant!.content.text.split('\n').filter((l) => l.startsWith('- '));
    expect(lines).toEqual([
      '- Sat Mar 13, 5:00–6:00 PM (2055-03-13 22:00–23:00 UTC)',
      '- Sun Mar 14, 5:00–6:00 PM (2055-03-14 21:00–22:00 UTC)',
      '- Mon Mar 15, 5:00–6:00 PM (2055-03-15 21:00–22:00 UTC)',
    ]);
    expect(toRegistrant!.content.text).toContain('Times are in America/New_York.');
    expect(toRegistrant!.content.html).toContain('<li>Sun Mar 14, 5:00–6:00 PM <small>(2055-03-14 21:00–22:00 UTC)</small>');

    const bookings = await t.app.db.sql.query<{ id: string; ics_uid: string; start_at: Date }>(
      `SELECT b.id, b.ics_uid, b.start_at FROM registration_slots rs JOIN bookings b ON b.id = rs.booking_id WHERE rs.registration_id = $1 ORDER BY b.start_at`,
      [registrationId],
    );
    const ics = parseIcs(toRegistrant!.content.calendar!.ics);
    expect(ics.method).toBe('REQUEST');
    expect(ics.events.map((e) => [e.uid, e.sequence, e.start, e.summary])).toEqual(
      bookings.map((b) => [b.ics_uid, 0, b.start_at.toISOString(), 'Soccer coaching']),
    );
    for (const event of ics.events)
      expect(event.attendees).toEqual([{ value: `MAILTO:${registrant.email}`, rsvp: 'TRUE', partstat: 'NEEDS-ACTION' }]);

    expect(toCreator!.content.subject).toBe('New signup: Soccer coaching, Ada Lovelace');
    expect(toCreator!.content.text).toContain('- Sun Mar 14, 5:00–6:00 PM (2055-03-14 21:00–22:00 UTC)');
    expect(toCreator!.content.calendar).toBeUndefined();
    expect(allText(toCreator!.content)).not.toContain(registrant.email);

    // The Sunday slot's booking is cancelled: a CANCEL for that event alone, to the registrant.
    const sunday = bookings[1]!;
    await call(t, CANCEL, { bookingId: gid('Booking', sunday.id) }, { token: t.adminToken });
    const cancels = await queuedMails(t, 'booking_id = $1', [sunday.id]);
    expect(cancels.map((m) => [m.kind, m.to, m.icsUid, m.icsSequence, m.icsMethod])).toEqual([
      ['cancellation', registrant.email, sunday.ics_uid, 1, 'CANCEL'],
    ]);
    expect(cancels[0]!.content.subject).toBe('Cancelled: Soccer coaching, Sun Mar 14, 5:00–6:00 PM EDT');
    expect(parseIcs(cancels[0]!.content.calendar!.ics).events).toEqual([
      expect.objectContaining({ uid: sunday.ics_uid, sequence: 1, status: 'CANCELLED' }),
    ]);
  });

  it('a failed registration queues nothing', async () => {
    const form = await publishedForm(t, {
      slug: `full-${Date.now()}`,
      schedule: { daysOfWeek: [1], startTime: '17:00', endTime: '18:00', slotMinutes: 60, startDate: '2055-03-15', endDate: '2055-03-15' },
    });
    expect(
      expectNoErrors(await t.execute(REGISTER, { input: { formId: form.id, ...registrant, slotIds: [form.slots[0]!.id] } })).register.__typename,
    ).toBe('Registration');
    const before = (await queuedMails(t)).length;
    const late = expectNoErrors(
      await t.execute(REGISTER, { input: { formId: form.id, name: 'Late', email: 'late@mail.example', slotIds: [form.slots[0]!.id] } }),
    );
    expect(late.register.__typename).toBe('SlotsUnavailableError');
    expect((await queuedMails(t)).length).toBe(before);
  });
});
