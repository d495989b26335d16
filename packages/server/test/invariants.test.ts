import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase } from './databases.js';

// The invariants DESIGN.md says the database enforces, proven with raw SQL (no service code in between).
const CHECK_VIOLATION = '23514';
const UNIQUE_VIOLATION = '23505';
const EXCLUSION_VIOLATION = '23P01';

let database: Awaited<ReturnType<typeof createTestDatabase>>;
let client: pg.Client;
let locationId: string;
let formId: string;

const q = async <T = Record<string, any>>(text: string, params: unknown[] = []) => (await client.query(text, params)).rows as T[];

/** The constraint whose definition contains `fragment`: unnamed CHECKs get generated names (slots_check1). */
async function constraintOf(table: string, fragment: string): Promise<string> {
  const rows = await q<{ conname: string }>(
    `SELECT conname FROM pg_constraint WHERE conrelid = $1::regclass AND pg_get_constraintdef(oid) LIKE '%' || $2 || '%'`,
    [table, fragment],
  );
  expect(rows, `one constraint on ${table} containing ${fragment}`).toHaveLength(1);
  return rows[0]!.conname;
}

async function expectViolation(text: string, params: unknown[], code: string, constraint: string) {
  const error = await client.query(text, params).then(
    () => null,
    (err: pg.DatabaseError) => err,
  );
  expect(error, `expected ${constraint} to reject: ${text}`).not.toBeNull();
  expect({ code: error!.code, constraint: error!.constraint }).toEqual({ code, constraint });
}

async function resource(exclusive = true): Promise<string> {
  const [row] = await q<{ id: string }>(`INSERT INTO resources (location_id, kind, name, exclusive) VALUES ($1, 'ROOM', 'Room', $2) RETURNING id`, [
    locationId,
    exclusive,
  ]);
  return row!.id;
}

const insertSlot = `INSERT INTO slots (location_id, resource_id, form_id, time_zone, start_at, end_at, capacity, booked, held)
  VALUES ($1, $2, $3, 'UTC', $4, $5, $6, $7, $8) RETURNING id, status, version`;
const slotOn = (resourceId: string | null, start: string, end: string, capacity = 2, booked = 0, held = 0) =>
  [locationId, resourceId, null, start, end, capacity, booked, held] as unknown[];

const insertRange = `INSERT INTO bookings (kind, resource_id, exclusive, start_at, end_at, status, hold_expires_at,
    customer_name, customer_email, customer_email_hash, ics_uid)
  VALUES ('RANGE', $1, true, $2, $3, $4, now() + interval '10 minutes', 'Ann', 'enc', 'hash', $5) RETURNING id`;
const range = (resourceId: string, start: string, end: string, status = 'CONFIRMED') => [resourceId, start, end, status, randomUUID()];

beforeAll(async () => {
  database = await createTestDatabase();
  client = new pg.Client({ connectionString: database.url });
  await client.connect();
  [{ id: locationId }] = (await q<{ id: string }>(`INSERT INTO locations (name, time_zone) VALUES ('Main', 'UTC') RETURNING id`)) as [{ id: string }];
  [{ id: formId }] = (await q<{ id: string }>(`INSERT INTO forms (slug, title, time_zone) VALUES ('signup', 'Signup', 'UTC') RETURNING id`)) as [
    { id: string },
  ];
});
afterAll(async () => {
  await client?.end();
  await database?.drop();
});

describe('slot counts', () => {
  it('booked >= 0, held >= 0 and booked + held <= capacity', async () => {
    const r = await resource(false);
    await expectViolation(insertSlot, slotOn(r, '2030-01-01T10:00Z', '2030-01-01T11:00Z', 2, -1, 0), CHECK_VIOLATION, 'slots_booked_check');
    await expectViolation(insertSlot, slotOn(r, '2030-01-01T10:00Z', '2030-01-01T11:00Z', 2, 0, -1), CHECK_VIOLATION, 'slots_held_check');
    const sum = await constraintOf('slots', '(booked + held) <= capacity');
    await expectViolation(insertSlot, slotOn(r, '2030-01-01T10:00Z', '2030-01-01T11:00Z', 2, 2, 1), CHECK_VIOLATION, sum);

    const [slot] = await q(insertSlot, slotOn(r, '2030-01-01T10:00Z', '2030-01-01T11:00Z', 2, 1, 1));
    await expectViolation('UPDATE slots SET held = held + 1 WHERE id = $1', [slot!.id], CHECK_VIOLATION, sum);
    await expectViolation('UPDATE slots SET booked = booked - 2 WHERE id = $1', [slot!.id], CHECK_VIOLATION, 'slots_booked_check');
  });
});

