import { decodeGlobalID } from '@pothos/plugin-relay';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../../test/kit/app.js';
import { BOOK, CANCEL, CONFIRM, HOLD, RESCHEDULE, call } from '../../test/kit/documents.js';
import { gid, GUEST, HOST, clinic } from '../../test/kit/fixtures.js';
import { allText, parseIcs, queuedMails, renderBookingMail, type QueuedMail } from '../../test/kit/mail.js';
import { pii } from '../shared/pii.js';

let t: TestApp;
let c: Awaited<ReturnType<typeof clinic>>;

beforeAll(async () => {
  t = await createTestApp();
  c = await clinic(t);
});
afterAll(() => t?.close());

const dbId = (id: string) => (id.includes('-') ? id : decodeGlobalID(id).id);
/** A booking's outbox rows (by database id or global id). */
const mailsOf = (id: string) => queuedMails(t, 'booking_id = $1', [dbId(id)]);
const countAll = async () =>
  (await renderBookingMail(t), await t.app.db.sql.query<{ n: number }>(`SELECT count(*)::int AS n FROM outbox_messages`))[0]!.n;
const guest = { ...GUEST, timeZone: 'Europe/Lisbon' };

/** Every invite must parse, carry the booking's identity, and name exactly its own recipient. */
function expectInvite(mail: QueuedMail, method: 'REQUEST' | 'CANCEL', booking: { icsUid: string; startAt: string; endAt: string }, sequence: number) {
  expect(mail).toMatchObject({ icsUid: booking.icsUid, icsSequence: sequence, icsMethod: method, status: 'PENDING' });
  expect(mail.content.calendar!.method).toBe(method);
  const ics = parseIcs(mail.content.calendar!.ics);
  expect(ics.method).toBe(method);
  expect(ics.events).toHaveLength(1);
  expect(ics.events[0]).toMatchObject({
    uid: booking.icsUid,
    sequence,
    start: new Date(booking.startAt).toISOString(),
    end: new Date(booking.endAt).toISOString(),
    status: method === 'CANCEL' ? 'CANCELLED' : 'CONFIRMED',
    organizer: 'mailto:slotwise@example.com',
  });
  expect(ics.events[0]!.attendees).toEqual([{ value: `MAILTO:${mail.to}`, rsvp: 'TRUE', partstat: 'NEEDS-ACTION' }]);
  return ics.events[0]!;
}

function expectPrivate(mails: QueuedMail[]) {
  for (const mail of mails) {
    const other = mail.to === HOST.email ? GUEST.email : HOST.email;
    expect(allText(mail.content)).not.toContain(other);
  }
}

