import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createSlotwise, type Slotwise } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { expectNoErrors, type GraphQLResponse } from './kit/app.js';
import { BOOK, CONFIRM, HOLD } from './kit/documents.js';
import { customer, gid, fixtures } from './kit/fixtures.js';

// The embedded mode (no DATABASE_URL) through the API, as a first-time user runs it.
const dataDir = mkdtempSync(join(tmpdir(), 'slotwise-pglite-'));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

const start = (DATA_DIR: string) => createSlotwise({ config: loadConfig({ DATA_DIR, LOG_LEVEL: 'silent' }) });

async function execute<T = any>(app: Slotwise, query: string, variables: Record<string, unknown> = {}, token?: string): Promise<T> {
  const response = await app.yoga.fetch('http://slotwise.test/graphql', {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ query, variables }),
  });
  return expectNoErrors((await response.json()) as GraphQLResponse<T>);
}

const CREATE_LOCATION = `mutation ($input: CreateLocationInput!) {
  createLocation(input: $input) { __typename ... on Location { id name } }
}`;
const CREATE_RESOURCE = `mutation ($input: CreateResourceInput!) {
  createResource(input: $input) { __typename ... on Resource { id name exclusive } }
}`;
const LIST = `{ locations { id name timeZone } resources { ... on ResourcesSuccess { data { id name kind location { name } } } } }`;
const NODE = `query ($id: ID!) { node(id: $id) { __typename ... on Resource { name } ... on Location { name } } }`;

async function migrationRows(app: Slotwise) {
  return app.db.sql.query<{ version: number; applied_at: Date }>('SELECT version, applied_at FROM schema_migrations ORDER BY version');
}

// Each test starts PGlite (and migrates) once or twice: tens of seconds on a busy 2-core machine.
describe('embedded PGlite', { timeout: 90_000 }, () => {
  it('serves the API on DATA_DIR and keeps data, secrets and migrations across a restart', async () => {
    const first = await start(dataDir);
    let ids: { location: string; resource: string };
    let jwt: string;
    let applied: Awaited<ReturnType<typeof migrationRows>>;
    try {
      expect(first.db.kind).toBe('pglite');
      const { token, user } = await first.services.auth.ensureAdmin('owner@embedded.example');
      jwt = await first.services.auth.issueJwt(user);

      const location = await execute(first, CREATE_LOCATION, { input: { name: 'Studio', timeZone: 'Europe/Berlin' } }, token);
      expect(location.createLocation).toMatchObject({ __typename: 'Location', name: 'Studio' });
      const resource = await execute(
        first,
        CREATE_RESOURCE,
        { input: { locationId: location.createLocation.id, kind: 'ROOM', name: 'Room A', exclusive: true } },
        token,
      );
      expect(resource.createResource).toMatchObject({ __typename: 'Resource', name: 'Room A', exclusive: true });
      ids = { location: location.createLocation.id, resource: resource.createResource.id };

      expect(await execute(first, LIST)).toEqual({
        locations: [{ id: ids.location, name: 'Studio', timeZone: 'Europe/Berlin' }],
        resources: { data: [{ id: ids.resource, name: 'Room A', kind: 'ROOM', location: { name: 'Studio' } }] },
      });
      expect((await execute(first, NODE, { id: ids.resource })).node).toEqual({ __typename: 'Resource', name: 'Room A' });
      applied = await migrationRows(first);
      expect(applied.length).toBeGreaterThan(0);
    } finally {
      await first.close();
    }

    const second = await start(dataDir);
    try {
      // Same migrations, applied at the same moments: nothing ran again.
      expect(await migrationRows(second)).toEqual(applied);
      expect((await execute(second, NODE, { id: ids.location })).node).toEqual({ __typename: 'Location', name: 'Studio' });
      // The JWT signed before the restart still verifies: the generated secret was kept in DATA_DIR.
      const annex = await execute(
        second,
        `mutation ($input: CreateLocationInput!) { createLocation(input: $input) { __typename } }`,
        {
          input: { name: 'Annex', timeZone: 'UTC' },
        },
        jwt,
      );
      expect(annex.createLocation).toEqual({ __typename: 'Location' });
      expect((await execute(second, LIST)).locations.map((l: { name: string }) => l.name)).toEqual(['Annex', 'Studio']);
    } finally {
      await second.close();
    }
  });

  it('runs in memory with DATA_DIR=memory://', async () => {
    const app = await start('memory://');
    try {
      expect(app.db.kind).toBe('pglite');
      const { token } = await app.services.auth.ensureAdmin('mem@embedded.example');
      const created = await execute(app, CREATE_LOCATION, { input: { name: 'Pop-up', timeZone: 'UTC' } }, token);
      expect((await execute(app, NODE, { id: created.createLocation.id })).node).toEqual({ __typename: 'Location', name: 'Pop-up' });
    } finally {
      await app.close();
    }
  });
});

