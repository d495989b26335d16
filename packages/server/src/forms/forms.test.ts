import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, expectNoErrors, type TestApp } from '../../test/kit/app.js';
import { CREATE_FORM, SEED_SCHEDULE, createForm, publishForm } from '../../test/kit/forms.js';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
  t.app.services.forms.now = () => new Date('2054-12-01T12:00:00Z');
});
afterAll(() => t.close());

const starts = (form: { slots: { startAt: string }[] }) => form.slots.map((s) => s.startAt);
const create = (input: Record<string, unknown>, token = t.adminToken) =>
  t.execute(CREATE_FORM, { input: { title: 'Sheet', timeZone: 'America/New_York', ...input } }, { token });
const counts = async () => ({ forms: await t.app.db.prisma.form.count(), slots: await t.app.db.prisma.slot.count() });

describe('createForm with a schedule', () => {
  it("generates the seed's example: Mon/Wed 5-9 pm, 60 min, 2 weeks -> 16 slots at exact instants", async () => {
    const form = await createForm(t, { slug: 'soccer-coaching', maxSlotsPerRegistration: 2 });
    expect(form.slots).toHaveLength(16);
    // January in New York is EST (UTC-5): 17:00 local = 22:00Z.
    expect(starts(form).slice(0, 5)).toEqual([
      '2055-01-04T22:00:00.000Z',
      '2055-01-04T23:00:00.000Z',
      '2055-01-05T00:00:00.000Z',
      '2055-01-05T01:00:00.000Z',
      '2055-01-06T22:00:00.000Z',
    ]);
    expect(starts(form).at(-1)).toBe('2055-01-14T01:00:00.000Z'); // Wed Jan 13, 20:00 EST
    expect(form.slots[0]).toMatchObject({ localDate: '2055-01-04', localStart: '17:00', localEnd: '18:00', capacity: 1, status: 'OPEN' });
    expect(form).toMatchObject({ status: 'DRAFT', timeZone: 'America/New_York', maxSlotsPerRegistration: 2 });
  });

  it('skips windows that have begun: from Wed Jan 6 18:30 EST only 10 of the 16 remain', async () => {
    t.app.services.forms.now = () => new Date('2055-01-06T23:30:00Z');
    try {
      const form = await createForm(t);
      expect(form.slots).toHaveLength(10);
      expect(starts(form)[0]).toBe('2055-01-07T00:00:00.000Z'); // Wed 19:00 EST
    } finally {
      t.app.services.forms.now = () => new Date('2054-12-01T12:00:00Z');
    }
  });

  it('spring forward (New York, Sun 2055-03-14): 02:00 does not exist, slots keep real 60-minute lengths', async () => {
    const form = await createForm(t, {
      schedule: { daysOfWeek: [6, 7, 1], startTime: '01:00', endTime: '04:00', slotMinutes: 60, startDate: '2055-03-13', endDate: '2055-03-15' },
    });
    expect(form.slots.map((s) => [s.startAt, s.endAt])).toEqual([
      ['2055-03-13T06:00:00.000Z', '2055-03-13T07:00:00.000Z'], // Sat 01:00 EST
      ['2055-03-13T07:00:00.000Z', '2055-03-13T08:00:00.000Z'],
      ['2055-03-13T08:00:00.000Z', '2055-03-13T09:00:00.000Z'],
      ['2055-03-14T06:00:00.000Z', '2055-03-14T07:00:00.000Z'], // Sun 01:00 EST; 02:00 is skipped
      ['2055-03-14T07:00:00.000Z', '2055-03-14T08:00:00.000Z'], // Sun 03:00 EDT
      ['2055-03-15T05:00:00.000Z', '2055-03-15T06:00:00.000Z'], // Mon 01:00 EDT
      ['2055-03-15T06:00:00.000Z', '2055-03-15T07:00:00.000Z'],
      ['2055-03-15T07:00:00.000Z', '2055-03-15T08:00:00.000Z'],
    ]);
  });

  it('fall back (New York, Sun 2055-11-07): the repeated 01:00 gives one slot, at its first occurrence', async () => {
    const form = await createForm(t, {
      schedule: { daysOfWeek: [7], startTime: '00:00', endTime: '03:00', slotMinutes: 60, startDate: '2055-11-07', weeks: 1 },
    });
    expect(form.slots.map((s) => [s.startAt, s.endAt])).toEqual([
      ['2055-11-07T04:00:00.000Z', '2055-11-07T05:00:00.000Z'], // 00:00 EDT
      ['2055-11-07T05:00:00.000Z', '2055-11-07T06:00:00.000Z'], // 01:00 EDT (first occurrence)
      ['2055-11-07T07:00:00.000Z', '2055-11-07T08:00:00.000Z'], // 02:00 EST
    ]);
  });

  it('refuses more than 100 slots with the count and a suggestion to split, writing nothing', async () => {
    const before = await counts();
    const result = expectNoErrors(
      await create({ slug: 'too-many', schedule: { ...SEED_SCHEDULE, daysOfWeek: [1, 2, 3, 4, 5, 6, 7], startTime: '09:00', endTime: '17:00' } }),
    );
    expect(result.createForm).toMatchObject({
      __typename: 'FormSlotLimitError',
      code: 'FORM_SLOT_LIMIT',
      requested: 112,
      limit: 100,
      suggestedForms: 2,
    });
    expect(result.createForm.message).toMatch(/112 slots.*at most 100.*Split.*2 forms/);
    expect(await counts()).toEqual(before);
  });

  it('accepts exactly 100 slots', async () => {
    // 10 slots a day (08:00-18:00), Mon-Fri, 2 weeks = 100.
    const form = await createForm(t, { schedule: { ...SEED_SCHEDULE, daysOfWeek: [1, 2, 3, 4, 5], startTime: '08:00', endTime: '18:00' } });
    expect(form.slots).toHaveLength(100);
  });
});

