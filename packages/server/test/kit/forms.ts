import type { TestApp } from './app.js';
import { expectNoErrors } from './app.js';

/** GraphQL documents and set-up steps the form tests share (all through the API). */
export const CREATE_FORM = `mutation ($input: CreateFormInput!) {
  createForm(input: $input) {
    __typename
    ... on Form { id slug status timeZone maxSlotsPerRegistration slots { id startAt endAt localDate localStart localEnd capacity status } }
    ... on ValidationError { code fieldErrors { path message } }
    ... on FormSlotLimitError { code message requested limit suggestedForms }
  }
}`;

export const REGISTER = `mutation ($input: RegisterInput!) {
  register(input: $input) {
    __typename
    ... on Registration { id slotLabels slots { id status booked } form { slug } }
    ... on Error { code message }
    ... on ValidationError { fieldErrors { path message } }
    ... on SlotsUnavailableError { unavailable { slotId reason } }
    ... on FormSlotNotFoundError { slotIds }
    ... on FormNotOpenError { status }
  }
}`;

/** The seed's example (2027 there, 2055 here: see CONTRIBUTING.md on dates): Mon/Wed 5-9 pm, 60-minute slots, two weeks from Mon 2055-01-04, New York. */
export const SEED_SCHEDULE = { daysOfWeek: [1, 3], startTime: '17:00', endTime: '21:00', slotMinutes: 60, startDate: '2055-01-04', weeks: 2 };

let forms = 0;

export async function createForm(t: TestApp, input: Record<string, unknown> = {}) {
  const result = expectNoErrors(
    await t.execute(
      CREATE_FORM,
      {
        input: {
          title: 'Soccer coaching',
          slug: `coaching-${++forms}-${Date.now()}`,
          timeZone: 'America/New_York',
          schedule: SEED_SCHEDULE,
          ...input,
        },
      },
      { token: t.adminToken },
    ),
  );
  if (result.createForm.__typename !== 'Form') throw new Error(`createForm failed: ${JSON.stringify(result.createForm)}`);
  return result.createForm as { id: string; slug: string; slots: { id: string; startAt: string; endAt: string; status: string }[] };
}

export async function publishForm(t: TestApp, id: string) {
  expectNoErrors(await t.execute(`mutation ($id: ID!) { publishForm(id: $id) { __typename } }`, { id }, { token: t.adminToken }));
}

/** A published form (seed schedule unless overridden). */
export async function publishedForm(t: TestApp, input: Record<string, unknown> = {}) {
  const form = await createForm(t, input);
  await publishForm(t, form.id);
  return form;
}

/** Rows a failed request must not have written. */
export async function rowCounts(t: TestApp) {
  const [row] = await t.app.db.sql.query<{ registrations: number; registration_slots: number; bookings: number; booked: number }>(
    `SELECT (SELECT count(*)::int FROM registrations) AS registrations,
            (SELECT count(*)::int FROM registration_slots) AS registration_slots,
            (SELECT count(*)::int FROM bookings) AS bookings,
            (SELECT coalesce(sum(booked), 0)::int FROM slots) AS booked`,
  );
  return row!;
}
