import { decodeGlobalID } from '@pothos/plugin-relay';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectNoErrors, expectTypename, type TestApp } from '../../test/kit/app.js';
import { SEED_SCHEDULE, publishedForm } from '../../test/kit/forms.js';
import { customer, gid, appWithResource, type Fixtures, uuidOf } from '../../test/kit/fixtures.js';
import { call } from '../../test/kit/documents.js';
import { BookDocument, CancelBookingDocument, HoldDocument, RegisterDocument, RescheduleBookingDocument } from '../../test/kit/sdk.js';
import { pii } from '../shared/pii.js';
import { duplicateBookingField } from './errors.js';

// Seed 003: one live booking per slot per customer (email or phone), enforced by the database.
let t: TestApp;
let f: Fixtures;
let locationId: string;
let resourceId: string;

const liveRows = async (slotId: string) =>
  (
    await t.app.db.sql.query<{ n: number }>(`SELECT count(*)::int AS n FROM bookings WHERE slot_id = $1 AND status IN ('HELD', 'CONFIRMED')`, [
      slotId,
    ])
  )[0]!.n;

beforeAll(async () => {
  ({ t, f, locationId, resourceId } = await appWithResource());
});
afterAll(() => t?.close());

describe('one live booking per slot per customer', () => {
  it('40 parallel identical holds on a slot with 10 places: exactly one row, the rest DuplicateBookingError', async () => {
    const slot = await f.slot(locationId, resourceId, { capacity: 10 });
    const who = customer('twin');
    const results = await Promise.all(Array.from({ length: 40 }, () => call(t, HoldDocument, { slotId: gid('Slot', slot), customer: who })));
    const types = results.map((r) => r.__typename);
    expect(types.filter((x) => x === 'BookingReceipt')).toHaveLength(1);
    expect(types.filter((x) => x === 'DuplicateBookingError')).toHaveLength(39);
    expect(results.find((r) => r.__typename === 'DuplicateBookingError')).toEqual({
      __typename: 'DuplicateBookingError',
      code: 'DUPLICATE_BOOKING',
      message: 'You already have a booking for this slot',
      slotIds: [gid('Slot', slot)],
      field: ['input', 'customer', 'email'],
    });
    expect(await liveRows(slot)).toBe(1);
    expect(await f.slotCounts(slot)).toMatchObject({ held: 1, booked: 0 });
  });

  it('matches the email in any case and the phone in any format; another slot, or after cancelling, is fine', async () => {
    const slot = await f.slot(locationId, resourceId, { capacity: 5 });
    const first = expectTypename(
      await call(t, BookDocument, { slotId: gid('Slot', slot), customer: { name: 'Pat', email: 'pat@example.com', phone: '+44 20 7946 0001' } }),
      'BookingReceipt',
    );
    expect(await call(t, BookDocument, { slotId: gid('Slot', slot), customer: { name: 'Pat', email: 'PAT@Example.com' } })).toMatchObject({
      __typename: 'DuplicateBookingError',
      field: ['input', 'customer', 'email'],
    });
    expect(
      await call(t, HoldDocument, { slotId: gid('Slot', slot), customer: { name: 'Pat', email: 'pat.other@example.com', phone: '+442079460001' } }),
    ).toMatchObject({
      __typename: 'DuplicateBookingError',
      field: ['input', 'customer', 'phone'],
    });
    expect(await liveRows(slot)).toBe(1);

    const other = await f.slot(locationId, resourceId, { capacity: 5 });
    expect((await call(t, BookDocument, { slotId: gid('Slot', other), customer: { name: 'Pat', email: 'pat@example.com' } })).__typename).toBe(
      'BookingReceipt',
    );
    expect((await call(t, CancelBookingDocument, { bookingId: first.booking.id, manageToken: first.manageToken })).__typename).toBe('Booking');
    expect((await call(t, BookDocument, { slotId: gid('Slot', slot), customer: { name: 'Pat', email: 'pat@example.com' } })).__typename).toBe(
      'BookingReceipt',
    );
  });

  it('a reschedule into a slot the customer already has is refused, nothing moves', async () => {
    const a = await f.slot(locationId, resourceId, { capacity: 3 });
    const b = await f.slot(locationId, resourceId, { capacity: 3 });
    const who = customer('mover');
    const onA = expectTypename(await call(t, BookDocument, { slotId: gid('Slot', a), customer: who }), 'BookingReceipt');
    await call(t, BookDocument, { slotId: gid('Slot', b), customer: who });
    const result = await call(t, RescheduleBookingDocument, { bookingId: onA.booking.id, manageToken: onA.manageToken, slotId: gid('Slot', b) });
    expect(result).toMatchObject({ __typename: 'DuplicateBookingError', slotIds: [gid('Slot', b)], field: ['input', 'slotId'] });
    expect([await f.slotCounts(a), await f.slotCounts(b)]).toMatchObject([{ booked: 1 }, { booked: 1 }]);
  });

  it('a booking marked a legacy duplicate (migration 0006) follows the rule once it moves to another slot', async () => {
    const a = await f.slot(locationId, resourceId, { capacity: 3 });
    const b = await f.slot(locationId, resourceId, { capacity: 3 });
    const booked = expectTypename(await call(t, BookDocument, { slotId: gid('Slot', a), customer: customer('legacy') }), 'BookingReceipt');
    const id = uuidOf(booked.booking.id);
    const flag = async () =>
      (await t.app.db.sql.query<{ legacy_duplicate: boolean }>(`SELECT legacy_duplicate FROM bookings WHERE id = $1`, [id]))[0]!.legacy_duplicate;
    await t.app.db.sql.query(`UPDATE bookings SET legacy_duplicate = true WHERE id = $1`, [id]);
    expect(await flag()).toBe(true);
    expect(
      await call(t, RescheduleBookingDocument, { bookingId: booked.booking.id, manageToken: booked.manageToken, slotId: gid('Slot', b) }),
    ).toMatchObject({ __typename: 'Booking' });
    expect(await flag()).toBe(false);
  });

  it('registering: a slot the person already has refuses the whole registration; 20 identical registrations at once make one', async () => {
    const form = await publishedForm(t, { schedule: { ...SEED_SCHEDULE, capacityPerSlot: 30 } });
    const [a, b, c] = form.slots.map((s) => s.id) as [string, string, string];
    const person = { formId: form.id, name: 'Rae', email: 'rae@example.com', phone: '+1 212 555 0123' };
    expect(expectNoErrors(await t.execute(RegisterDocument, { input: { ...person, slotIds: [b] } })).register.__typename).toBe('Registration');
    const counts = async () =>
      (
        await t.app.db.sql.query<{ r: number; b: number }>(
          `SELECT (SELECT count(*)::int FROM registrations WHERE form_id = $1) AS r, (SELECT count(*)::int FROM bookings bk JOIN slots s ON s.id = bk.slot_id WHERE s.form_id = $1) AS b`,
          [decodeGlobalID(form.id).id],
        )
      )[0]!;
    const before = await counts();
    const again = expectNoErrors(await t.execute(RegisterDocument, { input: { ...person, email: 'RAE@example.com', slotIds: [a, b] } })).register;
    expect(again).toMatchObject({ __typename: 'DuplicateBookingError', code: 'DUPLICATE_BOOKING', slotIds: [b], field: ['input', 'email'] });
    const byPhone = expectNoErrors(
      await t.execute(RegisterDocument, { input: { ...person, email: 'rae2@example.com', phone: '+1-212-555-0123', slotIds: [b] } }),
    ).register;
    expect(byPhone).toMatchObject({ __typename: 'DuplicateBookingError', field: ['input', 'phone'] });
    expect(await counts()).toEqual(before);

    const racers = await Promise.all(
      Array.from({ length: 20 }, () =>
        t.execute(RegisterDocument, { input: { ...person, email: 'racer@example.com', phone: null, slotIds: [a, c] } }),
      ),
    );
    const types = racers.map((r) => expectNoErrors(r).register.__typename);
    expect(types.filter((x) => x === 'Registration')).toHaveLength(1);
    expect(types.filter((x) => x === 'DuplicateBookingError')).toHaveLength(19);
    expect(await counts()).toEqual({ r: before.r + 1, b: before.b + 2 });
  });

  it('the database refuses a second live row however it is written, and the error maps to the field', async () => {
    const slot = await f.slot(locationId, resourceId, { capacity: 5 });
    const insert = (email: string, phone: string | null, status = 'CONFIRMED') =>
      t.app.db.sql.query(
        `INSERT INTO bookings (kind, slot_id, resource_id, location_id, start_at, end_at, status, customer_name, customer_email, customer_email_hash,
           customer_phone_hash, ics_uid, confirmed_at)
         SELECT 'SLOT', id, resource_id, location_id, start_at, end_at, $2, 'x', 'x', $3, $4, gen_random_uuid()::text, now() FROM slots WHERE id = $1`,
        [slot, status, pii().emailHash(email), phone && pii().phoneHash(phone)],
      );
    await insert('raw@example.com', '+1 555 000 1111');
    await insert('raw@example.com', null, 'CANCELLED');
    const byEmail = await insert('RAW@example.com', null).catch((e: unknown) => e);
    expect(duplicateBookingField(byEmail)).toBe('email');
    const byPhone = await insert('raw2@example.com', '+15550001111').catch((e: unknown) => e);
    expect(duplicateBookingField(byPhone)).toBe('phone');
    expect(await liveRows(slot)).toBe(1);
  });
});
