import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createTestApp, expectNoErrors, type TestApp } from '../../test/kit/app.js';
import { fixtures, gid } from '../../test/kit/fixtures.js';
import type { RuleKind } from '../generated/prisma/enums.js';

const SEARCH = `query ($resourceId: ID, $locationId: ID, $from: DateTime!, $to: DateTime!, $duration: Int!) {
  searchAvailability(resourceId: $resourceId, locationId: $locationId, from: $from, to: $to, durationMinutes: $duration) {
    __typename
    ... on AvailabilitySearch {
      durationMinutes
      results { resource { name } ranges { startAt endAt durationMinutes } nextAvailable { startAt endAt } }
    }
    ... on ValidationError { fieldErrors { path message } }
  }
}`;

let t: TestApp;
let locationId: string;
let roomA: { id: string };
let roomB: { id: string };

async function rule(
  resourceId: string | null,
  kind: RuleKind,
  days: number[],
  start: string,
  end: string,
  extra: { validFrom?: string; validTo?: string; isClosed?: boolean } = {},
) {
  const minutes = (hhmm: string) => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3));
  await t.app.db.prisma.availabilityRule.create({
    data: {
      locationId,
      resourceId,
      kind,
      daysOfWeek: days,
      startMinute: minutes(start),
      endMinute: minutes(end),
      validFrom: extra.validFrom ? new Date(extra.validFrom) : null,
      validTo: extra.validTo ? new Date(extra.validTo) : null,
      isClosed: extra.isClosed ?? false,
    },
  });
}

beforeAll(async () => {
  t = await createTestApp();
  // A fixed clock, so the dates below stay in the future.
  vi.useFakeTimers({ toFake: ['Date'] });
  vi.setSystemTime(new Date('2026-11-20T12:00:00Z'));
  const f = fixtures(t.app.db.sql);
  locationId = await f.location('Europe/London');
  roomA = { id: await f.resource(locationId, { exclusive: true, name: 'Room A' }) };
  roomB = { id: await f.resource(locationId, { exclusive: true, name: 'Room B' }) };
  await f.resource(locationId, { name: 'A person' });
  await rule(roomA.id, 'WEEKLY', [1, 2, 3, 4, 5], '09:00', '17:00');
  await rule(roomA.id, 'EXCEPTION', [], '00:00', '24:00', { validFrom: '2026-12-08', validTo: '2026-12-08', isClosed: true });
  await rule(roomA.id, 'EXCEPTION', [], '10:00', '12:00', { validFrom: '2026-12-10', validTo: '2026-12-10' });
  await rule(roomA.id, 'DATE_RANGE', [], '12:00', '14:00', { validFrom: '2026-12-14', validTo: '2026-12-14' });
  await rule(null, 'EXCEPTION', [], '00:00', '12:00', { validFrom: '2026-12-15', validTo: '2026-12-15', isClosed: true }); // whole location
  await rule(roomB.id, 'WEEKLY', [7], '00:00', '04:00'); // Sundays, night hours: the London clock changes then
  const range = (startAt: string, endAt: string, status: 'CONFIRMED' | 'HELD', holdExpiresAt?: string) =>
    f.booking({ resourceId: roomA.id, exclusive: true, startAt, endAt, status, holdExpiresAt });
  // Tuesday 2026-12-01 (GMT, so local = UTC)
  await range('2026-12-01T11:00:00Z', '2026-12-01T12:30:00Z', 'CONFIRMED');
  await range('2026-12-01T14:00:00Z', '2026-12-01T15:00:00Z', 'HELD', '2026-11-01T00:00:00Z'); // expired: free again
  await range('2026-12-01T15:00:00Z', '2026-12-01T16:00:00Z', 'HELD', '2099-01-01T00:00:00Z');
});
afterAll(async () => {
  vi.useRealTimers();
  await t.close();
});

const search = async (vars: Record<string, unknown>) => expectNoErrors(await t.execute(SEARCH, vars)).searchAvailability;
const starts = (ranges: { startAt: string }[]) => ranges.map((r) => r.startAt.slice(11, 16));

