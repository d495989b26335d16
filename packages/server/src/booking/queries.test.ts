import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, expectNoErrors, type TestApp } from '../../test/kit/app.js';
import { fixtures, customer, gid } from '../../test/kit/fixtures.js';
import { BOOK, CANCEL, call } from '../../test/kit/documents.js';

let t: TestApp;
let f: ReturnType<typeof fixtures>;
let locationId: string;
let otherLocationId: string;
let resourceId: string;
let otherResourceId: string;
let staffToken: string;
let userToken: string;
const slotStarts: Date[] = [];

const BOOKINGS = `query($first: Int, $after: String, $resourceId: ID, $locationId: ID, $status: [BookingStatus!], $from: DateTime, $to: DateTime, $customerEmail: String) {
  bookings(first: $first, after: $after, resourceId: $resourceId, locationId: $locationId, status: $status, from: $from, to: $to, customerEmail: $customerEmail) {
    __typename
    ... on BookingConnection { totalCount pageInfo { hasNextPage endCursor } edges { node { id status startAt customer { email } } } }
    ... on ValidationError { fieldErrors { path message } }
  } }`;
const MY_BOOKINGS = `query($from: DateTime, $to: DateTime) { myBookings(from: $from, to: $to) {
  __typename ... on MyBookingsSuccess { data { id startAt customer { email } } }
  ... on ValidationError { fieldErrors { path } } } }`;

const list = async (variables: Record<string, unknown>, token = staffToken) =>
  expectNoErrors(await t.execute(BOOKINGS, variables, { token })).bookings;

beforeAll(async () => {
  t = await createTestApp();
  f = fixtures(t.app.db.sql);
  locationId = await f.location();
  otherLocationId = await f.location();
  resourceId = await f.resource(locationId);
  otherResourceId = await f.resource(otherLocationId);
  staffToken = await t.tokenFor(['scheduler']);
  userToken = await t.tokenFor(['user'], 'mine@test.example');

  // Five bookings a day apart: three for Mine (one signed in, two as a guest with their email in
  // other capitals), one cancelled, one at another location.
  const base = Math.ceil(Date.now() / 86_400_000) * 86_400_000 + 86_400_000;
  for (let i = 0; i < 5; i++) slotStarts.push(new Date(base + i * 86_400_000 + 9 * 3_600_000));
  const slot = (i: number, r = resourceId, l = locationId) => f.slot(l, r, { startAt: slotStarts[i], capacity: 3 });
  await call(t, BOOK, { slotId: gid('Slot', await slot(0)) }, { token: userToken });
  await call(t, BOOK, { slotId: gid('Slot', await slot(1)), customer: { name: 'Mine', email: 'MINE@test.example' } });
  await call(t, BOOK, { slotId: gid('Slot', await slot(2)), customer: customer('other') });
  const gone = await call(t, BOOK, { slotId: gid('Slot', await slot(3)), customer: { name: 'Mine', email: 'Mine@Test.Example' } });
  await call(t, CANCEL, { bookingId: gone.booking.id, manageToken: gone.manageToken });
  await call(t, BOOK, { slotId: gid('Slot', await slot(4, otherResourceId, otherLocationId)), customer: customer('far') });
});
afterAll(() => t?.close());

describe('bookings (staff)', () => {
  it('filters by resource, location, status, window and customer email (any capitals), with Relay pages', async () => {
    const all = await list({});
    expect(all.totalCount).toBe(5);
    expect((await list({ resourceId: gid('Resource', resourceId) })).totalCount).toBe(4);
    expect((await list({ locationId: gid('Location', otherLocationId) })).totalCount).toBe(1);
    expect((await list({ status: ['CANCELLED'] })).edges.map((e: any) => e.node.status)).toEqual(['CANCELLED']);
    const window = await list({ from: slotStarts[1]!.toISOString(), to: slotStarts[3]!.toISOString() });
    expect(window.edges.map((e: any) => e.node.startAt).sort()).toEqual([slotStarts[1], slotStarts[2]].map((d) => d!.toISOString()));
    const mine = await list({ customerEmail: 'mine@TEST.example' });
    expect(mine.totalCount).toBe(3);
    expect(mine.edges.every((e: any) => e.node.customer.email.toLowerCase() === 'mine@test.example')).toBe(true);

    const page1 = await list({ first: 2 });
    const page2 = await list({ first: 2, after: page1.pageInfo.endCursor });
    expect(page1.pageInfo.hasNextPage).toBe(true);
    const ids = [...page1.edges, ...page2.edges].map((e: any) => e.node.id);
    expect(new Set(ids).size).toBe(4);
  });

  it('is for staff only and validates its filters', async () => {
    const anonymous = await t.execute(BOOKINGS, {});
    expect(anonymous.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    const user = await t.execute(BOOKINGS, {}, { token: userToken });
    expect(user.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect(await list({ customerEmail: 'nope' })).toMatchObject({ __typename: 'ValidationError', fieldErrors: [{ path: ['customerEmail'] }] });
    expect(await list({ from: slotStarts[2]!.toISOString(), to: slotStarts[1]!.toISOString() })).toMatchObject({
      fieldErrors: [{ path: ['to'] }],
    });
  });
});

describe('myBookings', () => {
  it('lists the signed-in user’s bookings, also those made as a guest with their email, by start', async () => {
    const result = expectNoErrors(
      await t.execute(MY_BOOKINGS, { from: new Date().toISOString(), to: slotStarts[4]!.toISOString() }, { token: userToken }),
    );
    expect(result.myBookings.data.map((b: any) => b.startAt)).toEqual([0, 1, 3].map((i) => slotStarts[i]!.toISOString()));
    expect(result.myBookings.data[1].customer.email).toBe('MINE@test.example');
    const narrow = expectNoErrors(
      await t.execute(MY_BOOKINGS, { from: slotStarts[1]!.toISOString(), to: slotStarts[2]!.toISOString() }, { token: userToken }),
    );
    expect(narrow.myBookings.data).toHaveLength(1);
  });

  it('needs a signed-in user and a sensible window', async () => {
    expect((await t.execute(MY_BOOKINGS, {})).errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    const reversed = await t.execute(MY_BOOKINGS, { from: slotStarts[2]!.toISOString(), to: slotStarts[1]!.toISOString() }, { token: userToken });
    expect(reversed.data?.myBookings).toMatchObject({ __typename: 'ValidationError', fieldErrors: [{ path: ['to'] }] });
  });
});
