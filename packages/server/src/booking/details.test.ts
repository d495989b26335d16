import { decodeGlobalID } from '@pothos/plugin-relay';
import type { Client } from 'graphql-ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../../test/kit/app.js';
import { wsClient, wsSubscribe } from '../../test/kit/live.js';
import { fixtures, customer, gid } from '../../test/kit/fixtures.js';
import { call } from '../../test/kit/documents.js';
import { queuedMails, renderBookingMail } from '../../test/kit/mail.js';
import { startServer } from '../server.js';

let t: TestApp;
let f: ReturnType<typeof fixtures>;
let locationId: string;
let resourceId: string;
let staff: string;

const FIELDS = `id status title notes internalNotes partySize icsSequence`;
const ERRORS = `... on Error { __typename code message }
  ... on ValidationError { fieldErrors { path message } }
  ... on SlotFullError { slotId remaining }`;
const BOOK = `mutation Book($input: BookInput!) { book(input: $input) {
  __typename ... on BookingReceipt { manageToken booking { ${FIELDS} } } ${ERRORS} } }`;
const HOLD = `mutation Hold($input: HoldInput!) { hold(input: $input) {
  __typename ... on BookingReceipt { manageToken booking { ${FIELDS} } } ${ERRORS} } }`;
const UPDATE = `mutation Update($input: UpdateBookingInput!) { updateBooking(input: $input) {
  __typename ... on Booking { ${FIELDS} } ${ERRORS} } }`;
const CONFIRM = `mutation Confirm($input: ManageBookingInput!) { confirm(input: $input) { __typename ... on Booking { ${FIELDS} } } }`;
const CANCEL = `mutation Cancel($input: ManageBookingInput!) { cancelBooking(input: $input) { __typename ... on Booking { ${FIELDS} } } }`;
const RESCHEDULE = `mutation Reschedule($input: RescheduleBookingInput!) { rescheduleBooking(input: $input) {
  __typename ... on Booking { ${FIELDS} } ${ERRORS} } }`;
const READ = `query Read($id: ID!, $manageToken: String) { booking(id: $id, manageToken: $manageToken) { __typename ... on Booking { ${FIELDS} } } }`;

const book = (slotId: string, extra: Record<string, unknown> = {}, options = {}) =>
  call(t, BOOK, { slotId: gid('Slot', slotId), customer: customer(Math.random().toString(36).slice(2)), ...extra }, options);
const placesTaken = async (slotId: string) =>
  (
    await t.app.db.sql.query<{ n: number }>(
      `SELECT coalesce(sum(party_size), 0)::int AS n FROM bookings WHERE slot_id = $1 AND status IN ('HELD', 'CONFIRMED')`,
      [slotId],
    )
  )[0]!.n;

beforeAll(async () => {
  t = await createTestApp();
  f = fixtures(t.app.db.sql);
  locationId = await f.location();
  resourceId = await f.resource(locationId);
  staff = await t.tokenFor(['frontdesk']);
});
afterAll(() => t?.close());

