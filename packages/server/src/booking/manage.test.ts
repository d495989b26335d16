import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../../test/kit/app.js';
import { fixtures, customer, gid } from '../../test/kit/fixtures.js';
import { BOOK, CANCEL, CONFIRM, HOLD, RESCHEDULE, call } from '../../test/kit/documents.js';
import { publishedDuring } from '../../test/kit/wait.js';

let t: TestApp;
let f: ReturnType<typeof fixtures>;
let locationId: string;
let resourceId: string;

const book = (slotId: string, who: object | null = customer(), options = {}) =>
  call(t, BOOK, { slotId: gid('Slot', slotId), ...(who ? { customer: who } : {}) }, options);
const hold = (slotId: string, who: object = customer()) => call(t, HOLD, { slotId: gid('Slot', slotId), customer: who });
const cancel = (bookingId: string, manageToken?: string, options = {}) => call(t, CANCEL, { bookingId, manageToken }, options);
const reschedule = (bookingId: string, slotId: string, manageToken?: string, options = {}) =>
  call(t, RESCHEDULE, { bookingId, manageToken, slotId: gid('Slot', slotId) }, options);

/** Slot changes published while fn runs. */
const published = async (fn: () => Promise<unknown>) => (await publishedDuring(t.app.pubsub, fn)).changes;

beforeAll(async () => {
  t = await createTestApp();
  f = fixtures(t.app.db.sql);
  locationId = await f.location();
  resourceId = await f.resource(locationId);
});
afterAll(() => t?.close());

describe('cancel', () => {
  it('frees the place, bumps SEQUENCE, audits, and publishes after commit', async () => {
    const slot = await f.slot(locationId, resourceId, { capacity: 2 });
    const { booking, manageToken } = await book(slot);
    expect(await f.slotCounts(slot)).toMatchObject({ booked: 1 });
    const events = await published(async () => {
      expect(await cancel(booking.id, manageToken, { headers: { 'x-request-id': 'req-cancel' } })).toMatchObject({
        __typename: 'Booking',
        status: 'CANCELLED',
        icsSequence: 1,
        cancelledAt: expect.any(String),
      });
    });
    const counts = await f.slotCounts(slot);
    expect(counts).toMatchObject({ booked: 0, held: 0, status: 'OPEN' });
    expect(events).toEqual([expect.objectContaining({ slotId: slot, reason: 'CANCELLED', version: counts.version })]);
    const audit = await t.app.db.sql.query(`SELECT action, actor_label FROM audit_events WHERE request_id = 'req-cancel'`);
    expect(audit).toEqual([{ action: 'CANCELLED', actor_label: 'public' }]);

    // Twice: nothing more changes; a cancelled booking cannot be confirmed.
    expect(await cancel(booking.id, manageToken)).toMatchObject({ status: 'CANCELLED', icsSequence: 1 });
    expect(await f.slotCounts(slot)).toMatchObject({ booked: 0, version: counts.version });
    expect(await call(t, CONFIRM, { bookingId: booking.id, manageToken })).toMatchObject({
      __typename: 'BookingNotActiveError',
      status: 'CANCELLED',
    });
  });

  it('a cancelled hold gives back its held place', async () => {
    const slot = await f.slot(locationId, resourceId, { capacity: 1 });
    const { booking, manageToken } = await hold(slot);
    await cancel(booking.id, manageToken);
    expect(await f.slotCounts(slot)).toMatchObject({ held: 0, booked: 0 });
  });

  it('admin, manager, frontdesk, the signed-in customer and the token may cancel; a scheduler or stranger may not', async () => {
    const slot = await f.slot(locationId, resourceId, { capacity: 10 });
    let n = 0;
    // A customer each: one live booking per slot per customer.
    const outcome = async (options: { token?: string }, manageToken?: string, who: object | null = customer(`cancel-${++n}`)) => {
      const { booking } = await book(slot, who, who ? {} : options);
      return (await cancel(booking.id, manageToken, options)).__typename;
    };
    expect(await outcome({ token: t.adminToken })).toBe('Booking');
    expect(await outcome({ token: await t.tokenFor(['manager']) })).toBe('Booking');
    expect(await outcome({ token: await t.tokenFor(['frontdesk']) })).toBe('Booking');
    expect(await outcome({ token: await t.tokenFor(['user'], 'own@test.example') }, undefined, null)).toBe('Booking');
    expect(await outcome({ token: await t.tokenFor(['scheduler']) })).toBe('NotFoundError');
    expect(await outcome({ token: await t.tokenFor(['user']) })).toBe('NotFoundError');
    expect(await outcome({}, 'bk_guess')).toBe('NotFoundError');
    expect(await f.bookingCounts(slot)).toEqual({ CANCELLED: 4, CONFIRMED: 3 });
  });
});