describe('createForm validation', () => {
  it.each([
    ['a bad slug', { slug: 'Not A Slug!' }, ['input', 'slug']],
    ['an unknown zone', { slug: 'zone-test', timeZone: 'Mars/Olympus' }, ['input', 'timeZone']],
    ['an empty title', { slug: 'empty-title', title: '  ' }, ['input', 'title']],
    ['an end before the start', { slug: 'bad-window', schedule: { ...SEED_SCHEDULE, endTime: '16:00' } }, ['input', 'schedule', 'endTime']],
    ['both endDate and weeks', { slug: 'both-ends', schedule: { ...SEED_SCHEDULE, endDate: '2055-02-01' } }, ['input', 'schedule', 'endDate']],
    ['a day 8', { slug: 'day-eight', schedule: { ...SEED_SCHEDULE, daysOfWeek: [8] } }, ['input', 'schedule', 'daysOfWeek', '0']],
  ])('refuses %s with a ValidationError on that field and writes nothing', async (_name, input, path) => {
    const before = await counts();
    const result = expectNoErrors(await create(input));
    expect(result.createForm.__typename).toBe('ValidationError');
    expect(result.createForm.fieldErrors.map((e: { path: string[] }) => e.path)).toContainEqual(path);
    expect(await counts()).toEqual(before);
  });

  it('refuses a duplicate slug, also when two creates race for it', async () => {
    await createForm(t, { slug: 'taken' });
    const again = expectNoErrors(await create({ slug: 'taken' }));
    expect(again.createForm.fieldErrors).toEqual([{ path: ['input', 'slug'], message: 'is already used by another form' }]);

    const raced = await Promise.all([1, 2, 3].map(() => create({ slug: 'raced', schedule: SEED_SCHEDULE })));
    const types = raced.map((r) => expectNoErrors(r).createForm.__typename).sort();
    expect(types).toEqual(['Form', 'ValidationError', 'ValidationError']);
    const form = await t.app.db.prisma.form.findUniqueOrThrow({ where: { slug: 'raced' } });
    expect(await t.app.db.prisma.slot.count({ where: { formId: form.id } })).toBe(16);
  });

  it('is for managers and schedulers, not plain users or the public', async () => {
    const user = await create({ slug: 'nope' }, await t.tokenFor(['user']));
    expect(user.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    const scheduler = expectNoErrors(await create({ slug: 'by-scheduler', schedule: null }, await t.tokenFor(['scheduler'])));
    expect(scheduler.createForm.__typename).toBe('Form');
    const anonymous = await t.execute(CREATE_FORM, { input: { title: 'X', slug: 'x', timeZone: 'UTC' } });
    expect(anonymous.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
  });
});

describe('publishing, reading and single slots', () => {
  const FORM = `query ($slug: String!) { form(slug: $slug) { slug status title slots { id } } }`;

  it('shows drafts and closed forms to staff only; published forms to everyone', async () => {
    const form = await createForm(t, { slug: 'visibility' });
    expect(expectNoErrors(await t.execute(FORM, { slug: 'visibility' })).form).toBeNull();
    expect(expectNoErrors(await t.execute(FORM, { slug: 'visibility' }, { token: t.adminToken })).form).toMatchObject({ status: 'DRAFT' });
    await publishForm(t, form.id);
    expect(expectNoErrors(await t.execute(FORM, { slug: 'visibility' })).form).toMatchObject({ status: 'PUBLISHED', slots: expect.any(Array) });
    const closed = expectNoErrors(
      await t.execute(`mutation ($id: ID!) { closeForm(id: $id) { ... on Form { status closedAt } } }`, { id: form.id }, { token: t.adminToken }),
    );
    expect(closed.closeForm).toEqual({ status: 'CLOSED', closedAt: '2054-12-01T12:00:00.000Z' });
    expect(expectNoErrors(await t.execute(FORM, { slug: 'visibility' })).form).toBeNull();
    expect(expectNoErrors(await t.execute(FORM, { slug: 'visibility' }, { token: t.adminToken })).form.status).toBe('CLOSED');
    expect(expectNoErrors(await t.execute(FORM, { slug: 'no-such-form' })).form).toBeNull();
  });

  it('reads forms with their slots in a fixed number of SQL statements, however many forms', async () => {
    const statementsFor = async () => {
      t.sql.reset();
      expectNoErrors(await t.execute(`{ forms { slug location { name } slots(includePast: true) { id localStart } } }`, {}, { token: t.adminToken }));
      return t.sql.statements.filter((q) => !/api_tokens|users/.test(q)).length;
    };
    await createForm(t);
    const before = await statementsFor();
    await createForm(t);
    await createForm(t);
    expect(await statementsFor()).toBe(before);
    expect(before).toBeLessThanOrEqual(3);
  });

  it('lists forms for staff only', async () => {
    const staff = expectNoErrors(await t.execute(`{ forms { slug } }`, {}, { token: await t.tokenFor(['frontdesk']) }));
    expect(staff.forms.map((f: { slug: string }) => f.slug)).toContain('soccer-coaching');
    expect((await t.execute(`{ forms { slug } }`)).errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
  });

  const ADD = `mutation ($formId: ID!, $input: AddFormSlotInput!) {
    addFormSlot(formId: $formId, input: $input) {
      __typename
      ... on Slot { id startAt endAt timeZone status }
      ... on Error { code message }
      ... on ValidationError { fieldErrors { path message } }
      ... on FormSlotLimitError { requested }
    }
  }`;

  it('adds a slot by local date and times in the form zone, or by instants; refuses a time that does not exist', async () => {
    const form = await createForm(t, { schedule: null });
    const local = expectNoErrors(
      await t.execute(ADD, { formId: form.id, input: { date: '2055-03-14', startTime: '03:00', endTime: '04:30' } }, { token: t.adminToken }),
    );
    expect(local.addFormSlot).toMatchObject({ startAt: '2055-03-14T07:00:00.000Z', endAt: '2055-03-14T08:30:00.000Z', timeZone: 'America/New_York' });
    const instants = expectNoErrors(
      await t.execute(
        ADD,
        { formId: form.id, input: { startAt: '2055-03-20T10:00:00-04:00', endAt: '2055-03-20T11:00:00-04:00' } },
        { token: t.adminToken },
      ),
    );
    expect(instants.addFormSlot).toMatchObject({ startAt: '2055-03-20T14:00:00.000Z', status: 'OPEN' });
    const gap = expectNoErrors(
      await t.execute(ADD, { formId: form.id, input: { date: '2055-03-14', startTime: '02:30', endTime: '03:30' } }, { token: t.adminToken }),
    );
    expect(gap.addFormSlot.fieldErrors).toEqual([{ path: ['input', 'startTime'], message: expect.stringContaining('does not exist') }]);
    const duplicate = expectNoErrors(
      await t.execute(ADD, { formId: form.id, input: { date: '2055-03-14', startTime: '03:00', endTime: '04:30' } }, { token: t.adminToken }),
    );
    expect(duplicate.addFormSlot.fieldErrors[0].path).toEqual(['input', 'startAt']);
    const past = expectNoErrors(
      await t.execute(ADD, { formId: form.id, input: { date: '2054-11-01', startTime: '09:00', endTime: '10:00' } }, { token: t.adminToken }),
    );
    expect(past.addFormSlot.fieldErrors[0]).toEqual({ path: ['input', 'date'], message: 'must be in the future' });
    expect(await t.app.db.prisma.slot.count({ where: { form: { slug: form.slug } } })).toBe(2);
  });

  it('refuses the 101st slot', async () => {
    const form = await createForm(t, { schedule: { ...SEED_SCHEDULE, daysOfWeek: [1, 2, 3, 4, 5], startTime: '08:00', endTime: '18:00' } });
    const result = expectNoErrors(
      await t.execute(ADD, { formId: form.id, input: { date: '2055-02-01', startTime: '09:00', endTime: '10:00' } }, { token: t.adminToken }),
    );
    expect(result.addFormSlot).toMatchObject({ __typename: 'FormSlotLimitError', requested: 101 });
  });

  it('cancels an unbooked slot', async () => {
    const form = await createForm(t);
    const CANCEL = `mutation ($id: ID!) { cancelFormSlot(slotId: $id) { __typename ... on Slot { status } } }`;
    const result = expectNoErrors(await t.execute(CANCEL, { id: form.slots[0]!.id }, { token: t.adminToken }));
    expect(result.cancelFormSlot).toEqual({ __typename: 'Slot', status: 'CANCELLED' });
  });
});
