import { encodeGlobalID } from '@pothos/plugin-relay';
import type { Client } from 'graphql-ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { wsClient, wsSubscribe } from './kit/live.js';
import { BOOK_MUTATION, bookingLoad, checkInvariants, createBookableSlots, readiness, sendBooking, tally, type ServerProcess } from './faults.js';
import { type OwnRedis, serversSharingOwnRedis } from './kit/redis.js';
import { waitFor } from './kit/wait.js';
import { EXPOSED } from './kit/documents.js';
import { createTestDatabase } from './databases.js';
import { randomUUID } from 'node:crypto';

// Two server processes share a Redis this test starts on its own port, then kills (SIGKILL) and
// starts again: at start, and in the middle of a booking load.
let database: Awaited<ReturnType<typeof createTestDatabase>>;
let redis: OwnRedis;
let a: ServerProcess;
let b: ServerProcess;
let resourceId: string;
let slotIds: string[];
const clients: Client[] = [];

beforeAll(async () => {
  database = await createTestDatabase();
  ({ resourceId, slotIds } = await createBookableSlots(database.url, 10, 500));
  ({
    redis,
    servers: [a, b],
  } = await serversSharingOwnRedis(database.url, { redisDown: true }));
}, 60_000);

afterAll(async () => {
  for (const client of clients) await client.dispose();
  await Promise.all([a?.kill(), b?.kill()]);
  await redis?.kill();
  await database?.drop();
});

const variables = () => ({ resourceId: encodeGlobalID('Resource', resourceId) });
const book = (server: ServerProcess, n: number) =>
  sendBooking(server.url, {
    key: randomUUID(),
    query: BOOK_MUTATION,
    variables: {
      input: {
        slotId: encodeGlobalID('Slot', slotIds[n % slotIds.length]!),
        customer: { name: `R ${n}`, email: `r-${server.url.split(':').pop()}-${n}@example.com` },
      },
    },
  });

function subscribe(server: ServerProcess) {
  const client = wsClient(server.url);
  clients.push(client);
  return wsSubscribe(client, variables());
}

/**
 * Books on `from` until a subscriber on `to` sees a change. A subscriber whose instance has just
 * got its Redis subscription back is told to start over (resync): it subscribes again, as clients do.
 */
async function expectCrossInstanceDelivery(from: ServerProcess, to: ServerProcess) {
  let sub = subscribe(to);
  let n = 1000;
  await waitFor(
    async () => {
      if (sub.log.ended) {
        expect(JSON.stringify(sub.log.error)).toContain('subscribe again');
        sub = subscribe(to);
      }
      await sub.log.at(0, 10_000);
      expect((await book(from, n++)).outcome).toBe('BookingReceipt');
      await sub.log.until(() => sub.log.items.length > 1, 1_000).catch(() => {});
      return sub.log.items.length > 1;
    },
    `an event on ${to.url} for a booking on ${from.url}`,
    20_000,
    0,
  );
  expect(sub.log.items[1]).toMatchObject({ kind: 'CHANGE', reason: 'CONFIRMED' });
  sub.stop();
}

describe('Redis down at start, killed mid-load, back again', () => {
  it("starts degraded without Redis: ready, bookings succeed, local subscribers get their instance's events", async () => {
    for (const server of [a, b]) {
      const ready = await readiness(server.url);
      expect(ready).toMatchObject({ status: 200, body: { ok: true, checks: { database: 'ok', redis: 'degraded' } } });
    }
    const sub = subscribe(a);
    await sub.log.at(0);
    expect((await book(a, 1)).outcome).toBe('BookingReceipt');
    expect((await book(b, 2)).outcome).toBe('BookingReceipt');
    expect(await sub.log.at(1)).toMatchObject({ kind: 'CHANGE', reason: 'CONFIRMED' });
    sub.stop();

    // The exposure cache works in-process: the same session sees the same exposure again.
    const expose = async () => {
      const response = await fetch(`${a.url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          query: EXPOSED,
          variables: {
            resourceId: encodeGlobalID('Resource', resourceId),
            date: new Date(Date.now() + 2 * 86_400_000).toISOString().slice(0, 10),
            sessionId: 'redis-down',
          },
        }),
      });
      return ((await response.json()) as { data: { exposedSlots: { __typename: string; slots: { id: string }[] } } }).data.exposedSlots;
    };
    const first = await expose();
    expect(first.__typename).toBe('ExposedSlots');
    expect(first.slots.length).toBeGreaterThan(0);
    expect(await expose()).toEqual(first);
    expect(await (await fetch(`${a.url}/metrics`)).text()).toMatch(/slotwise_redis_fallback_total\{component="exposure-cache"\} [1-9]/);
  }, 30_000);

  it('resumes cross-instance events when Redis comes up, without a restart', async () => {
    await redis.start();
    for (const server of [a, b]) await waitFor(async () => (await readiness(server.url))?.body.checks.redis === 'ok', `redis ok on ${server.url}`);
    await expectCrossInstanceDelivery(a, b);
  }, 40_000);

  it('keeps booking and delivering locally while Redis is killed mid-load, then resumes cross-instance', async () => {
    const sub = subscribe(a);
    await sub.log.at(0);
    const loads = [a, b].map((server) => bookingLoad({ url: server.url, slotIds, concurrency: 4, maxRequests: 80, maxMs: 20_000 }));
    const answers = () => loads.reduce((n, l) => n + l.attempts.length, 0);
    await waitFor(() => answers() >= 20, 'answers before the kill');
    await redis.kill();
    const eventsAtKill = sub.log.items.length;
    const answersAtKill = answers();
    await waitFor(() => answers() >= answersAtKill + 40, 'answers while Redis is down', 20_000);
    // This instance's own bookings still reach this instance's subscriber.
    await sub.log.until(() => sub.log.items.length > eventsAtKill, 5_000, 'a local event while Redis is down');
    expect(await readiness(a.url)).toMatchObject({ status: 200, body: { ok: true, checks: { redis: 'degraded' } } });

    await redis.start();
    const attempts = (await Promise.all(loads.map((l) => l.done))).flat();
    expect(tally(attempts)).toEqual({ BookingReceipt: attempts.length });
    for (const server of [a, b]) await waitFor(async () => (await readiness(server.url))?.body.checks.redis === 'ok', `redis ok on ${server.url}`);
    await expectCrossInstanceDelivery(b, a);

    expect([a.exit(), b.exit()]).toEqual([null, null]);
    const invariants = await checkInvariants(
      database.url,
      loads.flatMap((l) => l.receipts()),
    );
    expect(invariants).toMatchObject({ missing: [], counterMismatches: [] });
    // Fail open, counted and logged once per outage and component (not once per request).
    const metrics = await (await fetch(`${a.url}/metrics`)).text();
    expect(metrics).toMatch(/slotwise_redis_fallback_total\{component="ratelimit"\} [1-9]/);
    const fallbackLines = a.logs.filter((l) => l.msg === 'redis unavailable; working in-process until it is back' && l.component === 'ratelimit');
    expect(fallbackLines.length).toBeGreaterThanOrEqual(1);
    expect(fallbackLines.length).toBeLessThanOrEqual(3);
    expect(a.logs.filter((l) => (l.level as number) >= 50)).toEqual([]);
  }, 60_000);
});
