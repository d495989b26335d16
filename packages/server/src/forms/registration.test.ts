import { decodeGlobalID } from '@pothos/plugin-relay';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, expectNoErrors, type TestApp } from '../../test/kit/app.js';
import { REGISTER, SEED_SCHEDULE, createForm, publishedForm, rowCounts } from '../../test/kit/forms.js';
import { publishedDuring } from '../../test/kit/wait.js';
import { pii } from '../shared/pii.js';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
  // The seed's dates (January 2055) are in the future for this clock.
  t.app.services.forms.now = () => new Date('2054-12-01T12:00:00Z');
  t.app.services.registrations.now = () => new Date('2054-12-01T12:00:00Z');
});
afterAll(() => t.close());

const register = (input: Record<string, unknown>) => t.execute(REGISTER, { input: { name: 'Ada', email: 'ada@example.com', ...input } });

describe('register', () => {
  it('books the chosen slots, stores the registration with its slots and encrypted contact data', async () => {
    const form = await publishedForm(t, { slug: 'coaching', maxSlotsPerRegistration: 2 });
    const chosen = [form.slots[4]!.id, form.slots[0]!.id];
    const result = expectNoErrors(
      await register({ formSlug: 'coaching', phone: '+1 212 555 0100', answers: [{ question: 'Age group', answer: 'U12' }], slotIds: chosen }),
    );
    expect(result.register).toMatchObject({
      __typename: 'Registration',
      slotLabels: ['Mon Jan 4, 5:00–6:00 PM', 'Wed Jan 6, 5:00–6:00 PM'],
      slots: [
        { id: form.slots[0]!.id, status: 'FULL', booked: 1 },
        { id: form.slots[4]!.id, status: 'FULL', booked: 1 },
      ],
      form: { slug: 'coaching' },
    });
    const stored = await t.app.db.prisma.registration.findFirstOrThrow({ include: { slots: { include: { booking: true } }, form: true } });
    expect(stored.email).not.toContain('ada@');
    expect(pii().decrypt(stored.email)).toBe('ada@example.com');
    expect(stored.emailHash).toBe(pii().emailHash('ADA@example.com'));
    expect(pii().decrypt(stored.phone!)).toBe('+1 212 555 0100');
    expect(JSON.stringify(stored.answers)).not.toContain('U12');
    expect(pii().unseal(stored.answers)).toEqual({ 'Age group': 'U12' });
    expect(stored.name).not.toBe('Ada');
    expect(pii().decrypt(stored.name)).toBe('Ada');
    expect(stored.form.timeZone).toBe('America/New_York');
    expect(stored.slots.map((s) => s.booking.status)).toEqual(['CONFIRMED', 'CONFIRMED']);
    expect(await rowCounts(t)).toMatchObject({ registrations: 1, registration_slots: 2, bookings: 2, booked: 2 });

    const staff = expectNoErrors(
      await t.execute(
        `query ($id: ID!) { node(id: $id) { ... on Registration { name answers { question answer } } } }`,
        { id: result.register.id },
        { token: t.adminToken },
      ),
    );
    expect(staff.node).toEqual({ name: 'Ada', answers: [{ question: 'Age group', answer: 'U12' }] });
  });

  it('refuses bad input with a typed error and writes nothing', async () => {
    const form = await publishedForm(t, { maxSlotsPerRegistration: 2 });
    const other = await publishedForm(t);
    const draft = await createForm(t);
    const closed = await publishedForm(t);
    expectNoErrors(await t.execute(`mutation ($id: ID!) { closeForm(id: $id) { __typename } }`, { id: closed.id }, { token: t.adminToken }));
    const ids = form.slots.map((s) => s.id);
    const before = await rowCounts(t);

    const cases: [string, Record<string, unknown>, Record<string, unknown>][] = [
      [
        'no slot',
        { formSlug: form.slug, slotIds: [] },
        { __typename: 'ValidationError', fieldErrors: [{ path: ['input', 'slotIds'], message: 'choose at least one slot' }] },
      ],
      [
        'over the max',
        { formSlug: form.slug, slotIds: ids.slice(0, 3) },
        { __typename: 'ValidationError', fieldErrors: [{ path: ['input', 'slotIds'], message: 'choose at most 2 slots' }] },
      ],
      [
        'a bad email',
        { formSlug: form.slug, email: 'not-an-email', slotIds: ids.slice(0, 1) },
        { __typename: 'ValidationError', fieldErrors: [{ path: ['input', 'email'], message: expect.any(String) }] },
      ],
      [
        'an empty name',
        { formSlug: form.slug, name: ' ', slotIds: ids.slice(0, 1) },
        { __typename: 'ValidationError', fieldErrors: [{ path: ['input', 'name'], message: expect.any(String) }] },
      ],
      ['a slot twice', { formSlug: form.slug, slotIds: [ids[0], ids[0]] }, { __typename: 'ValidationError' }],
      ['an unknown slug', { formSlug: 'no-such-form', slotIds: ids.slice(0, 1) }, { __typename: 'NotFoundError', code: 'NOT_FOUND' }],
      [
        'a slug no form can have (a NUL byte)',
        { formSlug: 'no\u0000form', slotIds: ids.slice(0, 1) },
        { __typename: 'NotFoundError', code: 'NOT_FOUND' },
      ],
      // A draft is staff's: the public is told what an unknown slug tells it (below, staff see FormNotOpenError).
      ['a draft form', { formSlug: draft.slug, slotIds: [draft.slots[0]!.id] }, { __typename: 'NotFoundError', code: 'NOT_FOUND' }],
      ['a closed form', { formSlug: closed.slug, slotIds: [closed.slots[0]!.id] }, { __typename: 'FormNotOpenError', status: 'CLOSED' }],
      [
        "another form's slot",
        { formSlug: form.slug, slotIds: [ids[0], other.slots[1]!.id] },
        { __typename: 'FormSlotNotFoundError', slotIds: [other.slots[1]!.id] },
      ],
      [
        'a malformed slot id',
        { formSlug: form.slug, slotIds: ['bogus'] },
        { __typename: 'ValidationError', fieldErrors: [{ path: ['input', 'slotIds', '0'], message: expect.any(String) }] },
      ],
    ];
    for (const [name, input, expected] of cases) {
      const result = expectNoErrors(await register(input));
      expect(result.register, name).toMatchObject(expected);
    }
    expect(await rowCounts(t)).toEqual(before);
  });

  it('answers a draft to the public exactly as an unknown slug, and tells staff it is not open', async () => {
    const draft = await createForm(t);
    const slotIds = [draft.slots[0]!.id];
    const full = `mutation ($input: RegisterInput!) { register(input: $input) { __typename ... on Error { code message } ... on NotFoundError { code message } } }`;
    const asPublic = await t.execute(full, { input: { name: 'Ada', email: 'ada@example.com', formSlug: draft.slug, slotIds } });
    const unknown = await t.execute(full, { input: { name: 'Ada', email: 'ada@example.com', formSlug: 'never-made', slotIds } });
    expect(JSON.stringify(asPublic).replaceAll(draft.slug, 'SLUG')).toBe(JSON.stringify(unknown).replaceAll('never-made', 'SLUG'));
    const asStaff = await t.execute(
      REGISTER,
      { input: { name: 'Ada', email: 'ada@example.com', formSlug: draft.slug, slotIds } },
      { token: t.adminToken },
    );
    expect(expectNoErrors(asStaff).register).toMatchObject({ __typename: 'FormNotOpenError', status: 'DRAFT' });
  });

  it('is all or nothing: one full slot among three books none and names the full one', async () => {
    const form = await publishedForm(t);
    const [a, b, c] = form.slots.map((s) => s.id);
    expectNoErrors(await register({ formSlug: form.slug, email: 'someone.else@example.com', slotIds: [b] }));
    const before = await rowCounts(t);
    const result = expectNoErrors(await register({ formSlug: form.slug, slotIds: [a, b, c] }));
    expect(result.register).toMatchObject({ __typename: 'SlotsUnavailableError', unavailable: [{ slotId: b, reason: 'FULL' }] });
    expect(await rowCounts(t)).toEqual(before);
  });

  it('20 concurrent registrations for the last seat: exactly one succeeds, the rest are told which slot filled', async () => {
    const form = await publishedForm(t, { schedule: { ...SEED_SCHEDULE, capacityPerSlot: 3 } });
    const slotId = form.slots[2]!.id;
    for (const name of ['First', 'Second'])
      expectNoErrors(await register({ formSlug: form.slug, name, email: `${name}@example.com`, slotIds: [slotId] }));
    const before = await rowCounts(t);

    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) => register({ formSlug: form.slug, name: `Racer ${i}`, email: `racer${i}@example.com`, slotIds: [slotId] })),
    );
    const typenames = results.map((r) => expectNoErrors(r).register.__typename);
    expect(typenames.filter((n) => n === 'Registration')).toHaveLength(1);
    const losers = results.map((r) => r.data!.register).filter((r) => r.__typename !== 'Registration');
    expect(losers).toHaveLength(19);
    for (const loser of losers) expect(loser).toMatchObject({ __typename: 'SlotsUnavailableError', unavailable: [{ slotId, reason: 'FULL' }] });

    const after = await rowCounts(t);
    expect(after).toEqual({
      registrations: before.registrations + 1,
      registration_slots: before.registration_slots + 1,
      bookings: before.bookings + 1,
      booked: before.booked + 1,
    });
    const slot = await t.app.db.prisma.slot.findFirstOrThrow({ where: { form: { slug: form.slug } }, orderBy: { startAt: 'asc' }, skip: 2 });
    expect(slot).toMatchObject({ booked: 3, status: 'FULL' });
  });

  it('refuses to cancel a booked slot (FormSlotBookedError) and leaves it as it was', async () => {
    const form = await publishedForm(t);
    expectNoErrors(await register({ formSlug: form.slug, slotIds: [form.slots[0]!.id] }));
    const result = expectNoErrors(
      await t.execute(
        `mutation ($id: ID!) { cancelFormSlot(slotId: $id) { __typename ... on FormSlotBookedError { code slotId booked } } }`,
        { id: form.slots[0]!.id },
        { token: t.adminToken },
      ),
    );
    expect(result.cancelFormSlot).toEqual({ __typename: 'FormSlotBookedError', code: 'FORM_SLOT_BOOKED', slotId: form.slots[0]!.id, booked: 1 });
    expect((await t.app.db.prisma.slot.findFirstOrThrow({ where: { form: { slug: form.slug } }, orderBy: { startAt: 'asc' } })).status).toBe('FULL');
  });
});

