import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, expectNoErrors, type TestApp } from './kit/app.js';
import { customer, fixtures, gid, type Fixtures } from './kit/fixtures.js';
import { AvailabilityDocument, BookDocument, HoldDocument } from './kit/sdk.js';

/**
 * SQL statements per operation on the hot paths, counted on the wire (plain SQL and Prisma alike, BEGIN
 * and COMMIT included): the same for few or many rows, so an N+1 on either path fails here. The bounds
 * are today's counts (lower them when an operation gets cheaper); the equalities catch a per-row statement.
 */
let t: TestApp;
let f: Fixtures;

const HOUR = 3_600_000;
/** Whole hours from the next full hour, so no slot starts in the past. */
const hoursAhead = (n: number) => new Date(Math.ceil(Date.now() / HOUR) * HOUR + n * HOUR);
const window = { from: hoursAhead(0).toISOString(), to: hoursAhead(24 * 7).toISOString() };

beforeAll(async () => {
  t = await createTestApp();
  f = fixtures(t.app.db.sql);
});
afterAll(() => t?.close());

/** A location with `people` resources, each with a slot every 5 hours for a week. */
async function locationWith(people: number): Promise<{ locationId: string; resourceIds: string[] }> {
  const locationId = await f.location('Europe/Berlin');
  const resourceIds: string[] = [];
  for (let i = 0; i < people; i++) {
    const resourceId = await f.resource(locationId, { name: `Person ${i}` });
    await f.slots(
      { locationId, resourceId, timeZone: 'Europe/Berlin' },
      Array.from({ length: 30 }, (_, n) => ({ start: hoursAhead(2 + n * 5).toISOString() })),
    );
    resourceIds.push(resourceId);
  }
  return { locationId, resourceIds };
}

let people = 0;
const someone = () => customer(`sql-${++people}`);

describe('availability', () => {
  it('reads a location with 3 or 15 people, or one person, in the same few statements', async () => {
    const few = await locationWith(3);
    const many = await locationWith(15);
    const read = (scope: { locationId?: string; resourceId?: string }) =>
      t.sql.count(async () => {
        const data = expectNoErrors(await t.execute(AvailabilityDocument, { ...scope, ...window }));
        if (data.availability.__typename !== 'Availability') throw new Error(data.availability.__typename);
        return data.availability.slots.length;
      });
    const forFew = await read({ locationId: gid('Location', few.locationId) });
    const forMany = await read({ locationId: gid('Location', many.locationId) });
    const forOne = await read({ resourceId: gid('Resource', many.resourceIds[0]!) });
    expect(forMany).toBe(forFew);
    expect(forOne).toBe(1);
    expect(forFew).toBe(1); // the location, whether any policy applies, and every slot, in one statement

    // Under a policy (here one resource's 10-hour notice), the policies of every slot's resource are read at once and applied.
    const policed = await locationWith(3);
    await t.app.db.sql.query('UPDATE resources SET min_notice_minutes = 600 WHERE id = $1', [policed.resourceIds[1]]);
    const { result: shown, statements } = await t.sql.during(async () => {
      const data = expectNoErrors(await t.execute(AvailabilityDocument, { locationId: gid('Location', policed.locationId), ...window }));
      if (data.availability.__typename !== 'Availability') throw new Error(data.availability.__typename);
      return data.availability.slots.length;
    });
    expect(statements).toHaveLength(2);
    expect(shown).toBe(3 * 30 - 2); // that resource's slots 2 and 7 hours ahead are left out
  });
});

