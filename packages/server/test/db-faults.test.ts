import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, ADMIN_DATABASE_URL } from './databases.js';
import {
  bookingLoad,
  checkInvariants,
  createBookableSlots,
  readiness,
  spawnServer,
  tally,
  terminateConnections,
  type ServerProcess,
} from './faults.js';
import { waitFor } from './kit/wait.js';

// PostgreSQL drops the server's connections (pg_terminate_backend, as in a failover or an admin's
// cleanup) again and again while clients book. Only this file's own database is touched.
let database: Awaited<ReturnType<typeof createTestDatabase>>;
let server: ServerProcess;
let slotIds: string[];

beforeAll(async () => {
  database = await createTestDatabase();
  ({ slotIds } = await createBookableSlots(database.url, 20, 100));
  server = await spawnServer({ DATABASE_URL: database.url, DATABASE_POOL_MAX: '10' });
}, 60_000);

afterAll(async () => {
  await server?.kill();
  await database?.drop();
});

describe('PostgreSQL connections terminated under a booking load', () => {
  it('keeps serving: every answered booking is stored, counters match, /readyz recovers', async () => {
    const load = bookingLoad({ url: server.url, slotIds, concurrency: 10, maxRequests: 400, maxMs: 20_000 });
    const terminated: number[] = [];
    for (let round = 0; round < 6; round++) {
      // Each round waits for a few more answers, so the terminations land in the middle of the load.
      const before = load.attempts.length;
      await waitFor(() => load.attempts.length >= before + 10 || load.attempts.length >= 400, 'answers between terminations', 15_000, 10);
      terminated.push(await terminateConnections(ADMIN_DATABASE_URL, database.name));
    }
    const attempts = await load.done;

    expect(server.exit(), 'the server process is still running').toBeNull();
    expect(
      terminated.reduce((a, b) => a + b, 0),
      'connections were terminated',
    ).toBeGreaterThan(0);
    const outcomes = tally(attempts);
    // Each request is answered: booked, or told to try again; never a crash, an internal error or no answer.
    expect(
      Object.keys(outcomes).filter((o) => !['BookingReceipt', 'TryAgainError', 'TRY_AGAIN'].includes(o)),
      JSON.stringify(outcomes),
    ).toEqual([]);
    expect(outcomes.BookingReceipt ?? 0).toBeGreaterThan(attempts.length / 2);

    const invariants = await checkInvariants(database.url, load.receipts());
    expect(invariants.missing).toEqual([]);
    expect(invariants.counterMismatches).toEqual([]);

    const ready = await waitFor(async () => {
      const r = await readiness(server.url);
      return r?.status === 200 ? r : null;
    }, '/readyz to recover');
    expect(ready.body.checks).toMatchObject({ database: 'ok', migrations: 'ok' });
    // No stack traces for this: the lost connections are one warn line each.
    expect(server.logs.filter((l) => l.level === 60 || (l.msg as string)?.startsWith('uncaught'))).toEqual([]);
  }, 60_000);
});
