import { encodeGlobalID } from '@pothos/plugin-relay';
import { Temporal } from 'temporal-polyfill';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, expectNoErrors, type TestApp } from '../../test/kit/app.js';
import { publishedDuring } from '../../test/kit/wait.js';

const GENERATE = `mutation ($input: GenerateSlotsInput!) {
  generateSlots(input: $input) {
    __typename
    ... on SlotGenerationReport { created updated unchanged removed kept }
    ... on Error { code message }
    ... on ValidationError { fieldErrors { path message } }
  }
}`;
const UPDATE = `mutation ($id: ID!, $input: UpdateAvailabilityRuleInput!) {
  updateAvailabilityRule(id: $id, input: $input) {
    __typename
    ... on AvailabilityRulePayload { slots { created updated unchanged removed kept } }
  }
}`;

let t: TestApp;
let locationId: string;

beforeAll(async () => {
  t = await createTestApp({ config: { MAX_SLOTS_PER_GENERATION: '200', SLOT_HORIZON_DAYS: '14' } });
  locationId = (await t.app.services.locations.create({ name: 'Kolkata', timeZone: 'Asia/Kolkata' })).id;
});
afterAll(() => t.close());

/** Monday of the week two weeks ahead; Asia/Kolkata (+05:30, no DST) makes instants exact. */
const monday = (() => {
  const d = Temporal.Now.plainDateISO('UTC').add({ days: 14 });
  return d.subtract({ days: d.dayOfWeek - 1 });
})();
const day = (n: number) => monday.add({ days: n }).toString();

/** A person with Mon-Fri 09:00-12:00 rules of 30-minute slots (6 a day). */
async function personWithRule(name: string, exclusive = false) {
  const resource = await t.app.services.resources.create({ locationId, kind: exclusive ? 'ROOM' : 'PERSON', name, exclusive });
  const { rule } = await t.app.services.rules.create({
    resourceId: resource.id,
    kind: 'WEEKLY',
    daysOfWeek: [1, 2, 3, 4, 5],
    startTime: '09:00',
    endTime: '12:00',
    capacity: 3,
  });
  return { id: resource.id, gid: encodeGlobalID('Resource', resource.id), ruleGid: encodeGlobalID('AvailabilityRule', rule.id) };
}

const generate = (input: Record<string, unknown>) => t.execute(GENERATE, { input }, { token: t.adminToken });
const slotCount = (resourceId?: string) => t.app.db.prisma.slot.count({ where: resourceId ? { resourceId } : {} });

