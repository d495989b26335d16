import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeGlobalID } from '@pothos/plugin-relay';
import { createTestApp, expectNoErrors, type TestApp } from '../../test/kit/app.js';
import { fixtures, customer, gid, hoursAfter, utcDay } from '../../test/kit/fixtures.js';
import { BOOK, CANCEL, HOLD, RESCHEDULE, call } from '../../test/kit/documents.js';
import { AvailabilityByDayDocument, AvailabilityDocument, AvailableDatesDocument, ExposedSlotsDocument } from '../../test/kit/sdk.js';
import { sseSubscribe } from '../../test/kit/live.js';
import { startServer, type RunningServer } from '../server.js';

/**
 * A live booking on an exclusive resource takes the time of the resource's other slots it overlaps
 * (a range over them, or a booking of an overlapping slot): every availability read leaves them out
 * as FULL, live subscribers and the response cache hear of it, and they come back when the booking goes.
 */
let t: TestApp;
let server: RunningServer;
let f: ReturnType<typeof fixtures>;
let locationId: string;

/** 00:00 UTC some days ahead (every time below is in the future), and hours into it. */
const day = utcDay;
const at = hoursAfter;
const dateOf = (base: Date) => base.toISOString().slice(0, 10);
let customers = 0;
const someone = () => customer(`cover-${++customers}`);

const bookRange = (roomId: string, startAt: string, endAt: string) =>
  call(t, BOOK, { range: { resourceId: gid('Resource', roomId), startAt, endAt }, customer: someone() });

/** A room (exclusive) with one-hour slots from 09:00 to 13:00 UTC on `base`. */
async function roomWithSlots(base: Date): Promise<{ room: string; slots: string[] }> {
  const room = await f.resource(locationId, { exclusive: true });
  const slots: string[] = [];
  for (const hour of [9, 10, 11, 12]) slots.push(await f.slot(locationId, room, { startAt: at(base, hour), minutes: 60 }));
  return { room, slots };
}

/** What each public read shows bookable on the room that day. */
async function shown(room: string, base: Date) {
  const scope = { resourceId: gid('Resource', room) };
  const window = { from: at(base, 0), to: at(base, 24) };
  const availability = expectNoErrors(await t.execute(AvailabilityDocument, { ...scope, ...window })).availability;
  const dates = expectNoErrors(await t.execute(AvailableDatesDocument, { ...scope, from: dateOf(base), to: dateOf(base) })).availableDates;
  const byDay = expectNoErrors(await t.execute(AvailabilityByDayDocument, { ...scope, ...window, withSlotIds: true })).availabilityByDay;
  const exposed = expectNoErrors(await t.execute(ExposedSlotsDocument, { ...scope, date: dateOf(base), sessionId: 'cover' })).exposedSlots;
  if (availability.__typename !== 'Availability' || dates.__typename !== 'AvailableDates') throw new Error('not an answer');
  if (byDay.__typename !== 'AvailabilityDays' || exposed.__typename !== 'ExposedSlots') throw new Error('not an answer');
  const open = availability.slots.filter((s) => s.remaining > 0);
  return {
    open: open.map((s) => decodeGlobalID(s.id).id),
    statuses: availability.slots.map((s) => s.status),
    dateCount: dates.dates[0]?.slotCount ?? 0,
    byDay: byDay.days.flatMap((d) => (d.slotIds ?? []).map((id) => decodeGlobalID(id).id)),
    exposedTotal: exposed.total,
  };
}

/** Every slot's covered count against what it should be, recounted from the bookings. */
async function coverDrift(): Promise<unknown[]> {
  return t.app.db.sql.query(
    `SELECT s.id, s.covered, (SELECT count(*)::int FROM bookings b
        WHERE b.resource_id = s.resource_id AND b.exclusive AND b.status IN ('HELD', 'CONFIRMED')
          AND tstzrange(b.start_at, b.end_at) && tstzrange(s.start_at, s.end_at) AND b.slot_id IS DISTINCT FROM s.id) AS expected
       FROM slots s WHERE s.resource_id IS NOT NULL
     EXCEPT
     SELECT s.id, s.covered, s.covered FROM slots s`,
  );
}

beforeAll(async () => {
  t = await createTestApp();
  server = await startServer(t.app, { port: 0, host: '127.0.0.1' });
  f = fixtures(t.app.db.sql);
  locationId = await f.location();
});
afterAll(async () => {
  await server?.stop();
  await t?.close();
});

