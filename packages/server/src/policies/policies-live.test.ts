import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeGlobalID } from '@pothos/plugin-relay';
import type { Client } from 'graphql-ws';
import { createTestApp, type TestApp } from '../../test/kit/app.js';
import { fixtures, customer, gid } from '../../test/kit/fixtures.js';
import { call } from '../../test/kit/documents.js';
import { sseSubscribe, wsClient, wsSubscribe, type LiveEvent } from '../../test/kit/live.js';
import { startServer, type RunningServer } from '../server.js';

const MIN = 60_000;
let t: TestApp;
let server: RunningServer;
let fx: ReturnType<typeof fixtures>;
let locationId: string;
const clients: Client[] = [];

const ids = (event: LiveEvent | undefined) => (event?.slots ?? []).map((s) => decodeGlobalID(s.id).id);
const BOOK = `mutation Book($input: BookInput!) { book(input: $input) { __typename } }`;

beforeAll(async () => {
  t = await createTestApp();
  server = await startServer(t.app, { port: 0, host: '127.0.0.1' });
  fx = fixtures(t.app.db.sql);
  locationId = await fx.location();
});

afterAll(async () => {
  for (const client of clients) await client.dispose();
  await server?.stop();
  await t?.close();
});

describe('live availability under booking policies', () => {
  it('a slot entering the minimum notice disappears from graphql-ws and SSE subscribers as time passes', async () => {
    const person = await fx.resource(locationId);
    await t.app.db.sql.query(`UPDATE resources SET min_notice_minutes = 1 WHERE id = $1`, [person]);
    const now = Date.now();
    const inside = await fx.slot(locationId, person, { startAt: new Date(now + 30_000) });
    // Reaches its notice window about 6 seconds from now; the later one stays.
    const soon = await fx.slot(locationId, person, { startAt: new Date(now + MIN + 6_000) });
    const later = await fx.slot(locationId, person, { startAt: new Date(now + 60 * MIN) });

    const variables = { resourceId: gid('Resource', person) };
    const client = wsClient(server.url);
    clients.push(client);
    const ws = wsSubscribe(client, variables);
    const sse = sseSubscribe(server.url, variables);
    try {
      for (const log of [ws.log, sse.log]) {
        // Name the transport and its stream error when the snapshot does not come.
        const snapshot = await log.at(0, 15_000).catch((e) => {
          throw new Error(`${log === ws.log ? 'graphql-ws' : 'SSE'}: ${e}; stream error: ${String(log.error)}`);
        });
        expect(snapshot.kind).toBe('SNAPSHOT');
        expect(ids(snapshot)).toEqual([soon, later]);
        expect(ids(snapshot)).not.toContain(inside);
      }
      for (const log of [ws.log, sse.log]) {
        // Generous: the removal is due ~6 s in; a loaded machine may be slower.
        const removed = await log.at(1, 40_000);
        expect(removed).toMatchObject({ kind: 'REMOVED', reason: null });
        expect(ids(removed)).toEqual([soon]);
      }
      // And the API agrees: booking it now is refused by the same rule.
      const refused = await call(t, BOOK, { slotId: gid('Slot', soon), customer: customer() });
      expect(refused.__typename).toBe('BookingPolicyError');
    } finally {
      ws.stop();
      sse.close();
    }
  }, 90_000);

  it("a booking that fills the day removes its slot and the day's other slots (REMOVED) from subscribers", async () => {
    const person = await fx.resource(locationId);
    await t.app.db.sql.query(`UPDATE resources SET max_bookings_per_day = 1 WHERE id = $1`, [person]);
    const day = Math.floor(Date.now() / 86_400_000) * 86_400_000 + 3 * 86_400_000;
    const slot = await fx.slot(locationId, person, { startAt: new Date(day + 10 * 3_600_000), capacity: 3 });
    const neighbour = await fx.slot(locationId, person, { startAt: new Date(day + 14 * 3_600_000), capacity: 3 });
    const client = wsClient(server.url);
    clients.push(client);
    const ws = wsSubscribe(client, { resourceId: gid('Resource', person) });
    try {
      expect(ids(await ws.log.at(0, 15_000))).toEqual([slot, neighbour]);
      expect((await call(t, BOOK, { slotId: gid('Slot', slot), customer: customer() })).__typename).toBe('BookingReceipt');
      const removed = await ws.log.at(1, 15_000);
      expect(removed).toMatchObject({ kind: 'REMOVED', reason: 'CONFIRMED' });
      expect(ids(removed)).toEqual([slot]);
      // The other slot of that day did not change, but the day's limit now refuses it: it goes too.
      await ws.log.until(() => ws.log.items.some((e) => e.kind === 'REMOVED' && ids(e).includes(neighbour)), 15_000, 'the neighbour removed');
    } finally {
      ws.stop();
    }
  }, 60_000);
});
