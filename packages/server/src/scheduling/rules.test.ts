import { encodeGlobalID } from '@pothos/plugin-relay';
import { Temporal } from 'temporal-polyfill';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, expectNoErrors, type TestApp } from '../../test/kit/app.js';
import { fixtures } from '../../test/kit/fixtures.js';

const RULE_FIELDS = `id kind daysOfWeek startTime endTime slotDurationMinutes granularityMinutes capacity validFrom validTo isClosed`;
const ERRORS = `... on Error { __typename code message }
  ... on ValidationError { fieldErrors { path message } }
  ... on RuleOverlapError { overlappingRuleId }`;
const CREATE = `mutation ($input: CreateAvailabilityRuleInput!) {
  createAvailabilityRule(input: $input) {
    __typename
    ... on AvailabilityRulePayload { rule { ${RULE_FIELDS} } slots { created removed kept } }
    ${ERRORS}
  }
}`;
const UPDATE = `mutation ($id: ID!, $input: UpdateAvailabilityRuleInput!) {
  updateAvailabilityRule(id: $id, input: $input) {
    __typename
    ... on AvailabilityRulePayload { rule { ${RULE_FIELDS} } }
    ${ERRORS}
  }
}`;
const GENERATE = `mutation ($input: GenerateSlotsInput!) {
  generateSlots(input: $input) { __typename ... on SlotGenerationReport { created unchanged removed kept } ... on Error { code } }
}`;

let t: TestApp;
let locationId: string;
let otherLocationId: string;
let personId: string;
let personGid: string;

beforeAll(async () => {
  t = await createTestApp();
  const s = t.app.services;
  locationId = (await s.locations.create({ name: 'Mumbai', timeZone: 'Asia/Kolkata' })).id;
  otherLocationId = (await s.locations.create({ name: 'Elsewhere', timeZone: 'UTC' })).id;
  personId = (await s.resources.create({ locationId, kind: 'PERSON', name: 'Dr. Rao' })).id;
  personGid = encodeGlobalID('Resource', personId);
});
afterAll(() => t.close());

const create = (input: Record<string, unknown>, token = t.adminToken) => t.execute(CREATE, { input }, { token });
const ruleCount = () => t.app.db.prisma.availabilityRule.count();

/** The Monday of the week at least two weeks ahead, so every date is in the future. */
function futureMonday(): Temporal.PlainDate {
  const d = Temporal.Now.plainDateISO('UTC').add({ days: 14 });
  return d.subtract({ days: d.dayOfWeek - 1 });
}

