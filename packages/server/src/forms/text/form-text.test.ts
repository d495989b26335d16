import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, expectNoErrors, type TestApp } from '../../../test/kit/app.js';
import { REGISTER, publishForm } from '../../../test/kit/forms.js';
import { startServer, type RunningServer } from '../../server.js';
import { newFormPageRoute } from './new-form-route.js';

const SEED = '1-1 soccer coaching, 5-9pm, Mon/Wed, 1h slots, next 2 weeks, Eastern';
const FROM_TEXT = `mutation ($input: CreateFormFromTextInput!) {
  createFormFromText(input: $input) {
    __typename
    ... on FormFromText {
      dryRun extractor fallbackReason title timeZone timeZoneSource maxSlotsPerRegistration explanation slotCount
      schedule { daysOfWeek startTime endTime slotMinutes capacityPerSlot startDate endDate weeks }
      understood { phrase meaning }
      slots { startAt endAt localStart localEnd capacity }
      form { id slug status timeZone slots { startAt endAt } }
    }
    ... on FormTextNotUnderstoodError { code message unparsed missing conflicts }
    ... on FormSlotLimitError { code message requested limit suggestedForms }
    ... on ValidationError { code fieldErrors { path message } }
  }
}`;

let t: TestApp;
let server: RunningServer;
let scheduler: string;
beforeAll(async () => {
  t = await createTestApp({ config: { DEFAULT_TIME_ZONE: 'Europe/Paris' } });
  // Wed 2054-12-02, 10:00 in New York.
  t.app.services.forms.now = () => new Date('2054-12-02T15:00:00Z');
  t.app.services.registrations.now = () => new Date('2054-12-02T15:00:00Z');
  scheduler = await t.tokenFor(['scheduler']);
  server = await startServer(t.app, { port: 0, host: '127.0.0.1', routes: [newFormPageRoute(t.app)] });
});
afterAll(async () => {
  await server.stop();
  await t.close();
});

const fromText = async (input: Record<string, unknown>, token = scheduler) =>
  expectNoErrors(await t.execute(FROM_TEXT, { input }, { token })).createFormFromText;
const counts = async () => ({ forms: await t.app.db.prisma.form.count(), slots: await t.app.db.prisma.slot.count() });