describe('end > start', () => {
  it('on slots and bookings, including empty ranges', async () => {
    const r = await resource();
    const slotCheck = await constraintOf('slots', '(end_at > start_at)');
    await expectViolation(insertSlot, slotOn(r, '2030-01-02T10:00Z', '2030-01-02T10:00Z'), CHECK_VIOLATION, slotCheck);
    await expectViolation(insertSlot, slotOn(r, '2030-01-02T10:00Z', '2030-01-02T09:00Z'), CHECK_VIOLATION, slotCheck);
    const bookingCheck = await constraintOf('bookings', '(end_at > start_at)');
    await expectViolation(insertRange, range(r, '2030-01-02T10:00Z', '2030-01-02T09:00Z'), CHECK_VIOLATION, bookingCheck);
  });
});

describe('exclusive resources: no two live bookings overlap', () => {
  it('rejects an overlap with a HELD or CONFIRMED booking', async () => {
    const r = await resource();
    await q(insertRange, range(r, '2030-02-01T10:00Z', '2030-02-01T11:00Z', 'HELD'));
    await expectViolation(insertRange, range(r, '2030-02-01T10:30Z', '2030-02-01T11:30Z'), EXCLUSION_VIOLATION, 'bookings_no_overlap');
    await expectViolation(insertRange, range(r, '2030-02-01T09:00Z', '2030-02-01T12:00Z', 'HELD'), EXCLUSION_VIOLATION, 'bookings_no_overlap');
  });

  it('allows touching ranges, other resources, and overlaps once one is CANCELLED or EXPIRED', async () => {
    const r = await resource();
    const [first] = await q(insertRange, range(r, '2030-02-02T10:00Z', '2030-02-02T11:00Z'));
    await q(insertRange, range(r, '2030-02-02T11:00Z', '2030-02-02T12:00Z'));
    await q(insertRange, range(await resource(), '2030-02-02T10:00Z', '2030-02-02T11:00Z'));

    await q(`UPDATE bookings SET status = 'CANCELLED' WHERE id = $1`, [first!.id]);
    const [second] = await q(insertRange, range(r, '2030-02-02T10:00Z', '2030-02-02T11:00Z', 'HELD'));
    await q(`UPDATE bookings SET status = 'EXPIRED' WHERE id = $1`, [second!.id]);
    await q(insertRange, range(r, '2030-02-02T10:15Z', '2030-02-02T10:45Z'));

    // Reviving the cancelled one would overlap the live booking: refused as well.
    await expectViolation(`UPDATE bookings SET status = 'CONFIRMED' WHERE id = $1`, [first!.id], EXCLUSION_VIOLATION, 'bookings_no_overlap');
    const [{ live }] = (await q(`SELECT count(*)::int AS live FROM bookings WHERE resource_id = $1 AND status IN ('HELD', 'CONFIRMED')`, [r])) as [
      { live: number },
    ];
    expect(live).toBe(2);
  });
});

