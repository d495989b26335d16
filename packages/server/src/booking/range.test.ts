import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../../test/kit/app.js';
import { fixtures, customer, gid, hoursAfter, utcDay } from '../../test/kit/fixtures.js';
import { BOOK, RESCHEDULE, call } from '../../test/kit/documents.js';

let t: TestApp;
let f: ReturnType<typeof fixtures>;
let locationId: string;

/** 00:00 UTC some days ahead (every time below is in the future), and hours into it. */
const day = utcDay;
const at = hoursAfter;

const bookRange = (resourceId: string, startAt: string, endAt: string, who: object = customer()) =>
  call(t, BOOK, { range: { resourceId: gid('Resource', resourceId), startAt, endAt }, customer: who });

/** Live bookings on a resource overlapping a range, straight from the table. */
const overlapping = async (resourceId: string, startAt: string, endAt: string) =>
  (
    (await t.app.db.sql.query(
      `SELECT count(*)::int AS n FROM bookings WHERE resource_id = $1 AND status IN ('HELD', 'CONFIRMED')
       AND tstzrange(start_at, end_at) && tstzrange($2, $3)`,
      [resourceId, startAt, endAt],
    )) as [{ n: number }]
  )[0].n;

beforeAll(async () => {
  t = await createTestApp();
  f = fixtures(t.app.db.sql);
  locationId = await f.location();
});
afterAll(() => t?.close());

describe('range bookings', () => {
  it('books a free range on an exclusive resource', async () => {
    const room = await f.resource(locationId, { exclusive: true });
    const result = await bookRange(room, at(day(3), 10), at(day(3), 11.5));
    expect(result).toMatchObject({
      __typename: 'BookingReceipt',
      booking: { kind: 'RANGE', status: 'CONFIRMED', slot: null, resource: { id: gid('Resource', room) }, startAt: at(day(3), 10) },
    });
  });

  it('100 parallel overlapping bookings on one room: exactly one wins, the rest get conflicts with alternatives that are really free', async () => {
    const room = await f.resource(locationId, { exclusive: true });
    const base = day(4);
    const requests = Array.from({ length: 100 }, (_, i) => {
      const start = 10 + (i % 4) * 0.25; // 10:00, 10:15, 10:30, 10:45: one hour each, all overlapping
      return bookRange(room, at(base, start), at(base, start + 1), customer(`r${i}`));
    });
    const results = await Promise.all(requests);
    const winners = results.filter((r) => r.__typename === 'BookingReceipt');
    const conflicts = results.filter((r) => r.__typename === 'BookingConflictError');
    expect(winners).toHaveLength(1);
    expect(conflicts).toHaveLength(99);
    const won = winners[0].booking;
    expect(await f.count('bookings')).toBeGreaterThanOrEqual(1);
    expect(await overlapping(room, at(base, 9), at(base, 13))).toBe(1);

    const checked = new Set<string>();
    for (const c of conflicts) {
      expect(c).toMatchObject({ code: 'BOOKING_CONFLICT', conflict: { startAt: won.startAt, endAt: won.endAt } });
      expect(JSON.stringify(c)).not.toMatch(/customer|example/i);
      expect(c.alternatives).toHaveLength(5);
      for (const alt of c.alternatives) {
        expect(alt.durationMinutes).toBe(60);
        expect(new Date(alt.startAt).getTime() % (15 * 60_000)).toBe(0);
        const key = `${alt.startAt}/${alt.endAt}`;
        if (checked.has(key)) continue;
        checked.add(key);
        expect(await overlapping(room, alt.startAt, alt.endAt), `${key} is free`).toBe(0);
      }
    }
  });

  it('alternatives are the nearest free ranges of the same length (any time when the room has no hours)', async () => {
    const room = await f.resource(locationId, { exclusive: true });
    const base = day(5);
    await bookRange(room, at(base, 10), at(base, 11));
    const conflict = await bookRange(room, at(base, 10), at(base, 11));
    expect(conflict.alternatives.map((a: { startAt: string }) => a.startAt)).toEqual([
      at(base, 11),
      at(base, 9),
      at(base, 11.25),
      at(base, 8.75),
      at(base, 11.5),
    ]);
  });

  it('alternatives stay inside the room’s working hours when it has rules', async () => {
    const room = await f.resource(locationId, { exclusive: true });
    await t.app.db.sql.query(
      `INSERT INTO availability_rules (location_id, resource_id, kind, start_minute, end_minute) VALUES ($1, $2, 'WEEKLY', 540, 1020)`,
      [locationId, room],
    );
    const base = day(6);
    await bookRange(room, at(base, 9), at(base, 10));
    const conflict = await bookRange(room, at(base, 9), at(base, 10));
    expect(conflict.alternatives.map((a: { startAt: string }) => a.startAt)).toEqual([10, 10.25, 10.5, 10.75, 11].map((h) => at(base, h)));
  });

  it('bad ranges are refused with the field named, and nothing is written', async () => {
    const room = await f.resource(locationId, { exclusive: true });
    const person = await f.resource(locationId, { exclusive: false });
    const base = day(7);
    const before = [await f.count('bookings'), await f.count('audit_events')];

    expect(await bookRange(room, at(base, 10 + 10 / 60), at(base, 11))).toMatchObject({
      __typename: 'ValidationError',
      fieldErrors: [{ path: ['input', 'range', 'startAt'], message: expect.stringContaining('15-minute') }],
    });
    expect(await bookRange(room, at(base, 8), at(base, 17))).toMatchObject({
      __typename: 'ValidationError',
      fieldErrors: [{ path: ['input', 'range', 'endAt'], message: expect.stringContaining('8 hours') }],
    });
    expect(await bookRange(room, at(base, 11), at(base, 10))).toMatchObject({ fieldErrors: [{ path: ['input', 'range', 'endAt'] }] });
    expect(await bookRange(room, at(day(-1), 10), at(day(-1), 11))).toMatchObject({ fieldErrors: [{ path: ['input', 'range', 'startAt'] }] });
    expect(await bookRange(person, at(base, 10), at(base, 11))).toMatchObject({
      __typename: 'ValidationError',
      fieldErrors: [{ path: ['input', 'range', 'resourceId'] }],
    });
    expect(await bookRange('01890000-0000-7000-8000-000000000000', at(base, 10), at(base, 11))).toMatchObject({ __typename: 'NotFoundError' });
    expect(await bookRange(room, at(base, 10), at(base, 11), { name: 'Ann', email: 'nope' })).toMatchObject({
      fieldErrors: [{ path: ['input', 'customer', 'email'] }],
    });
    expect(await call(t, BOOK, { customer: customer() })).toMatchObject({ __typename: 'ValidationError' });

    expect([await f.count('bookings'), await f.count('audit_events')]).toEqual(before);
  });
});