describe('createFormFromText', () => {
  it("previews the seed's sentence (nothing written), then creates the draft with the same 16 slots in New York", async () => {
    const before = await counts();
    const preview = await fromText({ text: SEED, dryRun: true });
    expect(await counts()).toEqual(before);
    expect(preview).toMatchObject({
      __typename: 'FormFromText',
      dryRun: true,
      extractor: 'OFFLINE',
      fallbackReason: null,
      title: '1-1 soccer coaching',
      timeZone: 'America/New_York',
      timeZoneSource: 'stated as "Eastern"',
      slotCount: 16,
      form: null,
      schedule: {
        daysOfWeek: [1, 3],
        startTime: '17:00',
        endTime: '21:00',
        slotMinutes: 60,
        capacityPerSlot: 1,
        startDate: '2054-12-03',
        endDate: null,
        weeks: 2,
      },
    });
    expect(preview.slots[0]).toEqual({
      startAt: '2054-12-07T22:00:00.000Z',
      endAt: '2054-12-07T23:00:00.000Z',
      localStart: '2054-12-07T17:00:00-05:00',
      localEnd: '2054-12-07T18:00:00-05:00',
      capacity: 1,
    });
    expect(preview.explanation).toContain('America/New_York (stated as "Eastern")');
    expect(preview.explanation).toContain('16 slot(s)');

    const created = await fromText({ text: SEED });
    expect(created.form).toMatchObject({ slug: '1-1-soccer-coaching', status: 'DRAFT', timeZone: 'America/New_York' });
    expect(created.form.slots).toEqual(preview.slots.map((s: { startAt: string; endAt: string }) => ({ startAt: s.startAt, endAt: s.endAt })));
    expect(await counts()).toEqual({ forms: before.forms + 1, slots: before.slots + 16 });

    const again = await fromText({ text: SEED });
    expect(again.form.slug).toBe('1-1-soccer-coaching-2');
  });

  it('refuses a sentence with an unsupported part, naming it, and writes nothing', async () => {
    const before = await counts();
    const refused = await fromText({ text: '1-1 soccer coaching, 5-9pm, Mon/Wed, 1h slots, next 2 weeks, except holidays' });
    expect(refused).toMatchObject({
      __typename: 'FormTextNotUnderstoodError',
      code: 'FORM_TEXT_NOT_UNDERSTOOD',
      unparsed: ['except holidays'],
      missing: [],
      conflicts: [],
    });
    expect(refused.message).toContain('"except holidays"');
    expect(await counts()).toEqual(before);
  });

  it("applies createForm's 100-slot limit and its error", async () => {
    const before = await counts();
    const refused = await fromText({ text: 'Open gym daily 8am-8pm 30 min for 4 weeks' });
    expect(refused).toMatchObject({ __typename: 'FormSlotLimitError', code: 'FORM_SLOT_LIMIT', requested: 672, limit: 100, suggestedForms: 7 });
    expect(await counts()).toEqual(before);
  });

  it('validates through the createForm schema (same field errors) and the argument zone', async () => {
    expect(await fromText({ text: 'Late Mon 9:00-5:00 1h for 1 week' })).toMatchObject({
      __typename: 'ValidationError',
      fieldErrors: [{ path: ['input', 'schedule', 'endTime'], message: 'must be after startTime' }],
    });
    expect(await fromText({ text: SEED, timeZone: 'Mars/Olympus' })).toMatchObject({
      __typename: 'ValidationError',
      fieldErrors: [{ path: ['input', 'timeZone'] }],
    });
  });

  it("zone: text, else the argument, else the caller's latest form, else DEFAULT_TIME_ZONE", async () => {
    const fresh = await t.tokenFor(['manager']);
    const text = 'Chess club Mon 6-8pm 1h for 1 week';
    expect(await fromText({ text, dryRun: true }, fresh)).toMatchObject({ timeZone: 'Europe/Paris', timeZoneSource: 'DEFAULT_TIME_ZONE' });
    expect(await fromText({ text, timeZone: 'Asia/Tokyo', dryRun: true }, fresh)).toMatchObject({
      timeZone: 'Asia/Tokyo',
      timeZoneSource: 'the timeZone argument',
    });
    expect(await fromText({ text: `${text} in Berlin`, timeZone: 'Asia/Tokyo', dryRun: true }, fresh)).toMatchObject({ timeZone: 'Europe/Berlin' });
    await fromText({ text: `${text} UTC+2` }, fresh);
    expect(await fromText({ text, dryRun: true }, fresh)).toMatchObject({
      timeZone: 'Etc/GMT-2',
      timeZoneSource: "the caller's default (zone of their latest form)",
    });
  });

  it('has the roles of createForm: frontdesk is FORBIDDEN, the public UNAUTHENTICATED', async () => {
    const frontdesk = await t.tokenFor(['frontdesk']);
    expect((await t.execute(FROM_TEXT, { input: { text: SEED } }, { token: frontdesk })).errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect((await t.execute(FROM_TEXT, { input: { text: SEED } })).errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
  });
});

const ANALYTICS = `query ($id: ID!) { formAnalytics(formId: $id) { ... on FormAnalytics { totalSlots capacity seatsBooked fillRate fullSlots registrations days { date capacity seatsBooked fillRate } } } }`;
const INSIGHTS = `query ($id: ID!, $q: String) { formInsights(formId: $id, question: $q) { ... on FormInsight { intent answer source totalSlots capacity seatsBooked fillRate } } }`;

describe('formInsights', () => {
  it("answers from the same numbers as formAnalytics, in the form's zone", async () => {
    const created = await fromText({ text: 'Chess club, Mon/Wed 6-8pm, 1h, groups of 2, next 2 weeks, Eastern' });
    const form = created.form as { id: string; slug: string };
    await publishForm(t, form.id);
    const slots = (await t.app.db.prisma.slot.findMany({ where: { form: { slug: form.slug } }, orderBy: { startAt: 'asc' } })).map((s) => s.id);
    // Mon Dec 7 18:00 twice (full), Mon Dec 7 19:00 once, Wed Dec 9 18:00 once; Mon Dec 14 18:00 once (next week).
    const people: [string, number[]][] = [
      ['Ada', [0]],
      ['Bo', [0, 1]],
      ['Cy', [2]],
      ['Di', [4]],
    ];
    for (const [name, picks] of people) {
      const result = expectNoErrors(
        await t.execute(REGISTER, {
          input: { formSlug: form.slug, name, email: `${name.toLowerCase()}@example.com`, slotIds: picks.map((i) => encodeSlot(slots[i]!)) },
        }),
      );
      expect(result.register.__typename).toBe('Registration');
    }
    const analytics = expectNoErrors(await t.execute(ANALYTICS, { id: form.id }, { token: t.adminToken })).formAnalytics;
    expect(analytics).toMatchObject({ totalSlots: 8, capacity: 16, seatsBooked: 5, fullSlots: 1, registrations: 4 });
    const ask = async (q: string | null) => expectNoErrors(await t.execute(INSIGHTS, { id: form.id, q }, { token: t.adminToken })).formInsights;

    const full = await ask('how full is it?');
    expect(full).toMatchObject({
      intent: 'FULLNESS',
      source: 'OFFLINE',
      totalSlots: analytics.totalSlots,
      capacity: analytics.capacity,
      seatsBooked: analytics.seatsBooked,
      fillRate: analytics.fillRate,
    });
    expect(full.answer).toBe(`5 of 16 places booked (31%) across 8 slots; 1 full, 4 with at least one booking; 4 registration(s).`);

    const mondays = analytics.days.filter((d: { date: string }) => ['2054-12-07', '2054-12-14'].includes(d.date));
    const mondayBooked = mondays.reduce((n: number, d: { seatsBooked: number }) => n + d.seatsBooked, 0);
    const mondayCapacity = mondays.reduce((n: number, d: { capacity: number }) => n + d.capacity, 0);
    expect((await ask('Which day fills best?')).answer).toBe(
      `Monday fills best: ${mondayBooked} of ${mondayCapacity} places booked (${Math.round((mondayBooked / mondayCapacity) * 100)}%).`,
    );
    expect(mondayBooked).toBe(4);

    expect(await ask('Who signed up for Monday?')).toMatchObject({
      intent: 'WHO_SIGNED_UP',
      answer: '3 signed up for Monday (upcoming): Ada, Bo, Di.',
    });
    const nextWeek = analytics.days.filter((d: { date: string }) => d.date >= '2054-12-07' && d.date <= '2054-12-13');
    const left = nextWeek.reduce((n: number, d: { capacity: number; seatsBooked: number }) => n + d.capacity - d.seatsBooked, 0);
    expect(await ask('How many seats are left next week?')).toMatchObject({
      intent: 'SEATS_LEFT',
      answer: `${left} of 8 places left next week (2054-12-07 to 2054-12-13).`,
    });
    expect(left).toBe(4);
    expect((await ask('what is the meaning of life')).answer).toMatch(/^I can answer .*5 of 16 places booked/);
  });

  it('is staff-only', async () => {
    const user = await t.tokenFor(['user']);
    const form = await t.app.db.prisma.form.findFirstOrThrow();
    const id = Buffer.from(`Form:${form.id}`).toString('base64');
    expect((await t.execute(INSIGHTS, { id, q: 'who signed up' }, { token: user })).errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  });
});

function encodeSlot(id: string) {
  return Buffer.from(`Slot:${id}`).toString('base64');
}

describe('staff page /forms/new', () => {
  const post = (fields: Record<string, string>, headers: Record<string, string> = {}) =>
    fetch(`${server.url}/forms/new`, {
      method: 'POST',
      body: new URLSearchParams(fields),
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    });

  it('previews the slots, then creates the draft (token in the form field)', async () => {
    const page = await fetch(`${server.url}/forms/new`);
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain('<input id="token" name="token" type="password"');
    expect(html).not.toMatch(/<script/i);

    const text = 'Piano lessons, Saturdays 10am-1pm, 1.5h, for 2 weeks, in Berlin';
    const before = await counts();
    const preview = await post({ token: scheduler, text, action: 'preview' });
    expect(preview.status).toBe(200);
    const previewHtml = await preview.text();
    expect(previewHtml).toContain('Preview: 4 slot(s) of “Piano lessons”');
    expect([...previewHtml.matchAll(/<legend>([^<]+)<\/legend>/g)].map((m) => m[1])).toEqual(['Sat Dec 5', 'Sat Dec 12']);
    expect(previewHtml).toContain('10:00–11:30 AM <span class="places">2054-12-05T09:00:00.000Z</span>');
    expect(previewHtml).toContain('value="create"');
    expect(await counts()).toEqual(before);

    const created = await post({ token: scheduler, text, action: 'create' });
    expect(created.status).toBe(201);
    expect(await created.text()).toContain('<a href="/form/piano-lessons">/form/piano-lessons</a>');
    const form = await t.app.db.prisma.form.findUniqueOrThrow({ where: { slug: 'piano-lessons' }, include: { slots: true } });
    expect(form).toMatchObject({ status: 'DRAFT', timeZone: 'Europe/Berlin' });
    expect(form.slots).toHaveLength(4);
  });

  it('takes the token as an Authorization header instead', async () => {
    const response = await post({ text: SEED, action: 'preview' }, { authorization: `Bearer ${scheduler}` });
    expect(response.status).toBe(200);
    const html = await response.text();
    expect(html).toContain('Preview: 16 slot(s)');
    expect(html).not.toContain('name="token"');
  });

  it('refuses without a valid staff token, and names unread phrases', async () => {
    expect((await post({ token: 'nope', text: SEED })).status).toBe(401);
    expect((await post({ token: await t.tokenFor(['frontdesk']), text: SEED })).status).toBe(403);
    const refused = await post({ token: scheduler, text: 'Soccer Mon 5-9pm 1h for 2 weeks except holidays', action: 'create' });
    expect(refused.status).toBe(422);
    expect(await refused.text()).toContain('Could not read: “except holidays”');
  });
});