describe('a session (a PERSON with an email): host and guest', () => {
  it('book -> two REQUESTs (SEQUENCE 0); reschedule -> two REQUESTs (SEQUENCE 1, new times); cancel -> two CANCELs (SEQUENCE 2)', async () => {
    const first = await c.slot('2055-01-05T15:00:00Z');
    const second = await c.slot('2055-01-06T16:00:00Z', 60);
    const { booking, manageToken } = await call(t, BOOK, { slotId: gid('Slot', first), customer: guest });
    const booked = await mailsOf(booking.id);
    expect(booked.map((m) => [m.kind, m.to]).sort()).toEqual([
      ['invitation', HOST.email],
      ['invitation', GUEST.email],
    ]);
    for (const mail of booked) expectInvite(mail, 'REQUEST', booking, 0);
    expectPrivate(booked);
    const toHost = booked.find((m) => m.to === HOST.email)!;
    const toGuest = booked.find((m) => m.to === GUEST.email)!;
    // Each in its reader's zone beside UTC, the title naming the other party by first name.
    expect(toHost.content.subject).toBe('Invitation: Session with Grace, Tue Jan 5, 10:00–10:30 AM EST');
    expect(toGuest.content.subject).toBe('Invitation: Session with Ada, Tue Jan 5, 3:00–3:30 PM GMT+0');
    expect(toHost.content.text).toContain('When:  Tue Jan 5, 10:00–10:30 AM EST (America/New_York)\n       2055-01-05 15:00–15:30 UTC');
    expect(toGuest.content.text).toContain('When:  Tue Jan 5, 3:00–3:30 PM GMT+0 (Europe/Lisbon)');
    expect(toGuest.content.text).toContain('Where: Riverside Clinic, 1 River St');
    expect(toGuest.content.text).toMatch(/See or cancel this booking: http:\/\/localhost:4000\/manage\?t=ml_[\w-]+/);
    expect(toGuest.content.html).toContain('Session with Ada');
    expect(parseIcs(toGuest.content.calendar!.ics).events[0]).toMatchObject({
      summary: 'Session with Ada',
      location: 'Riverside Clinic\n1 River St',
    });
    expect(parseIcs(toHost.content.calendar!.ics).events[0]!.summary).toBe('Session with Grace');
    const links = await t.app.db.sql.query<{ role: string; email_hash: string }>(
      `SELECT role::text, email_hash FROM magic_links WHERE booking_id = $1 ORDER BY role`,
      [dbId(booking.id)],
    );
    expect(links).toEqual([
      { role: 'guest', email_hash: pii().emailHash(GUEST.email) },
      { role: 'host', email_hash: pii().emailHash(HOST.email) },
    ]);

    const moved = await call(t, RESCHEDULE, { bookingId: booking.id, manageToken, slotId: gid('Slot', second) });
    expect(moved).toMatchObject({ __typename: 'Booking', icsUid: booking.icsUid, icsSequence: 1 });
    const updates = (await mailsOf(booking.id)).filter((m) => m.kind === 'update');
    expect(updates.map((m) => m.to).sort()).toEqual([GUEST.email, HOST.email].sort());
    for (const mail of updates) expectInvite(mail, 'REQUEST', moved, 1);
    expect(updates.find((m) => m.to === HOST.email)!.content.subject).toBe('Updated: Session with Grace, Wed Jan 6, 11:00 AM–12:00 PM EST');
    expectPrivate(updates);

    const cancelled = await call(t, CANCEL, { bookingId: booking.id, manageToken });
    expect(cancelled).toMatchObject({ status: 'CANCELLED', icsSequence: 2 });
    const cancels = (await mailsOf(booking.id)).filter((m) => m.kind === 'cancellation');
    expect(cancels.map((m) => m.to).sort()).toEqual([GUEST.email, HOST.email].sort());
    for (const mail of cancels) expectInvite(mail, 'CANCEL', moved, 2);
    expect(cancels.find((m) => m.to === GUEST.email)!.content.subject).toBe('Cancelled: Session with Ada, Wed Jan 6, 4:00–5:00 PM GMT+0');
    expectPrivate(cancels);

    // Cancelling again changes nothing and queues nothing.
    await call(t, CANCEL, { bookingId: booking.id, manageToken });
    expect(await mailsOf(booking.id)).toHaveLength(6);
  });

  it("a moved booking's manage links, those of its first mails too, last until a week after its new end", async () => {
    const first = await c.slot('2055-02-05T15:00:00Z');
    const later = await c.slot('2055-03-10T16:00:00Z', 60);
    const { booking, manageToken } = await call(t, BOOK, { slotId: gid('Slot', first), customer: guest });
    await mailsOf(booking.id);
    const expiries = () =>
      t.app.db.sql
        .query<{ expires_at: Date }>(`SELECT expires_at FROM magic_links WHERE booking_id = $1 AND purpose = 'manage'`, [dbId(booking.id)])
        .then((rows) => rows.map((r) => r.expires_at.toISOString()));
    expect(await expiries()).toEqual(Array(2).fill('2055-02-12T15:30:00.000Z'));
    expect(await call(t, RESCHEDULE, { bookingId: booking.id, manageToken, slotId: gid('Slot', later) })).toMatchObject({ icsSequence: 1 });
    await mailsOf(booking.id);
    expect(await expiries()).toEqual(Array(4).fill('2055-03-17T17:00:00.000Z'));
  });

  it('a hold sends nothing: not when placed, not when it expires, not when it is cancelled; its confirmation invites', async () => {
    const before = await countAll();
    const expiring = await call(t, HOLD, { slotId: gid('Slot', await c.slot('2055-01-07T15:00:00Z')), customer: guest });
    await t.app.db.sql.query(`UPDATE bookings SET hold_expires_at = now() - interval '1 second' WHERE id = $1`, [dbId(expiring.booking.id)]);
    await t.app.services.bookings.releaseExpiredHolds();
    expect(
      (await t.app.db.sql.query<{ status: string }>(`SELECT status::text FROM bookings WHERE id = $1`, [dbId(expiring.booking.id)]))[0]!.status,
    ).toBe('EXPIRED');
    const dropped = await call(t, HOLD, { slotId: gid('Slot', await c.slot('2055-01-07T16:00:00Z')), customer: guest });
    await call(t, CANCEL, { bookingId: dropped.booking.id, manageToken: dropped.manageToken });
    const kept = await call(t, HOLD, { slotId: gid('Slot', await c.slot('2055-01-07T17:00:00Z')), customer: guest });
    expect(await countAll()).toBe(before);

    const confirmed = await call(t, CONFIRM, { bookingId: kept.booking.id, manageToken: kept.manageToken });
    const mails = await mailsOf(kept.booking.id);
    expect(mails.map((m) => m.kind)).toEqual(['invitation', 'invitation']);
    for (const mail of mails) expectInvite(mail, 'REQUEST', confirmed, 0);
  });

  it('a rolled-back booking queues nothing; a booking whose mails fail to render keeps them pending until they can be', async () => {
    const full = await c.slot('2055-01-08T15:00:00Z');
    await call(t, BOOK, { slotId: gid('Slot', full), customer: guest });
    const before = await countAll();
    expect(await call(t, BOOK, { slotId: gid('Slot', full), customer: { name: 'Late', email: 'late@mail.example' } })).toMatchObject({
      __typename: 'SlotFullError',
    });
    expect(await countAll()).toBe(before);

    // Mails are rendered after commit. The outbox refuses the host's row: the booking stands, the
    // render rolls back (no guest mail, no links) and its intent waits to be tried again.
    await t.app.db.sql.exec(`
      CREATE FUNCTION refuse_mail() RETURNS trigger AS $$ BEGIN RAISE EXCEPTION 'mail refused'; END $$ LANGUAGE plpgsql;
      CREATE TRIGGER refuse_mail BEFORE INSERT ON outbox_messages FOR EACH ROW
        WHEN (NEW.kind = 'invitation' AND NEW.recipient_hash = '${pii().emailHash(HOST.email)}') EXECUTE FUNCTION refuse_mail();`);
    const slot = await c.slot('2055-01-08T16:00:00Z');
    let booking: { id: string };
    try {
      ({ booking } = await call(t, BOOK, { slotId: gid('Slot', slot), customer: guest }));
      expect(await t.app.services.bookingMail.renderQueued(t.app.db.sql)).toEqual({ rendered: 0, failed: 1 });
      const links = await t.app.db.sql.query(`SELECT 1 FROM magic_links WHERE booking_id = $1`, [dbId(booking.id)]);
      expect(links).toEqual([]);
      const [intent] = await t.app.db.sql.query<{ attempts: number; last_error: string; waiting: boolean }>(
        `SELECT attempts, last_error, due_at > now() AS waiting FROM booking_mail_intents WHERE booking_id = $1`,
        [dbId(booking.id)],
      );
      expect(intent).toEqual({ attempts: 1, last_error: 'mail refused', waiting: true });
      expect(await countAll()).toBe(before);
    } finally {
      await t.app.db.sql.exec(`DROP TRIGGER refuse_mail ON outbox_messages; DROP FUNCTION refuse_mail();`);
    }
    // Once the outbox takes mail again (the retry's time come), both invitations are queued, once.
    await t.app.db.sql.query(`UPDATE booking_mail_intents SET due_at = now() WHERE booking_id = $1`, [dbId(booking.id)]);
    expect((await mailsOf(booking.id)).map((m) => [m.kind, m.to]).sort()).toEqual([
      ['invitation', HOST.email],
      ['invitation', GUEST.email],
    ]);
    expect(await t.app.services.bookingMail.backlog(t.app.db.sql)).toBe(0);
  });

  it('refuses a customer time zone that is not IANA, naming the field, booking nothing', async () => {
    const slot = await c.slot('2055-01-09T17:00:00Z');
    const before = await countAll();
    expect(await call(t, BOOK, { slotId: gid('Slot', slot), customer: { ...GUEST, timeZone: 'Mars/Olympus' } })).toMatchObject({
      __typename: 'ValidationError',
      fieldErrors: [{ path: ['input', 'customer', 'timeZone'], message: 'must be an IANA time zone, e.g. Europe/Lisbon' }],
    });
    expect((await t.app.db.sql.query<{ booked: number }>(`SELECT booked FROM slots WHERE id = $1`, [slot]))[0]!.booked).toBe(0);
    expect(await countAll()).toBe(before);
  });

  it('the host may cancel their own session through cancelBooking', async () => {
    const hostToken = await t.tokenFor(['user'], HOST.email);
    const { booking } = await call(t, BOOK, { slotId: gid('Slot', await c.slot('2055-01-09T15:00:00Z')), customer: guest });
    const stranger = await t.tokenFor(['user']);
    expect(await call(t, CANCEL, { bookingId: booking.id }, { token: stranger })).toMatchObject({ __typename: 'NotFoundError' });
    expect(await call(t, CANCEL, { bookingId: booking.id }, { token: hostToken })).toMatchObject({ __typename: 'Booking', status: 'CANCELLED' });
    expect((await mailsOf(booking.id)).filter((m) => m.kind === 'cancellation')).toHaveLength(2);
  });

  it('queued mails, sealed and larger than 2 KB, stay in the outbox row itself: nothing goes to its TOAST table', async () => {
    const { booking } = await call(t, BOOK, { slotId: gid('Slot', await c.slot('2055-03-01T15:00:00Z')), customer: guest });
    expect(await mailsOf(booking.id)).toHaveLength(2);
    const rows = await t.app.db.sql.query<{ len: number; compressed: string | null }>(
      'SELECT octet_length(content) AS len, pg_column_compression(content) AS compressed FROM outbox_messages WHERE booking_id = $1',
      [dbId(booking.id)],
    );
    // Past PostgreSQL's 2 KB threshold a row is compressed (a sealed mail never shrinks) or moved out of line.
    expect(rows.every((r) => r.len > 2032 && r.compressed === null)).toBe(true);
    const [toast] = await t.app.db.sql.query<{ bytes: string }>(
      `SELECT pg_relation_size(reltoastrelid)::text AS bytes FROM pg_class WHERE oid = 'outbox_messages'::regclass`,
    );
    expect(toast!.bytes).toBe('0');
  });
});

