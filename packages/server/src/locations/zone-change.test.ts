import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, expectNoErrors, type TestApp } from '../../test/kit/app.js';
import { BOOK, call } from '../../test/kit/documents.js';
import { customer, gid } from '../../test/kit/fixtures.js';

/**
 * Issue #16 item 7: a location moved to another zone re-plans its future free slots there, in the
 * same transaction, as a rule change does. The rules say 09:00-10:00 (a person) and 13:00-14:00
 * (location-wide) on 2055-03-13..15, first in Berlin (CET all three days), then in New York, which
 * springs forward on 2055-03-14 (EST -05:00 before, EDT -04:00 after).
 */
const BERLIN = 'Europe/Berlin';
const NEW_YORK = 'America/New_York';
const RULE = `mutation ($input: CreateAvailabilityRuleInput!) { createAvailabilityRule(input: $input) { __typename } }`;
const GENERATE = `mutation ($input: GenerateSlotsInput!) { generateSlots(input: $input) { __typename ... on SlotGenerationReport { created } } }`;
const UPDATE = `mutation ($id: ID!, $input: UpdateLocationInput!) { updateLocation(id: $id, input: $input) {
  __typename ... on UpdateLocationPayload { location { timeZone } slots { created updated unchanged removed kept } }
  ... on ValidationError { fieldErrors { path message } } } }`;
const SLOTS = `query ($id: ID!) { node(id: $id) { ... on Location {
  slots(from: "2055-03-12T00:00:00Z", to: "2055-03-17T00:00:00Z") { startAt localDate localStart localStartAt timeZone booked resource { id } } } } }`;

let t: TestApp;
let locationId: string;
let personId: string;
let bookedSlotId: string;

const mutate = async (query: string, variables: Record<string, unknown>) =>
  Object.values(expectNoErrors(await t.execute(query, variables, { token: t.adminToken })))[0] as any;
const slots = async () => expectNoErrors(await t.execute(SLOTS, { id: gid('Location', locationId) })).node.slots;

beforeAll(async () => {
  t = await createTestApp();
  locationId = (await t.app.services.locations.create({ name: 'Moving clinic', timeZone: BERLIN })).id;
  personId = (await t.app.services.resources.create({ locationId, kind: 'PERSON', name: 'Dr. Weiss', capacity: 2 })).id;
  const daily = { kind: 'WEEKLY', daysOfWeek: [1, 2, 3, 4, 5, 6, 7], slotDurationMinutes: 60, capacity: 2 };
  expect(await mutate(RULE, { input: { ...daily, resourceId: gid('Resource', personId), startTime: '09:00', endTime: '10:00' } })).toEqual({
    __typename: 'AvailabilityRulePayload',
  });
  expect(await mutate(RULE, { input: { ...daily, locationId: gid('Location', locationId), startTime: '13:00', endTime: '14:00' } })).toEqual({
    __typename: 'AvailabilityRulePayload',
  });
  expect(await mutate(GENERATE, { input: { locationId: gid('Location', locationId), from: '2055-03-13', to: '2055-03-15' } })).toEqual({
    __typename: 'SlotGenerationReport',
    created: 6,
  });
  const booked = await t.app.db.prisma.slot.findFirstOrThrow({ where: { resourceId: personId, startAt: new Date('2055-03-14T08:00:00Z') } });
  bookedSlotId = booked.id;
  expect((await call(t, BOOK, { slotId: gid('Slot', bookedSlotId), customer: customer('zone-move') })).__typename).toBe('BookingReceipt');
});
afterAll(() => t?.close());

