import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createTestApp, expectNoErrors, type TestApp } from '../../test/kit/app.js';
import { fixtures, gid } from '../../test/kit/fixtures.js';
import { sqlIn } from '../db/database.js';
import { runAndPublish, slotChangesIn } from '../live/after-commit.js';

const AVAILABILITY = `query ($resourceId: ID, $locationId: ID, $formId: ID, $from: DateTime!, $to: DateTime!) {
  availability(resourceId: $resourceId, locationId: $locationId, formId: $formId, from: $from, to: $to) {
    __typename
    ... on Availability { timeZone slots { id startAt endAt localDate localStart localEnd localStartAt dayPart remaining status } }
    ... on ValidationError { fieldErrors { path message } }
    ... on NotFoundError { entity }
  }
}`;

const DATES = `query ($resourceId: ID, $locationId: ID, $from: Date!, $to: Date!) {
  availableDates(resourceId: $resourceId, locationId: $locationId, from: $from, to: $to) {
    __typename
    ... on AvailableDates { timeZone dates { date slotCount remaining } }
    ... on ValidationError { fieldErrors { path message } }
  }
}`;

let t: TestApp;
let nyLocation: string;
let nyResource: string;
let nyResourceId: string;

beforeAll(async () => {
  t = await createTestApp();
  // The clock is the only thing faked: "now" sits before the New York fall-back day.
  vi.useFakeTimers({ toFake: ['Date'] });
  vi.setSystemTime(new Date('2026-10-20T12:00:00Z'));
  const f = fixtures(t.app.db.sql);
  const locationId = await f.location('America/New_York');
  nyResourceId = await f.resource(locationId);
  nyLocation = gid('Location', locationId);
  nyResource = gid('Resource', nyResourceId);
  await f.slots({ locationId, resourceId: nyResourceId, timeZone: 'America/New_York' }, [
    { start: '2026-10-31T03:30:00Z' }, // 2026-10-30 23:30 EDT: the day before
    { start: '2026-11-01T04:30:00Z' }, // 00:30 EDT
    { start: '2026-11-01T05:30:00Z' }, // 01:30 EDT, first pass through the repeated hour
    { start: '2026-11-01T06:30:00Z', capacity: 3, booked: 1 }, // 01:30 EST, second pass
    { start: '2026-11-01T08:00:00Z', status: 'BLOCKED' }, // 03:00 EST
    { start: '2026-11-01T16:00:00Z', booked: 1 }, // 11:00 EST, full
    { start: '2026-11-01T19:00:00Z', minutes: 60 }, // 14:00 EST
    { start: '2026-11-02T04:30:00Z' }, // 2026-11-01 23:30 EST: still Nov 1 locally
    { start: '2026-11-02T05:30:00Z', status: 'CANCELLED' }, // 2026-11-02 00:30 EST
    { start: '2026-11-02T14:00:00Z' }, // 2026-11-02 09:00 EST
  ]);
});
afterAll(async () => {
  vi.useRealTimers();
  await t.close();
});

const nov1Window = { from: '2026-11-01T04:00:00Z', to: '2026-11-02T05:00:00Z' }; // Nov 1 00:00 EDT .. Nov 2 00:00 EST