describe('slots under a range booking', () => {
  it('leave every availability read while the range is booked, follow it when it moves, and come back when it is cancelled', async () => {
    const base = day(5);
    const { room, slots } = await roomWithSlots(base);
    const [nine, ten, eleven, twelve] = slots as [string, string, string, string];
    const before = await shown(room, base);
    expect(before).toMatchObject({ open: slots, dateCount: 4, byDay: slots, exposedTotal: 4 });

    // 10:00-11:30 takes the 10:00 and the 11:00 slot.
    const booked = await bookRange(room, at(base, 10), at(base, 11.5));
    expect(booked.__typename).toBe('BookingReceipt');
    const during = await shown(room, base);
    expect(during).toMatchObject({
      open: [nine, twelve],
      statuses: ['OPEN', 'FULL', 'FULL', 'OPEN'],
      dateCount: 2,
      byDay: [nine, twelve],
      exposedTotal: 2,
    });
    // Holding one is refused as before (the exclusion constraint); now nothing offered it.
    expect((await call(t, HOLD, { slotId: gid('Slot', ten), customer: someone() })).__typename).not.toBe('BookingReceipt');

    const moved = await call(t, RESCHEDULE, {
      bookingId: booked.booking.id,
      manageToken: booked.manageToken,
      range: { startAt: at(base, 12), endAt: at(base, 13) },
    });
    expect(moved.__typename).toBe('Booking');
    expect(await shown(room, base)).toMatchObject({ open: [nine, ten, eleven], dateCount: 3, exposedTotal: 3 });

    expect((await call(t, CANCEL, { bookingId: booked.booking.id, manageToken: booked.manageToken })).__typename).toBe('Booking');
    expect(await shown(room, base)).toMatchObject({ open: slots, dateCount: 4, byDay: slots, exposedTotal: 4 });
    expect(await call(t, HOLD, { slotId: gid('Slot', ten), customer: someone() })).toMatchObject({ __typename: 'BookingReceipt' });
    expect(await coverDrift()).toEqual([]);
  });

  it('a slot made under a range is covered from the start; a booking of an overlapping slot covers its neighbour until its hold expires', async () => {
    const base = day(6);
    const room = await f.resource(locationId, { exclusive: true });
    expect((await bookRange(room, at(base, 14), at(base, 16))).__typename).toBe('BookingReceipt');
    const under = await f.slot(locationId, room, { startAt: at(base, 15), minutes: 60 });
    const after = await f.slot(locationId, room, { startAt: at(base, 16), minutes: 60 });
    const status = async (id: string) => (await t.app.db.sql.query<{ status: string }>('SELECT status FROM slots WHERE id = $1', [id]))[0]!.status;
    expect([await status(under), await status(after)]).toEqual(['FULL', 'OPEN']);

    // A 30-minute slot at 16:30 overlaps the 16:00 hour: holding the hour takes it too.
    const half = await f.slot(locationId, room, { startAt: at(base, 16.5), minutes: 30 });
    const held = await call(t, HOLD, { slotId: gid('Slot', after), customer: someone() });
    expect(held.__typename).toBe('BookingReceipt');
    expect([await status(after), await status(half)]).toEqual(['FULL', 'FULL']);
    await t.app.db.sql.query(`UPDATE bookings SET hold_expires_at = now() - interval '1 minute' WHERE id = $1`, [decodeGlobalID(held.booking.id).id]);
    await t.app.services.bookings.releaseExpiredHolds();
    expect([await status(after), await status(half)]).toEqual(['OPEN', 'OPEN']);
    expect(await coverDrift()).toEqual([]);
  });

  it('live subscribers hear that the slots under a new range are FULL, and that they are open again after the cancel', async () => {
    const base = day(7);
    const { room, slots } = await roomWithSlots(base);
    const live = sseSubscribe(server.url, { resourceId: gid('Resource', room), from: at(base, 0), to: at(base, 24) });
    try {
      const snapshot = await live.log.at(0, 15_000);
      expect(snapshot.kind).toBe('SNAPSHOT');
      const booked = await bookRange(room, at(base, 9), at(base, 11));
      const covered = slots.slice(0, 2);
      const stateOf = (id: string) => {
        for (const event of [...live.log.items].reverse()) {
          const slot = event.slots?.find((s) => decodeGlobalID(s.id).id === id);
          if (slot) return event.kind === 'REMOVED' ? 'REMOVED' : slot.status;
        }
        return undefined;
      };
      const gone = (s: string | undefined) => s === 'FULL' || s === 'REMOVED';
      await live.log.until(() => covered.every((id) => gone(stateOf(id))), 10_000, 'the covered slots as FULL');
      expect(stateOf(slots[2]!)).toBe('OPEN');
      await call(t, CANCEL, { bookingId: booked.booking.id, manageToken: booked.manageToken });
      await live.log.until(() => covered.every((id) => stateOf(id) === 'OPEN'), 10_000, 'the slots open again');
    } finally {
      live.close();
    }
  });

  it('the line of a slot under a range gets its place when the range is cancelled', async () => {
    const base = day(10);
    const { room, slots } = await roomWithSlots(base);
    const booked = await bookRange(room, at(base, 9), at(base, 10));
    const join = expectNoErrors(
      await t.execute(`mutation ($input: JoinWaitlistInput!) { joinWaitlist(input: $input) { __typename ... on SlotNotFullError { remaining } } }`, {
        input: { slotId: gid('Slot', slots[0]!), customer: someone() },
      }),
    ).joinWaitlist;
    expect(join).toEqual({ __typename: 'JoinedWaitlist' });
    await call(t, CANCEL, { bookingId: booked.booking.id, manageToken: booked.manageToken });
    const [entry] = await t.app.db.sql.query<{ status: string }>('SELECT status FROM waitlist_entries WHERE slot_id = $1', [slots[0]]);
    expect(entry!.status).toBe('OFFERED');
  });

  it('a cached answer is not kept past the range booking that took its slots', async () => {
    const base = day(8);
    const { room } = await roomWithSlots(base);
    const dates = async () => {
      const answer = expectNoErrors(
        await t.execute(AvailableDatesDocument, { resourceId: gid('Resource', room), from: dateOf(base), to: dateOf(base) }),
      ).availableDates;
      if (answer.__typename !== 'AvailableDates') throw new Error(answer.__typename);
      return answer.dates[0]?.slotCount ?? 0;
    };
    expect(await dates()).toBe(4);
    expect(await dates()).toBe(4); // now from the cache
    expect((await bookRange(room, at(base, 9), at(base, 13))).__typename).toBe('BookingReceipt');
    expect(await dates()).toBe(0);
  });

  it('40 ranges and 40 holds racing on one room: no slot is both booked and covered, and every count is exact', async () => {
    const base = day(9);
    const room = await f.resource(locationId, { exclusive: true });
    const slots: string[] = [];
    for (let hour = 8; hour < 18; hour++) slots.push(await f.slot(locationId, room, { startAt: at(base, hour), minutes: 60 }));
    // One range before the race, so some slots are surely covered while the others are fought over.
    expect((await bookRange(room, at(base, 8), at(base, 9.5))).__typename).toBe('BookingReceipt');
    const attempts = [
      ...Array.from({ length: 40 }, (_, i) => {
        const start = 9.5 + (i % 16) * 0.5;
        return bookRange(room, at(base, start), at(base, start + 1 + (i % 3) * 0.5));
      }),
      ...Array.from({ length: 40 }, (_, i) => call(t, HOLD, { slotId: gid('Slot', slots[i % slots.length]!), customer: someone() })),
    ];
    const results = await Promise.all(attempts);
    const kinds = new Set(results.map((r) => r.__typename));
    expect([...kinds]).toEqual(expect.arrayContaining(['BookingReceipt']));
    expect([...kinds].filter((k) => !['BookingReceipt', 'BookingConflictError', 'SlotUnavailableError', 'SlotFullError'].includes(k))).toEqual([]);
    expect(results.filter((r) => r.__typename === 'BookingReceipt').length).toBeGreaterThan(1);
    expect(await coverDrift()).toEqual([]);
    const [clash] = await t.app.db.sql.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM slots WHERE resource_id = $1 AND covered > 0 AND booked + held > 0`,
      [room],
    );
    expect(clash!.n).toBe(0);
    const offered = await shown(room, base);
    const [free] = await t.app.db.sql.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM slots s WHERE s.resource_id = $1 AND NOT EXISTS (
         SELECT 1 FROM bookings b WHERE b.resource_id = s.resource_id AND b.status IN ('HELD', 'CONFIRMED')
            AND tstzrange(b.start_at, b.end_at) && tstzrange(s.start_at, s.end_at))`,
      [room],
    );
    expect(offered.dateCount).toBe(free!.n);
  });
});