describe('slot events', () => {
  it('publishes GENERATED for new form slots and CONFIRMED after a registration commits; nothing for a failed one', async () => {
    const { result: form, changes: seen } = await publishedDuring(t.app.pubsub, async () => {
      const form = await publishedForm(t, { schedule: { ...SEED_SCHEDULE, weeks: 1 } });
      const [a, b] = form.slots.map((s) => s.id);
      expectNoErrors(await register({ formSlug: form.slug, slotIds: [a] }));
      expectNoErrors(await register({ formSlug: form.slug, slotIds: [a, b] })); // a is full: nothing booked
      return form;
    });
    const formId = (await t.app.db.prisma.form.findUniqueOrThrow({ where: { slug: form.slug } })).id;
    const a = form.slots[0]!.id;
    const mine = seen.filter((e) => e.formId === formId);
    expect(mine.filter((e) => e.reason === 'GENERATED')).toHaveLength(8);
    expect(mine.filter((e) => e.reason === 'CONFIRMED').map((e) => e.slotId)).toEqual([decodeGlobalID(a).id]);
  });
});

describe('formAnalytics', () => {
  const ANALYTICS = `query ($id: ID!) {
    formAnalytics(formId: $id) {
      __typename
      ... on FormAnalytics { totalSlots bookedSlots fullSlots cancelledSlots capacity seatsBooked fillRate registrations timeZone
        days { date totalSlots bookedSlots seatsBooked capacity fillRate } }
    }
  }`;

  it('counts slots, bookings, fill rate and registrations per local day in the form zone', async () => {
    // Capacity 2; the 20:00 EST slots start at 01:00Z the next UTC day, but count on their local date.
    const form = await publishedForm(t, { schedule: { ...SEED_SCHEDULE, capacityPerSlot: 2 } });
    const [s0, , , s3, s4] = form.slots.map((s) => s.id);
    expectNoErrors(await register({ formSlug: form.slug, slotIds: [s0, s3] }));
    expectNoErrors(await register({ formSlug: form.slug, email: 'bo@example.com', slotIds: [s3] }));
    expectNoErrors(await register({ formSlug: form.slug, email: 'cy@example.com', slotIds: [s4] }));
    expectNoErrors(
      await t.execute(`mutation ($id: ID!) { cancelFormSlot(slotId: $id) { __typename } }`, { id: form.slots[15]!.id }, { token: t.adminToken }),
    );

    const result = expectNoErrors(await t.execute(ANALYTICS, { id: form.id }, { token: t.adminToken }));
    expect(result.formAnalytics).toEqual({
      __typename: 'FormAnalytics',
      totalSlots: 15,
      bookedSlots: 3,
      fullSlots: 1,
      cancelledSlots: 1,
      capacity: 30,
      seatsBooked: 4,
      fillRate: 4 / 30,
      registrations: 3,
      timeZone: 'America/New_York',
      days: [
        { date: '2055-01-04', totalSlots: 4, bookedSlots: 2, seatsBooked: 3, capacity: 8, fillRate: 3 / 8 },
        { date: '2055-01-06', totalSlots: 4, bookedSlots: 1, seatsBooked: 1, capacity: 8, fillRate: 1 / 8 },
        { date: '2055-01-11', totalSlots: 4, bookedSlots: 0, seatsBooked: 0, capacity: 8, fillRate: 0 },
        { date: '2055-01-13', totalSlots: 3, bookedSlots: 0, seatsBooked: 0, capacity: 6, fillRate: 0 },
      ],
    });
    const anonymous = await t.execute(ANALYTICS, { id: form.id });
    expect(anonymous.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
  });
});