describe('booking details', () => {
  it('a booking carries a title, the customer notes (sealed at rest) and a party; internal notes are staff-only', async () => {
    const slot = await f.slot(locationId, resourceId, { capacity: 5 });
    const made = await book(slot, { title: 'Family check-up', notes: 'Bringing the twins', partySize: 3 });
    expect(made.booking).toMatchObject({
      status: 'CONFIRMED',
      title: 'Family check-up',
      notes: 'Bringing the twins',
      internalNotes: null,
      partySize: 3,
    });
    expect(await f.slotCounts(slot)).toMatchObject({ booked: 3, held: 0, status: 'PARTIAL' });
    const [row] = await t.app.db.sql.query<{ notes: string }>(`SELECT notes FROM bookings WHERE party_size = 3 AND slot_id = $1`, [slot]);
    expect(row!.notes).not.toContain('twins');

    // The public cannot write internal notes; staff can, and only staff read them back.
    expect(await book(slot, { internalNotes: 'VIP' })).toMatchObject({
      __typename: 'ValidationError',
      fieldErrors: [{ path: ['input', 'internalNotes'] }],
    });
    const id = made.booking.id;
    const noted = await call(t, UPDATE, { bookingId: id, internalNotes: 'Pays cash' }, { token: staff });
    expect(noted).toMatchObject({ internalNotes: 'Pays cash', icsSequence: 0 });
    const asCustomer = (await t.execute(READ, { id, manageToken: made.manageToken })).data!.booking;
    expect(asCustomer).toMatchObject({ notes: 'Bringing the twins', internalNotes: null });
    expect(await call(t, UPDATE, { bookingId: id, manageToken: made.manageToken, internalNotes: 'x' })).toMatchObject({
      __typename: 'ValidationError',
      fieldErrors: [{ path: ['input', 'internalNotes'] }],
    });
    const [sealed] = await t.app.db.sql.query<{ internal_notes: string }>(
      `SELECT internal_notes FROM bookings WHERE party_size = 3 AND slot_id = $1`,
      [slot],
    );
    expect(sealed!.internal_notes).toMatch(/^v2\./);
    expect(sealed!.internal_notes).not.toContain('cash');
  });

  it('notes written before migration 0006 (plaintext) read through Booking.notes, and such a booking can be updated and mailed', async () => {
    const slot = await f.slot(locationId, resourceId, { capacity: 2 });
    const made = await book(slot);
    const id = made.booking.id;
    await t.app.db.sql.query(`UPDATE bookings SET notes = 'Legacy note, plaintext' WHERE id = $1`, [decodeGlobalID(id).id]);
    expect((await t.execute(READ, { id }, { token: staff })).data!.booking).toMatchObject({ notes: 'Legacy note, plaintext' });
    expect((await t.execute(READ, { id, manageToken: made.manageToken })).data!.booking).toMatchObject({ notes: 'Legacy note, plaintext' });
    // The update compares the notes as plain text and mails the change with them.
    expect(await call(t, UPDATE, { bookingId: id, title: 'Old booking' }, { token: staff })).toMatchObject({
      title: 'Old booking',
      notes: 'Legacy note, plaintext',
    });
    await renderBookingMail(t);
    const mails = await queuedMails(t.app.db.sql, 'booking_id = $1', [decodeGlobalID(id).id]);
    expect(mails.some((m) => m.content.text.includes('Legacy note, plaintext'))).toBe(true);
  });

  it('bad details are typed errors on their fields and write nothing', async () => {
    const slot = await f.slot(locationId, resourceId, { capacity: 3 });
    const before = await f.count('bookings');
    expect(await book(slot, { partySize: 0 })).toMatchObject({ fieldErrors: [{ path: ['input', 'partySize'] }] });
    expect(await book(slot, { title: 'x'.repeat(201) })).toMatchObject({ fieldErrors: [{ path: ['input', 'title'] }] });
    expect(await book(slot, { notes: 'x'.repeat(2001) })).toMatchObject({ fieldErrors: [{ path: ['input', 'notes'] }] });
    // A party too big for the places left: SlotFullError saying how many are left.
    expect(await book(slot, { partySize: 4 })).toMatchObject({
      __typename: 'SlotFullError',
      remaining: 3,
      message: 'This slot has only 3 places left',
    });
    const room = await f.resource(locationId, { exclusive: true });
    const roomSlot = await f.slot(locationId, room);
    expect(await book(roomSlot, { partySize: 2 })).toMatchObject({ __typename: 'ValidationError', fieldErrors: [{ path: ['input', 'partySize'] }] });
    const startAt = new Date(Math.ceil((Date.now() + 40 * 86_400_000) / 900_000) * 900_000);
    const range = { resourceId: gid('Resource', room), startAt, endAt: new Date(startAt.getTime() + 3_600_000) };
    expect(await call(t, BOOK, { range, customer: customer('r'), partySize: 2 })).toMatchObject({ fieldErrors: [{ path: ['input', 'partySize'] }] });
    expect(await f.count('bookings')).toBe(before);
    expect(await f.slotCounts(slot)).toMatchObject({ booked: 0, held: 0 });
  });

  it('hold, confirm, cancel and expiry move the whole party', async () => {
    const slot = await f.slot(locationId, resourceId, { capacity: 6 });
    const held = await call(t, HOLD, { slotId: gid('Slot', slot), customer: customer('h'), partySize: 4 });
    expect(await f.slotCounts(slot)).toMatchObject({ held: 4, booked: 0 });
    await call(t, CONFIRM, { bookingId: held.booking.id, manageToken: held.manageToken });
    expect(await f.slotCounts(slot)).toMatchObject({ held: 0, booked: 4 });
    await call(t, CANCEL, { bookingId: held.booking.id, manageToken: held.manageToken });
    expect(await f.slotCounts(slot)).toMatchObject({ held: 0, booked: 0, status: 'OPEN' });

    await call(t, HOLD, { slotId: gid('Slot', slot), customer: customer('e'), partySize: 5 });
    await t.app.db.sql.query(`UPDATE bookings SET hold_expires_at = now() - interval '1 second' WHERE slot_id = $1 AND status = 'HELD'`, [slot]);
    await t.app.services.bookings.releaseExpiredHolds();
    expect(await f.slotCounts(slot)).toMatchObject({ held: 0, booked: 0 });
  });

  it('a party moves only to a slot with room for all of it', async () => {
    const from = await f.slot(locationId, resourceId, { capacity: 4 });
    const small = await f.slot(locationId, resourceId, { capacity: 4 });
    const roomy = await f.slot(locationId, resourceId, { capacity: 4 });
    await book(small, { partySize: 2 });
    const party = await book(from, { partySize: 3 });
    const refused = await call(t, RESCHEDULE, { bookingId: party.booking.id, manageToken: party.manageToken, slotId: gid('Slot', small) });
    expect(refused).toMatchObject({ __typename: 'SlotFullError' });
    expect(await call(t, RESCHEDULE, { bookingId: party.booking.id, manageToken: party.manageToken, slotId: gid('Slot', roomy) })).toMatchObject({
      __typename: 'Booking',
      partySize: 3,
    });
    expect([await f.slotCounts(from), await f.slotCounts(small), await f.slotCounts(roomy)].map((s) => s.booked)).toEqual([0, 2, 3]);
  });
});