describe('availability', () => {
  const expectedNov1 = [
    {
      startAt: '2026-11-01T04:30:00.000Z',
      localDate: '2026-11-01',
      localStart: '00:30',
      localEnd: '01:00',
      localStartAt: '2026-11-01T00:30:00-04:00',
      dayPart: 'NIGHT',
      remaining: 1,
      status: 'OPEN',
    },
    {
      startAt: '2026-11-01T05:30:00.000Z',
      localDate: '2026-11-01',
      localStart: '01:30',
      localEnd: '01:00',
      localStartAt: '2026-11-01T01:30:00-04:00',
      dayPart: 'NIGHT',
      remaining: 1,
      status: 'OPEN',
    },
    {
      startAt: '2026-11-01T06:30:00.000Z',
      localDate: '2026-11-01',
      localStart: '01:30',
      localEnd: '02:00',
      localStartAt: '2026-11-01T01:30:00-05:00',
      dayPart: 'NIGHT',
      remaining: 2,
      status: 'PARTIAL',
    },
    {
      startAt: '2026-11-01T08:00:00.000Z',
      localDate: '2026-11-01',
      localStart: '03:00',
      localEnd: '03:30',
      localStartAt: '2026-11-01T03:00:00-05:00',
      dayPart: 'NIGHT',
      remaining: 0,
      status: 'BLOCKED',
    },
    {
      startAt: '2026-11-01T16:00:00.000Z',
      localDate: '2026-11-01',
      localStart: '11:00',
      localEnd: '11:30',
      localStartAt: '2026-11-01T11:00:00-05:00',
      dayPart: 'MORNING',
      remaining: 0,
      status: 'FULL',
    },
    {
      startAt: '2026-11-01T19:00:00.000Z',
      localDate: '2026-11-01',
      localStart: '14:00',
      localEnd: '15:00',
      localStartAt: '2026-11-01T14:00:00-05:00',
      dayPart: 'AFTERNOON',
      remaining: 1,
      status: 'OPEN',
    },
    {
      startAt: '2026-11-02T04:30:00.000Z',
      localDate: '2026-11-01',
      localStart: '23:30',
      localEnd: '00:00',
      localStartAt: '2026-11-01T23:30:00-05:00',
      dayPart: 'NIGHT',
      remaining: 1,
      status: 'OPEN',
    },
  ];

  const nov1 = async () => {
    const data = expectNoErrors(await t.execute(AVAILABILITY, { resourceId: nyResource, ...nov1Window }));
    return data.availability;
  };

  it('lists the slots of the New York fall-back day with exact instants and local times', async () => {
    const result = await nov1();
    expect(result.__typename).toBe('Availability');
    expect(result.timeZone).toBe('America/New_York');
    expect(result.slots.map(({ id: _id, endAt: _end, ...rest }: Record<string, unknown>) => rest)).toEqual(expectedNov1);
  });

  it('gives the same answer whatever the server process time zone is', async () => {
    const inUtc = await nov1();
    for (const zone of ['Pacific/Kiritimati', 'Pacific/Pago_Pago', 'Asia/Kathmandu']) {
      process.env.TZ = zone;
      try {
        expect(new Date(2026, 0, 1).getTimezoneOffset()).not.toBe(0); // the process really runs in that zone
        expect(await nov1()).toEqual(inUtc);
        const dates = expectNoErrors(await t.execute(DATES, { resourceId: nyResource, from: '2026-10-31', to: '2026-11-02' }));
        expect(dates.availableDates.dates.map((d: { date: string }) => d.date)).toEqual(['2026-11-01', '2026-11-02']);
      } finally {
        process.env.TZ = 'UTC';
      }
    }
  });

  it('answers for a location and for a published form; a draft is staff-only and form slots stay out of the location', async () => {
    const byLocation = expectNoErrors(await t.execute(AVAILABILITY, { locationId: nyLocation, ...nov1Window }));
    expect(byLocation.availability.slots).toHaveLength(expectedNov1.length);
    const prisma = t.app.db.prisma;
    const form = await prisma.form.create({ data: { slug: 'fall-back-signup', title: 'Sign-up', timeZone: 'America/New_York', status: 'DRAFT' } });
    const location = await prisma.location.findFirstOrThrow({ where: { timeZone: 'America/New_York' } });
    await fixtures(t.app.db.sql).slots({ locationId: location.id, resourceId: null, formId: form.id, timeZone: 'America/New_York' }, [
      { start: '2026-11-01T15:00:00Z', capacity: 10 },
    ]);
    const draftAnswer = expectNoErrors(await t.execute(AVAILABILITY, { formId: gid('Form', form.id), ...nov1Window }));
    expect(draftAnswer.availability).toMatchObject({ __typename: 'NotFoundError' });
    const forStaff = expectNoErrors(await t.execute(AVAILABILITY, { formId: gid('Form', form.id), ...nov1Window }, { token: t.adminToken }));
    expect(forStaff.availability.slots).toHaveLength(1);
    // Through the service: publishing also drops the cached NotFoundError anonymous callers got.
    await t.app.services.forms.publish(form.id);
    const byForm = expectNoErrors(await t.execute(AVAILABILITY, { formId: gid('Form', form.id), ...nov1Window }));
    expect(byForm.availability.slots).toMatchObject([{ localStart: '10:00', remaining: 10, dayPart: 'MORNING' }]);
    const locationAfter = expectNoErrors(await t.execute(AVAILABILITY, { locationId: nyLocation, ...nov1Window }));
    expect(locationAfter.availability.slots).toHaveLength(expectedNov1.length);
  });

  it('never serves a stale answer after a booking commits', async () => {
    const prisma = t.app.db.prisma;
    const before = (await nov1()).slots.find((s: { startAt: string }) => s.startAt === '2026-11-01T19:00:00.000Z');
    expect(before.remaining).toBe(1);
    const datesBefore = expectNoErrors(await t.execute(DATES, { resourceId: nyResource, from: '2026-11-01', to: '2026-11-01' }));
    expect(datesBefore.availableDates.dates).toEqual([{ date: '2026-11-01', slotCount: 5, remaining: 6 }]);
    const slot = await prisma.slot.findFirstOrThrow({ where: { resourceId: nyResourceId, startAt: new Date('2026-11-01T19:00:00Z') } });
    // What the booking engine commits (the count and the booking row, in one transaction), then publishes.
    await runAndPublish(prisma, t.app.services.slotEvents, async (tx, changes) => {
      await tx.slot.update({ where: { id: slot.id }, data: { booked: { increment: 1 } } });
      await fixtures(sqlIn(tx)).booking({ slotId: slot.id, startAt: '2026-11-01T19:00:00Z', endAt: '2026-11-01T20:00:00Z', status: 'CONFIRMED' });
      changes.push(...(await slotChangesIn(tx, [slot.id], 'CONFIRMED')));
    });
    const after = (await nov1()).slots.find((s: { startAt: string }) => s.startAt === '2026-11-01T19:00:00.000Z');
    expect(after).toMatchObject({ remaining: 0, status: 'FULL' });
    const dates = expectNoErrors(await t.execute(DATES, { resourceId: nyResource, from: '2026-11-01', to: '2026-11-01' }));
    expect(dates.availableDates.dates).toEqual([{ date: '2026-11-01', slotCount: 4, remaining: 5 }]);
  });

  it('rejects bad windows and scopes with typed errors naming the field', async () => {
    const errorOf = async (vars: Record<string, unknown>) => expectNoErrors(await t.execute(AVAILABILITY, vars)).availability;
    expect(await errorOf({ resourceId: nyResource, from: '2026-11-02T00:00:00Z', to: '2026-11-01T00:00:00Z' })).toEqual({
      __typename: 'ValidationError',
      fieldErrors: [{ path: ['to'], message: 'must be after from' }],
    });
    expect((await errorOf({ resourceId: nyResource, from: '2026-11-01T00:00:00Z', to: '2027-02-03T00:00:01Z' })).fieldErrors[0]).toEqual({
      path: ['to'],
      message: 'the window may span at most 93 days',
    });
    expect((await errorOf({ resourceId: nyResource, from: '2026-10-01T00:00:00Z', to: '2026-10-20T11:00:00Z' })).fieldErrors[0].message).toBe(
      'the window is entirely in the past',
    );
    const none = await errorOf(nov1Window);
    expect(none.fieldErrors.map((e: { path: string[] }) => e.path)).toEqual([['resourceId'], ['locationId'], ['formId']]);
    const two = await errorOf({ resourceId: nyResource, locationId: nyLocation, ...nov1Window });
    expect(two.fieldErrors.map((e: { path: string[] }) => e.path)).toEqual([['resourceId'], ['locationId']]);
    expect((await errorOf({ resourceId: nyLocation, ...nov1Window })).fieldErrors).toEqual([
      { path: ['resourceId'], message: 'must be a Resource ID' },
    ]);
    expect(await errorOf({ resourceId: gid('Resource', '00000000-0000-7000-8000-000000000000'), ...nov1Window })).toEqual({
      __typename: 'NotFoundError',
      entity: 'Resource',
    });
  });
});

