import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectNoErrors, type TestApp } from '../../test/kit/app.js';
import { appWithResource, customer, gid, uuidOf, type Fixtures } from '../../test/kit/fixtures.js';
import { CANCEL, CONFIRM, HOLD, RESCHEDULE, call } from '../../test/kit/documents.js';
import { REGISTER, publishedForm } from '../../test/kit/forms.js';
import { APPROVE, DECLINE, PROPOSE, proposalFixtures, tokenOf } from '../../test/kit/proposals.js';
import { randomUUID } from 'node:crypto';
import { eventsOf, recordEvents } from './domain-events.js';

let t: TestApp;
let f: Fixtures;
let locationId: string;
let resourceId: string;

beforeAll(async () => {
  ({ t, f, locationId, resourceId } = await appWithResource());
});
afterAll(() => t?.close());

describe('domain events', () => {
  it('a booking’s life is recorded in order, one event per change, without contact data', async () => {
    const [a, b] = [await f.slot(locationId, resourceId, { capacity: 2 }), await f.slot(locationId, resourceId, { capacity: 2 })];
    const held = await call(t, HOLD, { slotId: gid('Slot', a), customer: customer('ev') });
    const id = held.booking.id;
    const { manageToken } = held;
    expect((await call(t, CONFIRM, { bookingId: id, manageToken })).status).toBe('CONFIRMED');
    // Confirming again changes nothing, so it records nothing.
    await call(t, CONFIRM, { bookingId: id, manageToken });
    expect((await call(t, RESCHEDULE, { bookingId: id, manageToken, slotId: gid('Slot', b) })).__typename).toBe('Booking');
    expect((await call(t, CANCEL, { bookingId: id, manageToken })).status).toBe('CANCELLED');

    const uuid = uuidOf(held.booking.id);
    const events = await eventsOf(t.app.db.sql, 'booking', uuid);
    expect(events.map((e) => [e.aggregateSeq, e.type])).toEqual([
      [1, 'booking.held'],
      [2, 'booking.confirmed'],
      [3, 'booking.rescheduled'],
      [4, 'booking.cancelled'],
    ]);
    expect(events[2]!.payload).toMatchObject({
      bookingId: uuid,
      slotId: b,
      resourceId,
      locationId,
      status: 'CONFIRMED',
      previousStatus: 'CONFIRMED',
    });
    expect(events[2]!.payload.previousStartAt).toBeTypeOf('string');
    const text = JSON.stringify(events).toLowerCase();
    for (const value of Object.values(customer('ev'))) expect(text).not.toContain(value.toLowerCase());
  });

  it('a refused booking records nothing; an expired hold records booking.expired', async () => {
    const slot = await f.slot(locationId, resourceId, { capacity: 1 });
    const first = await call(t, HOLD, { slotId: gid('Slot', slot), customer: customer('x1') });
    const before = await t.app.db.sql.query(`SELECT count(*)::int AS n FROM domain_events`);
    expect((await call(t, HOLD, { slotId: gid('Slot', slot), customer: customer('x2') })).__typename).toBe('SlotFullError');
    expect(await t.app.db.sql.query(`SELECT count(*)::int AS n FROM domain_events`)).toEqual(before);

    await t.app.db.sql.query(`UPDATE bookings SET hold_expires_at = now() - interval '1 second' WHERE slot_id = $1`, [slot]);
    await t.app.services.bookings.releaseExpiredHolds();
    const events = await eventsOf(t.app.db.sql, 'booking', uuidOf(first.booking.id));
    expect(events.map((e) => e.type)).toEqual(['booking.held', 'booking.expired']);
    expect(events[1]!.payload).toMatchObject({ status: 'EXPIRED', previousStatus: 'HELD', slotId: slot });
  });

  it('a registration records registration.created and one booking.confirmed per slot', async () => {
    t.app.services.forms.now = () => new Date('2054-12-01T12:00:00Z');
    t.app.services.registrations.now = () => new Date('2054-12-01T12:00:00Z');
    const form = await publishedForm(t, { slug: 'events', maxSlotsPerRegistration: 2 });
    const chosen = [form.slots[0]!.id, form.slots[1]!.id];
    const result = expectNoErrors(
      await t.execute(REGISTER, { input: { formSlug: 'events', name: 'Ada', email: 'ada@example.com', slotIds: chosen } }),
    );
    expect(result.register.__typename).toBe('Registration');
    const [registration] = await t.app.db.sql.query<{ aggregate_id: string; payload: { bookingIds: string[] } }>(
      `SELECT aggregate_id, payload FROM domain_events WHERE type = 'registration.created'`,
    );
    expect(registration!.payload.bookingIds).toHaveLength(2);
    for (const bookingId of registration!.payload.bookingIds) {
      expect((await eventsOf(t.app.db.sql, 'booking', bookingId)).map((e) => e.type)).toEqual(['booking.confirmed']);
    }
  });
});

