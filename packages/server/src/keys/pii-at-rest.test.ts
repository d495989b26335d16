import { createCipheriv, createHmac, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, expectNoErrors, TEST_SECRETS, type TestApp } from '../../test/kit/app.js';
import { fixtures, gid } from '../../test/kit/fixtures.js';
import { queuedMails } from '../../test/kit/mail.js';
import { REGISTER, publishedForm } from '../../test/kit/forms.js';
import type { SqlQuery } from '../db/database.js';
import { pii } from '../shared/pii.js';
import { rotateKeys } from './rotate.js';

// Issue #14 item 6: after booking, registering with answers, notes and mails, no column of any
// table holds a name, email, phone, note or answer in plaintext; rows from before migration 0006
// (plaintext names, v1 ciphertext) are still read, and `keys rotate` encrypts them.
let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(() => t?.close());

const GUEST = {
  name: 'Zebulon Quillfeather',
  email: 'zebulon.quill@pii-test.example',
  phone: '+44 20 7946 0123',
  notes: 'Allergic to penicillin, xq7-note',
};
const BOOKER = {
  name: 'Ottoline Brackenbury',
  email: 'ottoline.b@pii-test.example',
  phone: '+1 415 555 0177',
  notes: 'Wheelchair access please, ww3-note',
};
const REGISTRANT = { name: 'Marguerite Oyelaran', email: 'marguerite.o@pii-test.example', phone: '+33 1 70 36 39 84' };
const ANSWER = 'My secret answer is kumquat-zz91';
/** A person's contact data as the customer, their note as the booking's notes. */
const withNotes = ({ notes, ...customer }: { name: string; email: string; phone: string; notes: string }) => ({ customer, notes });

const BOOKING_FIELDS = 'booking { id notes customer { name email phone } }';
const HOLD = `mutation ($input: HoldInput!) { hold(input: $input) { __typename ... on BookingReceipt { manageToken ${BOOKING_FIELDS} } ... on Error { message } } }`;
const BOOK = `mutation ($input: BookInput!) { book(input: $input) { __typename ... on BookingReceipt { manageToken ${BOOKING_FIELDS} } ... on Error { message } } }`;
const CONFIRM = `mutation ($input: ManageBookingInput!) { confirm(input: $input) { __typename } }`;
const READ_BOOKING = `query ($id: ID!) { booking(id: $id) { __typename ... on Booking { notes customer { name email phone } } } }`;
const READ_REGISTRATION = `query ($id: ID!) { node(id: $id) { ... on Registration { name answers { question answer } } } }`;

/** Every text and jsonb column of every table, searched for each value (case-insensitive): what is found. */
async function plaintextIn(sql: SqlQuery, values: string[]): Promise<string[]> {
  const columns = await sql.query<{ table_name: string; column_name: string }>(
    `SELECT c.table_name, c.column_name FROM information_schema.columns c
     JOIN information_schema.tables t ON t.table_schema = c.table_schema AND t.table_name = c.table_name AND t.table_type = 'BASE TABLE'
     WHERE c.table_schema = 'public' AND c.data_type IN ('text', 'character varying', 'jsonb', 'json', 'ARRAY', 'USER-DEFINED')`,
  );
  expect(columns.length).toBeGreaterThan(50);
  const found: string[] = [];
  for (const { table_name, column_name } of columns) {
    const [row] = await sql.query<{ hits: string[] }>(
      `SELECT array(SELECT v FROM unnest($1::text[]) AS v WHERE EXISTS (SELECT 1 FROM "${table_name}" WHERE "${column_name}"::text ILIKE '%' || v || '%')) AS hits`,
      [values],
    );
    for (const v of row!.hits) found.push(`${table_name}.${column_name}: ${v}`);
  }
  return found;
}

/** The values, and the forms they are stored in elsewhere (phone digits, JSON-escaped), none of which may show. */
function needles(...people: { name: string; email: string; phone?: string; notes?: string }[]): string[] {
  return people.flatMap((p) => [
    p.name,
    p.name.split(' ')[0]!,
    p.email,
    ...(p.phone ? [p.phone, p.phone.replace(/[^\d+]/g, '')] : []),
    ...(p.notes ? [p.notes] : []),
  ]);
}

/** A value in the format written before key ids (v1), with the test key. */
function v1(plain: string): string {
  const key = createHmac('sha256', Buffer.from(TEST_SECRETS.ENCRYPTION_KEY, 'hex')).update('slotwise:pii:encrypt').digest();
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  const data = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
  return ['v1', iv.toString('base64url'), cipher.getAuthTag().toString('base64url'), data.toString('base64url')].join('.');
}