describe('availableDates', () => {
  it('counts bookable slots and places per New York local date (fall-back day included)', async () => {
    const f = fixtures(t.app.db.sql);
    const locationId = await f.location('America/New_York');
    const resourceId = await f.resource(locationId);
    await f.slots({ locationId, resourceId, timeZone: 'America/New_York' }, [
      { start: '2026-10-31T03:30:00Z' }, // Oct 30 local: before the window
      { start: '2026-11-01T04:00:00Z' }, // Nov 1 00:00 EDT: first instant of the day
      { start: '2026-11-01T06:30:00Z', capacity: 4, held: 1 }, // 01:30 EST
      { start: '2026-11-01T16:00:00Z', booked: 1 }, // full: not counted
      { start: '2026-11-02T04:59:00Z', minutes: 1 }, // Nov 1 23:59 EST: last minute of the day
      { start: '2026-11-02T05:00:00Z' }, // Nov 2 00:00 EST
      { start: '2026-11-03T14:00:00Z', status: 'BLOCKED' },
    ]);
    const data = expectNoErrors(await t.execute(DATES, { resourceId: gid('Resource', resourceId), from: '2026-10-31', to: '2026-11-03' }));
    expect(data.availableDates).toEqual({
      __typename: 'AvailableDates',
      timeZone: 'America/New_York',
      dates: [
        { date: '2026-11-01', slotCount: 3, remaining: 5 },
        { date: '2026-11-02', slotCount: 1, remaining: 1 },
      ],
    });
  });

  it('rejects reversed, oversized and past date windows', async () => {
    const fieldErrors = async (from: string, to: string) =>
      expectNoErrors(await t.execute(DATES, { resourceId: nyResource, from, to })).availableDates.fieldErrors;
    expect(await fieldErrors('2026-11-02', '2026-11-01')).toEqual([{ path: ['to'], message: 'must not be before from' }]);
    expect(await fieldErrors('2026-11-01', '2027-02-02')).toEqual([{ path: ['to'], message: 'the window may span at most 93 days' }]);
    expect(await fieldErrors('2026-10-01', '2026-10-19')).toEqual([{ path: ['to'], message: 'the window is entirely in the past' }]);
    expect(await fieldErrors('2026-11-01', '2027-02-01')).toBeUndefined(); // exactly 93 days is fine
    const bad = await t.execute(DATES, { resourceId: nyResource, from: '2026-11-31', to: '2026-12-01' });
    expect(bad.errors?.[0]?.message).toMatch(/Date must be YYYY-MM-DD/);
  });
});
