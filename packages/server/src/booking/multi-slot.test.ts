import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, TEST_SECRETS, type TestApp } from '../../test/kit/app.js';
import { fixtures } from '../../test/kit/fixtures.js';
import { openDatabase } from '../db/database.js';
import { withRetry } from '../db/retry.js';
import { configurePii } from '../shared/pii.js';
import { SlotsUnavailableError } from './errors.js';
import { releaseExpiredHolds } from './expiry.js';
import { bookSlotsInTransaction, type BookSlotsInput } from './multi-slot.js';

// The multi-slot service has no root field of its own (form registrations call it), so it is
// exercised here directly, inside transactions the way its callers run it.
let t: TestApp;
let f: ReturnType<typeof fixtures>;
let locationId: string;
let resourceId: string;

const customer = { name: 'Ann', email: 'Ann@Example.com', phone: '+44 20 7946 0958' };
/** Another customer each (one live booking per slot per customer). */
const someone = (i: number | string) => ({ name: `P ${i}`, email: `p${i}@example.com` });
const book = (slotIds: string[], extra: Partial<BookSlotsInput> = {}) =>
  withRetry(() =>
    t.app.db.sql.transaction((tx) =>
      bookSlotsInTransaction(tx, { slotIds, customer, actorLabel: 'test', status: 'CONFIRMED', mail: null, ...extra }),
    ),
  );

beforeAll(async () => {
  t = await createTestApp();
  configurePii(TEST_SECRETS.ENCRYPTION_KEY);
  f = fixtures(t.app.db.sql);
  locationId = await f.location();
  resourceId = await f.resource(locationId);
});
afterAll(() => t?.close());

describe('bookSlotsInTransaction', () => {
  it('books every slot, encrypts the customer and returns changes to publish', async () => {
    const a = await f.slot(locationId, resourceId, { capacity: 3 });
    const b = await f.slot(locationId, resourceId, { capacity: 3 });
    const { bookings, changes, manageTokens } = await book([b, a], { status: 'HELD' });
    expect(bookings.map((x) => x.slotId)).toEqual([b, a]);
    expect(bookings.every((x) => x.status === 'HELD' && x.holdExpiresAt)).toBe(true);
    expect(bookings[0]!.customerEmail).not.toContain('Example');
    expect(manageTokens).toHaveLength(2);
    expect(changes.map((c) => [c.slotId, c.reason])).toEqual(
      [
        [a, 'HELD'],
        [b, 'HELD'],
      ].sort(),
    );
    expect(await f.slotCounts(a)).toMatchObject({ held: 1, booked: 0, status: 'PARTIAL' });
    const audit = await t.app.db.sql.query(`SELECT action, new_values::text AS v FROM audit_events WHERE entity_id = $1`, [bookings[0]!.id]);
    expect(audit).toHaveLength(1);
    // The plain values, not fragments: a slot id's hex may well contain "7946".
    const v = (audit[0]!.v as string).toLowerCase();
    expect([customer.email, customer.phone, '7946 0958', '"ann"'].filter((p) => v.includes(p.toLowerCase()))).toEqual([]);
  });

  it('names every unavailable slot and writes nothing', async () => {
    const full = await f.slot(locationId, resourceId, { capacity: 1 });
    await book([full], { customer: someone('full') });
    const blocked = await f.slot(locationId, resourceId, { status: 'BLOCKED' });
    const past = await f.slot(locationId, resourceId, { startAt: new Date(Date.now() - 3_600_000) });
    const free = await f.slot(locationId, resourceId, { capacity: 2 });
    const unknown = '01890000-0000-7000-8000-000000000000';
    const before = [await f.count('bookings'), await f.count('audit_events')];
    const error = await book([free, full, blocked, past, unknown]).catch((e) => e);
    expect(error).toBeInstanceOf(SlotsUnavailableError);
    expect(error.code).toBe('SLOTS_UNAVAILABLE');
    expect(error.unavailable).toEqual([
      { slotId: full, reason: 'FULL', remaining: 0 },
      { slotId: blocked, reason: 'BLOCKED' },
      { slotId: past, reason: 'PAST' },
      { slotId: unknown, reason: 'NOT_FOUND' },
    ]);
    expect([await f.count('bookings'), await f.count('audit_events')]).toEqual(before);
    expect(await f.slotCounts(free)).toMatchObject({ held: 0, booked: 0 });
  });

  it('a slot on an exclusive resource whose time is partly booked by a range is a CONFLICT', async () => {
    const room = await f.resource(locationId, { exclusive: true });
    const startAt = new Date(Math.ceil(Date.now() / 86_400_000) * 86_400_000 + 2 * 86_400_000 + 10 * 3_600_000);
    const slot = await f.slot(locationId, room, { startAt, minutes: 60 });
    const free = await f.slot(locationId, room, { startAt: new Date(startAt.getTime() + 3 * 3_600_000), minutes: 60 });
    await t.app.db.sql.query(
      `INSERT INTO bookings (kind, resource_id, exclusive, start_at, end_at, status, customer_name, customer_email, customer_email_hash, ics_uid)
       VALUES ('RANGE', $1, true, $2, $3, 'CONFIRMED', 'x', 'x', 'x', gen_random_uuid()::text)`,
      [room, new Date(startAt.getTime() + 30 * 60_000), new Date(startAt.getTime() + 90 * 60_000)],
    );
    const error = await book([free, slot]).catch((e) => e);
    expect(error.unavailable).toEqual([{ slotId: slot, reason: 'CONFLICT' }]);
    expect(await f.slotCounts(free)).toMatchObject({ booked: 0 });
  });

  it('reclaims expired holds on its slots before checking capacity', async () => {
    const slot = await f.slot(locationId, resourceId, { capacity: 1 });
    const now = new Date();
    await book([slot], { status: 'HELD', now: new Date(now.getTime() - 20 * 60_000) });
    const { bookings } = await book([slot], { now });
    expect(bookings[0]!.status).toBe('CONFIRMED');
    expect(await f.slotCounts(slot)).toMatchObject({ held: 0, booked: 1, status: 'FULL' });
    expect(await f.bookingCounts(slot)).toEqual({ EXPIRED: 1, CONFIRMED: 1 });
  });

  it('two requests over the same slots in opposite orders both finish: one wins, no deadlock leaks', async () => {
    for (let round = 0; round < 15; round++) {
      const slots = await Promise.all([1, 2, 3].map(() => f.slot(locationId, resourceId, { capacity: 1 })));
      // Two customers: one customer's second request may instead meet its own first booking (DuplicateBookingError).
      const results = await Promise.allSettled([
        book(slots, { customer: someone(`${round}a`) }),
        book([...slots].reverse(), { customer: someone(`${round}b`) }),
      ]);
      const won = results.filter((r) => r.status === 'fulfilled');
      const lost = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
      expect(won).toHaveLength(1);
      expect(lost[0]!.reason).toBeInstanceOf(SlotsUnavailableError);
      expect(lost[0]!.reason.unavailable.map((u: { reason: string }) => u.reason)).toEqual(['FULL', 'FULL', 'FULL']);
      for (const s of slots) expect(await f.slotCounts(s)).toMatchObject({ booked: 1, held: 0 });
    }
  });
});

