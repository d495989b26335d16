import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../../test/kit/app.js';
import { fixtures, customer, gid } from '../../test/kit/fixtures.js';
import { BOOK, BOOKING, CONFIRM, HOLD, call } from '../../test/kit/documents.js';
import { simulatedLatency } from '../../test/kit/wait.js';
import { TryAgainError } from '../db/retry.js';
import { BookingService } from './booking.service.js';

let t: TestApp;
let f: ReturnType<typeof fixtures>;
let locationId: string;
let resourceId: string;

const hold = (slotId: string, who: object | null = customer(), options = {}) =>
  call(t, HOLD, { slotId: gid('Slot', slotId), ...(who ? { customer: who } : {}) }, options);
const confirm = (bookingId: string, manageToken?: string, options = {}) => call(t, CONFIRM, { bookingId, manageToken }, options);
const expireHoldsOf = (slotId: string) =>
  t.app.db.sql.query(`UPDATE bookings SET hold_expires_at = now() - interval '1 second' WHERE slot_id = $1 AND status = 'HELD'`, [slotId]);

beforeAll(async () => {
  t = await createTestApp();
  f = fixtures(t.app.db.sql);
  locationId = await f.location();
  resourceId = await f.resource(locationId);
});
afterAll(() => t?.close());

describe('hold', () => {
  it('keeps a place for HOLD_TTL_MINUTES and returns the manage token once', async () => {
    const slot = await f.slot(locationId, resourceId, { capacity: 2 });
    const before = Date.now();
    const result = await hold(slot, customer('ann'), { headers: { 'x-request-id': 'req-hold-1' } });
    expect(result.__typename).toBe('BookingReceipt');
    expect(result.manageToken).toMatch(/^bk_/);
    expect(result.booking).toMatchObject({ status: 'HELD', kind: 'SLOT', slot: { id: gid('Slot', slot) }, customer: customer('ann') });
    const expiresIn = new Date(result.booking.holdExpiresAt).getTime() - before;
    expect(expiresIn).toBeGreaterThan(9.9 * 60_000);
    expect(expiresIn).toBeLessThan(10.1 * 60_000);
    expect(await f.slotCounts(slot)).toMatchObject({ held: 1, booked: 0, status: 'PARTIAL' });

    // The plain values themselves, not fragments: a hash or ciphertext may well contain "555" or "bk_".
    const { name, email, phone } = customer('ann');
    const plain = (text: string, values: string[]) => values.filter((v) => text.toLowerCase().includes(v.toLowerCase()));
    const [row] = await t.app.db.sql.query(`SELECT customer_email, customer_phone, manage_token_hash FROM bookings WHERE ics_uid = $1`, [
      result.booking.icsUid,
    ]);
    expect(plain(JSON.stringify(row), [email, phone, phone.slice(7), result.manageToken])).toEqual([]);
    const audit = await t.app.db.sql.query(
      `SELECT action, actor_label, request_id, new_values::text AS v FROM audit_events WHERE entity_type = 'Booking' AND request_id = 'req-hold-1'`,
    );
    expect(audit).toMatchObject([{ action: 'HELD', actor_label: 'public' }]);
    expect(plain(audit[0]!.v as string, [name, email, phone, phone.slice(7)])).toEqual([]);
  });

  it('50 parallel holds on a slot of capacity 5: exactly 5 succeed, 45 get SlotFullError, slot and bookings agree', async () => {
    const slot = await f.slot(locationId, resourceId, { capacity: 5 });
    const results = await Promise.all(Array.from({ length: 50 }, (_, i) => hold(slot, customer(`p${i}`))));
    const types = results.map((r) => r.__typename);
    expect(types.filter((x) => x === 'BookingReceipt')).toHaveLength(5);
    expect(types.filter((x) => x === 'SlotFullError')).toHaveLength(45);
    expect(results.find((r) => r.__typename === 'SlotFullError')).toMatchObject({ code: 'SLOT_FULL', slotId: gid('Slot', slot), remaining: 0 });
    expect(await f.slotCounts(slot)).toMatchObject({ held: 5, booked: 0, status: 'FULL' });
    expect(await f.bookingCounts(slot)).toEqual({ HELD: 5 });
  });

  it('a repeat with the same Idempotency-Key returns the same booking and holds no second place', async () => {
    const slot = await f.slot(locationId, resourceId, { capacity: 3 });
    const headers = { 'idempotency-key': `hold-${slot}` };
    const first = await hold(slot, customer('idem'), { headers });
    const again = await hold(slot, customer('idem'), { headers });
    expect(again.booking.id).toBe(first.booking.id);
    expect(again.manageToken).toBe(first.manageToken);
    expect(await f.slotCounts(slot)).toMatchObject({ held: 1 });
    const changed = await t.execute(HOLD, { input: { slotId: gid('Slot', slot), customer: customer('other') } }, { headers });
    expect(changed.errors?.[0]?.extensions?.code).toBe('IDEMPOTENCY_KEY_REUSED');
    expect(await f.bookingCounts(slot)).toEqual({ HELD: 1 });
  });

  it('a signed-in user may hold as themselves', async () => {
    const token = await t.tokenFor(['user'], 'self@test.example');
    const slot = await f.slot(locationId, resourceId);
    const result = await hold(slot, null, { token });
    expect(result.booking.customer).toEqual({ name: 'self', email: 'self@test.example', phone: null });
    expect((await hold(slot, null)).__typename).toBe('ValidationError');
  });

  it('bad input gives typed errors and writes nothing', async () => {
    const past = await f.slot(locationId, resourceId, { startAt: new Date(Date.now() - 3_600_000) });
    const blocked = await f.slot(locationId, resourceId, { status: 'BLOCKED' });
    const cancelled = await f.slot(locationId, resourceId, { status: 'CANCELLED' });
    const open = await f.slot(locationId, resourceId);
    const before = [await f.count('bookings'), await f.count('audit_events')];

    expect(await hold('01890000-0000-7000-8000-000000000000')).toMatchObject({ __typename: 'NotFoundError', code: 'NOT_FOUND' });
    expect(await hold(past)).toMatchObject({ __typename: 'SlotUnavailableError', reason: 'PAST', slotId: gid('Slot', past) });
    expect(await hold(blocked)).toMatchObject({ __typename: 'SlotUnavailableError', reason: 'BLOCKED' });
    expect(await hold(cancelled)).toMatchObject({ __typename: 'SlotUnavailableError', reason: 'CANCELLED' });
    expect(await hold(open, { name: 'Ann', email: 'not-an-email' })).toMatchObject({
      __typename: 'ValidationError',
      fieldErrors: [{ path: ['input', 'customer', 'email'] }],
    });
    expect(await hold(open, { name: ' ', email: 'a@b.example' })).toMatchObject({ fieldErrors: [{ path: ['input', 'customer', 'name'] }] });
    expect(await call(t, HOLD, { slotId: gid('Resource', open), customer: customer() })).toMatchObject({
      __typename: 'ValidationError',
      fieldErrors: [{ path: ['input', 'slotId'] }],
    });

    // An empty id is an id given (not a range): a typed error on slotId, not an internal error.
    expect(await call(t, BOOK, { slotId: '', customer: customer() })).toMatchObject({
      __typename: 'ValidationError',
      fieldErrors: [{ path: ['input', 'slotId'] }],
    });

    expect([await f.count('bookings'), await f.count('audit_events')]).toEqual(before);
    expect(await f.slotCounts(open)).toMatchObject({ held: 0, booked: 0 });
  });
});