describe('reschedule', () => {
  it('moves the place from one slot to the other in one step and bumps SEQUENCE', async () => {
    const from = await f.slot(locationId, resourceId, { capacity: 2 });
    const to = await f.slot(locationId, resourceId, { capacity: 2 });
    const { booking, manageToken } = await book(from);
    const events = await published(async () => {
      expect(await reschedule(booking.id, to, manageToken)).toMatchObject({ __typename: 'Booking', slot: { id: gid('Slot', to) }, icsSequence: 1 });
    });
    expect(await f.slotCounts(from)).toMatchObject({ booked: 0 });
    expect(await f.slotCounts(to)).toMatchObject({ booked: 1 });
    expect(events.map((e) => [e.slotId, e.reason]).sort()).toEqual(
      [
        [from, 'RESCHEDULED'],
        [to, 'RESCHEDULED'],
      ].sort(),
    );
    const [audit] = await t.app.db.sql.query(
      `SELECT old_values->>'slotId' AS was, new_values->>'slotId' AS now, (new_values->>'icsSequence')::int AS seq
       FROM audit_events WHERE entity_id = (SELECT id FROM bookings WHERE ics_uid = $1) AND action = 'RESCHEDULED'`,
      [booking.icsUid],
    );
    expect(audit).toEqual({ was: from, now: to, seq: 1 });

    // A hold moves as a hold.
    const held = await hold(from, customer('held'));
    await reschedule(held.booking.id, to, held.manageToken);
    expect(await f.slotCounts(to)).toMatchObject({ booked: 1, held: 1 });
  });

  it('refuses a full slot, a slot of another resource, a past or blocked one, changing nothing', async () => {
    const from = await f.slot(locationId, resourceId, { capacity: 1 });
    const full = await f.slot(locationId, resourceId, { capacity: 1 });
    await book(full, customer('other'));
    const otherResource = await f.slot(locationId, await f.resource(locationId));
    const past = await f.slot(locationId, resourceId, { startAt: new Date(Date.now() - 3_600_000) });
    const blocked = await f.slot(locationId, resourceId, { status: 'BLOCKED' });
    const { booking, manageToken } = await book(from);
    const before = [await f.count('bookings'), await f.count('audit_events'), await f.slotCounts(from), await f.slotCounts(full)];
    const events = await published(async () => {
      expect(await reschedule(booking.id, full, manageToken)).toMatchObject({ __typename: 'SlotFullError' });
      expect(await reschedule(booking.id, otherResource, manageToken)).toMatchObject({
        __typename: 'SlotUnavailableError',
        reason: 'WRONG_RESOURCE',
      });
      expect(await reschedule(booking.id, past, manageToken)).toMatchObject({ reason: 'PAST' });
      expect(await reschedule(booking.id, blocked, manageToken)).toMatchObject({ reason: 'BLOCKED' });
      expect(await reschedule(booking.id, '01890000-0000-7000-8000-000000000000', manageToken)).toMatchObject({ __typename: 'NotFoundError' });
    });
    expect(events).toEqual([]);
    expect([await f.count('bookings'), await f.count('audit_events'), await f.slotCounts(from), await f.slotCounts(full)]).toEqual(before);
  });

  it('20 concurrent moves into a slot with 10 places: exactly 10 move, counts on both slots agree with the bookings', async () => {
    const from = await f.slot(locationId, resourceId, { capacity: 20 });
    const to = await f.slot(locationId, resourceId, { capacity: 10 });
    const receipts = [];
    for (let i = 0; i < 20; i++) receipts.push(await book(from, customer(`m${i}`)));
    const results = await Promise.all(receipts.map((r) => reschedule(r.booking.id, to, r.manageToken)));
    expect(results.filter((r) => r.__typename === 'Booking')).toHaveLength(10);
    expect(results.filter((r) => r.__typename === 'SlotFullError')).toHaveLength(10);
    expect(await f.slotCounts(from)).toMatchObject({ booked: 10 });
    expect(await f.slotCounts(to)).toMatchObject({ booked: 10, status: 'FULL' });
    expect(await f.bookingCounts(from)).toEqual({ CONFIRMED: 10 });
    expect(await f.bookingCounts(to)).toEqual({ CONFIRMED: 10 });
  });
});

describe('nothing is published for work that rolled back', () => {
  it('a refused hold publishes nothing; a successful one publishes its new version', async () => {
    const slot = await f.slot(locationId, resourceId, { capacity: 1 });
    const first = await published(() => hold(slot));
    expect(first).toEqual([expect.objectContaining({ slotId: slot, reason: 'HELD', version: (await f.slotCounts(slot)).version })]);
    expect(await published(() => hold(slot))).toEqual([]);
  });
});
