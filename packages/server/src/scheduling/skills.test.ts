import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../../test/kit/app.js';
import { fixtures, gid } from '../../test/kit/fixtures.js';

/** Issue #20: people carry skills set by staff; availability reads filter by required skills at a location. */
let t: TestApp;
let manager: string;
let locationId: string;
const ids: Record<string, string> = {};

const ZONE = 'Europe/Lisbon';
const DAY = '2055-02-10';

async function api(query: string, variables: Record<string, unknown> = {}, token?: string) {
  const response = await t.execute(query, variables, token ? { token } : {});
  if (response.errors?.length) throw new Error(JSON.stringify(response.errors));
  return Object.values(response.data as Record<string, any>)[0];
}

const CREATE = `mutation ($input: CreateResourceInput!) { createResource(input: $input) {
  __typename ... on Resource { id skills } ... on ValidationError { fieldErrors { path message } } } }`;
const UPDATE = `mutation ($id: ID!, $input: UpdateResourceInput!) { updateResource(id: $id, input: $input) {
  __typename ... on Resource { id skills } ... on ValidationError { fieldErrors { path message } } } }`;

async function person(name: string, skills: string[], exclusive = false) {
  const made = await api(CREATE, { input: { locationId: gid('Location', locationId), kind: 'PERSON', name, skills, exclusive } }, manager);
  expect(made.__typename).toBe('Resource');
  return made;
}

beforeAll(async () => {
  t = await createTestApp();
  manager = await t.tokenFor(['manager']);
  const f = fixtures(t.app.db.sql);
  locationId = await f.location(ZONE);
  const derm = await person('Dr. Derm', ['Dermatology', ' allergy ', 'dermatology']);
  const gp = await person('Dr. General', ['general practice']);
  const both = await person('Dr. Both', ['dermatology', 'pediatrics']);
  const { decodeGlobalID } = await import('@pothos/plugin-relay');
  for (const [name, r] of Object.entries({ derm, gp, both })) ids[name] = decodeGlobalID(r.id).id;
  // One slot each on the same day (10:00, 11:00, 12:00 UTC = local in Lisbon in winter), one location-wide.
  for (const [i, name] of ['derm', 'gp', 'both'].entries()) {
    await f.slots({ locationId, resourceId: ids[name]!, timeZone: ZONE }, [{ start: `${DAY}T1${i}:00:00Z`, capacity: 2 }]);
  }
  await f.slots({ locationId, resourceId: null, timeZone: ZONE }, [{ start: `${DAY}T15:00:00Z` }]);
});
afterAll(() => t?.close());

describe('skills on resources', () => {
  it('staff set them (lower-cased, trimmed, no duplicates); they are public; bad ones are typed errors', async () => {
    const read = await api(`query ($id: ID!) { node(id: $id) { ... on Resource { name skills } } }`, { id: gid('Resource', ids.derm!) });
    expect(read).toEqual({ name: 'Dr. Derm', skills: ['dermatology', 'allergy'] });
    const changed = await api(UPDATE, { id: gid('Resource', ids.gp!), input: { skills: ['General practice', 'travel vaccines'] } }, manager);
    expect(changed.skills).toEqual(['general practice', 'travel vaccines']);
    // Leaving skills out keeps them.
    expect((await api(UPDATE, { id: gid('Resource', ids.gp!), input: { name: 'Dr. General' } }, manager)).skills).toEqual([
      'general practice',
      'travel vaccines',
    ]);
    expect(await api(UPDATE, { id: gid('Resource', ids.gp!), input: { skills: ['ok', '<script>'] } }, manager)).toMatchObject({
      __typename: 'ValidationError',
      fieldErrors: [{ path: ['input', 'skills', '1'] }],
    });
    const stranger = await t.execute(UPDATE, { id: gid('Resource', ids.gp!), input: { skills: ['x'] } });
    expect(stranger.data?.updateResource?.__typename).not.toBe('Resource');
    await api(UPDATE, { id: gid('Resource', ids.gp!), input: { skills: ['general practice'] } }, manager);
  });
});

