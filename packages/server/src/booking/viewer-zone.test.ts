import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../../test/kit/app.js';
import { fixtures, gid } from '../../test/kit/fixtures.js';
import { BOOK, call } from '../../test/kit/documents.js';
import { BERLIN, ERR, IN_BERLIN, IN_NEW_YORK, LOCAL, NEW_YORK, STARTS } from '../../test/kit/viewer-zone.js';

/**
 * Issue #20: the booking reads (`booking`, `myBookings`, `bookings`), `register` and `formAnalytics`
 * answer in the viewer's `timeZone` (the location's or form's by default). A Berlin location, read
 * from New York on the day New York springs forward (2055-03-14, 02:00 EST -> 03:00 EDT = 07:00Z).
 */
const BAD_ZONE = { __typename: 'ValidationError', fieldErrors: [{ path: ['timeZone'], message: expect.stringContaining('IANA') }] };
const CUSTOMER_EMAIL = `viewer-zone-${Date.now()}@example.com`;

let t: TestApp;
let customerToken: string;
let locationId: string;
let bookingIds: string[];
let formId: string;
let formSlotIds: string[];

/** The one root field's value; fails on GraphQL-level errors. */
const q = async (query: string, variables: Record<string, unknown> = {}, token = t.adminToken) => {
  const response = await t.execute(query, variables, { token });
  if (response.errors?.length) throw new Error(JSON.stringify(response.errors));
  return Object.values(response.data as Record<string, any>)[0];
};

beforeAll(async () => {
  t = await createTestApp();
  const prisma = t.app.db.prisma;
  const f = fixtures(t.app.db.sql);
  locationId = await f.location(BERLIN);
  const personId = await f.resource(locationId, { name: 'Dr. Weiss' });
  const slots = await f.slots(
    { locationId, resourceId: personId, timeZone: BERLIN },
    STARTS.map((start) => ({ start, minutes: 60, capacity: 2 })),
  );
  customerToken = await t.tokenFor(['user'], CUSTOMER_EMAIL);
  bookingIds = [];
  for (const slot of slots) {
    const receipt = await call(t, BOOK, { slotId: gid('Slot', slot.id), customer: { name: 'Viewer', email: CUSTOMER_EMAIL } });
    bookingIds.push(receipt.booking.id);
  }
  const form = await prisma.form.create({ data: { slug: `zone-${Date.now()}`, title: 'DST sheet', timeZone: BERLIN, status: 'PUBLISHED' } });
  formId = form.id;
  const formSlots = await prisma.slot.createManyAndReturn({
    data: STARTS.slice(0, 2).map((start) => ({
      formId,
      timeZone: BERLIN,
      startAt: new Date(start),
      endAt: new Date(new Date(start).getTime() + 3_600_000),
      capacity: 3,
    })),
  });
  formSlotIds = formSlots.sort((a, b) => a.startAt.getTime() - b.startAt.getTime()).map((s) => s.id);
});
afterAll(() => t?.close());