describe('confirm', () => {
  it('turns a live hold into a booking with the manage token: held - 1, booked + 1', async () => {
    const slot = await f.slot(locationId, resourceId, { capacity: 3 });
    const { booking, manageToken } = await hold(slot);
    expect(await confirm(booking.id)).toMatchObject({ __typename: 'NotFoundError' });
    expect(await confirm(booking.id, 'bk_wrong')).toMatchObject({ __typename: 'NotFoundError' });
    const confirmed = await confirm(booking.id, manageToken);
    expect(confirmed).toMatchObject({ __typename: 'Booking', status: 'CONFIRMED', holdExpiresAt: null, customer: customer() });
    expect(await f.slotCounts(slot)).toMatchObject({ held: 0, booked: 1 });
    // Again: nothing changes.
    expect(await confirm(booking.id, manageToken)).toMatchObject({ status: 'CONFIRMED' });
    expect(await f.slotCounts(slot)).toMatchObject({ held: 0, booked: 1 });
  });

  it('after expiry fails with HoldExpiredError, and the place is given back', async () => {
    const slot = await f.slot(locationId, resourceId, { capacity: 1 });
    const { booking, manageToken } = await hold(slot);
    await expireHoldsOf(slot);
    expect(await confirm(booking.id, manageToken)).toMatchObject({ __typename: 'HoldExpiredError', code: 'HOLD_EXPIRED', bookingId: booking.id });
    expect(await f.slotCounts(slot)).toMatchObject({ held: 0, booked: 0, status: 'OPEN' });
    expect(await f.bookingCounts(slot)).toEqual({ EXPIRED: 1 });
    expect(await confirm(booking.id, manageToken)).toMatchObject({ __typename: 'HoldExpiredError' });
    expect((await hold(slot)).__typename).toBe('BookingReceipt');
  });
});

