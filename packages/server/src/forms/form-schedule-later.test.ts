import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, expectNoErrors, type TestApp } from '../../test/kit/app.js';
import { SEED_SCHEDULE, createForm } from '../../test/kit/forms.js';

/** Seed 000 MR-TS-2: more slots for an existing form, with createForm's rules and limits. */
let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
  t.app.services.forms.now = () => new Date('2054-12-01T12:00:00Z');
});
afterAll(() => t?.close());

const ADD = `mutation ($formId: ID!, $schedule: FormScheduleInput!) { addFormSchedule(formId: $formId, schedule: $schedule) {
  __typename
  ... on AddFormScheduleSuccess { data { id startAt endAt capacity status localStart } }
  ... on ValidationError { fieldErrors { path message } }
  ... on FormSlotLimitError { requested limit }
  ... on Error { code }
} }`;
const add = async (formId: string, schedule: Record<string, unknown>, token = t.adminToken) =>
  expectNoErrors(await t.execute(ADD, { formId, schedule }, { token })).addFormSchedule;
const slotCount = async (slug: string) =>
  (await t.app.db.sql.query<{ n: number }>(`SELECT count(*)::int AS n FROM slots s JOIN forms f ON f.id = s.form_id WHERE f.slug = $1`, [slug]))[0]!
    .n;

describe('addFormSchedule', () => {
  it('adds the next two weeks to a form created with two: 16 new slots at exact instants, returned in order', async () => {
    const form = await createForm(t);
    const added = await add(form.id, { ...SEED_SCHEDULE, startDate: '2055-01-18', weeks: 2, capacityPerSlot: 3 });
    expect(added.__typename).toBe('AddFormScheduleSuccess');
    expect(added.data).toHaveLength(16);
    expect(added.data[0]).toMatchObject({
      startAt: '2055-01-18T22:00:00.000Z',
      endAt: '2055-01-18T23:00:00.000Z',
      capacity: 3,
      status: 'OPEN',
      localStart: '17:00',
    });
    expect(added.data.at(-1).startAt).toBe('2055-01-28T01:00:00.000Z');
    expect(await slotCount(form.slug)).toBe(32);
    const listed = expectNoErrors(
      await t.execute(`query ($slug: String!) { form(slug: $slug) { slots { id } } }`, { slug: form.slug }, { token: t.adminToken }),
    );
    expect(listed.form.slots).toHaveLength(32);
  });

  it('times the form already has are kept, not doubled; only the new ones are returned', async () => {
    const form = await createForm(t);
    const overlapping = await add(form.id, { ...SEED_SCHEDULE, startDate: '2055-01-11', weeks: 2 });
    expect(overlapping.data).toHaveLength(8);
    expect(overlapping.data[0].startAt).toBe('2055-01-18T22:00:00.000Z');
    expect(await slotCount(form.slug)).toBe(24);
  });

  it('refuses what createForm refuses, before writing anything', async () => {
    const form = await createForm(t);
    // 16 + 11 weeks * 2 days * 4 slots = 104 > 100
    expect(await add(form.id, { ...SEED_SCHEDULE, startDate: '2055-01-18', weeks: 11 })).toMatchObject({
      __typename: 'FormSlotLimitError',
      requested: 104,
      limit: 100,
    });
    expect(await add(form.id, { ...SEED_SCHEDULE, endTime: '16:00' })).toMatchObject({
      __typename: 'ValidationError',
      fieldErrors: [{ path: ['schedule', 'endTime'] }],
    });
    expect(await add(form.id, { ...SEED_SCHEDULE, weeks: null, endDate: null })).toMatchObject({ fieldErrors: [{ path: ['schedule', 'endDate'] }] });
    expect(await slotCount(form.slug)).toBe(16);
  });

  it('skips windows that have begun, as createForm does', async () => {
    const form = await createForm(t, { schedule: { ...SEED_SCHEDULE, weeks: 1 } });
    t.app.services.forms.now = () => new Date('2055-01-13T23:30:00Z'); // Wed Jan 13, 18:30 EST
    try {
      const added = await add(form.id, { ...SEED_SCHEDULE, startDate: '2055-01-13', weeks: null, endDate: '2055-01-13' });
      expect(added.data.map((s: { startAt: string }) => s.startAt)).toEqual(['2055-01-14T00:00:00.000Z', '2055-01-14T01:00:00.000Z']);
    } finally {
      t.app.services.forms.now = () => new Date('2054-12-01T12:00:00Z');
    }
  });

  it('concurrent additions cannot pass the limit together', async () => {
    const form = await createForm(t); // 16 slots
    // Each adds 48 (6 weeks); two fit (112 > 100 only with both), so exactly one of the two is refused.
    const results = await Promise.all([
      add(form.id, { ...SEED_SCHEDULE, startDate: '2055-02-01', weeks: 6 }),
      add(form.id, { ...SEED_SCHEDULE, startDate: '2055-03-15', weeks: 6 }),
    ]);
    expect(results.map((r) => r.__typename).sort()).toEqual(['AddFormScheduleSuccess', 'FormSlotLimitError']);
    expect(await slotCount(form.slug)).toBe(64);
  });

  it('is for form editors only', async () => {
    const form = await createForm(t);
    const response = await t.execute(ADD, { formId: form.id, schedule: SEED_SCHEDULE }, { token: await t.tokenFor(['frontdesk']) });
    expect(response.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect(await slotCount(form.slug)).toBe(16);
  });
});
