import { afterAll, expect, it } from 'vitest';
import { openDatabase, type Database } from '../src/db/database.js';
import { migrate, readMigrations } from '../src/db/migrate.js';
import { Pii } from '../src/shared/pii.js';
import { createTestDatabase } from './databases.js';
import { TEST_SECRETS } from './kit/app.js';

// Migration 0006 on a database that already breaks its rule: it must apply, keep every booking,
// and exempt only the later duplicates, so the unique indexes hold from then on.
let db: Database | undefined;
let database: Awaited<ReturnType<typeof createTestDatabase>> | undefined;
afterAll(async () => {
  await db?.close();
  await database?.drop();
});

it('applies on a database with duplicate live bookings: the first of each stays, later ones are marked legacy_duplicate', async () => {
  database = await createTestDatabase({ empty: true });
  db = await openDatabase({ url: database.url, poolMax: 2 });
  const all = readMigrations();
  await migrate(
    db.sql,
    all.filter((m) => m.version < 6),
  );

  const pii = new Pii(TEST_SECRETS.ENCRYPTION_KEY);
  const [{ slot_id: slotId }] = (await db.sql.query<{ slot_id: string }>(
    `WITH l AS (INSERT INTO locations (name, time_zone) VALUES ('Old', 'UTC') RETURNING id),
          r AS (INSERT INTO resources (location_id, kind, name) SELECT id, 'PERSON', 'Old' FROM l RETURNING id, location_id)
     INSERT INTO slots (location_id, resource_id, time_zone, start_at, end_at, capacity)
     SELECT location_id, id, 'UTC', now() + interval '1 day', now() + interval '1 day 30 minutes', 10 FROM r RETURNING id AS slot_id`,
  )) as [{ slot_id: string }];
  // Ids in creation order, as the migration reads it (`o.id < b.id`): uuid_v7() is random within
  // one millisecond, so the rows of this test, made in the same one, get theirs from here.
  let made = 0;
  const old = async (label: string, email: string, phone: string | null, status: string) =>
    (
      await db!.sql.query<{ id: string }>(
        `INSERT INTO bookings (id, kind, slot_id, resource_id, location_id, start_at, end_at, status, customer_name, customer_email, customer_email_hash,
         customer_phone_hash, ics_uid, confirmed_at, hold_expires_at)
       SELECT $6::uuid, 'SLOT', id, resource_id, location_id, start_at, end_at, $2::booking_status, $3, 'x', $4, $5, gen_random_uuid()::text, now(), now() + interval '1 hour'
       FROM slots WHERE id = $1 RETURNING id`,
        [slotId, status, label, pii.emailHash(email), phone && pii.phoneHash(phone), `01a23000-0000-7000-8000-${String(++made).padStart(12, '0')}`],
      )
    )[0]!.id;
  const first = await old('first', 'dup@example.com', '+1 555 010 0001', 'CONFIRMED');
  const sameEmail = await old('same email', 'DUP@example.com', null, 'HELD');
  const samePhone = await old('same phone', 'other@example.com', '+15550100001', 'CONFIRMED');
  const cancelled = await old('cancelled', 'dup@example.com', null, 'CANCELLED');
  const someoneElse = await old('someone else', 'else@example.com', null, 'CONFIRMED');

  expect(await migrate(db.sql, all)).toEqual(all.filter((m) => m.version >= 6).map((m) => m.name));
  const rows = await db.sql.query<{ id: string; legacy_duplicate: boolean; status: string }>(
    `SELECT id, legacy_duplicate, status::text FROM bookings ORDER BY id`,
  );
  expect(rows.map((r) => [r.id, r.legacy_duplicate, r.status])).toEqual([
    [first, false, 'CONFIRMED'],
    [sameEmail, true, 'HELD'],
    [samePhone, true, 'CONFIRMED'],
    [cancelled, false, 'CANCELLED'],
    [someoneElse, false, 'CONFIRMED'],
  ]);
  // From now on the rule holds.
  await expect(old('new duplicate', 'dup@example.com', null, 'CONFIRMED')).rejects.toThrow(/bookings_one_live_per_email/);
  await expect(old('new duplicate', 'new@example.com', '+1 (555) 010-0001', 'HELD')).rejects.toThrow(/bookings_one_live_per_phone/);
});