describe('slots on an exclusive resource', () => {
  it('slot bookings occupy the room too: a range over a booked slot, or a slot under a booked range, is a conflict', async () => {
    const room = await f.resource(locationId, { exclusive: true });
    const base = day(9);
    const slotId = await f.slot(locationId, room, { startAt: new Date(at(base, 10)), minutes: 60 });
    const later = await f.slot(locationId, room, { startAt: new Date(at(base, 14)), minutes: 60 });
    const booked = await call(t, BOOK, { slotId: gid('Slot', slotId), customer: customer() });
    const [row] = await t.app.db.sql.query(`SELECT exclusive FROM bookings WHERE ics_uid = $1`, [booked.booking.icsUid]);
    expect(row).toEqual({ exclusive: true });
    expect(await bookRange(room, at(base, 10.5), at(base, 11.5))).toMatchObject({
      __typename: 'BookingConflictError',
      conflict: { startAt: at(base, 10), endAt: at(base, 11) },
    });

    await bookRange(room, at(base, 13.5), at(base, 14.5));
    const before = await f.slotCounts(later);
    t.sql.reset();
    expect(await call(t, BOOK, { slotId: gid('Slot', later), customer: customer() })).toMatchObject({
      __typename: 'BookingConflictError',
      conflict: { startAt: at(base, 13.5), endAt: at(base, 14.5) },
    });
    // Answered from the slot as the booking transaction read it under its lock, not read again.
    expect(t.sql.statements.filter((q) => /"(slots|bookings)"/.test(q))).toEqual([]);
    expect(await f.slotCounts(later)).toEqual(before);
  });
});

describe('rescheduling a range', () => {
  it('moves it (also onto part of its own time), bumps SEQUENCE, and refuses a taken range with alternatives', async () => {
    const room = await f.resource(locationId, { exclusive: true });
    const base = day(8);
    const { booking, manageToken } = await bookRange(room, at(base, 10), at(base, 11));
    await bookRange(room, at(base, 14), at(base, 15));
    const move = (startAt: string, endAt: string) => call(t, RESCHEDULE, { bookingId: booking.id, manageToken, range: { startAt, endAt } });

    expect(await move(at(base, 10.5), at(base, 11.5))).toMatchObject({ __typename: 'Booking', startAt: at(base, 10.5), icsSequence: 1 });
    t.sql.reset();
    const conflict = await move(at(base, 14.5), at(base, 15.5));
    expect(t.sql.statements.filter((q) => /"(slots|bookings)"/.test(q))).toEqual([]);
    expect(conflict).toMatchObject({ __typename: 'BookingConflictError', conflict: { startAt: at(base, 14), endAt: at(base, 15) } });
    expect(conflict.alternatives[0]).toMatchObject({ startAt: at(base, 15), endAt: at(base, 16) });
    expect(await move(at(base, 12), at(base, 12 + 1 / 6))).toMatchObject({ fieldErrors: [{ path: ['input', 'range', 'endAt'] }] });

    const [row] = await t.app.db.sql.query(`SELECT start_at, ics_sequence FROM bookings WHERE ics_uid = $1`, [booking.icsUid]);
    expect(row).toMatchObject({ start_at: new Date(at(base, 10.5)), ics_sequence: 1 });
    const audit = await t.app.db.sql.query(
      `SELECT action, old_values->>'startAt' AS was, new_values->>'startAt' AS now FROM audit_events a JOIN bookings b ON b.id = a.entity_id
       WHERE b.ics_uid = $1 ORDER BY a.created_at`,
      [booking.icsUid],
    );
    expect(audit).toEqual([
      { action: 'CONFIRMED', was: null, now: at(base, 10) },
      { action: 'RESCHEDULED', was: at(base, 10), now: at(base, 10.5) },
    ]);
  });
});