describe('partySize under concurrency', () => {
  it('40 parallel parties of 1-4 on a slot of 10: never more than 10 places taken, slot and bookings agree', async () => {
    const slot = await f.slot(locationId, resourceId, { capacity: 10 });
    const sizes = Array.from({ length: 40 }, (_, i) => (i % 4) + 1);
    const results = await Promise.all(
      sizes.map((partySize, i) =>
        i % 2 ? book(slot, { partySize }) : call(t, HOLD, { slotId: gid('Slot', slot), customer: customer(`h${i}`), partySize }),
      ),
    );
    const won = results.map((r, i) => (r.__typename === 'BookingReceipt' ? sizes[i]! : 0)).reduce((a, b) => a + b, 0);
    expect(results.every((r) => r.__typename === 'BookingReceipt' || r.__typename === 'SlotFullError')).toBe(true);
    expect(won).toBeLessThanOrEqual(10);
    // Refusals only while a party did not fit: whatever is left is smaller than every refused party.
    const refused = sizes.filter((_, i) => results[i]!.__typename === 'SlotFullError');
    expect(Math.min(...refused)).toBeGreaterThan(10 - won);
    const counts = await f.slotCounts(slot);
    expect(counts.booked + counts.held).toBe(won);
    expect(await placesTaken(slot)).toBe(won);
  });

  it('parallel updates growing parties on one slot: exactly as many as fit succeed', async () => {
    const slot = await f.slot(locationId, resourceId, { capacity: 8 });
    const parties = await Promise.all(Array.from({ length: 4 }, () => book(slot)));
    // 4 places taken, 4 free: growing every party from 1 to 3 at once fits exactly two of them.
    const grown = await Promise.all(parties.map((p) => call(t, UPDATE, { bookingId: p.booking.id, manageToken: p.manageToken, partySize: 3 })));
    expect(grown.map((r) => r.__typename).sort()).toEqual(['Booking', 'Booking', 'SlotFullError', 'SlotFullError']);
    expect(await f.slotCounts(slot)).toMatchObject({ booked: 8, held: 0, status: 'FULL' });
    expect(await placesTaken(slot)).toBe(8);
  });
});