describe('reads filtered by required skills at a location', () => {
  const location = () => gid('Location', locationId);
  const names = (slots: { resource: { name: string } | null }[]) => slots.map((s) => s.resource?.name ?? 'location-wide');

  it('availability: any person with every required skill; location-wide slots drop out', async () => {
    const query = `query ($id: ID, $skills: [String!]) { availability(locationId: $id, from: "${DAY}T00:00:00Z", to: "${DAY}T23:00:00Z", skills: $skills) {
      __typename ... on Availability { slots { resource { name } } } ... on ValidationError { fieldErrors { path } } } }`;
    expect(names((await api(query, { id: location() })).slots)).toEqual(['Dr. Derm', 'Dr. General', 'Dr. Both', 'location-wide']);
    expect(names((await api(query, { id: location(), skills: ['Dermatology'] })).slots)).toEqual(['Dr. Derm', 'Dr. Both']);
    expect(names((await api(query, { id: location(), skills: ['dermatology', 'pediatrics'] })).slots)).toEqual(['Dr. Both']);
    expect((await api(query, { id: location(), skills: ['surgery'] })).slots).toEqual([]);
    expect(await api(query, { id: location(), skills: [''] })).toMatchObject({
      __typename: 'ValidationError',
      fieldErrors: [{ path: ['skills', '0'] }],
    });
  });

  it('availableDates counts only the skilled slots', async () => {
    const query = `query ($id: ID, $skills: [String!]) { availableDates(locationId: $id, from: "${DAY}", to: "${DAY}", skills: $skills) {
      ... on AvailableDates { dates { date slotCount remaining } } } }`;
    expect((await api(query, { id: location() })).dates).toEqual([{ date: DAY, slotCount: 4, remaining: 7 }]);
    expect((await api(query, { id: location(), skills: ['dermatology'] })).dates).toEqual([{ date: DAY, slotCount: 2, remaining: 4 }]);
  });

  it('exposedSlots chooses among skilled slots only, remembered apart from the unfiltered choice', async () => {
    const query = `query ($id: ID, $skills: [String!]) { exposedSlots(locationId: $id, date: "${DAY}", sessionId: "skills-1", skills: $skills) {
      ... on ExposedSlots { total slots { resource { name } } } } }`;
    const all = await api(query, { id: location() });
    expect(all.total).toBe(4);
    const derm = await api(query, { id: location(), skills: ['dermatology'] });
    expect(derm.total).toBe(2);
    expect(names(derm.slots).sort()).toEqual(['Dr. Both', 'Dr. Derm']);
    expect(names((await api(query, { id: location(), skills: ['pediatrics'] })).slots)).toEqual(['Dr. Both']);
  });

  it('searchAvailability searches only exclusive resources with the skills', async () => {
    const surgeon = await person('Dr. Cut', ['surgery'], true);
    await person('Dr. Skin', ['dermatology'], true);
    const { decodeGlobalID } = await import('@pothos/plugin-relay');
    for (const r of [surgeon]) {
      await t.app.db.prisma.availabilityRule.create({
        data: {
          locationId,
          resourceId: decodeGlobalID(r.id).id,
          kind: 'WEEKLY',
          daysOfWeek: [1, 2, 3, 4, 5, 6, 7],
          startMinute: 540,
          endMinute: 1020,
        },
      });
    }
    const query = `query ($id: ID, $skills: [String!]) { searchAvailability(locationId: $id, from: "${DAY}T09:00:00Z", to: "${DAY}T12:00:00Z",
      durationMinutes: 60, skills: $skills) { ... on AvailabilitySearch { results { resource { name } ranges { startAt } } } } }`;
    expect((await api(query, { id: location() })).results.map((r: any) => r.resource.name)).toEqual(['Dr. Cut', 'Dr. Skin']);
    const cut = (await api(query, { id: location(), skills: ['surgery'] })).results;
    expect(cut.map((r: any) => r.resource.name)).toEqual(['Dr. Cut']);
    expect(cut[0].ranges[0].startAt).toBe(`${DAY}T09:00:00.000Z`);
  });
});