describe('expiry', () => {
  it('the sweeper restores capacity and the next hold gets the place', async () => {
    const slot = await f.slot(locationId, resourceId, { capacity: 2 });
    await hold(slot, customer(1));
    await hold(slot, customer(2));
    expect((await hold(slot, customer(3))).__typename).toBe('SlotFullError');
    await expireHoldsOf(slot);
    const changes = await t.app.services.bookings.releaseExpiredHolds();
    expect(changes.filter((c) => c.slotId === slot)).toMatchObject([{ reason: 'EXPIRED' }]);
    expect(await f.slotCounts(slot)).toMatchObject({ held: 0, booked: 0, status: 'OPEN' });
    expect((await hold(slot)).__typename).toBe('BookingReceipt');
  });

  it('a hold reclaims expired holds on its slot without waiting for the sweeper', async () => {
    const slot = await f.slot(locationId, resourceId, { capacity: 1 });
    await hold(slot);
    await expireHoldsOf(slot);
    expect((await hold(slot)).__typename).toBe('BookingReceipt');
    expect(await f.bookingCounts(slot)).toEqual({ EXPIRED: 1, HELD: 1 });
    expect(await f.slotCounts(slot)).toMatchObject({ held: 1 });
  });

  it('sweeper and confirm racing leave consistent counts', async () => {
    for (let round = 0; round < 12; round++) {
      const slot = await f.slot(locationId, resourceId, { capacity: 8 });
      const holds = await Promise.all(Array.from({ length: 8 }, (_, i) => hold(slot, customer(`r${round}-${i}`))));
      // Half expired already, half expiring within the next few milliseconds: both sides race.
      await t.app.db.sql.query(
        `UPDATE bookings SET hold_expires_at = now() + (CASE WHEN random() < 0.5 THEN -1 ELSE 1 END) * interval '15 milliseconds'
         WHERE slot_id = $1`,
        [slot],
      );
      const [confirms] = await Promise.all([
        Promise.all(holds.map((h) => confirm(h.booking.id, h.manageToken))),
        t.app.services.bookings.releaseExpiredHolds(),
        // A second sweeper, 10 ms late: it lands while the other half of the holds expire.
        simulatedLatency(10).then(() => t.app.services.bookings.releaseExpiredHolds()),
      ]);
      await t.app.services.bookings.releaseExpiredHolds();
      const confirmed = confirms.filter((c) => c.__typename === 'Booking').length;
      expect(confirms.every((c) => c.__typename === 'Booking' || c.__typename === 'HoldExpiredError')).toBe(true);
      expect(await f.bookingCounts(slot)).toEqual({
        ...(confirmed ? { CONFIRMED: confirmed } : {}),
        ...(confirmed < 8 ? { EXPIRED: 8 - confirmed } : {}),
      });
      expect(await f.slotCounts(slot)).toMatchObject({ held: 0, booked: confirmed });
      const [{ n }] = (await t.app.db.sql.query(
        `SELECT count(*)::int AS n FROM audit_events a JOIN bookings b ON b.id = a.entity_id WHERE b.slot_id = $1 AND a.action = 'EXPIRED'`,
        [slot],
      )) as [{ n: number }];
      expect(n).toBe(8 - confirmed);
    }
  });
});

describe('who sees a booking', () => {
  it('staff, the customer with the manage token, and nobody else; never the customer to the public', async () => {
    const slot = await f.slot(locationId, resourceId);
    const { booking, manageToken } = await hold(slot);
    const read = (variables: Record<string, unknown>, token?: string) =>
      t.execute(BOOKING, { id: booking.id, ...variables }, { token }).then((r) => r.data?.booking);

    expect(await read({})).toMatchObject({ __typename: 'NotFoundError' });
    expect(await read({ manageToken: 'bk_nope' })).toMatchObject({ __typename: 'NotFoundError' });
    expect(await read({}, await t.tokenFor(['user']))).toMatchObject({ __typename: 'NotFoundError' });
    expect(await read({ manageToken })).toMatchObject({ __typename: 'Booking', customer: customer() });
    expect(await read({}, await t.tokenFor(['frontdesk']))).toMatchObject({ __typename: 'Booking', customer: customer() });

    const viaNode = await t.execute(`query($id: ID!) { node(id: $id) { ... on Booking { customer { email } } } }`, { id: booking.id });
    expect(JSON.stringify(viaNode)).not.toContain('example');
  });
});

describe('a lock held elsewhere', () => {
  it('hold and confirm give up after the lock timeout with TryAgainError, having changed nothing', async () => {
    const impatient = new BookingService(
      t.app.db,
      { HOLD_TTL_MINUTES: 10 },
      t.app.services.slotEvents,
      t.app.services.bookings.mail,
      undefined,
      undefined,
      40,
    );
    const slot = await f.slot(locationId, resourceId, { capacity: 3 });
    const caller = { actor: null };
    const { booking, manageToken } = await impatient.hold(slot, customer(), caller);
    const before = [await f.count('bookings'), await f.count('audit_events')];
    const other = new pg.Client({ connectionString: t.databaseUrl });
    await other.connect();
    try {
      await other.query('BEGIN');
      await other.query('SELECT 1 FROM slots WHERE id = $1 FOR UPDATE', [slot]);
      await expect(impatient.hold(slot, customer('late'), caller)).rejects.toBeInstanceOf(TryAgainError);
      await expect(impatient.confirm(booking.id, manageToken, caller)).rejects.toBeInstanceOf(TryAgainError);
      await other.query('ROLLBACK');
      expect([await f.count('bookings'), await f.count('audit_events')]).toEqual(before);
      expect(await f.slotCounts(slot)).toMatchObject({ held: 1, booked: 0 });
      // Once the lock is gone both go through.
      expect((await impatient.hold(slot, customer('late'), caller)).booking.status).toBe('HELD');
      expect((await impatient.confirm(booking.id, manageToken, caller)).status).toBe('CONFIRMED');
    } finally {
      await other.end();
    }
  });
});
