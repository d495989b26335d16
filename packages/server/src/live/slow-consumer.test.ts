import { once } from 'node:events';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeGlobalID } from '@pothos/plugin-relay';
import WebSocket from 'ws';
import type { Client } from 'graphql-ws';
import { createTestApp, type TestApp } from '../../test/kit/app.js';
import { fixtures } from '../../test/kit/fixtures.js';
import { waitFor } from '../../test/kit/wait.js';
import { wsClient, wsSubscribe } from '../../test/kit/live.js';
import { startServer, type RunningServer } from '../server.js';
import { runAndPublish, slotChangesIn } from './after-commit.js';

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
const slotIds: string[] = [];
let client: Client;

beforeAll(async () => {
  // Keep-alive would also drop the stuck socket (it cannot answer pings); here the buffer must do it.
  t = await createTestApp({ config: { LIVE_SUBSCRIBER_BUFFER: String(BUFFER), SHUTDOWN_TIMEOUT_MS: '200', LIVE_KEEPALIVE_MS: '120000' } });
  server = await startServer(t.app, { port: 0, host: '127.0.0.1' });
  const fx = fixtures(t.app.db.sql);
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
  socket.send(
    JSON.stringify({ id: '1', type: 'subscribe', payload: { query: WIDE_QUERY, variables: { resourceId: encodeGlobalID('Resource', resourceId) } } }),
  );
  const [snapshot] = await once(socket, 'message');
  expect(JSON.parse(String(snapshot))).toMatchObject({ type: 'next', id: '1' });
  const closed = once(socket, 'close') as Promise<[number, Buffer]>;
  (socket as unknown as { _socket: { pause(): void; resume(): void } })._socket.pause();
  return { closed, resume: () => (socket as unknown as { _socket: { resume(): void } })._socket.resume() };
}

/** A stuck SSE subscriber: reads the snapshot, then never reads its response again. */
async function stuckSseSubscriber(url: string) {
  const response = await fetch(`${url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'text/event-stream' },
    body: JSON.stringify({ query: WIDE_QUERY, variables: { resourceId: encodeGlobalID('Resource', resourceId) } }),
  });
  const reader = response.body!.getReader();
  await reader.read();
  /** Reads what is left; resolves how the stream ended. */
  const drain = async (): Promise<'ended' | 'cut'> => {
    try {
      while (!(await reader.read()).done);
      return 'ended';
    } catch {
      return 'cut';
    }
  };
  return { drain };
}

type Normal = ReturnType<typeof wsSubscribe>;

/**
 * Commits a change to every slot (one event of ~200 kB) until `stop()` holds, waiting each time until
 * the normal subscriber has it; returns commit-to-receipt times.
 */
async function churn(normal: Normal, stop: () => boolean, limit = 400): Promise<number[]> {
  const latencies: number[] = [];
  for (let round = 0; !stop(); round++) {
    if (round >= limit) throw new Error('the stuck subscriber was never cut off');
    const index = normal.log.items.length;
    const committed = await runAndPublish(t.app.db.prisma, t.app.services.slotEvents, async (tx, changes) => {
      await tx.slot.updateMany({ where: { id: { in: slotIds } }, data: { held: round % 2 ? { decrement: 1 } : { increment: 1 } } });
      changes.push(...(await slotChangesIn(tx, slotIds, round % 2 ? 'CANCELLED' : 'HELD')));
      return performance.now();
    });
    await normal.log.at(index);
    latencies.push(performance.now() - committed);
  }
  return latencies;
}

const summary = (latencies: number[]) => {
  const sorted = [...latencies].sort((a, b) => a - b);
  return `p50 ${sorted[Math.floor(sorted.length / 2)]!.toFixed(0)} ms, max ${sorted.at(-1)!.toFixed(0)} ms`;
};

describe('a slow subscriber', () => {
  let normal: Normal;
  const feed = () => t.app.services.slotAvailability.feed;

  beforeAll(async () => {
    client = wsClient(server.url);
    normal = wsSubscribe(client, { resourceId: encodeGlobalID('Resource', resourceId) }, WIDE_QUERY);
    await normal.log.at(0);
  });

  it('over WebSocket is cut off with close code 4008 while a normal subscriber keeps receiving promptly', async () => {
    const stuck = await stuckSubscriber(server.url);
    expect(feed().size).toBe(2);
    const before = await churn(normal, () => feed().size === 1);
    // Reading again, it gets what was already written, then the close frame.
    stuck.resume();
    let rounds = 0;
    const after = await churn(normal, () => rounds++ === 5);
    const [code, reason] = await stuck.closed;
    expect(code).toBe(4008);
    expect(String(reason)).toBe('subscriber too slow');
    expect(Math.max(...before, ...after)).toBeLessThan(1000);
    console.info(`WebSocket subscriber cut after ${before.length} events; normal subscriber meanwhile ${summary(before)}`);
  }, 120_000);

  it('over SSE has its response ended while a normal subscriber keeps receiving promptly', async () => {
    const stuck = await stuckSseSubscriber(server.url);
    await waitFor(() => feed().size === 2, 'the SSE subscription', 2000);
    const latencies = await churn(normal, () => feed().size === 1);
    expect(await stuck.drain()).toBe('cut');
    expect(Math.max(...latencies)).toBeLessThan(1000);
    console.info(`SSE subscriber cut after ${latencies.length} events; normal subscriber meanwhile ${summary(latencies)}`);
  }, 120_000);
});