describe('generateSlots', () => {
  it('is idempotent: a second run creates nothing', async () => {
    const p = await personWithRule('Idem');
    const first = expectNoErrors(await generate({ resourceId: p.gid, from: day(0), to: day(6) }));
    expect(first.generateSlots).toEqual({ __typename: 'SlotGenerationReport', created: 30, updated: 0, unchanged: 0, removed: 0, kept: [] });
    const second = expectNoErrors(await generate({ resourceId: p.gid, from: day(0), to: day(6) }));
    expect(second.generateSlots).toMatchObject({ created: 0, unchanged: 30, removed: 0 });
    expect(await slotCount(p.id)).toBe(30);
    const first2 = await t.app.db.prisma.slot.findFirstOrThrow({ where: { resourceId: p.id }, orderBy: { startAt: 'asc' } });
    expect(first2).toMatchObject({
      startAt: new Date(`${day(0)}T03:30:00Z`),
      endAt: new Date(`${day(0)}T04:00:00Z`),
      capacity: 3,
      timeZone: 'Asia/Kolkata',
      status: 'OPEN',
    });
  });

  it('two concurrent runs create each slot once', async () => {
    const p = await personWithRule('Race');
    const runs = await Promise.all([0, 1, 2].map(() => generate({ resourceId: p.gid, from: day(0), to: day(6) })));
    const created = runs.map((r) => expectNoErrors(r).generateSlots.created as number);
    expect(created.reduce((a, b) => a + b, 0)).toBe(30);
    expect(await slotCount(p.id)).toBe(30);
  });

  it('exclusive resources get capacity 1 whatever the rule says', async () => {
    const room = await personWithRule('Room', true);
    expectNoErrors(await generate({ resourceId: room.gid, from: day(0), to: day(0) }));
    const capacities = await t.app.db.prisma.slot.findMany({ where: { resourceId: room.id }, select: { capacity: true }, distinct: ['capacity'] });
    expect(capacities).toEqual([{ capacity: 1 }]);
  });

  it('changing a rule regenerates free future slots and reports the booked or held ones it kept', async () => {
    const p = await personWithRule('Change');
    expectNoErrors(await generate({ resourceId: p.gid, from: day(0), to: day(4) }));
    const at = (hhmm: string) => new Date(`${day(0)}T${hhmm}:00Z`);
    const booked = await t.app.db.prisma.slot.findFirstOrThrow({ where: { resourceId: p.id, startAt: at('04:00') } }); // Mon 09:30
    const held = await t.app.db.prisma.slot.findFirstOrThrow({ where: { resourceId: p.id, startAt: at('04:30') } }); // Mon 10:00
    await t.app.db.sql.query(`UPDATE slots SET booked = 1 WHERE id = $1`, [booked.id]);
    await t.app.db.sql.query(`UPDATE slots SET held = 2 WHERE id = $1`, [held.id]);

    // 60-minute slots: starts 09:00, 10:00, 11:00. Monday: 09:00 and 11:00 follow, 09:30 (booked,
    // no longer a start) and 10:00 (held, would grow to 60 min) are kept, 10:30 and 11:30 go.
    const changed = expectNoErrors(await t.execute(UPDATE, { id: p.ruleGid, input: { slotDurationMinutes: 60 } }, { token: t.adminToken }));
    expect(changed.updateAvailabilityRule.slots).toEqual({
      created: 0,
      updated: 2 + 4 * 3,
      unchanged: 0,
      removed: 2 + 4 * 3,
      kept: [encodeGlobalID('Slot', booked.id), encodeGlobalID('Slot', held.id)],
    });
    expect(await t.app.db.prisma.slot.findUniqueOrThrow({ where: { id: booked.id } })).toMatchObject({
      booked: 1,
      endAt: booked.endAt,
      version: booked.version + 1,
    }); // only the SQL above changed it
    expect(await t.app.db.prisma.slot.findUniqueOrThrow({ where: { id: held.id } })).toMatchObject({ held: 2, endAt: held.endAt, capacity: 3 });
    const monday = await t.app.db.prisma.slot.findMany({ where: { resourceId: p.id, startAt: { lt: at('12:00') } }, orderBy: { startAt: 'asc' } });
    expect(monday.map((s) => [s.startAt.toISOString().slice(11, 16), (s.endAt.getTime() - s.startAt.getTime()) / 60_000])).toEqual([
      ['03:30', 60],
      ['04:00', 30],
      ['04:30', 30],
      ['05:30', 60],
    ]);

    // Capacity 1 no longer fits the held slot (2 held): it is kept; free ones follow.
    const shrunk = expectNoErrors(await t.execute(UPDATE, { id: p.ruleGid, input: { capacity: 1 } }, { token: t.adminToken }));
    expect(shrunk.updateAvailabilityRule.slots).toMatchObject({
      updated: 2 + 4 * 3,
      removed: 0,
      kept: [encodeGlobalID('Slot', booked.id), encodeGlobalID('Slot', held.id)],
    });

    // Deleting the rule removes every free slot; the busy ones stay.
    const deleted = expectNoErrors(
      await t.execute(
        `mutation ($id: ID!) { deleteAvailabilityRule(id: $id) { ... on DeleteAvailabilityRulePayload { slots { removed kept } } } }`,
        { id: p.ruleGid },
        { token: t.adminToken },
      ),
    );
    expect(deleted.deleteAvailabilityRule.slots).toEqual({
      removed: 2 + 4 * 3,
      kept: [encodeGlobalID('Slot', booked.id), encodeGlobalID('Slot', held.id)],
    });
    expect(await slotCount(p.id)).toBe(2);
  });

  it('a rule change re-plans the dates already generated, not the weeks between two generated windows', async () => {
    const p = await personWithRule('Gaps');
    expectNoErrors(await generate({ resourceId: p.gid, from: day(0), to: day(1) }));
    expectNoErrors(await generate({ resourceId: p.gid, from: day(28), to: day(29) }));
    expect(await slotCount(p.id)).toBe(24);
    // Capacity 3 -> 2: the 24 slots change, and nothing appears in the four weeks between.
    const changed = expectNoErrors(await t.execute(UPDATE, { id: p.ruleGid, input: { capacity: 2 } }, { token: t.adminToken }));
    expect(changed.updateAvailabilityRule.slots).toMatchObject({ created: 0, updated: 24 });
    expect(await slotCount(p.id)).toBe(24);
  });

  it('skips the past: a window starting today creates no slot that has begun', async () => {
    const p = await t.app.services.resources.create({ locationId, kind: 'PERSON', name: 'Every day' });
    await t.app.services.rules.create({
      resourceId: p.id,
      kind: 'WEEKLY',
      daysOfWeek: [1, 2, 3, 4, 5, 6, 7],
      startTime: '00:00',
      endTime: '24:00',
      slotDurationMinutes: 60,
    });
    const yesterday = Temporal.Now.plainDateISO('Asia/Kolkata').subtract({ days: 1 }).toString();
    const today = Temporal.Now.plainDateISO('Asia/Kolkata').toString();
    const before = new Date();
    const report = expectNoErrors(await generate({ resourceId: encodeGlobalID('Resource', p.id), from: yesterday, to: today }));
    const rows = await t.app.db.prisma.slot.findMany({ where: { resourceId: p.id }, orderBy: { startAt: 'asc' } });
    expect(report.generateSlots.created).toBe(rows.length);
    expect(rows.length).toBeLessThanOrEqual(24);
    expect(rows.every((s) => s.startAt >= before)).toBe(true);
  });
});

