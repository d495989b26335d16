import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuthService } from '../src/auth/auth.service.js';
import { loadConfig } from '../src/config.js';
import { openDatabase } from '../src/db/database.js';
import { createTestDatabase } from './databases.js';
import { createBookableSlots, spawnServer, type ServerProcess } from './faults.js';
import { waitFor } from './kit/wait.js';
import { TEST_SECRETS } from './kit/app.js';
import { startMailServer, type MailServer } from './mail-server.js';
import { encodeGlobalID } from '@pothos/plugin-relay';

// Issue #14 item 6: a real server process, at the default level and at debug, taken through
// booking, registration, mail (delivered and refused), inbound mail and error paths with
// distinctive people; its whole log output must not contain any of their names, emails or phones.
const INBOUND_MAIL_TOKEN = 'inbound-token-for-log-test';
const person = (n: string, first: string, last: string, phone: string) => ({
  name: `${first} ${last}`,
  first,
  email: `${first.toLowerCase()}.${n}@redact-test.example`,
  phone,
});

let database: Awaited<ReturnType<typeof createTestDatabase>>;
let smtp: MailServer;
let adminToken: string;
beforeAll(async () => {
  database = await createTestDatabase();
  smtp = await startMailServer();
  const db = await openDatabase({ url: database.url, poolMax: 2 });
  try {
    adminToken = (
      await new AuthService(db.prisma, loadConfig({ DATABASE_URL: database.url, ...TEST_SECRETS })).ensureAdmin('staff@redact-test.example')
    ).token;
  } finally {
    await db.close();
  }
});
afterAll(async () => {
  await smtp?.close();
  await database?.drop();
});

async function gql(server: ServerProcess, query: string, variables: Record<string, unknown> = {}, headers: Record<string, string> = {}) {
  const response = await fetch(`${server.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${adminToken}`, ...headers },
    body: JSON.stringify({ query, variables }),
  });
  return (await response.json()) as { data?: Record<string, any>; errors?: { message: string }[] };
}

const RECEIPT = `__typename ... on BookingReceipt { manageToken booking { id } } ... on Error { message }`;
const HOLD = `mutation ($input: HoldInput!) { hold(input: $input) { ${RECEIPT} } }`;
const BOOK = `mutation ($input: BookInput!) { book(input: $input) { ${RECEIPT} } }`;
const CONFIRM = `mutation ($input: ManageBookingInput!) { confirm(input: $input) { __typename } }`;