describe('hold and book', () => {
  it('hold and book a place in the same statements whether the slot has no bookings or ten', async () => {
    const { locationId, resourceIds } = await locationWith(1);
    const empty = await f.slot(locationId, resourceIds[0]!, { startAt: hoursAhead(3), capacity: 30 });
    const busy = await f.slot(locationId, resourceIds[0]!, { startAt: hoursAhead(4), capacity: 30 });
    for (let i = 0; i < 10; i++) {
      const booked = expectNoErrors(await t.execute(BookDocument, { input: { slotId: gid('Slot', busy), customer: someone() } }));
      expect(booked.book.__typename).toBe('BookingReceipt');
    }
    const hold = (slotId: string) =>
      t.sql.count(async () => {
        const { hold } = expectNoErrors(await t.execute(HoldDocument, { input: { slotId: gid('Slot', slotId), customer: someone() } }));
        expect(hold.__typename).toBe('BookingReceipt');
      });
    const book = (slotId: string) =>
      t.sql.count(async () => {
        const { book } = expectNoErrors(await t.execute(BookDocument, { input: { slotId: gid('Slot', slotId), customer: someone() } }));
        expect(book.__typename).toBe('BookingReceipt');
      });
    const holdEmpty = await hold(empty);
    expect(await hold(busy)).toBe(holdEmpty);
    // BEGIN; the slot with its policy; the counts, booking, audit row and event in one statement
    // (their wake-up needs no NOTIFY); COMMIT. Then the receipt's 4 reads.
    expect(holdEmpty).toBeLessThanOrEqual(8);
    const bookEmpty = await book(empty);
    expect(await book(busy)).toBe(bookEmpty);
    // As a hold: its mail intent goes in the same write; the mails are rendered after commit.
    expect(bookEmpty).toBeLessThanOrEqual(8);
  });
});

describe('conflicts', () => {
  it('answers a full slot, and a range conflict with alternatives, in the same statements for one booking in the way or ten', async () => {
    const locationId = await f.location();
    const person = await f.resource(locationId);
    const full = await f.slot(locationId, person, { startAt: hoursAhead(5), capacity: 1 });
    const fuller = await f.slot(locationId, person, { startAt: hoursAhead(6), capacity: 10 });
    expect(expectNoErrors(await t.execute(BookDocument, { input: { slotId: gid('Slot', full), customer: someone() } })).book.__typename).toBe(
      'BookingReceipt',
    );
    for (let i = 0; i < 10; i++) {
      expect(expectNoErrors(await t.execute(BookDocument, { input: { slotId: gid('Slot', fuller), customer: someone() } })).book.__typename).toBe(
        'BookingReceipt',
      );
    }
    const slotFull = (slotId: string) =>
      t.sql.count(async () => {
        const { book } = expectNoErrors(await t.execute(BookDocument, { input: { slotId: gid('Slot', slotId), customer: someone() } }));
        expect(book.__typename).toBe('SlotFullError');
      });
    const oneInTheWay = await slotFull(full);
    expect(await slotFull(fuller)).toBe(oneInTheWay);
    expect(oneInTheWay).toBeLessThanOrEqual(3); // BEGIN, the slot, ROLLBACK

    // Room A has one booking across the wanted range, room B ten back to back (alternatives skip them all).
    const [roomA, roomB] = [await f.resource(locationId, { exclusive: true }), await f.resource(locationId, { exclusive: true })];
    const start = hoursAhead(48);
    const at = (minutes: number) => new Date(start.getTime() + minutes * 60_000).toISOString();
    const range = (resourceId: string, from: number, to: number) => ({
      range: { resourceId: gid('Resource', resourceId), startAt: at(from), endAt: at(to) },
      customer: someone(),
    });
    expect(expectNoErrors(await t.execute(BookDocument, { input: range(roomA, 0, 150) })).book.__typename).toBe('BookingReceipt');
    for (let i = 0; i < 10; i++) {
      expect(expectNoErrors(await t.execute(BookDocument, { input: range(roomB, i * 15, i * 15 + 15) })).book.__typename).toBe('BookingReceipt');
    }
    const conflict = (resourceId: string) =>
      t.sql.count(async () => {
        const { book } = expectNoErrors(await t.execute(BookDocument, { input: range(resourceId, 30, 90) }));
        if (book.__typename !== 'BookingConflictError') throw new Error(book.__typename);
        expect(book.alternatives.length).toBeGreaterThan(0);
      });
    const againstOne = await conflict(roomA);
    expect(await conflict(roomB)).toBe(againstOne);
    // The attempt (rolled back; it locks the room's slots under the range first), then the room's
    // rules and its bookings for the alternatives.
    expect(againstOne).toBeLessThanOrEqual(9);
  });
});