describe('range bookings', () => {
  it('start and end on 15-minute boundaries, at most 8 hours', async () => {
    const r = await resource();
    const rule = await constraintOf('bookings', "'08:00:00'::interval");
    await expectViolation(insertRange, range(r, '2030-03-01T10:05Z', '2030-03-01T11:00Z'), CHECK_VIOLATION, rule);
    await expectViolation(insertRange, range(r, '2030-03-01T10:00Z', '2030-03-01T10:50Z'), CHECK_VIOLATION, rule);
    await expectViolation(insertRange, range(r, '2030-03-01T08:00Z', '2030-03-01T16:15Z'), CHECK_VIOLATION, rule);
    await q(insertRange, range(r, '2030-03-01T08:00Z', '2030-03-01T16:00Z'));
    // Boundaries are instants (UTC epoch), so a +05:30 zone's local quarter hours are still accepted.
    await q(insertRange, range(r, '2030-03-02T10:15:00+05:30', '2030-03-02T11:45:00+05:30'));
  });

  it('only on exclusive resources', async () => {
    const r = await resource();
    const rule = await constraintOf('bookings', '(resource_id IS NOT NULL) AND exclusive');
    const params = range(r, '2030-03-03T10:00Z', '2030-03-03T11:00Z');
    await expectViolation(insertRange.replace("'RANGE', $1, true", "'RANGE', $1, false"), params, CHECK_VIOLATION, rule);
  });
});

describe('slot uniqueness makes generation idempotent', () => {
  it('one slot per resource and start', async () => {
    const r = await resource(false);
    await q(insertSlot, slotOn(r, '2030-04-01T10:00Z', '2030-04-01T11:00Z'));
    await expectViolation(insertSlot, slotOn(r, '2030-04-01T10:00Z', '2030-04-01T10:30Z'), UNIQUE_VIOLATION, 'slots_resource_start_key');
  });

  it('one location-wide slot per location and start', async () => {
    await q(insertSlot, slotOn(null, '2030-04-02T10:00Z', '2030-04-02T11:00Z'));
    await expectViolation(insertSlot, slotOn(null, '2030-04-02T10:00Z', '2030-04-02T12:00Z'), UNIQUE_VIOLATION, 'slots_location_start_key');
    // A resource's slot at the same start is a different slot.
    await q(insertSlot, slotOn(await resource(false), '2030-04-02T10:00Z', '2030-04-02T11:00Z'));
  });

  it('one form slot per form, start and end', async () => {
    const formSlot = (start: string, end: string) => [null, null, formId, start, end, 5, 0, 0];
    await q(insertSlot, formSlot('2030-04-03T10:00Z', '2030-04-03T11:00Z'));
    await q(insertSlot, formSlot('2030-04-03T10:00Z', '2030-04-03T10:30Z'));
    await expectViolation(insertSlot, formSlot('2030-04-03T10:00Z', '2030-04-03T11:00Z'), UNIQUE_VIOLATION, 'slots_form_start_end_key');
  });
});

describe('unique keys', () => {
  it('api token hashes are unique', async () => {
    const [user] = await q(`INSERT INTO users (email) VALUES ('tokens@test.example') RETURNING id`);
    const token = `INSERT INTO api_tokens (user_id, name, token_hash, prefix) VALUES ($1, 'cli', $2, 'sw_')`;
    await q(token, [user!.id, 'same-hash']);
    await expectViolation(token, [user!.id, 'same-hash'], UNIQUE_VIOLATION, 'api_tokens_token_hash_key');
  });

  it('a registration holds a slot once', async () => {
    const [slot] = await q(insertSlot, [null, null, formId, '2030-04-04T10:00Z', '2030-04-04T11:00Z', 5, 0, 0]);
    const [registration] = await q(`INSERT INTO registrations (form_id, name, email, email_hash) VALUES ($1, 'Ann', 'enc', 'hash') RETURNING id`, [
      formId,
    ]);
    // Two customers (one live booking per slot per customer is its own rule, below).
    const booking = async (hash: string) =>
      (
        await q(
          `INSERT INTO bookings (kind, slot_id, start_at, end_at, status, customer_name, customer_email, customer_email_hash, ics_uid)
           VALUES ('SLOT', $1, '2030-04-04T10:00Z', '2030-04-04T11:00Z', 'CONFIRMED', 'Ann', 'enc', $3, $2) RETURNING id`,
          [slot!.id, randomUUID(), hash],
        )
      )[0]!.id;
    const link = 'INSERT INTO registration_slots (registration_id, slot_id, booking_id) VALUES ($1, $2, $3)';
    await q(link, [registration!.id, slot!.id, await booking('hash-1')]);
    await expectViolation(link, [registration!.id, slot!.id, await booking('hash-2')], UNIQUE_VIOLATION, 'registration_slots_pkey');
  });

  it('a customer (email or phone lookup hash) holds a slot once while the booking is live', async () => {
    const [slot] = await q(insertSlot, [null, null, formId, '2030-04-05T10:00Z', '2030-04-05T11:00Z', 5, 0, 0]);
    const insert = `INSERT INTO bookings (kind, slot_id, start_at, end_at, status, customer_name, customer_email, customer_email_hash, customer_phone_hash, ics_uid, hold_expires_at)
      VALUES ('SLOT', $1, '2030-04-05T10:00Z', '2030-04-05T11:00Z', $2, 'enc', 'enc', $3, $4, $5, '2030-04-05T09:00Z')`;
    await q(insert, [slot!.id, 'CONFIRMED', 'email-a', 'phone-a', randomUUID()]);
    await q(insert, [slot!.id, 'CANCELLED', 'email-a', 'phone-a', randomUUID()]);
    await expectViolation(insert, [slot!.id, 'HELD', 'email-a', null, randomUUID()], UNIQUE_VIOLATION, 'bookings_one_live_per_email');
    await expectViolation(insert, [slot!.id, 'CONFIRMED', 'email-b', 'phone-a', randomUUID()], UNIQUE_VIOLATION, 'bookings_one_live_per_phone');
  });
});

