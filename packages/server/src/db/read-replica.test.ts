import { randomUUID } from 'node:crypto';
import { encodeGlobalID } from '@pothos/plugin-relay';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSlotwise, type Slotwise } from '../app.js';
import { loadConfig } from '../config.js';
import { TEST_SECRETS } from '../../test/kit/app.js';
import { createBookableSlots, HOLD_MUTATION, withClient } from '../../test/faults.js';
import { ADMIN_DATABASE_URL, createTestDatabase } from '../../test/databases.js';
import { parseLsn, READ_AFTER_HEADER, replicaLagMs } from './read-replica.js';

const AVAILABILITY = `query A($resourceId: ID!, $from: DateTime!, $to: DateTime!) {
  availability(resourceId: $resourceId, from: $from, to: $to) { __typename ... on Availability { slots { id held } } } }`;

/**
 * The "replica" is the same database reached as a read-only role of its own: a real streaming
 * replica cannot be set up here, and this one shows, in pg_stat_activity, which pool ran what.
 */
const ROLE = `slotwise_replica_${randomUUID().slice(0, 8)}`;
let database: Awaited<ReturnType<typeof createTestDatabase>>;

/**
 * An app on the database and its "replica". These tests route reads with the response cache off
 * (its kept answers are always read on the primary: the last test).
 */
async function startApp(RESPONSE_CACHE: 'on' | 'off') {
  const replicaUrl = new URL(database.url);
  replicaUrl.username = ROLE;
  replicaUrl.password = '';
  const config = loadConfig({
    ...TEST_SECRETS,
    DATABASE_URL: database.url,
    DATABASE_READ_URL: replicaUrl.toString(),
    LOG_LEVEL: 'silent',
    DATA_DIR: 'memory://',
    RATE_LIMIT_READS_PER_MINUTE: '0',
    RATE_LIMIT_BOOKINGS_PER_MINUTE: '0',
    RESPONSE_CACHE,
  });
  return createSlotwise({ config });
}
let app: Slotwise;
let resourceId: string;
let slotIds: string[];

const admin = <T>(fn: (client: import('pg').Client) => Promise<T>) => withClient(ADMIN_DATABASE_URL, fn);

async function gql(query: string, variables: Record<string, unknown>, headers: Record<string, string> = {}, on = app) {
  const response = await on.yoga.fetch('http://slotwise.test/graphql', {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ query, variables }),
  });
  return { headers: response.headers, body: (await response.json()) as { data: Record<string, any> } };
}

async function reads(target: 'primary' | 'replica', on = app): Promise<number> {
  return (await on.metrics.databaseReads.get()).values.find((v) => v.labels.target === target)?.value ?? 0;
}

/** Reads the week ahead and says where its statements ran (the scope and its slots: one statement). */
async function readAvailability(headers: Record<string, string> = {}, on = app) {
  const before = { primary: await reads('primary', on), replica: await reads('replica', on) };
  const from = new Date();
  const { body } = await gql(
    AVAILABILITY,
    { resourceId: encodeGlobalID('Resource', resourceId), from: from.toISOString(), to: new Date(from.getTime() + 7 * 86_400_000).toISOString() },
    headers,
    on,
  );
  expect(body.data.availability.__typename).toBe('Availability');
  return {
    slots: body.data.availability.slots as { id: string; held: number }[],
    primary: (await reads('primary', on)) - before.primary,
    replica: (await reads('replica', on)) - before.replica,
  };
}

beforeAll(async () => {
  database = await createTestDatabase();
  await admin(async (c) => {
    await c.query(`CREATE ROLE ${ROLE} LOGIN`);
    await c.query(`ALTER ROLE ${ROLE} SET default_transaction_read_only = on`);
  });
  await withClient(database.url, (c) => c.query(`GRANT SELECT ON ALL TABLES IN SCHEMA public TO ${ROLE}`));
  app = await startApp('off');
  // No periodic checks: each test runs one when it needs it (and none lands between a read and its proof).
  await app.reads.stop();
  ({ resourceId, slotIds } = await createBookableSlots(database.url, 4, 5));
}, 60_000);

afterAll(async () => {
  await app?.close();
  await database?.drop();
  await admin((c) => c.query(`DROP ROLE IF EXISTS ${ROLE}`));
});