describe('availability rules', () => {
  it('creates, lists, updates and deletes rules; an overlap names the other rule', async () => {
    const weekly = expectNoErrors(
      await create({ resourceId: personGid, kind: 'WEEKLY', daysOfWeek: [5, 1, 2, 3, 4], startTime: '09:00', endTime: '17:00' }),
    );
    expect(weekly.createAvailabilityRule).toMatchObject({
      __typename: 'AvailabilityRulePayload',
      rule: {
        kind: 'WEEKLY',
        daysOfWeek: [1, 2, 3, 4, 5],
        startTime: '09:00',
        endTime: '17:00',
        slotDurationMinutes: 30,
        granularityMinutes: 15,
        capacity: 1,
        validFrom: null,
        isClosed: false,
      },
      slots: { created: 0, removed: 0, kept: [] },
    });
    const weeklyId = weekly.createAvailabilityRule.rule.id;

    const before = await ruleCount();
    const clash = expectNoErrors(await create({ resourceId: personGid, kind: 'WEEKLY', daysOfWeek: [1], startTime: '12:00', endTime: '13:00' }));
    expect(clash.createAvailabilityRule).toMatchObject({ __typename: 'RuleOverlapError', code: 'RULE_OVERLAP', overlappingRuleId: weeklyId });
    expect(await ruleCount()).toBe(before);

    // Same hours on another day, a location-wide rule, and a closure over the weekly hours do not clash.
    const saturday = expectNoErrors(await create({ resourceId: personGid, kind: 'WEEKLY', daysOfWeek: [6], startTime: '10:00', endTime: '12:00' }));
    expect(saturday.createAvailabilityRule.__typename).toBe('AvailabilityRulePayload');
    const lunch = expectNoErrors(
      await create({ resourceId: personGid, kind: 'WEEKLY', daysOfWeek: [1, 2, 3, 4, 5], startTime: '13:00', endTime: '14:00', isClosed: true }),
    );
    expect(lunch.createAvailabilityRule.__typename).toBe('AvailabilityRulePayload');
    const wide = expectNoErrors(
      await create({
        locationId: encodeGlobalID('Location', locationId),
        kind: 'WEEKLY',
        daysOfWeek: [1],
        startTime: '09:00',
        endTime: '10:00',
        capacity: 5,
      }),
    );
    expect(wide.createAvailabilityRule.__typename).toBe('AvailabilityRulePayload');

    const saturdayId = saturday.createAvailabilityRule.rule.id;
    const moved = expectNoErrors(
      await t.execute(UPDATE, { id: saturdayId, input: { daysOfWeek: [5], startTime: '16:00', endTime: '18:00' } }, { token: t.adminToken }),
    );
    expect(moved.updateAvailabilityRule).toMatchObject({ __typename: 'RuleOverlapError', overlappingRuleId: weeklyId });
    const widened = expectNoErrors(await t.execute(UPDATE, { id: saturdayId, input: { endTime: '13:30', capacity: 2 } }, { token: t.adminToken }));
    expect(widened.updateAvailabilityRule.rule).toMatchObject({ daysOfWeek: [6], startTime: '10:00', endTime: '13:30', capacity: 2 });

    const list = expectNoErrors(
      await t.execute(
        `query ($r: ID) { availabilityRules(resourceId: $r) { ... on AvailabilityRulesSuccess { data { id } } } }`,
        { r: personGid },
        { token: t.adminToken },
      ),
    );
    expect(list.availabilityRules.data).toHaveLength(3);
    const atLocation = expectNoErrors(
      await t.execute(
        `query ($l: ID) { availabilityRules(locationId: $l) { ... on AvailabilityRulesSuccess { data { id } } } }`,
        { l: encodeGlobalID('Location', locationId) },
        { token: t.adminToken },
      ),
    );
    expect(atLocation.availabilityRules.data).toHaveLength(4);

    const deleted = expectNoErrors(
      await t.execute(
        `mutation ($id: ID!) { deleteAvailabilityRule(id: $id) { ... on DeleteAvailabilityRulePayload { deletedRuleId } } }`,
        { id: saturdayId },
        { token: t.adminToken },
      ),
    );
    expect(deleted.deleteAvailabilityRule.deletedRuleId).toBe(saturdayId);
    expect(await ruleCount()).toBe(before + 2);
  });

  it('rejects date-range rules that overlap in dates, but not disjoint ones', async () => {
    const monday = futureMonday();
    const range = (from: Temporal.PlainDate, to: Temporal.PlainDate) =>
      create({ resourceId: personGid, kind: 'DATE_RANGE', startTime: '08:00', endTime: '10:00', validFrom: from.toString(), validTo: to.toString() });
    const first = expectNoErrors(await range(monday, monday.add({ days: 6 })));
    const overlapping = expectNoErrors(await range(monday.add({ days: 6 }), monday.add({ days: 9 })));
    expect(overlapping.createAvailabilityRule).toMatchObject({
      __typename: 'RuleOverlapError',
      overlappingRuleId: first.createAvailabilityRule.rule.id,
    });
    const later = expectNoErrors(await range(monday.add({ days: 7 }), monday.add({ days: 9 })));
    expect(later.createAvailabilityRule.__typename).toBe('AvailabilityRulePayload');
  });

  it('concurrent overlapping creates: exactly one wins, the others name it', async () => {
    const resource = await t.app.services.resources.create({ locationId, kind: 'PERSON', name: 'Dr. Race' });
    const input = { resourceId: encodeGlobalID('Resource', resource.id), kind: 'WEEKLY', daysOfWeek: [2], startTime: '09:00', endTime: '10:00' };
    const results = (await Promise.all([0, 1, 2, 3].map(() => create(input)))).map((r) => expectNoErrors(r).createAvailabilityRule);
    const winners = results.filter((r) => r.__typename === 'AvailabilityRulePayload');
    expect(winners).toHaveLength(1);
    expect(results.filter((r) => r.__typename === 'RuleOverlapError').map((r) => r.overlappingRuleId)).toEqual(
      [0, 1, 2].map(() => winners[0].rule.id),
    );
    expect(await t.app.db.prisma.availabilityRule.count({ where: { resourceId: resource.id } })).toBe(1);
  });

  it('bad input is a ValidationError naming the field, and nothing is written', async () => {
    const before = await ruleCount();
    const base = { resourceId: personGid, kind: 'WEEKLY', daysOfWeek: [7], startTime: '09:00', endTime: '12:00' };
    const cases: [Record<string, unknown>, string[]][] = [
      [{ slotDurationMinutes: 25 }, ['input', 'slotDurationMinutes']],
      [{ startTime: '12:00', endTime: '09:00' }, ['input', 'endTime']],
      [{ startTime: '9am' }, ['input', 'startTime']],
      [{ daysOfWeek: [0, 8] }, ['input', 'daysOfWeek', '0']],
      [{ daysOfWeek: [] }, ['input', 'daysOfWeek']],
      [{ kind: 'DATE_RANGE' }, ['input', 'validFrom']],
      [{ validFrom: '2030-02-01', validTo: '2030-01-01' }, ['input', 'validTo']],
      [{ capacity: 0 }, ['input', 'capacity']],
      [{ locationId: encodeGlobalID('Location', otherLocationId) }, ['input', 'resourceId']],
      [{ resourceId: null }, ['input', 'locationId']],
    ];
    for (const [change, path] of cases) {
      const result = expectNoErrors(await create({ ...base, ...change }));
      expect(result.createAvailabilityRule.__typename, JSON.stringify(change)).toBe('ValidationError');
      expect(
        result.createAvailabilityRule.fieldErrors.map((e: { path: string[] }) => e.path),
        JSON.stringify(change),
      ).toContainEqual(path);
    }
    expect(await ruleCount()).toBe(before);
  });

  it('is for admin, manager and scheduler only', async () => {
    const frontdesk = await create(
      { resourceId: personGid, kind: 'WEEKLY', daysOfWeek: [7], startTime: '09:00', endTime: '10:00' },
      await t.tokenFor(['frontdesk']),
    );
    expect(frontdesk.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    const scheduler = await create(
      { resourceId: personGid, kind: 'WEEKLY', daysOfWeek: [7], startTime: '09:00', endTime: '10:00' },
      await t.tokenFor(['scheduler']),
    );
    expect(scheduler.data?.createAvailabilityRule.__typename).toBe('AvailabilityRulePayload');
    const badId = await t.execute(
      `{ availabilityRules(resourceId: "nope") { ... on ValidationError { fieldErrors { path } } } }`,
      {},
      { token: t.adminToken },
    );
    expect(badId.data?.availabilityRules).toEqual({ fieldErrors: [{ path: ['resourceId'] }] });
    const elsewhere = await fixtures(t.app.db.sql).location('Asia/Tokyo');
    const mismatched = await t.execute(
      `query ($l: ID, $r: ID) { availabilityRules(locationId: $l, resourceId: $r) { ... on ValidationError { fieldErrors { path message } } } }`,
      { l: encodeGlobalID('Location', elsewhere), r: personGid },
      { token: t.adminToken },
    );
    expect(mismatched.data?.availabilityRules).toEqual({ fieldErrors: [{ path: ['resourceId'], message: 'the resource is not at that location' }] });
    const anonymous = await t.execute(`{ availabilityRules { __typename } }`);
    expect(anonymous.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
  });
});

describe('precedence: exceptions, date ranges and closures over weekly rules', () => {
  it('generates exactly the slots the winning rules allow', async () => {
    const s = t.app.services;
    const resource = await s.resources.create({ locationId, kind: 'PERSON', name: 'Dr. Iyer' });
    const rid = encodeGlobalID('Resource', resource.id);
    const monday = futureMonday();
    const d = (n: number) => monday.add({ days: n }).toString();
    const ok = async (input: Record<string, unknown>) => {
      const r = expectNoErrors(await create({ resourceId: rid, ...input }));
      expect(r.createAvailabilityRule.__typename, JSON.stringify(r)).toBe('AvailabilityRulePayload');
    };
    await ok({ kind: 'WEEKLY', daysOfWeek: [1, 2, 3, 4, 5], startTime: '09:00', endTime: '12:00', slotDurationMinutes: 60 });
    await ok({ kind: 'WEEKLY', daysOfWeek: [1], startTime: '11:00', endTime: '12:00', isClosed: true }); // Monday: no 11:00
    await ok({ kind: 'EXCEPTION', validFrom: d(1), validTo: d(1), startTime: '00:00', endTime: '24:00', isClosed: true }); // Tuesday closed
    await ok({ kind: 'EXCEPTION', validFrom: d(2), validTo: d(2), startTime: '13:00', endTime: '15:00', slotDurationMinutes: 60, capacity: 2 });
    await ok({ kind: 'DATE_RANGE', validFrom: d(3), validTo: d(4), startTime: '10:00', endTime: '11:00', slotDurationMinutes: 60 });
    await ok({ kind: 'EXCEPTION', validFrom: d(4), validTo: d(4), startTime: '16:00', endTime: '17:00', slotDurationMinutes: 60 }); // Friday: exception over the range

    const report = expectNoErrors(await t.execute(GENERATE, { input: { resourceId: rid, from: d(0), to: d(6) } }, { token: t.adminToken }));
    expect(report.generateSlots).toMatchObject({ __typename: 'SlotGenerationReport', created: 6, removed: 0, kept: [] });
    const week = { resourceId: resource.id, startAt: { gte: new Date(`${d(0)}T00:00:00Z`) } };
    const rows = await t.app.db.prisma.slot.findMany({ where: week, orderBy: { startAt: 'asc' } });
    // Asia/Kolkata is +05:30 all year: 09:00 local = 03:30Z.
    const z = (n: number, hhmm: string) => `${d(n)}T${hhmm}:00.000Z`;
    expect(rows.map((r) => [r.startAt.toISOString(), r.endAt.toISOString(), r.capacity, r.timeZone])).toEqual([
      [z(0, '03:30'), z(0, '04:30'), 1, 'Asia/Kolkata'],
      [z(0, '04:30'), z(0, '05:30'), 1, 'Asia/Kolkata'],
      [z(2, '07:30'), z(2, '08:30'), 2, 'Asia/Kolkata'],
      [z(2, '08:30'), z(2, '09:30'), 2, 'Asia/Kolkata'],
      [z(3, '04:30'), z(3, '05:30'), 1, 'Asia/Kolkata'],
      [z(4, '10:30'), z(4, '11:30'), 1, 'Asia/Kolkata'],
    ]);

    // A new closure removes the free slots it covers at once, and reports it.
    const closure = expectNoErrors(
      await create({ resourceId: rid, kind: 'EXCEPTION', validFrom: d(2), validTo: d(2), startTime: '14:00', endTime: '15:00', isClosed: true }),
    );
    expect(closure.createAvailabilityRule.slots).toEqual({ created: 0, removed: 1, kept: [] });
    expect(await t.app.db.prisma.slot.count({ where: week })).toBe(5);
  });
});