describe('searchAvailability', () => {
  it('finds free ranges inside working hours around confirmed and live held bookings, on 15-minute steps', async () => {
    const result = await search({ resourceId: gid('Resource', roomA.id), from: '2026-12-01T00:00:00Z', to: '2026-12-02T00:00:00Z', duration: 60 });
    expect(result.durationMinutes).toBe(60);
    const [room] = result.results;
    expect(room.resource.name).toBe('Room A');
    expect(starts(room.ranges)).toEqual([
      '09:00',
      '09:15',
      '09:30',
      '09:45',
      '10:00', // until the 11:00 booking
      '12:30',
      '12:45',
      '13:00',
      '13:15',
      '13:30',
      '13:45',
      '14:00', // the expired hold does not count
      '16:00', // after the live hold
    ]);
    expect(room.ranges[0]).toEqual({ startAt: '2026-12-01T09:00:00.000Z', endAt: '2026-12-01T10:00:00.000Z', durationMinutes: 60 });
    expect(room.nextAvailable).toBeNull();
  });

  it('gives nextAvailable when the window has nothing: a weekend, a closed day', async () => {
    const saturday = await search({ resourceId: gid('Resource', roomA.id), from: '2026-12-05T00:00:00Z', to: '2026-12-06T00:00:00Z', duration: 120 });
    expect(saturday.results[0]).toMatchObject({
      ranges: [],
      nextAvailable: { startAt: '2026-12-07T09:00:00.000Z', endAt: '2026-12-07T11:00:00.000Z' },
    });
    const closed = await search({ resourceId: gid('Resource', roomA.id), from: '2026-12-08T00:00:00Z', to: '2026-12-09T00:00:00Z', duration: 30 });
    expect(closed.results[0]).toMatchObject({
      ranges: [],
      nextAvailable: { startAt: '2026-12-09T09:00:00.000Z', endAt: '2026-12-09T09:30:00.000Z' },
    });
  });

  it('uses an open exception instead of the weekly hours on its date', async () => {
    const result = await search({ resourceId: gid('Resource', roomA.id), from: '2026-12-10T00:00:00Z', to: '2026-12-11T00:00:00Z', duration: 60 });
    expect(starts(result.results[0].ranges)).toEqual(['10:00', '10:15', '10:30', '10:45', '11:00']);
  });

  it('lets a date range win over the weekly hours, and a location-wide closure close the room', async () => {
    const room = gid('Resource', roomA.id);
    const monday = await search({ resourceId: room, from: '2026-12-14T00:00:00Z', to: '2026-12-15T00:00:00Z', duration: 120 });
    expect(monday.results[0].ranges).toEqual([{ startAt: '2026-12-14T12:00:00.000Z', endAt: '2026-12-14T14:00:00.000Z', durationMinutes: 120 }]);
    const tuesday = await search({ resourceId: room, from: '2026-12-15T00:00:00Z', to: '2026-12-16T00:00:00Z', duration: 300 });
    expect(tuesday.results[0].ranges).toEqual([{ startAt: '2026-12-15T12:00:00.000Z', endAt: '2026-12-15T17:00:00.000Z', durationMinutes: 300 }]);
  });

  it('has nothing for a room without rules of its own', async () => {
    const bare = { id: await fixtures(t.app.db.sql).resource(locationId, { exclusive: true, name: 'Room without rules' }) };
    const result = await search({ resourceId: gid('Resource', bare.id), from: '2026-12-01T00:00:00Z', to: '2026-12-02T00:00:00Z', duration: 15 });
    expect(result.results).toEqual([{ resource: { name: 'Room without rules' }, ranges: [], nextAvailable: null }]);
    await t.app.db.prisma.resource.update({ where: { id: bare.id }, data: { active: false } });
  });

  it('counts real hours across London clock changes (spring forward and fall back)', async () => {
    const room = gid('Resource', roomB.id);
    // 2027-03-28: 00:00 GMT .. 04:00 BST is three real hours
    const spring = await search({ resourceId: room, from: '2027-03-28T00:00:00Z', to: '2027-03-29T00:00:00Z', duration: 180 });
    expect(spring.results[0].ranges).toEqual([{ startAt: '2027-03-28T00:00:00.000Z', endAt: '2027-03-28T03:00:00.000Z', durationMinutes: 180 }]);
    const springLong = await search({ resourceId: room, from: '2027-03-28T00:00:00Z', to: '2027-03-29T00:00:00Z', duration: 240 });
    // the next Sunday is on BST all night: 00:00 BST = 23:00 UTC the day before
    expect(springLong.results[0]).toMatchObject({
      ranges: [],
      nextAvailable: { startAt: '2027-04-03T23:00:00.000Z', endAt: '2027-04-04T03:00:00.000Z' },
    });
    // 2027-10-31: 00:00 BST .. 04:00 GMT is five real hours
    const autumn = await search({ resourceId: room, from: '2027-10-30T22:00:00Z', to: '2027-10-31T06:00:00Z', duration: 300 });
    expect(autumn.results[0].ranges).toEqual([{ startAt: '2027-10-30T23:00:00.000Z', endAt: '2027-10-31T04:00:00.000Z', durationMinutes: 300 }]);
  });

  it('searches every exclusive resource of a location with a fixed number of SQL statements', async () => {
    const vars = { locationId: gid('Location', locationId), from: '2026-12-01T00:00:00Z', to: '2026-12-08T00:00:00Z', duration: 30 };
    t.sql.reset();
    const result = await search(vars);
    const statements = t.sql.statements.length;
    expect(result.results.map((r: { resource: { name: string } }) => r.resource.name)).toEqual(['Room A', 'Room B']);
    for (let i = 0; i < 10; i++) await fixtures(t.app.db.sql).resource(locationId, { exclusive: true, name: `Room Z${i}` });
    t.sql.reset();
    expect((await search(vars)).results).toHaveLength(12);
    expect(t.sql.statements.length).toBe(statements);
  });

  it('rejects bad durations, long windows and non-exclusive resources with typed errors', async () => {
    const base = { resourceId: gid('Resource', roomA.id), from: '2026-12-01T00:00:00Z', to: '2026-12-02T00:00:00Z' };
    for (const duration of [0, 10, 20, 495]) {
      expect(await search({ ...base, duration })).toEqual({
        __typename: 'ValidationError',
        fieldErrors: [{ path: ['durationMinutes'], message: 'must be a multiple of 15 from 15 to 480' }],
      });
    }
    expect((await search({ ...base, to: '2027-01-01T00:00:01Z', duration: 60 })).fieldErrors).toEqual([
      { path: ['to'], message: 'the window may span at most 31 days' },
    ]);
    const person = await t.app.db.prisma.resource.findFirstOrThrow({ where: { name: 'A person' } });
    expect((await search({ ...base, resourceId: gid('Resource', person.id), duration: 60 })).fieldErrors[0].path).toEqual(['resourceId']);
  });
});