describe('releaseExpiredHolds', () => {
  it('expires holds past their time, restores capacity and reports EXPIRED changes with the new version', async () => {
    const slot = await f.slot(locationId, resourceId, { capacity: 2 });
    const { bookings } = await book([slot], { status: 'HELD' });
    const before = await f.slotCounts(slot);
    expect(await releaseExpiredHolds(t.app.db.sql, { slotIds: [slot] })).toEqual([]);
    const changes = await releaseExpiredHolds(t.app.db.sql, { slotIds: [slot], now: new Date(Date.now() + 11 * 60_000) });
    const after = await f.slotCounts(slot);
    expect(changes).toEqual([expect.objectContaining({ slotId: slot, reason: 'EXPIRED', version: after.version })]);
    expect(after).toMatchObject({ held: 0, booked: 0, status: 'OPEN', version: before.version + 1 });
    expect(await f.bookingCounts(slot)).toEqual({ EXPIRED: 1 });
    const audit = await t.app.db.sql.query(`SELECT action, actor_label FROM audit_events WHERE entity_id = $1 ORDER BY created_at`, [
      bookings[0]!.id,
    ]);
    expect(audit.map((a) => a.action)).toEqual(['HELD', 'EXPIRED']);
  });

  it('many sweepers at once release each hold exactly once', async () => {
    const slot = await f.slot(locationId, resourceId, { capacity: 20 });
    for (let i = 0; i < 20; i++) await book([slot], { status: 'HELD', customer: someone(i) });
    const later = new Date(Date.now() + 11 * 60_000);
    const runs = await Promise.all(Array.from({ length: 6 }, () => releaseExpiredHolds(t.app.db.sql, { now: later, limit: 7 })));
    const again = await releaseExpiredHolds(t.app.db.sql, { now: later });
    const released = [...runs, again].flat().filter((c) => c.slotId === slot);
    expect(released.length).toBeGreaterThan(0);
    expect(await f.slotCounts(slot)).toMatchObject({ held: 0, booked: 0 });
    expect(await f.bookingCounts(slot)).toEqual({ EXPIRED: 20 });
  });
});

describe('the slot lock read', () => {
  it('of a one-slot booking is planned for its first five calls on a connection, then runs on one cached plan', async () => {
    // One connection, so every booking below runs on the same prepared statement.
    const single = await openDatabase({ url: t.databaseUrl, poolMax: 1 });
    try {
      for (let i = 0; i < 9; i++) {
        const slot = await f.slot(locationId, resourceId);
        await single.sql.transaction((tx) =>
          bookSlotsInTransaction(tx, { slotIds: [slot], customer: someone(`plan${i}`), actorLabel: 'test', status: 'HELD', mail: null }),
        );
      }
      const [lockRead] = await single.sql.query<{ custom_plans: number; generic_plans: number }>(
        `SELECT custom_plans::int, generic_plans::int FROM pg_prepared_statements WHERE statement LIKE '%FOR UPDATE OF s%'`,
      );
      expect(lockRead).toEqual({ custom_plans: 5, generic_plans: 4 });
    } finally {
      await single.close();
    }
  });
});
