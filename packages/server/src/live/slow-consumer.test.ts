import { once } from 'node:events';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeGlobalID } from '@pothos/plugin-relay';
import WebSocket from 'ws';
import type { Client } from 'graphql-ws';
import { createTestApp, type TestApp } from '../../test/harness.js';
import { startServer, type RunningServer } from '../server.js';
import { bookingFixtures } from '../booking/test-fixtures.js';
import { runAndPublish, slotChangesIn } from './after-commit.js';
import { wsClient, wsSubscribe } from './test-clients.js';

const BUFFER = 5;
const SLOTS = 150;
/** Each slot id twenty times over (cheap to resolve, many bytes), so the stuck socket's buffers fill in few events. */
const WIDE_QUERY = `subscription ($resourceId: ID) {
  slotAvailability(resourceId: $resourceId) {
    ... on SlotAvailabilityEvent {
      kind reason
      slots { id startAt capacity booked held remaining status version ${Array.from({ length: 20 }, (_, i) => `i${i}: id`).join(' ')} }
    }
  }
}`;

let t: TestApp;
let server: RunningServer;
let resourceId: string;
let slotIds: string[] = [];
let client: Client;

beforeAll(async () => {
  t = await createTestApp({ config: { LIVE_SUBSCRIBER_BUFFER: String(BUFFER), SHUTDOWN_TIMEOUT_MS: '200' } });
  server = await startServer(t.app, { port: 0, host: '127.0.0.1' });
  const fx = bookingFixtures(t.app.db.sql);
  const locationId = await fx.location();
  resourceId = await fx.resource(locationId);
  const start = Date.now() + 86_400_000;
  for (let i = 0; i < SLOTS; i++) slotIds.push(await fx.slot(locationId, resourceId, { startAt: new Date(start + i * 1_800_000), capacity: 1000 }));
});

afterAll(async () => {
  await client?.dispose();
  await server.stop();
  await t.close();
});

/** A graphql-transport-ws client that subscribes and then stops reading its socket. */
async function stuckSubscriber(url: string) {
  const socket = new WebSocket(`${url.replace(/^http/, 'ws')}/graphql`, 'graphql-transport-ws');
  await once(socket, 'open');
  socket.send(JSON.stringify({ type: 'connection_init', payload: {} }));
  const [ack] = await once(socket, 'message');
  expect(JSON.parse(String(ack))).toMatchObject({ type: 'connection_ack' });
  socket.send(JSON.stringify({ id: '1', type: 'subscribe', payload: { query: WIDE_QUERY, variables: { resourceId: encodeGlobalID('Resource', resourceId) } } }));
  const [snapshot] = await once(socket, 'message');
  expect(JSON.parse(String(snapshot))).toMatchObject({ type: 'next', id: '1' });
  const closed = once(socket, 'close') as Promise<[number, Buffer]>;
  (socket as unknown as { _socket: { pause(): void; resume(): void } })._socket.pause();
  return { closed, resume: () => (socket as unknown as { _socket: { resume(): void } })._socket.resume() };
}

describe('a slow subscriber', () => {
  it('is cut off with close code 4008 while a normal subscriber keeps receiving promptly', async () => {
    const stuck = await stuckSubscriber(server.url);
    client = wsClient(server.url);
    const normal = wsSubscribe(client, { resourceId: encodeGlobalID('Resource', resourceId) }, WIDE_QUERY);
    await normal.log.at(0);
    const feed = t.app.services.slotAvailability.feed;
    expect(feed.size).toBe(2);

    // Each change touches every slot: one event of ~200 kB, until the stuck socket's kernel buffers are full.
    const latencies: number[] = [];
    for (let i = 1; feed.size === 2; i++) {
      if (i > 400) throw new Error('the stuck subscriber was never cut off');
      const committed = await runAndPublish(t.app.db.prisma, t.app.services.slotEvents, async (tx, changes) => {
        await tx.slot.updateMany({ where: { id: { in: slotIds } }, data: { held: { increment: 1 } } });
        changes.push(...(await slotChangesIn(tx, slotIds, 'HELD')));
        return performance.now();
      });
      await normal.log.at(i);
      latencies.push(performance.now() - committed);
    }
    expect(feed.size).toBe(1);
    const rounds = latencies.length;
    // Reading again, it gets what was already written, then the close frame.
    stuck.resume();
    // The normal subscriber never waited on the stuck one, before or after the cut.
    for (let i = 0; i < 5; i++) {
      const committed = await runAndPublish(t.app.db.prisma, t.app.services.slotEvents, async (tx, changes) => {
        await tx.slot.updateMany({ where: { id: { in: slotIds } }, data: { held: { decrement: 1 } } });
        changes.push(...(await slotChangesIn(tx, slotIds, 'CANCELLED')));
        return performance.now();
      });
      await normal.log.at(rounds + 1 + i);
      latencies.push(performance.now() - committed);
    }
    latencies.sort((a, b) => a - b);
    expect(latencies.at(-1)).toBeLessThan(1000);

    const [code, reason] = await stuck.closed;
    expect(code).toBe(4008);
    expect(String(reason)).toBe('subscriber too slow');
    console.info(`slow subscriber cut after ${rounds} events; normal subscriber latency p50 ${latencies[Math.floor(latencies.length / 2)]!.toFixed(1)} ms, max ${latencies.at(-1)!.toFixed(1)} ms`);
  }, 120_000);
});