describe('the waitlist on the embedded database', { timeout: 90_000 }, () => {
  it('joins a full slot and staff read its line (statuses bound as an enum array)', async () => {
    const app = await start('memory://');
    try {
      const { token } = await app.services.auth.ensureAdmin('staff@embedded.example');
      const f = fixtures(app.db.sql);
      const location = await f.location('Europe/Berlin');
      const slot = await f.slot(location, await f.resource(location), { capacity: 1, booked: 1 });
      const joined = await execute(
        app,
        `mutation ($input: JoinWaitlistInput!) { joinWaitlist(input: $input) { __typename ... on JoinedWaitlist { ahead } } }`,
        { input: { slotId: gid('Slot', slot), customer: customer('wes') } },
      );
      expect(joined.joinWaitlist).toEqual({ __typename: 'JoinedWaitlist', ahead: 0 });
      const line = await execute(
        app,
        `query ($slotId: ID) { waitlist(slotId: $slotId) { __typename ... on WaitlistSuccess { data { status customer { name } } } } }`,
        { slotId: gid('Slot', slot) },
        token,
      );
      expect(line.waitlist).toEqual({ __typename: 'WaitlistSuccess', data: [{ status: 'WAITING', customer: { name: 'Customer wes' } }] });
    } finally {
      await app.close();
    }
  });
});

describe('booking on the embedded database', { timeout: 90_000 }, () => {
  it('holds, confirms, books, refuses a full slot and a taken range, and expires holds: the plain-SQL transactions on PGlite', async () => {
    const app = await start('memory://');
    try {
      const f = fixtures(app.db.sql);
      const location = await f.location('Europe/Berlin');
      const person = await f.resource(location);
      const room = await f.resource(location, { exclusive: true });
      const slot = await f.slot(location, person, { capacity: 2 });
      const mutate = async (query: string, input: object) => Object.values(await execute(app, query, { input }))[0] as any;

      const held = await mutate(HOLD, { slotId: gid('Slot', slot), customer: customer('ann') });
      expect(held).toMatchObject({ __typename: 'BookingReceipt', booking: { status: 'HELD', customer: customer('ann') } });
      expect(await mutate(CONFIRM, { bookingId: held.booking.id, manageToken: held.manageToken })).toMatchObject({ status: 'CONFIRMED' });
      expect(await mutate(BOOK, { slotId: gid('Slot', slot), customer: customer('bob') })).toMatchObject({ booking: { status: 'CONFIRMED' } });
      expect(await mutate(BOOK, { slotId: gid('Slot', slot), customer: customer('cy') })).toMatchObject({ __typename: 'SlotFullError' });
      expect(await f.slotCounts(slot)).toMatchObject({ booked: 2, held: 0, status: 'FULL' });

      const startAt = new Date(Math.ceil(Date.now() / 86_400_000) * 86_400_000 + 2 * 86_400_000 + 10 * 3_600_000);
      const range = (from: Date, hours: number) => ({
        resourceId: gid('Resource', room),
        startAt: from.toISOString(),
        endAt: new Date(from.getTime() + hours * 3_600_000).toISOString(),
      });
      expect(await mutate(BOOK, { range: range(startAt, 1), customer: customer('dee') })).toMatchObject({
        booking: { kind: 'RANGE', status: 'CONFIRMED' },
      });
      const conflict = await mutate(BOOK, { range: range(new Date(startAt.getTime() + 1_800_000), 1), customer: customer('eve') });
      expect(conflict).toMatchObject({ __typename: 'BookingConflictError', conflict: { startAt: startAt.toISOString() } });
      expect(conflict.alternatives.length).toBeGreaterThan(0);

      const other = await f.slot(location, person);
      await mutate(HOLD, { slotId: gid('Slot', other), customer: customer('fay') });
      await app.db.sql.query(`UPDATE bookings SET hold_expires_at = now() - interval '1 second' WHERE slot_id = $1`, [other]);
      expect(await app.services.bookings.releaseExpiredHolds()).toMatchObject([{ slotId: other, reason: 'EXPIRED' }]);
      expect(await f.slotCounts(other)).toMatchObject({ held: 0, status: 'OPEN' });
      const audit = await app.db.sql.query<{ action: string; n: number }>(
        `SELECT action, count(*)::int AS n FROM audit_events WHERE entity_type = 'Booking' GROUP BY action ORDER BY action`,
      );
      expect(audit).toEqual([
        { action: 'CONFIRMED', n: 3 },
        { action: 'EXPIRED', n: 1 },
        { action: 'HELD', n: 2 },
      ]);
    } finally {
      await app.close();
    }
  });
});