describe('updateBooking', () => {
  it('the customer (manage token) changes title, notes and party size; audited, SEQUENCE + 1; nothing when nothing changes', async () => {
    const slot = await f.slot(locationId, resourceId, { capacity: 4 });
    const made = await book(slot, { title: 'Cut', partySize: 1 });
    const token = made.manageToken;
    const id = made.booking.id;
    const updated = await call(t, UPDATE, { bookingId: id, manageToken: token, title: 'Cut and colour', notes: 'Allergic to latex', partySize: 2 });
    expect(updated).toMatchObject({ __typename: 'Booking', title: 'Cut and colour', notes: 'Allergic to latex', partySize: 2, icsSequence: 1 });
    expect(await f.slotCounts(slot)).toMatchObject({ booked: 2 });
    expect(await call(t, UPDATE, { bookingId: id, manageToken: token, title: 'Cut and colour', partySize: 2 })).toMatchObject({ icsSequence: 1 });
    // Someone else's token, or none: the same NotFoundError as an unknown id.
    expect(await call(t, UPDATE, { bookingId: id, title: 'Hijack' })).toMatchObject({ __typename: 'NotFoundError' });
    expect(await call(t, UPDATE, { bookingId: id, manageToken: 'bk_wrong', title: 'Hijack' })).toMatchObject({ __typename: 'NotFoundError' });
    // Growth past the free places: SlotFullError, nothing changed.
    expect(await call(t, UPDATE, { bookingId: id, manageToken: token, partySize: 5 })).toMatchObject({ __typename: 'SlotFullError', remaining: 2 });
    expect(await f.slotCounts(slot)).toMatchObject({ booked: 2 });
    // Clearing a text: an empty string.
    expect(await call(t, UPDATE, { bookingId: id, manageToken: token, notes: '' })).toMatchObject({ notes: null, icsSequence: 2 });
    const audit = await t.app.db.sql.query<{ changed: string[]; party: number; text: string }>(
      `SELECT new_values->'changed' AS changed, (new_values->>'partySize')::int AS party, new_values::text || old_values::text AS text
       FROM audit_events a JOIN bookings b ON b.id = a.entity_id WHERE b.slot_id = $1 AND action = 'UPDATED' ORDER BY a.created_at`,
      [slot],
    );
    expect(audit.map((a) => [a.changed, a.party])).toEqual([
      [['title', 'notes', 'partySize'], 2],
      [['notes'], 2],
    ]);
    expect(audit.some((a) => a.text.includes('latex'))).toBe(false);
  });

  it('a signed-in customer updates their own booking; a cancelled booking keeps its party', async () => {
    const token = await t.tokenFor(['user'], 'own@test.example');
    const slot = await f.slot(locationId, resourceId, { capacity: 3 });
    const made = await call(t, BOOK, { slotId: gid('Slot', slot) }, { token });
    expect(await call(t, UPDATE, { bookingId: made.booking.id, title: 'Mine' }, { token })).toMatchObject({ title: 'Mine' });
    await call(t, CANCEL, { bookingId: made.booking.id }, { token });
    expect(await call(t, UPDATE, { bookingId: made.booking.id, partySize: 2 }, { token })).toMatchObject({ __typename: 'BookingNotActiveError' });
    expect(await f.slotCounts(slot)).toMatchObject({ booked: 0 });
  });
});

describe('party size in the database and on the live feed', () => {
  it('the database refuses a party above 1 on an exclusive resource, and any overbooking', async () => {
    const room = await f.resource(locationId, { exclusive: true });
    const roomSlot = await f.slot(locationId, room);
    const made = await book(roomSlot);
    const id = decodeGlobalID(made.booking.id).id;
    await expect(t.app.db.sql.query(`UPDATE bookings SET party_size = 2 WHERE id = $1`, [id])).rejects.toMatchObject({ code: '23514' });
    const slot = await f.slot(locationId, resourceId, { capacity: 2 });
    await expect(t.app.db.sql.query(`UPDATE slots SET booked = booked + 3 WHERE id = $1`, [slot])).rejects.toMatchObject({ code: '23514' });
  });

  it('a party resized by updateBooking is published: subscribers see the new remaining places', async () => {
    const server = await startServer(t.app, { port: 0, host: '127.0.0.1' });
    const client: Client = wsClient(server.url);
    try {
      const slot = await f.slot(locationId, resourceId, { capacity: 5 });
      const made = await book(slot, { partySize: 1 });
      const startAt = (await t.app.db.sql.query<{ start_at: Date }>(`SELECT start_at FROM slots WHERE id = $1`, [slot]))[0]!.start_at;
      const live = wsSubscribe(client, {
        resourceId: gid('Resource', resourceId),
        from: startAt.toISOString(),
        to: new Date(startAt.getTime() + 60_000).toISOString(),
      });
      expect((await live.log.at(0)).slots).toMatchObject([{ booked: 1, remaining: 4 }]);
      await call(t, UPDATE, { bookingId: made.booking.id, manageToken: made.manageToken, partySize: 4 });
      expect(await live.log.at(1)).toMatchObject({ kind: 'CHANGE', reason: 'UPDATED', slots: [{ booked: 4, remaining: 1 }] });
      // Only the title: nothing a subscriber sees changes, nothing is published.
      await call(t, UPDATE, { bookingId: made.booking.id, manageToken: made.manageToken, title: 'Quiet' });
      await call(t, UPDATE, { bookingId: made.booking.id, manageToken: made.manageToken, partySize: 3 });
      expect(await live.log.at(2)).toMatchObject({ reason: 'UPDATED', slots: [{ booked: 3, remaining: 2 }] });
      live.stop();
    } finally {
      await client.dispose();
      await server.stop();
    }
  });
});
