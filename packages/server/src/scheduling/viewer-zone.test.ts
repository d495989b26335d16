import type { Client } from 'graphql-ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../../test/kit/app.js';
import { wsClient, wsSubscribe } from '../../test/kit/live.js';
import { fixtures, gid } from '../../test/kit/fixtures.js';
import { startServer, type RunningServer } from '../server.js';
import { BERLIN, ERR, IN_BERLIN, IN_NEW_YORK, LOCAL, NEW_YORK, STARTS } from '../../test/kit/viewer-zone.js';

/**
 * Issue #20: every read that renders local dates and times answers in the viewer's `timeZone`
 * (the location's by default). The location is in Berlin; the viewer in New York, on the day New
 * York springs forward (2055-03-14, 02:00 EST -> 03:00 EDT, i.e. 07:00 UTC), Berlin staying on CET.
 */

let t: TestApp;
let locationId: string;
let personId: string;
let roomId: string;
let formSlug: string;

const q = async (query: string, variables: Record<string, unknown> = {}) => {
  const response = await t.execute(query, variables);
  if (response.errors?.length) throw new Error(JSON.stringify(response.errors));
  return Object.values(response.data as Record<string, any>)[0];
};

beforeAll(async () => {
  t = await createTestApp();
  const prisma = t.app.db.prisma;
  const f = fixtures(t.app.db.sql);
  locationId = await f.location(BERLIN);
  personId = await f.resource(locationId, { name: 'Dr. Weiss' });
  roomId = await f.resource(locationId, { exclusive: true, name: 'Room A' });
  await f.slots(
    { locationId, resourceId: personId, timeZone: BERLIN },
    STARTS.map((start) => ({ start, minutes: 60, capacity: 2 })),
  );
  // The room is open around the clock: its free ranges are the whole window.
  await prisma.availabilityRule.create({
    data: { locationId, resourceId: roomId, kind: 'WEEKLY', daysOfWeek: [1, 2, 3, 4, 5, 6, 7], startMinute: 0, endMinute: 1440 },
  });
  formSlug = `dst-${Date.now()}`;
  const form = await prisma.form.create({ data: { slug: formSlug, title: 'DST sheet', timeZone: BERLIN, status: 'PUBLISHED' } });
  await prisma.slot.create({
    data: { formId: form.id, timeZone: BERLIN, startAt: new Date(STARTS[1]!), endAt: new Date('2055-03-14T07:30:00Z'), capacity: 3 },
  });
});
afterAll(() => t?.close());

const AVAILABILITY = `query ($id: ID, $tz: String) { availability(resourceId: $id, from: "2055-03-13T00:00:00Z", to: "2055-03-15T00:00:00Z", timeZone: $tz) {
  __typename ... on Availability { timeZone slots { ${LOCAL} } } ${ERR} } }`;