describe('daylight saving through the API', () => {
  it('America/New_York: the next spring-forward and fall-back days give the exact instants', async () => {
    const ny = await t.app.services.locations.create({ name: 'New York', timeZone: 'America/New_York' });
    const r = await t.app.services.resources.create({ locationId: ny.id, kind: 'PERSON', name: 'Night owl' });
    await t.app.services.rules.create({
      resourceId: r.id,
      kind: 'WEEKLY',
      daysOfWeek: [7],
      startTime: '00:00',
      endTime: '04:00',
      slotDurationMinutes: 60,
      granularityMinutes: 60,
    });
    // The next two transitions (US rules: Sundays at 02:00), whatever today's date is.
    const tomorrow = Temporal.Now.zonedDateTimeISO('America/New_York').add({ days: 1 }).startOfDay();
    const first = tomorrow.getTimeZoneTransition('next')!;
    const second = first.getTimeZoneTransition('next')!;
    for (const transition of [first, second]) {
      const date = transition.toPlainDate().toString();
      const springForward = transition.offset === '-04:00';
      const report = expectNoErrors(await generate({ resourceId: encodeGlobalID('Resource', r.id), from: date, to: date }));
      const rows = await t.app.db.prisma.slot.findMany({
        where: { resourceId: r.id, startAt: { gte: new Date(`${date}T00:00:00Z`) } },
        orderBy: { startAt: 'asc' },
        take: 4,
      });
      const z = (hh: string) => `${date}T${hh}:00:00.000Z`;
      // Spring: 00:00 and 01:00 EST, no 02:00, 03:00 EDT. Fall: 00:00 and 01:00 EDT (first 01:00), 02:00 and 03:00 EST.
      const expected = springForward ? [z('05'), z('06'), z('07')] : [z('04'), z('05'), z('07'), z('08')];
      expect(report.generateSlots.created, date).toBe(expected.length);
      expect(rows.map((x) => x.startAt.toISOString()).slice(0, expected.length)).toEqual(expected);
      expect(rows.every((x) => x.endAt.getTime() - x.startAt.getTime() === 3_600_000)).toBe(true);
    }
  });
});

describe('location-wide slots and events', () => {
  it('location rules give location-level slots; changes are published after commit, refusals publish nothing', async () => {
    const place = await t.app.services.locations.create({ name: 'Hall', timeZone: 'Asia/Kolkata' });
    await t.app.services.rules.create({
      locationId: place.id,
      kind: 'WEEKLY',
      daysOfWeek: [3],
      startTime: '18:00',
      endTime: '20:00',
      slotDurationMinutes: 120,
      granularityMinutes: 60,
      capacity: 40,
    });
    const { result: rows, changes: received } = await publishedDuring(t.app.pubsub, async () => {
      const refused = expectNoErrors(await generate({ locationId: encodeGlobalID('Location', place.id), from: day(0), to: day(99) }));
      expect(refused.generateSlots.__typename).toBe('ValidationError');
      const report = expectNoErrors(await generate({ locationId: encodeGlobalID('Location', place.id), from: day(0), to: day(13) }));
      expect(report.generateSlots).toMatchObject({ created: 2 });
      return t.app.db.prisma.slot.findMany({ where: { locationId: place.id }, orderBy: { startAt: 'asc' } });
    });
    expect(rows.map((r) => [r.resourceId, r.startAt.toISOString(), r.capacity])).toEqual([
      [null, `${day(2)}T12:30:00.000Z`, 40],
      [null, `${day(9)}T12:30:00.000Z`, 40],
    ]);
    expect(received.filter((c) => c.locationId === place.id)).toEqual(
      rows.map((r) => expect.objectContaining({ slotId: r.id, reason: 'GENERATED', resourceId: null })),
    );
  });
});

