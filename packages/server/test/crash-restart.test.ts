import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase } from './databases.js';
import { bookingLoad, checkInvariants, createBookableSlots, sendBooking, spawnServer, tally, withClient, type ServerProcess } from './faults.js';
import { waitFor } from './kit/wait.js';

// The server process is SIGKILLed in the middle of a booking load (no shutdown, requests cut off),
// then started again on the same database.
let database: Awaited<ReturnType<typeof createTestDatabase>>;
let slotIds: string[];
let restarted: ServerProcess | undefined;

beforeAll(async () => {
  database = await createTestDatabase();
  ({ slotIds } = await createBookableSlots(database.url, 10, 100));
}, 30_000);

afterAll(async () => {
  await restarted?.kill();
  await database?.drop();
});

describe('SIGKILL during a booking load, then a restart', () => {
  it('keeps every booking a client saw, counters equal live bookings, no hold outlives its expiry, replays answer the original', async () => {
    const first = await spawnServer({ DATABASE_URL: database.url });
    // Every 4th request only holds, so there are holds in flight when the process dies.
    const load = bookingLoad({ url: first.url, slotIds, concurrency: 8, maxRequests: 300, maxMs: 20_000, holdEvery: 4 });
    await waitFor(() => load.receipts().length >= 40, 'bookings before the kill');
    await first.kill('SIGKILL');
    const attempts = await load.stop();
    expect(first.exit()).toEqual({ code: null, signal: 'SIGKILL' });
    const receipts = load.receipts();
    // The load ran into the kill: some requests got no answer at all.
    expect(tally(attempts).network ?? 0).toBeGreaterThan(0);

    // While the server was down, the holds' time ran out (as if it had stayed down for 10 minutes).
    await withClient(database.url, (c) => c.query(`UPDATE bookings SET hold_expires_at = now() - interval '1 second' WHERE status = 'HELD'`));

    restarted = await spawnServer({ DATABASE_URL: database.url });
    const before = await checkInvariants(database.url, receipts);
    expect(before.missing).toEqual([]);
    expect(before.counterMismatches).toEqual([]);
    // The hold sweeper runs at start: the expired holds are released and the counters follow.
    const after = await waitFor(async () => {
      const invariants = await checkInvariants(database.url, receipts);
      return invariants.expiredHolds === 0 ? invariants : null;
    }, 'expired holds to be released after the restart');
    expect(after.counterMismatches).toEqual([]);

    // A client retrying with its Idempotency-Key gets the response it got before the crash.
    for (const receipt of receipts.slice(0, 10)) {
      const replay = await sendBooking(restarted.url, { key: receipt.key, query: receipt.query, variables: receipt.variables });
      expect(replay.body).toEqual(receipt.body);
    }
    // And the restarted server books as usual.
    const fresh = bookingLoad({ url: restarted.url, slotIds, concurrency: 2, maxRequests: 10, maxMs: 10_000 });
    expect(tally(await fresh.done)).toEqual({ BookingReceipt: 10 });
  }, 60_000);
});