/** Every path that handles personal data, for these people; returns the values that must never be logged. */
async function exercise(server: ServerProcess, tag: string): Promise<string[]> {
  const guest = person(tag, 'Zebulon', `Quillfeather${tag}`, '+44 20 7946 0123');
  const booker = person(tag, 'Ottoline', `Brackenbury${tag}`, '+1 415 555 0177');
  const registrant = person(tag, 'Marguerite', `Oyelaran${tag}`, '+33 1 70 36 39 84');
  const bounced = person(tag, 'Thaddeus', `Wolstenholme${tag}`, '+61 2 9374 4000');
  const notes = `Allergic to penicillin ${tag}-note`;
  const answer = `kumquat-answer-${tag}`;
  const { slotIds } = await createBookableSlots(database.url, 3, 5);
  const slot = (i: number) => encodeGlobalID('Slot', slotIds[i]!);
  const sent = smtp.messages.length;

  // Hold, confirm (invitation mail), the same again (DuplicateBookingError), a bad email (ValidationError).
  const held = (
    await gql(server, HOLD, { input: { slotId: slot(0), customer: { name: guest.name, email: guest.email, phone: guest.phone }, notes } })
  ).data!.hold;
  expect(held.__typename).toBe('BookingReceipt');
  expect((await gql(server, CONFIRM, { input: { bookingId: held.booking.id, manageToken: held.manageToken } })).data!.confirm.__typename).toBe(
    'Booking',
  );
  expect((await gql(server, BOOK, { input: { slotId: slot(0), customer: { name: guest.name, email: guest.email } } })).data!.book.__typename).toBe(
    'DuplicateBookingError',
  );
  expect(
    (await gql(server, BOOK, { input: { slotId: slot(1), customer: { name: booker.name, email: booker.name, phone: booker.phone } } })).data!.book
      .__typename,
  ).toBe('ValidationError');
  expect(
    (
      await gql(
        server,
        BOOK,
        { input: { slotId: slot(1), customer: { name: booker.name, email: booker.email, phone: booker.phone } } },
        { 'idempotency-key': `redact-${tag}` },
      )
    ).data!.book.__typename,
  ).toBe('BookingReceipt');

  // Refused operations: a variable of the wrong shape (graphql-js echoes the value), a literal of the wrong type, a body that is not JSON.
  const shape = await gql(server, BOOK, {
    input: { slotId: slot(2), customer: { name: booker.name, email: booker.email, phone: booker.phone, nickname: booker.first } },
  });
  expect(shape.errors?.length).toBeGreaterThan(0);
  const digits = Number(guest.phone.replace(/\D/g, ''));
  const literal = await gql(
    server,
    `mutation { book(input: { slotId: "${slot(2)}", customer: { name: "${guest.name}", email: "${guest.email}", phone: ${digits} } }) { __typename } }`,
  );
  expect(literal.errors?.length).toBeGreaterThan(0);
  const notJson = await fetch(`${server.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: `{"query": "${guest.name} ${guest.email}`,
  });
  expect(notJson.status).toBeGreaterThanOrEqual(400);
  // A staff search by email over GET (the query string holds the address).
  const search = await fetch(`${server.url}/graphql?query=${encodeURIComponent(`{ bookings(customerEmail: "${booker.email}") { __typename } }`)}`, {
    headers: { authorization: `Bearer ${adminToken}` },
  });
  expect(search.status).toBe(200);

  // A form registration with a free-text answer (its mail lists the slots).
  const created = await gql(
    server,
    `mutation ($input: CreateFormInput!) { createForm(input: $input) { __typename ... on Form { id slots { id } } } }`,
    {
      input: {
        title: 'Redaction class',
        slug: `redaction-${tag}`,
        timeZone: 'Europe/Paris',
        schedule: { daysOfWeek: [1, 3], startTime: '17:00', endTime: '19:00', slotMinutes: 60, startDate: '2055-02-01', weeks: 1 },
      },
    },
  );
  const form = created.data!.createForm;
  await gql(server, `mutation ($id: ID!) { publishForm(id: $id) { __typename } }`, { id: form.id });
  const registered = await gql(server, `mutation ($input: RegisterInput!) { register(input: $input) { __typename } }`, {
    input: {
      formId: form.id,
      name: registrant.name,
      email: registrant.email,
      phone: registrant.phone,
      answers: [{ question: 'Anything else?', answer }],
      slotIds: [form.slots[0].id],
    },
  });
  expect(registered.data!.register.__typename).toBe('Registration');

  // A mail the SMTP server refuses for good, quoting the address in its reply (kept in the log, the address replaced).
  smtp.failNext(1, 550, `5.1.1 <${bounced.email}>: Recipient address rejected: User unknown`);
  const refused = (
    await gql(server, BOOK, { input: { slotId: slot(2), customer: { name: bounced.name, email: bounced.email, phone: bounced.phone } } })
  ).data!.book;
  expect(refused.__typename).toBe('BookingReceipt');

  // Inbound mail that is not a calendar reply, from one of them.
  const inbound = await fetch(`${server.url}/inbound/mail`, {
    method: 'POST',
    headers: { 'content-type': 'message/rfc822', authorization: `Bearer ${INBOUND_MAIL_TOKEN}` },
    body: `From: ${guest.name} <${guest.email}>\r\nTo: slotwise@example.com\r\nSubject: Question from ${guest.name}\r\nMessage-ID: <q-${tag}@redact-test.example>\r\n\r\nCall me on ${guest.phone}.\r\n`,
  });
  expect(inbound.status).toBe(200);

  // Delivered: the guest's invitation, the booker's, the registration mail; and one refusal logged.
  await smtp.waitForMessages(sent + 3, 30_000);
  await waitFor(() => server.logs.some((l) => l.msg === 'mail delivery failed for good'), 'the refused mail to be logged', 30_000);
  return [guest, booker, registrant, bounced]
    .flatMap((p) => [p.name, p.first, p.email, p.email.split('@')[0]!, p.phone, p.phone.replace(/[^\d+]/g, ''), p.phone.replace(/\D/g, '')])
    .concat(notes, answer);
}

describe('log redaction', () => {
  for (const level of ['info', 'debug']) {
    it(`a server at LOG_LEVEL=${level} logs no name, email or phone of anyone it served`, { timeout: 180_000 }, async () => {
      const server = await spawnServer({
        DATABASE_URL: database.url,
        SMTP_URL: smtp.url,
        LOG_LEVEL: level,
        INBOUND_MAIL_TOKEN,
        MAIL_MAX_ATTEMPTS: '1',
      });
      let secrets: string[];
      try {
        secrets = await exercise(server, level);
      } finally {
        await server.kill();
      }
      const output = [...server.logs.map((l) => JSON.stringify(l)), ...server.stderr].join('\n');
      // The paths ran and were logged ...
      for (const msg of ['mail delivered', 'mail delivery failed for good', 'operation refused', 'inbound mail']) expect(output).toContain(msg);
      // ... without anyone's personal data.
      expect(secrets.filter((s) => output.toLowerCase().includes(s.toLowerCase()))).toEqual([]);
    });
  }
});