describe('concurrent location-wide work', () => {
  it('location generations and a location-wide closure run side by side without deadlock', async () => {
    const place = await t.app.services.locations.create({ name: 'Busy', timeZone: 'Asia/Kolkata' });
    for (const name of ['A', 'B', 'C']) {
      const r = await t.app.services.resources.create({ locationId: place.id, kind: 'PERSON', name });
      await t.app.services.rules.create({
        resourceId: r.id,
        kind: 'WEEKLY',
        daysOfWeek: [1],
        startTime: '09:00',
        endTime: '11:00',
        slotDurationMinutes: 60,
      });
    }
    const loc = encodeGlobalID('Location', place.id);
    expectNoErrors(await generate({ locationId: loc, from: day(0), to: day(6) }));
    const results = await Promise.all([
      generate({ locationId: loc, from: day(0), to: day(6) }),
      t.app.services.rules.create({
        locationId: place.id,
        kind: 'EXCEPTION',
        validFrom: day(0),
        validTo: day(0),
        startTime: '10:00',
        endTime: '11:00',
        isClosed: true,
      }),
      generate({ locationId: loc, from: day(0), to: day(6) }),
    ]);
    for (const r of [results[0], results[2]] as { errors?: unknown[]; data?: any }[]) expect(r.errors).toBeUndefined();
    // Whatever the order, the closure wins in the end: one 09:00 slot per person remains.
    expect(await t.app.db.prisma.slot.count({ where: { locationId: place.id } })).toBe(3);
  });
});

describe('generateSlots limits and bad input', () => {
  const expectRefused = async (input: Record<string, unknown>, path: string[], message: RegExp) => {
    const before = await slotCount();
    const result = expectNoErrors(await generate(input));
    expect(result.generateSlots).toMatchObject({ __typename: 'ValidationError', code: 'VALIDATION_FAILED' });
    expect(result.generateSlots.fieldErrors).toContainEqual({ path, message: expect.stringMatching(message) });
    expect(await slotCount()).toBe(before);
  };

  it('refuses more than 93 days, more than MAX_SLOTS_PER_GENERATION, reversed and past windows', async () => {
    const p = await personWithRule('Limits');
    await expectRefused({ resourceId: p.gid, from: day(0), to: monday.add({ days: 93 }).toString() }, ['input', 'to'], /at most 93 days/);
    // 93 days of 30 slots a week is about 390 slots, over the configured 200.
    await expectRefused(
      { resourceId: p.gid, from: day(0), to: monday.add({ days: 92 }).toString() },
      ['input', 'to'],
      /more than the maximum of 200/,
    );
    await expectRefused({ resourceId: p.gid, from: day(6), to: day(0) }, ['input', 'to'], /before from/);
    await expectRefused({ resourceId: p.gid, from: '2020-01-01', to: '2020-01-31' }, ['input', 'to'], /in the past/);
    await expectRefused({ resourceId: 'nonsense', from: day(0), to: day(6) }, ['input', 'resourceId'], /Resource ID/);
    await expectRefused({ from: day(0), to: day(6) }, ['input', 'locationId'], /locationId or a resourceId/);
  });

  it('rejects malformed dates before anything runs and is closed to frontdesk', async () => {
    const bad = await generate({ locationId: encodeGlobalID('Location', locationId), from: '2026-02-30', to: day(0) });
    expect(bad.errors?.[0]?.message).toMatch(/Date must be YYYY-MM-DD/);
    const frontdesk = await t.execute(
      GENERATE,
      { input: { locationId: encodeGlobalID('Location', locationId), from: day(0), to: day(0) } },
      { token: await t.tokenFor(['frontdesk']) },
    );
    expect(frontdesk.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  });
});

describe('rolling horizon', () => {
  it('keeps SLOT_HORIZON_DAYS filled; concurrent runs create each slot once', async () => {
    const where = await t.app.services.locations.create({ name: 'Horizon', timeZone: 'Asia/Kathmandu' });
    const r = await t.app.services.resources.create({ locationId: where.id, kind: 'PERSON', name: 'Far' });
    await t.app.services.rules.create({
      resourceId: r.id,
      kind: 'WEEKLY',
      daysOfWeek: [1, 2, 3, 4, 5, 6, 7],
      startTime: '09:00',
      endTime: '10:00',
      slotDurationMinutes: 60,
    });
    const before = await slotCount();
    const runs = await Promise.all([t.app.services.generation.fillHorizon(), t.app.services.generation.fillHorizon()]);
    const created = runs[0].created + runs[1].created;
    expect(await slotCount()).toBe(before + created);
    // Today's 09:00 in Kathmandu may have passed: 14 or 15 slots (today .. today + 14 days).
    const mine = await slotCount(r.id);
    expect(mine === 14 || mine === 15).toBe(true);
    const again = await t.app.services.generation.fillHorizon();
    expect(again.created).toBe(0);
  });
});