describe('event sequence numbers', () => {
  const event = (aggregateId: string, type: string, newAggregate?: boolean) =>
    ({ type, aggregateType: 'booking', aggregateId, occurredAt: new Date(), payload: {}, newAggregate }) as const;

  it('continue an aggregate’s numbers; a new aggregate starts at 1 without looking for earlier events', async () => {
    const id = randomUUID();
    await t.app.db.sql.transaction((tx) => recordEvents(tx, [event(id, 'booking.held', true), event(id, 'booking.confirmed', true)]));
    await t.app.db.sql.transaction((tx) => recordEvents(tx, [event(id, 'booking.cancelled')]));
    expect((await eventsOf(t.app.db.sql, 'booking', id)).map((e) => [e.aggregateSeq, e.type])).toEqual([
      [1, 'booking.held'],
      [2, 'booking.confirmed'],
      [3, 'booking.cancelled'],
    ]);
    // Declared new, it is not looked up: numbered from 1 again, the unique sequence refuses it.
    await expect(t.app.db.sql.transaction((tx) => recordEvents(tx, [event(id, 'booking.held', true)]))).rejects.toThrow(/duplicate key/);
    expect(await eventsOf(t.app.db.sql, 'booking', id)).toHaveLength(3);
  });
});

describe('proposal events', () => {
  it('a proposal records proposal.created, then superseded / approved / declined, in order and without its note', async () => {
    const x = proposalFixtures(t);
    const home = await x.host();
    let hours = 24;
    const slot = () => x.slot(home.locationId, home.resourceId, (hours += 2));
    const booking = await x.book(await slot());
    const manage = await x.link(booking.rawId);
    const propose = async () => call(t, PROPOSE, { token: manage, slotId: gid('Slot', await slot()), note: 'call me on 555 0199' });
    const first = await propose();
    const second = await propose();
    const approve = x.linkIn((await x.mails(`booking_id = '${booking.rawId}' AND kind = 'proposal'`)).at(-1)!.content, 'Approve');
    expect((await call(t, APPROVE, { token: tokenOf(approve) })).__typename).toBe('ProposalDecision');

    const third = await propose();
    const decline = x.linkIn((await x.mails(`booking_id = '${booking.rawId}' AND kind = 'proposal'`)).at(-1)!.content, 'Decline');
    expect((await call(t, DECLINE, { token: tokenOf(decline) })).__typename).toBe('ProposalDecision');

    const types = async (id: string) => (await eventsOf(t.app.db.sql, 'proposal', uuidOf(id))).map((e) => [e.aggregateSeq, e.type]);
    expect(await types(first.id)).toEqual([
      [1, 'proposal.created'],
      [2, 'proposal.superseded'],
    ]);
    expect(await types(second.id)).toEqual([
      [1, 'proposal.created'],
      [2, 'proposal.approved'],
    ]);
    expect(await types(third.id)).toEqual([
      [1, 'proposal.created'],
      [2, 'proposal.declined'],
    ]);
    const [approved] = (await eventsOf(t.app.db.sql, 'proposal', uuidOf(second.id))).slice(1);
    expect(approved!.payload).toMatchObject({
      proposalId: uuidOf(second.id),
      bookingId: booking.rawId,
      status: 'APPROVED',
      previousStatus: 'PENDING',
      proposedBy: 'guest',
    });
    expect(JSON.stringify(await t.app.db.sql.query(`SELECT payload FROM domain_events WHERE aggregate_type = 'proposal'`))).not.toContain('555 0199');
  });
});
