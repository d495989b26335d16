import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, expectNoErrors, type TestApp } from '../../test/kit/app.js';

const CREATE = `mutation ($input: CreateLocationInput!) {
  createLocation(input: $input) {
    __typename
    ... on Location { id name timeZone }
    ... on ValidationError { code fieldErrors { path message } }
  }
}`;

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(() => t.close());

describe('locations', () => {
  it('creates, updates, lists and finds a location by node id', async () => {
    const created = expectNoErrors(await t.execute(CREATE, { input: { name: 'Harbour', timeZone: 'Europe/London' } }, { token: t.adminToken }));
    expect(created.createLocation).toMatchObject({ __typename: 'Location', name: 'Harbour', timeZone: 'Europe/London' });
    const id = created.createLocation.id;

    const updated = expectNoErrors(
      await t.execute(
        `mutation ($id: ID!) { updateLocation(id: $id, input: { name: "Harbour East" }) { ... on UpdateLocationPayload { location { name timeZone } } } }`,
        { id },
        { token: t.adminToken },
      ),
    );
    expect(updated.updateLocation).toEqual({ location: { name: 'Harbour East', timeZone: 'Europe/London' } });

    const node = expectNoErrors(await t.execute(`query ($id: ID!) { node(id: $id) { __typename ... on Location { name } } }`, { id }));
    expect(node.node).toEqual({ __typename: 'Location', name: 'Harbour East' });

    const list = expectNoErrors(await t.execute(`{ locations { name } }`));
    expect(list.locations.map((l: { name: string }) => l.name)).toContain('Harbour East');
  });

  it('rejects an unknown time zone with a typed error on that field and writes nothing', async () => {
    const before = await t.app.db.prisma.location.count();
    for (const timeZone of ['Mars/Olympus', '+05:00']) {
      const result = expectNoErrors(await t.execute(CREATE, { input: { name: 'Nowhere', timeZone } }, { token: t.adminToken }));
      expect(result.createLocation).toMatchObject({
        __typename: 'ValidationError',
        code: 'VALIDATION_FAILED',
        fieldErrors: [{ path: ['input', 'timeZone'], message: expect.stringContaining('IANA') }],
      });
    }
    expect(await t.app.db.prisma.location.count()).toBe(before);
  });

  it('rejects a missing field before anything runs', async () => {
    const result = await t.execute(CREATE, { input: { name: 'No zone' } }, { token: t.adminToken });
    expect(result.errors?.[0]?.message).toMatch(/timeZone/);
  });

  it('is not open to the public or to plain users', async () => {
    const anonymous = await t.execute(CREATE, { input: { name: 'X', timeZone: 'UTC' } });
    expect(anonymous.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    const user = await t.execute(CREATE, { input: { name: 'X', timeZone: 'UTC' } }, { token: await t.tokenFor(['user']) });
    expect(user.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  });
});
