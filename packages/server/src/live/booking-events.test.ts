import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeGlobalID, encodeGlobalID } from '@pothos/plugin-relay';
import type { Client } from 'graphql-ws';
import { createTestApp, type TestApp } from '../../test/kit/app.js';
import { fixtures, customer } from '../../test/kit/fixtures.js';
import { CANCEL, CONFIRM, HOLD } from '../../test/kit/documents.js';
import { httpCall, sseSubscribe, wsClient, wsSubscribe, type EventLog, type LiveEvent } from '../../test/kit/live.js';
import { startServer, type RunningServer } from '../server.js';

let t: TestApp;
let server: RunningServer;
let fx: ReturnType<typeof fixtures>;
let locationId: string;
let resourceId: string;
const clients: Client[] = [];

beforeAll(async () => {
  t = await createTestApp({ config: { SHUTDOWN_TIMEOUT_MS: '200' } });
  server = await startServer(t.app, { port: 0, host: '127.0.0.1' });
  fx = fixtures(t.app.db.sql);
  locationId = await fx.location();
  resourceId = await fx.resource(locationId);
});

afterAll(async () => {
  for (const client of clients) await client.dispose();
  await server.stop();
  await t.close();
});

const api = (query: string, input: Record<string, unknown>) => httpCall(server.url, query, { input });
const hold = (slotId: string, n: number | string = 1) => api(HOLD, { slotId: encodeGlobalID('Slot', slotId), customer: customer(n) });

function subscribers() {
  const client = wsClient(server.url);
  clients.push(client);
  const variables = { resourceId: encodeGlobalID('Resource', resourceId) };
  return [wsSubscribe(client, variables), sseSubscribe(server.url, variables)] as const;
}

/** The state of one slot in an event, in database terms. */
function stateOf(event: LiveEvent, slotId: string) {
  const slot = event.slots!.find((s) => decodeGlobalID(s.id).id === slotId)!;
  return { status: slot.status, booked: slot.booked, held: slot.held, version: slot.version };
}

async function changes(log: EventLog<LiveEvent>, count: number) {
  await log.at(count);
  return log.items.slice(1);
}

describe('slotAvailability with the booking API', () => {
  it('pushes HELD, CONFIRMED, CANCELLED and EXPIRED in commit order, each matching the database', async () => {
    const slotId = await fx.slot(locationId, resourceId, { startAt: new Date(Date.now() + 26 * 3_600_000), capacity: 2 });
    const [ws, sse] = subscribers();
    await ws.log.at(0);
    await sse.log.at(0);
    const seen: { reason: string; db: Awaited<ReturnType<typeof fx.slotCounts>> }[] = [];
    const step = async (reason: string, action: () => Promise<unknown>) => {
      await action();
      seen.push({ reason, db: await fx.slotCounts(slotId) });
      await ws.log.at(seen.length);
      await sse.log.at(seen.length);
    };

    let held: any;
    await step('HELD', async () => (held = await hold(slotId)));
    await step('CONFIRMED', () => api(CONFIRM, { bookingId: held.booking.id, manageToken: held.manageToken }));
    await step('CANCELLED', () => api(CANCEL, { bookingId: held.booking.id, manageToken: held.manageToken }));
    await step('HELD', () => hold(slotId, 2));
    await step('EXPIRED', async () => {
      await t.app.db.sql.query(`UPDATE bookings SET hold_expires_at = now() - interval '1 second' WHERE slot_id = $1 AND status = 'HELD'`, [slotId]);
      await t.app.services.bookings.releaseExpiredHolds(); // what the hold-expiry job runs
    });

    for (const log of [ws.log, sse.log]) {
      const events = await changes(log, seen.length);
      expect(events.map((e) => e.reason)).toEqual(seen.map((s) => s.reason));
      expect(events.map((e) => stateOf(e, slotId))).toEqual(seen.map((s) => s.db));
      expect(events.every((e) => e.kind === 'CHANGE' && e.slots!.length === 1)).toBe(true);
    }
    expect(seen.map((s) => s.db.status)).toEqual(['PARTIAL', 'PARTIAL', 'OPEN', 'PARTIAL', 'OPEN']);
    ws.stop();
    sse.close();
  });

  it('a booking that fails pushes nothing; parallel holds arrive in version order and end at the database state', async () => {
    const slotId = await fx.slot(locationId, resourceId, { startAt: new Date(Date.now() + 27 * 3_600_000), capacity: 5 });
    const [ws, sse] = subscribers();
    await ws.log.at(0);
    await sse.log.at(0);

    const results = await Promise.all(Array.from({ length: 8 }, (_, i) => hold(slotId, `p${i}`)));
    expect(results.filter((r) => r.__typename === 'SlotFullError')).toHaveLength(3);
    const final = await fx.slotCounts(slotId);
    expect(final).toMatchObject({ held: 5, status: 'FULL' });
    for (const log of [ws.log, sse.log]) {
      await log.until(() => stateOf(log.items.at(-1)!, slotId).version === final.version, 5000, 'the final version');
      const versions = log.items.slice(1).map((e) => stateOf(e, slotId).version);
      expect(versions).toEqual([...versions].sort((a, b) => a - b));
      expect(new Set(versions).size).toBe(versions.length);
      expect(stateOf(log.items.at(-1)!, slotId)).toEqual({ status: 'FULL', booked: 0, held: 5, version: final.version });
    }

    // Refused: the slot is full, the transaction rolls back, nothing is pushed.
    const before = ws.log.items.length;
    expect((await hold(slotId, 'late')).__typename).toBe('SlotFullError');
    const bookingId = results.find((r) => r.__typename === 'BookingReceipt')!;
    await api(CANCEL, { bookingId: bookingId.booking.id, manageToken: bookingId.manageToken });
    const next = await ws.log.at(before);
    expect(next.reason).toBe('CANCELLED');
    expect(stateOf(next, slotId)).toEqual({ ...(await fx.slotCounts(slotId)), version: final.version + 1 });
    expect(ws.log.items).toHaveLength(before + 1);
    ws.stop();
    sse.close();
  });
});