describe('rooms, and bookings from before invites', () => {
  it('a room booking mails the customer only, titled with the room', async () => {
    const { booking } = await call(t, BOOK, {
      range: { resourceId: gid('Resource', c.roomId), startAt: '2055-01-05T14:00:00Z', endAt: '2055-01-05T15:30:00Z' },
      customer: GUEST,
    });
    const mails = await mailsOf(booking.id);
    expect(mails.map((m) => [m.kind, m.to])).toEqual([['invitation', GUEST.email]]);
    const event = expectInvite(mails[0]!, 'REQUEST', booking, 0);
    expect(event.summary).toBe('Studio Room');
    // No timeZone given: the location's.
    expect(mails[0]!.content.subject).toBe('Invitation: Studio Room, Tue Jan 5, 9:00–10:30 AM EST');
  });

  it('a booking never mailed about (legacy) is invited on its first change, then cancelled, with the stored SEQUENCE', async () => {
    const slot = await c.slot('2055-01-10T15:00:00Z');
    const target = await c.slot('2055-01-10T16:00:00Z');
    const p = pii();
    const [legacy] = await t.app.db.sql.query<{ id: string; ics_uid: string }>(
      `INSERT INTO bookings (kind, slot_id, resource_id, location_id, start_at, end_at, status, customer_name, customer_email, customer_email_hash, ics_uid, confirmed_at)
       SELECT 'SLOT', id, resource_id, location_id, start_at, end_at, 'CONFIRMED', $2, $3, $4, 'legacy-1@slotwise', now() FROM slots WHERE id = $1
       RETURNING id, ics_uid`,
      [slot, GUEST.name, p.encrypt(GUEST.email), p.emailHash(GUEST.email)],
    );
    await t.app.db.sql.query(`UPDATE slots SET booked = 1 WHERE id = $1`, [slot]);
    const moved = await call(t, RESCHEDULE, { bookingId: gid('Booking', legacy!.id), slotId: gid('Slot', target) }, { token: t.adminToken });
    const mails = await mailsOf(legacy!.id);
    expect(mails.map((m) => m.kind)).toEqual(['invitation', 'invitation']);
    for (const mail of mails) expectInvite(mail, 'REQUEST', moved, 1);
    await call(t, CANCEL, { bookingId: gid('Booking', legacy!.id) }, { token: t.adminToken });
    for (const mail of (await mailsOf(legacy!.id)).filter((m) => m.kind === 'cancellation')) expectInvite(mail, 'CANCEL', moved, 2);
  });
});
