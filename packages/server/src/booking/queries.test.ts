import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, expectNoErrors, type TestApp } from '../../test/kit/app.js';
import { fixtures, customer, gid } from '../../test/kit/fixtures.js';
import { getNamedType, isLeafType, type GraphQLObjectType } from 'graphql';
import { BOOK, CANCEL, HOLD, call } from '../../test/kit/documents.js';
import { schema } from '../schema.js';

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

  it('answers every Booking field as booking(id) does, whichever fields a list selects', async () => {
    // Two more of Mine's bookings, so no field is null on all of them: titled, with notes, two places; and a hold.
    const later = (days: number) => f.slot(locationId, resourceId, { startAt: new Date(slotStarts[4]!.getTime() + days * 86_400_000), capacity: 3 });
    await call(t, BOOK, { slotId: gid('Slot', await later(1)), title: 'Checkup', notes: 'Bring the scan', partySize: 2 }, { token: userToken });
    await call(t, HOLD, { slotId: gid('Slot', await later(2)) }, { token: userToken });

    const fieldsOf = (type: string) => (schema.getType(type) as GraphQLObjectType).getFields();
    // A leaf as it is; an object (or a list of them) by its id, else by its leaves (a customer's name, email, phone).
    const selection = (name: string) => {
      const type = getNamedType(fieldsOf('Booking')[name]!.type);
      if (isLeafType(type)) return name;
      const inner = fieldsOf(type.name);
      if ('id' in inner) return `${name} { id }`;
      return `${name} { ${Object.values(inner)
        .filter((f) => isLeafType(getNamedType(f.type)))
        .map((f) => f.name)
        .join(' ')} }`;
    };
    // Every field the customer may read (attendees are staff-only; internalNotes reads null for them).
    const fields = Object.keys(fieldsOf('Booking')).filter((name) => name !== 'attendees');
    const listed = async (select: string) =>
      expectNoErrors(await t.execute(`{ myBookings { __typename ... on MyBookingsSuccess { data { ${select} } } } }`, {}, { token: userToken }))
        .myBookings.data as Record<string, unknown>[];

    const everything = fields.map(selection).join(' ');
    const whole = await listed(everything);
    expect(whole.map((b) => b.status)).toEqual(['CONFIRMED', 'CONFIRMED', 'CANCELLED', 'CONFIRMED', 'HELD']);
    // Each column shows somewhere, so a list that forgot one would differ below. Not these: internal
    // notes read null for customers, and no booking here has a proposal (another table's row).
    const nullHere = new Set(['internalNotes', 'pendingProposal']);
    for (const name of fields)
      expect(
        whole.some((b) => b[name] !== null),
        `${name} on some booking`,
      ).toBe(!nullHere.has(name));
    for (const booking of whole) {
      const one = expectNoErrors(
        await t.execute(`query ($id: ID!) { booking(id: $id) { ... on Booking { ${everything} } } }`, { id: booking.id }, { token: userToken }),
      );
      expect(booking).toEqual(one.booking);
    }
    // Each field alone (with the id), and through a named fragment: the same values as in the whole rows.
    for (const name of fields) {
      expect(await listed(`id ${selection(name)}`), name).toEqual(whole.map((b) => ({ id: b.id, [name]: b[name] })));
    }
    const viaFragment = expectNoErrors(
      await t.execute(
        `{ myBookings { ... on MyBookingsSuccess { data { ...Row } } } } fragment Row on Booking { id startAt customer { email } }`,
        {},
        { token: userToken },
      ),
    ).myBookings.data;
    expect(viaFragment).toEqual(whole.map((b) => ({ id: b.id, startAt: b.startAt, customer: { email: (b.customer as { email: string }).email } })));
  });
});