describe('timeZone on every rendering read, across a DST date', () => {
  it('availability: local dates, times, offsets and day parts in the viewer zone; the location zone by default', async () => {
    const asked = await q(AVAILABILITY, { id: gid('Resource', personId), tz: NEW_YORK });
    expect(asked).toEqual({ __typename: 'Availability', timeZone: NEW_YORK, slots: IN_NEW_YORK });
    const plain = await q(AVAILABILITY, { id: gid('Resource', personId) });
    expect(plain).toEqual({ __typename: 'Availability', timeZone: BERLIN, slots: IN_BERLIN });
  });

  it("availableDates: the dates and the window are the viewer zone's", async () => {
    const query = `query ($id: ID, $tz: String, $from: Date!, $to: Date!) { availableDates(resourceId: $id, from: $from, to: $to, timeZone: $tz) {
      __typename ... on AvailableDates { timeZone dates { date slotCount remaining } } ${ERR} } }`;
    expect(await q(query, { id: gid('Resource', personId), tz: NEW_YORK, from: '2055-03-13', to: '2055-03-14' })).toEqual({
      __typename: 'AvailableDates',
      timeZone: NEW_YORK,
      dates: [
        { date: '2055-03-13', slotCount: 1, remaining: 2 },
        { date: '2055-03-14', slotCount: 2, remaining: 4 },
      ],
    });
    expect(await q(query, { id: gid('Resource', personId), from: '2055-03-13', to: '2055-03-14' })).toEqual({
      __typename: 'AvailableDates',
      timeZone: BERLIN,
      dates: [{ date: '2055-03-14', slotCount: 3, remaining: 6 }],
    });
  });

  it("exposedSlots: `date` is the viewer's local date and the slots read in their zone", async () => {
    const query = `query ($id: ID, $date: Date!, $tz: String) { exposedSlots(locationId: $id, date: $date, sessionId: "s-1", timeZone: $tz) {
      __typename ... on ExposedSlots { date timeZone total slots { ${LOCAL} } } ${ERR} } }`;
    expect(await q(query, { id: gid('Location', locationId), date: '2055-03-13', tz: NEW_YORK })).toEqual({
      __typename: 'ExposedSlots',
      date: '2055-03-13',
      timeZone: NEW_YORK,
      total: 1,
      slots: [IN_NEW_YORK[0]],
    });
    const ny14 = await q(query, { id: gid('Location', locationId), date: '2055-03-14', tz: NEW_YORK });
    expect(ny14).toMatchObject({ total: 2, slots: IN_NEW_YORK.slice(1) });
    expect(await q(query, { id: gid('Location', locationId), date: '2055-03-14' })).toMatchObject({ timeZone: BERLIN, total: 3, slots: IN_BERLIN });
  });

  it('searchAvailability: free ranges carry local fields in the viewer zone (an hour that reads 01:00-03:00)', async () => {
    const query = `query ($id: ID, $tz: String) { searchAvailability(resourceId: $id, from: "2055-03-14T06:00:00Z", to: "2055-03-14T07:15:00Z",
      durationMinutes: 60, timeZone: $tz) { __typename ... on AvailabilitySearch { results { ranges { startAt ${LOCAL.replace(' dayPart', '')} } } } ${ERR} } }`;
    const asked = await q(query, { id: gid('Resource', roomId), tz: NEW_YORK });
    expect(asked.results[0].ranges[0]).toEqual({
      startAt: '2055-03-14T06:00:00.000Z',
      localDate: '2055-03-14',
      localStart: '01:00',
      localEnd: '03:00',
      localStartAt: '2055-03-14T01:00:00-05:00',
      timeZone: NEW_YORK,
    });
    const plain = await q(query, { id: gid('Resource', roomId) });
    expect(plain.results[0].ranges[0]).toMatchObject({
      localStart: '07:00',
      localEnd: '08:00',
      localStartAt: '2055-03-14T07:00:00+01:00',
      timeZone: BERLIN,
    });
  });

  it('Resource.slots, Location.slots and Form.slots take the zone too', async () => {
    const query = `query ($ids: [ID!]!, $tz: String) { nodes(ids: $ids) {
      ... on Resource { slots(from: "2055-03-13T00:00:00Z", to: "2055-03-15T00:00:00Z", timeZone: $tz) { ${LOCAL} } }
      ... on Location { slots(from: "2055-03-13T00:00:00Z", to: "2055-03-15T00:00:00Z", timeZone: $tz) { ${LOCAL} } } } }`;
    const [resource, location] = await q(query, { ids: [gid('Resource', personId), gid('Location', locationId)], tz: NEW_YORK });
    expect(resource.slots).toEqual(IN_NEW_YORK);
    expect(location.slots).toEqual(IN_NEW_YORK);
    const form = `query ($slug: String!, $tz: String) { form(slug: $slug) { timeZone slots(timeZone: $tz) { ${LOCAL} } } }`;
    expect(await q(form, { slug: formSlug, tz: NEW_YORK })).toEqual({ timeZone: BERLIN, slots: [IN_NEW_YORK[1]] });
    expect(await q(form, { slug: formSlug })).toEqual({ timeZone: BERLIN, slots: [IN_BERLIN[1]] });
  });

  it('an invalid zone is a ValidationError on timeZone, for each read', async () => {
    const bad = { fieldErrors: [{ path: ['timeZone'], message: expect.stringContaining('IANA') }] };
    expect(await q(AVAILABILITY, { id: gid('Resource', personId), tz: 'Mars/Olympus' })).toMatchObject({ __typename: 'ValidationError', ...bad });
    const dates = `{ availableDates(locationId: "${gid('Location', locationId)}", from: "2055-03-13", to: "2055-03-14", timeZone: "Nope") { __typename ${ERR} } }`;
    expect(await q(dates)).toMatchObject({ __typename: 'ValidationError', ...bad });
    const exposed = `{ exposedSlots(locationId: "${gid('Location', locationId)}", date: "2055-03-14", sessionId: "s", timeZone: "Nope") { __typename ${ERR} } }`;
    expect(await q(exposed)).toMatchObject({ __typename: 'ValidationError', ...bad });
    const search = `{ searchAvailability(resourceId: "${gid('Resource', roomId)}", from: "2055-03-14T06:00:00Z", to: "2055-03-14T07:00:00Z", durationMinutes: 60, timeZone: "Nope") { __typename ${ERR} } }`;
    expect(await q(search)).toMatchObject({ __typename: 'ValidationError', ...bad });
    const nested = await t.execute(
      `{ node(id: "${gid('Resource', personId)}") { ... on Resource { slots(from: "2055-03-13T00:00:00Z", to: "2055-03-15T00:00:00Z", timeZone: "Nope") { id } } } }`,
    );
    expect(nested.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
  });
});

describe('timeZone on the live slotAvailability subscription', () => {
  let server: RunningServer;
  const clients: Client[] = [];
  beforeAll(async () => {
    server = await startServer(t.app, { port: 0, host: '127.0.0.1' });
  });
  afterAll(async () => {
    for (const client of clients) await client.dispose();
    await server?.stop();
  });

  it('the snapshot reads in the viewer zone; a bad zone is one ValidationError', async () => {
    const client = wsClient(server.url);
    clients.push(client);
    const query = `subscription ($id: ID, $tz: String) { slotAvailability(resourceId: $id, from: "2055-03-13T00:00:00Z", to: "2055-03-15T00:00:00Z", timeZone: $tz) {
      __typename ... on SlotAvailabilityEvent { kind timeZone slots { ${LOCAL} } } ... on ValidationError { code fieldErrors { path message } } } }`;
    const live = wsSubscribe(client, { id: gid('Resource', personId), tz: NEW_YORK }, query);
    expect(await live.log.at(0)).toMatchObject({ kind: 'SNAPSHOT', timeZone: NEW_YORK, slots: IN_NEW_YORK });
    live.stop();
    const bad = wsSubscribe(client, { id: gid('Resource', personId), tz: 'Nope' }, query);
    expect(await bad.log.at(0)).toMatchObject({ __typename: 'ValidationError', fieldErrors: [{ path: ['timeZone'] }] });
  });
});