describe('timeZone on the booking reads, across a DST date', () => {
  const BOOKING = `query ($id: ID!, $tz: String) { booking(id: $id, timeZone: $tz) { __typename ... on Booking { slot { ${LOCAL} } } ${ERR} } }`;

  it('booking: Booking.slot reads in the viewer zone; the location zone by default', async () => {
    for (const [i, id] of bookingIds.entries()) {
      expect(await q(BOOKING, { id, tz: NEW_YORK })).toEqual({ __typename: 'Booking', slot: IN_NEW_YORK[i] });
      expect(await q(BOOKING, { id })).toEqual({ __typename: 'Booking', slot: IN_BERLIN[i] });
    }
  });

  it('myBookings: the signed-in customer reads their bookings in their zone', async () => {
    const query = `query ($tz: String) { myBookings(from: "2055-03-13T00:00:00Z", to: "2055-03-15T00:00:00Z", timeZone: $tz) {
      __typename ... on MyBookingsSuccess { data { slot { ${LOCAL} } } } ${ERR} } }`;
    expect(await q(query, { tz: NEW_YORK }, customerToken)).toEqual({ __typename: 'MyBookingsSuccess', data: IN_NEW_YORK.map((slot) => ({ slot })) });
    expect(await q(query, {}, customerToken)).toEqual({ __typename: 'MyBookingsSuccess', data: IN_BERLIN.map((slot) => ({ slot })) });
  });

  it('bookings: staff read the list in their zone', async () => {
    const query = `query ($id: ID, $tz: String) { bookings(locationId: $id, timeZone: $tz, first: 10) {
      __typename ... on BookingConnection { totalCount edges { node { slot { ${LOCAL} } } } } ${ERR} } }`;
    // Newest first is by id; bookings made in the same millisecond may come in either order.
    const slotsOf = (answer: { totalCount: number; edges: { node: { slot: { localStartAt: string } } }[] }) => ({
      totalCount: answer.totalCount,
      slots: answer.edges.map((e) => e.node.slot).sort((a, b) => a.localStartAt.localeCompare(b.localStartAt)),
    });
    expect(slotsOf(await q(query, { id: gid('Location', locationId), tz: NEW_YORK }))).toEqual({ totalCount: 3, slots: IN_NEW_YORK });
    expect(slotsOf(await q(query, { id: gid('Location', locationId) }))).toEqual({ totalCount: 3, slots: IN_BERLIN });
  });

  it('a zone that is not IANA is a ValidationError on timeZone, for each read', async () => {
    expect(await q(BOOKING, { id: bookingIds[0], tz: 'Mars/Olympus' })).toMatchObject(BAD_ZONE);
    const mine = `{ myBookings(timeZone: "Nope") { __typename ${ERR} } }`;
    expect(await q(mine, {}, customerToken)).toMatchObject(BAD_ZONE);
    const staff = `{ bookings(first: 1, timeZone: "Nope") { __typename ${ERR} } }`;
    expect(await q(staff)).toMatchObject(BAD_ZONE);
  });
});

describe('timeZone on register and formAnalytics, across a DST date', () => {
  const REGISTER = `mutation ($input: RegisterInput!, $tz: String) { register(input: $input, timeZone: $tz) {
    __typename ... on Registration { slotLabels slots { ${LOCAL} } } ${ERR} } }`;
  const register = (email: string, tz?: string) =>
    q(REGISTER, { input: { formId: gid('Form', formId), name: 'Registrant', email, slotIds: [gid('Slot', formSlotIds[1]!)] }, tz });

  it("register: the registration's slots and labels read in the viewer zone; the form's by default", async () => {
    expect(await register('ny@example.com', NEW_YORK)).toEqual({
      __typename: 'Registration',
      slotLabels: ['Sun Mar 14, 1:30–3:30 AM'],
      slots: [IN_NEW_YORK[1]],
    });
    expect(await register('berlin@example.com')).toEqual({
      __typename: 'Registration',
      slotLabels: ['Sun Mar 14, 7:30–8:30 AM'],
      slots: [IN_BERLIN[1]],
    });
  });

  it('register: a zone that is not IANA is a ValidationError on timeZone, and nothing is booked', async () => {
    const before = await t.app.db.prisma.registration.count();
    expect(await register('nowhere@example.com', 'Mars/Olympus')).toMatchObject(BAD_ZONE);
    expect(await t.app.db.prisma.registration.count()).toBe(before);
  });

  it("formAnalytics: the days are local dates of the viewer zone; the form's by default", async () => {
    const query = `query ($id: ID!, $tz: String) { formAnalytics(formId: $id, timeZone: $tz) {
      __typename ... on FormAnalytics { timeZone totalSlots days { date totalSlots bookedSlots seatsBooked } } ${ERR} } }`;
    // 23:30Z is Saturday evening in New York but Sunday 00:30 in Berlin; 06:30Z is Sunday in both.
    expect(await q(query, { id: gid('Form', formId), tz: NEW_YORK })).toEqual({
      __typename: 'FormAnalytics',
      timeZone: NEW_YORK,
      totalSlots: 2,
      days: [
        { date: '2055-03-13', totalSlots: 1, bookedSlots: 0, seatsBooked: 0 },
        { date: '2055-03-14', totalSlots: 1, bookedSlots: 1, seatsBooked: 2 },
      ],
    });
    expect(await q(query, { id: gid('Form', formId) })).toEqual({
      __typename: 'FormAnalytics',
      timeZone: BERLIN,
      totalSlots: 2,
      days: [{ date: '2055-03-14', totalSlots: 2, bookedSlots: 1, seatsBooked: 2 }],
    });
    expect(await q(query, { id: gid('Form', formId), tz: 'Nope' })).toMatchObject(BAD_ZONE);
  });
});
