import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createTestApp, expectNoErrors, type TestApp } from '../../test/kit/app.js';
import { fixtures, gid } from '../../test/kit/fixtures.js';

const RESOURCES = `query ($locationId: ID!, $from: DateTime!, $to: DateTime!) {
  resources(locationId: $locationId) { ... on ResourcesSuccess { data { id name slots(from: $from, to: $to) { id startAt localDate localStart dayPart remaining status } } } }
}`;
const LOCATIONS = `query ($from: DateTime!, $to: DateTime!) {
  locations { name slots(from: $from, to: $to) { id startAt remaining } }
}`;

/** A week (2026-12-07 .. 2026-12-13) of eight 30-minute slots a day, New York time. */
const WEEK = Array.from({ length: 7 * 8 }, (_, i) => {
  const day = 7 + Math.floor(i / 8);
  const hour = 14 + (i % 8); // 09:00-16:30 EST
  return { start: `2026-12-${String(day).padStart(2, '0')}T${String(hour).padStart(2, '0')}:00:00Z` };
});
const window = { from: '2026-12-07T05:00:00Z', to: '2026-12-14T05:00:00Z' };

let t: TestApp;
let small: string;
let large: string;

beforeAll(async () => {
  t = await createTestApp();
  // A fixed clock, so the dates below stay in the future.
  vi.useFakeTimers({ toFake: ['Date'] });
  vi.setSystemTime(new Date('2026-11-20T12:00:00Z'));
  const prisma = t.app.db.prisma;
  for (const [count, name] of [
    [5, 'Small'],
    [50, 'Large'],
  ] as const) {
    const locationId = await fixtures(t.app.db.sql).location('America/New_York', { name });
    const names = Array.from({ length: count }, (_, i) => `${name} ${String(i).padStart(2, '0')}`);
    await prisma.resource.createMany({ data: names.map((n) => ({ locationId, kind: 'PERSON' as const, name: n })) });
    const resources = await prisma.resource.findMany({ where: { locationId } });
    await prisma.slot.createMany({
      data: resources.flatMap((r) =>
        WEEK.map(({ start }) => ({
          locationId,
          resourceId: r.id,
          timeZone: 'America/New_York',
          startAt: new Date(start),
          endAt: new Date(new Date(start).getTime() + 30 * 60_000),
          capacity: 1,
        })),
      ),
    });
    if (count === 5) small = gid('Location', locationId);
    else large = gid('Location', locationId);
  }
});
afterAll(async () => {
  vi.useRealTimers();
  await t.close();
});

async function run(query: string, variables: Record<string, unknown>) {
  t.sql.reset();
  const data = expectNoErrors(await t.execute(query, variables));
  return { data, statements: t.sql.statements.length };
}

describe('batched slot reads', () => {
  it('reads 5 or 50 resources with a week of slots each in the same number of SQL statements', async () => {
    const five = await run(RESOURCES, { locationId: small, ...window });
    const fifty = await run(RESOURCES, { locationId: large, ...window });
    expect(five.data.resources.data).toHaveLength(5);
    expect(fifty.data.resources.data).toHaveLength(50);
    for (const resource of fifty.data.resources.data) expect(resource.slots).toHaveLength(56);
    expect(fifty.data.resources.data[0].slots[0]).toMatchObject({
      startAt: '2026-12-07T14:00:00.000Z',
      localDate: '2026-12-07',
      localStart: '09:00',
      dayPart: 'MORNING',
      remaining: 1,
      status: 'OPEN',
    });
    expect(fifty.statements).toBe(five.statements);
    expect(fifty.statements).toBeLessThanOrEqual(3); // the location exists, its resources, then all their slots at once
  });

  it('batches Location.slots the same way, one statement per window', async () => {
    const result = await run(LOCATIONS, window);
    const byName = Object.fromEntries(result.data.locations.map((l: { name: string; slots: unknown[] }) => [l.name, l.slots.length]));
    expect(byName).toEqual({ Small: 5 * 56, Large: 50 * 56 });
    expect(result.statements).toBeLessThanOrEqual(2);
  });

  it('rejects a reversed or oversized nested window', async () => {
    const reversed = await t.execute(RESOURCES, { locationId: small, from: window.to, to: window.from });
    expect(reversed.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    const long = await t.execute(RESOURCES, { locationId: small, from: '2026-12-01T00:00:00Z', to: '2027-03-05T00:00:00Z' });
    // Refused either by the window rule or, first, by the operation's cost (days x resources).
    expect(long.errors?.[0]?.message).toMatch(/at most 93 days|Operation cost \d+ is over/);
  });
});