describe('DATABASE_READ_URL', () => {
  it('runs public availability reads on the replica and bookings on the primary', async () => {
    const read = await readAvailability();
    expect(read).toMatchObject({ replica: 1, primary: 0 });
    expect(read.slots).toHaveLength(4);
    // A connection of the replica pool (its role, its application_name) last ran the slots query.
    const sessions = await admin((c) =>
      c
        .query<{ application_name: string; query: string }>(
          'SELECT application_name, query FROM pg_stat_activity WHERE usename = $1 AND datname = $2',
          [ROLE, database.name],
        )
        .then((r) => r.rows),
    );
    expect(sessions.every((s) => s.application_name === 'slotwise-read')).toBe(true);
    expect(sessions.map((s) => s.query)).toContainEqual(expect.stringContaining('FROM slots'));

    // The replica role cannot write: a hold succeeding proves the booking ran on the primary.
    const hold = await gql(HOLD_MUTATION, {
      input: { slotId: encodeGlobalID('Slot', slotIds[0]!), customer: { name: 'R', email: 'r@example.com' } },
    });
    expect(hold.body.data.hold.__typename).toBe('BookingReceipt');
  });

  it('shows a client its own write on its next read (Slotwise-Read-After)', async () => {
    const hold = await gql(HOLD_MUTATION, {
      input: { slotId: encodeGlobalID('Slot', slotIds[1]!), customer: { name: 'W', email: 'w@example.com' } },
    });
    expect(hold.body.data.hold.__typename).toBe('BookingReceipt');
    const token = hold.headers.get(READ_AFTER_HEADER)!;
    expect(parseLsn(token)).not.toBeNull();

    // Until the replica is known to have replayed that far, such a read goes to the primary.
    const ahead = await readAvailability({ [READ_AFTER_HEADER]: 'FFFFFFFF/FFFFFFFF' });
    expect(ahead).toMatchObject({ primary: 1, replica: 0 });
    expect(ahead.slots.find((s) => s.id === encodeGlobalID('Slot', slotIds[1]!))?.held).toBe(1);

    // Once it has (the next check), the same token is served by the replica, and the write shows.
    await app.reads.check();
    const after = await readAvailability({ [READ_AFTER_HEADER]: token });
    expect(after).toMatchObject({ replica: 1, primary: 0 });
    expect(after.slots.find((s) => s.id === encodeGlobalID('Slot', slotIds[1]!))?.held).toBe(1);
    // Queries send no token.
    expect(
      (
        await gql(AVAILABILITY, {
          resourceId: encodeGlobalID('Resource', resourceId),
          from: new Date().toISOString(),
          to: new Date(Date.now() + 86_400_000).toISOString(),
        })
      ).headers.get(READ_AFTER_HEADER),
    ).toBeNull();
  });

  it('falls back to the primary while the replica is down, and returns to it', async () => {
    // The replica refuses new connections and loses its open ones.
    await admin(async (c) => {
      await c.query(`ALTER ROLE ${ROLE} NOLOGIN`);
      await c.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = $1', [ROLE]);
    });
    const during = await readAvailability();
    expect(during.slots).toHaveLength(4);
    expect(during.primary).toBeGreaterThanOrEqual(1);
    await app.reads.check();
    expect(app.reads.status().healthy).toBe(false);
    expect(await readAvailability()).toMatchObject({ primary: 1, replica: 0 });

    await admin((c) => c.query(`ALTER ROLE ${ROLE} LOGIN`));
    await app.reads.check();
    expect(app.reads.status()).toEqual({ healthy: true, lagMs: 0 });
    expect(await readAvailability()).toMatchObject({ replica: 1, primary: 0 });
  });

  it('applies the booking policies of the primary to slots read on the replica', async () => {
    await withClient(database.url, (c) => c.query('UPDATE resources SET min_notice_minutes = 60 * 24 * 30 WHERE id = $1', [resourceId]));
    try {
      // The slots are days ahead: a 30-day notice leaves none bookable, so none is shown.
      expect(await readAvailability()).toMatchObject({ slots: [], replica: 1 });
    } finally {
      await withClient(database.url, (c) => c.query('UPDATE resources SET min_notice_minutes = NULL WHERE id = $1', [resourceId]));
    }
    expect((await readAvailability()).slots).toHaveLength(4);
  });
});

describe('DATABASE_READ_URL with the response cache', () => {
  it('reads on the primary an answer the cache keeps (a lagging replica would hide a booking from every instance), and on the replica one it does not', async () => {
    const cached = await startApp('on');
    try {
      await cached.reads.stop();
      // Anonymous: a miss, kept; on the primary even though the replica is caught up.
      const anonymous = await readAvailability({}, cached);
      expect(anonymous).toMatchObject({ primary: 1, replica: 0 });
      // Signed in: never kept, so the replica answers.
      const { token } = await cached.services.auth.ensureAdmin('replica.staff@example.com');
      expect(await readAvailability({ authorization: `Bearer ${token}` }, cached)).toMatchObject({ replica: 1, primary: 0 });
    } finally {
      await cached.close();
    }
  });
});

describe('replica lag', () => {
  it('reads WAL positions as numbers', () => {
    expect(parseLsn('0/16B3748')).toBe(0x16b3748n);
    expect(parseLsn('16/B374D848')! > parseLsn('15/FFFFFFFF')!).toBe(true);
    expect(parseLsn('nonsense')).toBeNull();
  });

  it('is the age of the oldest primary position the replica has not replayed', () => {
    const samples = [
      { at: 1_000, lsn: 100n },
      { at: 2_000, lsn: 200n },
      { at: 3_000, lsn: 300n },
    ];
    expect(replicaLagMs(samples, 300n, 3_500)).toBe(0);
    expect(replicaLagMs(samples, 250n, 3_500)).toBe(500);
    expect(replicaLagMs(samples, 150n, 3_500)).toBe(1_500);
    expect(replicaLagMs(samples, 50n, 3_500)).toBe(2_500);
  });
});