describe('slot status trigger', () => {
  it('derives OPEN / PARTIAL / FULL from the counts and bumps version on every update', async () => {
    const [slot] = await q(insertSlot, slotOn(await resource(false), '2030-05-01T10:00Z', '2030-05-01T11:00Z', 2));
    expect(slot).toMatchObject({ status: 'OPEN', version: 1 });
    const update = async (set: string) => (await q(`UPDATE slots SET ${set} WHERE id = $1 RETURNING status, version, booked, held`, [slot!.id]))[0];

    expect(await update('held = 1')).toMatchObject({ status: 'PARTIAL', version: 2 });
    expect(await update('booked = 1')).toMatchObject({ status: 'FULL', version: 3 });
    // A caller cannot force a status the counts contradict.
    expect(await update(`status = 'OPEN'`)).toMatchObject({ status: 'FULL', version: 4 });
    expect(await update('held = 0')).toMatchObject({ status: 'PARTIAL', version: 5 });
    expect(await update('booked = 0')).toMatchObject({ status: 'OPEN', version: 6 });
    // A no-op update still bumps the version, so every write is visible to live clients.
    expect(await update('booked = booked')).toMatchObject({ status: 'OPEN', version: 7 });
    expect(await update('capacity = 0')).toMatchObject({ status: 'FULL', version: 8 });
  });

  it('keeps BLOCKED and CANCELLED whatever the counts', async () => {
    const [slot] = await q(insertSlot, slotOn(await resource(false), '2030-05-02T10:00Z', '2030-05-02T11:00Z', 2, 1, 0));
    expect(slot).toMatchObject({ status: 'PARTIAL', version: 1 });
    const update = async (set: string) => (await q(`UPDATE slots SET ${set} WHERE id = $1 RETURNING status, version`, [slot!.id]))[0];
    expect(await update(`status = 'BLOCKED'`)).toMatchObject({ status: 'BLOCKED', version: 2 });
    expect(await update('booked = 2')).toMatchObject({ status: 'BLOCKED', version: 3 });
    expect(await update('booked = 0')).toMatchObject({ status: 'BLOCKED', version: 4 });
    expect(await update(`status = 'CANCELLED'`)).toMatchObject({ status: 'CANCELLED', version: 5 });
    expect(await update('held = 1')).toMatchObject({ status: 'CANCELLED', version: 6 });
    // Unblocking hands the status back to the counts.
    expect(await update(`status = 'OPEN'`)).toMatchObject({ status: 'PARTIAL', version: 7 });

    const [blocked] = await q(
      `INSERT INTO slots (location_id, time_zone, start_at, end_at, capacity, status)
      VALUES ($1, 'UTC', '2030-05-03T10:00Z', '2030-05-03T11:00Z', 1, 'BLOCKED') RETURNING status, version`,
      [locationId],
    );
    expect(blocked).toEqual({ status: 'BLOCKED', version: 1 });
  });
});