describe('personal data at rest', () => {
  it('booking, confirming, registering with answers and queued mails leave no plaintext name, email, phone, note or answer in any table', async () => {
    const f = fixtures(t.app.db.sql);
    const locationId = await f.location('Europe/London');
    const resourceId = await f.resource(locationId);
    const slot = await f.slot(locationId, resourceId, { capacity: 3 });

    const held = expectNoErrors(
      await t.execute(HOLD, { input: { slotId: gid('Slot', slot), ...withNotes(GUEST) } }, { headers: { 'idempotency-key': 'pii-at-rest-1' } }),
    ).hold;
    expect(held.booking).toMatchObject(withNotes(GUEST));
    expect(
      expectNoErrors(await t.execute(CONFIRM, { input: { bookingId: held.booking.id, manageToken: held.manageToken } })).confirm.__typename,
    ).toBe('Booking');
    const booked = expectNoErrors(await t.execute(BOOK, { input: { slotId: gid('Slot', slot), ...withNotes(BOOKER) } })).book;
    expect(booked.booking).toMatchObject(withNotes(BOOKER));

    const form = await publishedForm(t);
    const registration = expectNoErrors(
      await t.execute(REGISTER, {
        input: { formId: form.id, ...REGISTRANT, answers: [{ question: 'Anything else?', answer: ANSWER }], slotIds: [form.slots[0]!.id] },
      }),
    ).register;
    expect(registration.__typename).toBe('Registration');

    // Every read path decrypts: GraphQL (staff), the mails queued in the outbox.
    const staffView = expectNoErrors(await t.execute(READ_BOOKING, { id: booked.booking.id }, { token: t.adminToken })).booking;
    expect(staffView).toMatchObject(withNotes(BOOKER));
    expect(expectNoErrors(await t.execute(READ_REGISTRATION, { id: registration.id }, { token: t.adminToken })).node).toEqual({
      name: REGISTRANT.name,
      answers: [{ question: 'Anything else?', answer: ANSWER }],
    });
    const mails = await queuedMails(t);
    expect(mails.map((m) => m.to)).toEqual(expect.arrayContaining([GUEST.email, BOOKER.email, REGISTRANT.email]));
    expect(mails.find((m) => m.to === GUEST.email)!.content.text).toContain('Zebulon');
    expect(mails.find((m) => m.to === REGISTRANT.email)!.content.text).toContain('Marguerite');

    const raw = await t.app.db.sql.query<{ n: number }>(`SELECT count(*)::int AS n FROM idempotency_records WHERE key = 'pii-at-rest-1'`);
    expect(raw[0]!.n).toBe(1);
    expect(await plaintextIn(t.app.db.sql, [...needles(GUEST, BOOKER, REGISTRANT), ANSWER, 'kumquat'])).toEqual([]);
  });

  it('reads rows written before migration 0006 (plaintext names, notes and answers; v1 ciphertext), and keys rotate encrypts them', async () => {
    const sql = t.app.db.sql;
    const [booking] = await sql.query<{ id: string }>(
      `INSERT INTO bookings (kind, slot_id, resource_id, location_id, start_at, end_at, status, customer_name, customer_email, customer_email_hash,
         customer_phone, customer_phone_hash, notes, ics_uid, confirmed_at)
       SELECT 'SLOT', id, resource_id, location_id, start_at, end_at, 'CONFIRMED', 'Legacy Lenora', $1, $2, $3, $4, 'legacy note qq4', gen_random_uuid()::text, now()
       FROM slots WHERE form_id IS NULL LIMIT 1 RETURNING id`,
      [
        v1('lenora.legacy@pii-test.example'),
        pii().emailHash('lenora.legacy@pii-test.example'),
        v1('+49 30 901820'),
        pii().phoneHash('+49 30 901820'),
      ],
    );
    const [form] = await sql.query<{ id: string }>(`SELECT id FROM forms LIMIT 1`);
    const [registration] = await sql.query<{ id: string }>(
      `INSERT INTO registrations (form_id, name, email, email_hash, answers) VALUES ($1, 'Legacy Rosamund', $2, $3, $4::jsonb) RETURNING id`,
      [
        form!.id,
        v1('rosamund.legacy@pii-test.example'),
        pii().emailHash('rosamund.legacy@pii-test.example'),
        JSON.stringify({ 'Old question': 'old answer pp2' }),
      ],
    );

    const legacy = expectNoErrors(await t.execute(READ_BOOKING, { id: gid('Booking', booking!.id) }, { token: t.adminToken })).booking;
    // Booking.notes reads the plaintext note as it is.
    expect(legacy).toMatchObject({
      notes: 'legacy note qq4',
      customer: { name: 'Legacy Lenora', email: 'lenora.legacy@pii-test.example', phone: '+49 30 901820' },
    });
    const legacyRegistration = expectNoErrors(
      await t.execute(READ_REGISTRATION, { id: gid('Registration', registration!.id) }, { token: t.adminToken }),
    ).node;
    expect(legacyRegistration).toEqual({ name: 'Legacy Rosamund', answers: [{ question: 'Old question', answer: 'old answer pp2' }] });
    const LEGACY = ['Legacy Lenora', 'legacy note qq4', 'Legacy Rosamund', 'old answer pp2'];
    expect((await plaintextIn(sql, LEGACY)).length).toBe(4);

    const reports = await rotateKeys(t.app.db.sql, pii());
    const byTable = Object.fromEntries(reports.map((r) => [r.table, r]));
    // Names and notes (plaintext), email and phone (v1); the registration's name, email (v1) and answers (plaintext).
    expect(byTable.bookings).toMatchObject({ rows: 1, values: 4, plaintext: 2, failed: [] });
    expect(byTable.registrations).toMatchObject({ rows: 1, values: 3, plaintext: 2, failed: [] });
    expect(await plaintextIn(sql, LEGACY)).toEqual([]);
    const [row] = await sql.query<Record<string, string>>(`SELECT customer_name, customer_email, notes FROM bookings WHERE id = $1`, [booking!.id]);
    expect(Object.values(row!).every((v) => v.startsWith('v2.k1.'))).toBe(true);
    expect(expectNoErrors(await t.execute(READ_BOOKING, { id: gid('Booking', booking!.id) }, { token: t.adminToken })).booking).toEqual(legacy);
    expect(expectNoErrors(await t.execute(READ_REGISTRATION, { id: gid('Registration', registration!.id) }, { token: t.adminToken })).node).toEqual(
      legacyRegistration,
    );
  });
});
