import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadDataset, type Dataset } from '../bench/dataset.js';
import { createTestApp, expectNoErrors, type TestApp } from './kit/app.js';
import { customer, gid } from './kit/fixtures.js';
import { BOOK, CANCEL, call } from './kit/documents.js';
import { exerciseHotPaths, explainStatements, formatPlans, hotStatements, recordStatements } from './statement-plans.js';

/**
 * Issue #18 item 6: availability and booking must not slow down as the tables grow. On a dataset big
 * enough for the planner to tell (8 locations x 20 resources x 60 days: 230,400 slots, about 43,000
 * bookings, loaded with generate_series in seconds), every statement the hot paths send that reads
 * slots or bookings is EXPLAINed as the server runs it (a prepared statement: planned for its values,
 * then from the sixth call on whatever plan PostgreSQL's plan cache keeps): none may read a whole table.
 */
let t: TestApp;
let dataset: Dataset;

beforeAll(async () => {
  t = await createTestApp();
  dataset = await loadDataset(t.databaseUrl, { locations: 8, days: 60, bookEvery: 8 });
}, 120_000);
afterAll(() => t?.close());

async function freeSlots(n: number): Promise<string[]> {
  const rows = await t.app.db.sql.query<{ id: string }>(
    `SELECT s.id FROM slots s JOIN resources r ON r.id = s.resource_id
      WHERE NOT r.exclusive AND s.booked = 0 AND s.held = 0 AND s.start_at > now() + interval '2 days' ORDER BY s.id LIMIT $1`,
    [n],
  );
  return rows.map((r) => r.id);
}

describe('query plans on a big dataset', () => {
  it('the hot statements (availability, hold, book, myBookings, sweeper, mail consumer) use indexes: no Seq Scan on slots or bookings', async () => {
    const [hold, book] = await freeSlots(2);
    const person = dataset.people[3]!;
    const { statements } = await recordStatements(() =>
      exerciseHotPaths(t.app, {
        resourceId: person.id,
        locationId: person.locationId,
        freeSlotIds: [hold!, book!],
        from: new Date(`${dataset.firstDate}T00:00:00Z`),
      }),
    );
    const hot = hotStatements(statements);
    // The paths really ran: reads of both tables and writes of a booking were among them.
    expect(hot.length).toBeGreaterThanOrEqual(8);
    expect(hot.some((s) => /INSERT INTO bookings/i.test(s.text))).toBe(true);
    const plans = await explainStatements(t.databaseUrl, hot);
    // After five calls the slot lock read runs on one cached generic plan: that plan is judged too.
    expect(plans[hot.findIndex((s) => /FOR UPDATE OF s/.test(s.text))]!.generic).toBe(true);
    const withSeqScan = plans.filter((p) => p.seqScans.length);
    expect(withSeqScan, formatPlans('statements with a Seq Scan', withSeqScan)).toEqual([]);
  }, 60_000);

  it('the hold sweeper releases at most its batch per run, oldest first, and the next run takes the rest', async () => {
    const slots = await freeSlots(1200);
    await t.app.db.sql.query(
      `WITH s AS (SELECT id, resource_id, location_id, start_at, end_at, row_number() OVER (ORDER BY id) AS n FROM slots WHERE id = ANY($1::uuid[])),
       held AS (UPDATE slots SET held = 1 WHERE id = ANY($1::uuid[]))
       INSERT INTO bookings (kind, slot_id, resource_id, location_id, start_at, end_at, status, hold_expires_at, customer_name, customer_email, customer_email_hash, ics_uid)
       SELECT 'SLOT', id, resource_id, location_id, start_at, end_at, 'HELD', now() - n * interval '1 second', 'Held', 'held@example.com', md5('held' || n), 'held-' || n || '@plans'
         FROM s`,
      [slots],
    );
    const expired = async () => (await t.app.db.sql.query<{ n: number }>(`SELECT count(*)::int AS n FROM bookings WHERE status = 'EXPIRED'`))[0]!.n;
    const before = await expired();
    await t.app.services.bookings.releaseExpiredHolds();
    expect((await expired()) - before).toBe(500);
    // Oldest expiry first: the 500 released are those that expired longest ago.
    const [oldestLeft] = await t.app.db.sql.query<{ n: number }>(
      `SELECT max(substring(ics_uid FROM 'held-(\\d+)@')::int) AS n FROM bookings WHERE status = 'HELD' AND ics_uid LIKE 'held-%'`,
    );
    expect(oldestLeft!.n).toBe(700);
    await t.app.services.bookings.releaseExpiredHolds();
    await t.app.services.bookings.releaseExpiredHolds();
    expect((await expired()) - before).toBe(1200);
  }, 60_000);
  it("a range over a room's slots: finding, locking and covering those slots go through the overlap index", async () => {
    const room = dataset.rooms[0]!;
    // An hour of the room with slots and no booking near it.
    const [free] = await t.app.db.sql.query<{ start_at: Date }>(
      `SELECT s.start_at FROM slots s WHERE s.resource_id = $1 AND s.start_at > now() + interval '3 days' AND NOT EXISTS (
         SELECT 1 FROM bookings b WHERE b.resource_id = s.resource_id AND b.status IN ('HELD', 'CONFIRMED')
            AND tstzrange(b.start_at, b.end_at) && tstzrange(s.start_at - interval '1 hour', s.end_at + interval '1 hour'))
        ORDER BY s.start_at LIMIT 1`,
      [room.id],
    );
    const range = { startAt: free!.start_at.toISOString(), endAt: new Date(free!.start_at.getTime() + 3_600_000).toISOString() };
    const { statements } = await recordStatements(async () => {
      const booked = await call(t, BOOK, { range: { resourceId: gid('Resource', room.id), ...range }, customer: customer('plan-range') });
      expect(booked.__typename).toBe('BookingReceipt');
      expectNoErrors(await t.execute(CANCEL, { input: { bookingId: booked.booking.id, manageToken: booked.manageToken } }));
    });
    const overlapReads = hotStatements(statements).filter((s) => /tstzrange\(s?\.?start_at, s?\.?end_at\) &&/.test(s.text));
    // The lock before the resource's, and the covered slots read after each change to publish them.
    expect(overlapReads.length).toBeGreaterThanOrEqual(2);
    // The triggers' own statement (migration 0016), with the booking's values.
    const triggerUpdate = {
      text: `UPDATE slots SET covered = covered + 1 WHERE resource_id = $1 AND tstzrange(start_at, end_at) && tstzrange($2, $3) AND id IS DISTINCT FROM $4`,
      values: [room.id, range.startAt, range.endAt, null],
    };
    const plans = await explainStatements(t.databaseUrl, [...overlapReads, triggerUpdate]);
    const missing = plans.filter((p) => !p.scans.some((scan) => scan.includes('slots_resource_during_idx')));
    expect(missing, formatPlans('overlap statements not using slots_resource_during_idx', missing)).toEqual([]);
  }, 60_000);
});