describe('updateLocation with a new timeZone', () => {
  it('Berlin first: 09:00 and 13:00 CET are 08:00Z and 12:00Z on each date', async () => {
    expect((await slots()).map((s: { startAt: string; localStart: string }) => [s.startAt, s.localStart])).toEqual([
      ['2055-03-13T08:00:00.000Z', '09:00'],
      ['2055-03-13T12:00:00.000Z', '13:00'],
      ['2055-03-14T08:00:00.000Z', '09:00'],
      ['2055-03-14T12:00:00.000Z', '13:00'],
      ['2055-03-15T08:00:00.000Z', '09:00'],
      ['2055-03-15T12:00:00.000Z', '13:00'],
    ]);
  });

  it('moves the free slots to 09:00 and 13:00 New York time across the DST date; the booked one is kept and reported', async () => {
    const moved = await mutate(UPDATE, { id: gid('Location', locationId), input: { timeZone: NEW_YORK } });
    expect(moved).toEqual({
      __typename: 'UpdateLocationPayload',
      location: { timeZone: NEW_YORK },
      slots: { created: 6, updated: 0, unchanged: 0, removed: 5, kept: [gid('Slot', bookedSlotId)] },
    });
    const person = { id: gid('Resource', personId) };
    expect(await slots()).toEqual([
      {
        startAt: '2055-03-13T14:00:00.000Z',
        localDate: '2055-03-13',
        localStart: '09:00',
        localStartAt: '2055-03-13T09:00:00-05:00',
        timeZone: NEW_YORK,
        booked: 0,
        resource: person,
      },
      {
        startAt: '2055-03-13T18:00:00.000Z',
        localDate: '2055-03-13',
        localStart: '13:00',
        localStartAt: '2055-03-13T13:00:00-05:00',
        timeZone: NEW_YORK,
        booked: 0,
        resource: null,
      },
      // The booked 09:00 Berlin slot stays at its instant and now reads in New York (EDT already).
      {
        startAt: '2055-03-14T08:00:00.000Z',
        localDate: '2055-03-14',
        localStart: '04:00',
        localStartAt: '2055-03-14T04:00:00-04:00',
        timeZone: NEW_YORK,
        booked: 1,
        resource: person,
      },
      {
        startAt: '2055-03-14T13:00:00.000Z',
        localDate: '2055-03-14',
        localStart: '09:00',
        localStartAt: '2055-03-14T09:00:00-04:00',
        timeZone: NEW_YORK,
        booked: 0,
        resource: person,
      },
      {
        startAt: '2055-03-14T17:00:00.000Z',
        localDate: '2055-03-14',
        localStart: '13:00',
        localStartAt: '2055-03-14T13:00:00-04:00',
        timeZone: NEW_YORK,
        booked: 0,
        resource: null,
      },
      {
        startAt: '2055-03-15T13:00:00.000Z',
        localDate: '2055-03-15',
        localStart: '09:00',
        localStartAt: '2055-03-15T09:00:00-04:00',
        timeZone: NEW_YORK,
        booked: 0,
        resource: person,
      },
      {
        startAt: '2055-03-15T17:00:00.000Z',
        localDate: '2055-03-15',
        localStart: '13:00',
        localStartAt: '2055-03-15T13:00:00-04:00',
        timeZone: NEW_YORK,
        booked: 0,
        resource: null,
      },
    ]);
    const booking = await t.app.db.prisma.booking.findFirstOrThrow({ where: { slotId: bookedSlotId } });
    expect(booking.status).toBe('CONFIRMED');
  });

  it('the same zone again, or another field, re-plans nothing', async () => {
    const before = await slots();
    const empty = { created: 0, updated: 0, unchanged: 0, removed: 0, kept: [] };
    expect(await mutate(UPDATE, { id: gid('Location', locationId), input: { timeZone: NEW_YORK } })).toMatchObject({ slots: empty });
    expect(await mutate(UPDATE, { id: gid('Location', locationId), input: { name: 'Moved clinic' } })).toMatchObject({
      location: { timeZone: NEW_YORK },
      slots: empty,
    });
    expect(await slots()).toEqual(before);
  });

  it('a zone that is not IANA is a ValidationError on input.timeZone and changes nothing', async () => {
    const before = await slots();
    expect(await mutate(UPDATE, { id: gid('Location', locationId), input: { timeZone: 'Mars/Olympus' } })).toMatchObject({
      __typename: 'ValidationError',
      fieldErrors: [{ path: ['input', 'timeZone'] }],
    });
    expect(await slots()).toEqual(before);
  });
});
