import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeGlobalID, decodeGlobalID } from '@pothos/plugin-relay';
import { once } from 'node:events';
import WebSocket from 'ws';
import type { Client } from 'graphql-ws';
import { createTestApp, type TestApp } from '../../test/kit/app.js';
import { fixtures } from '../../test/kit/fixtures.js';
import { sseSubscribe, wsClient, wsSubscribe, type LiveEvent } from '../../test/kit/live.js';
import { waitFor } from '../../test/kit/wait.js';
import { startServer, type RunningServer } from '../server.js';
import { runAndPublish, slotChangesIn } from './after-commit.js';

const HOUR = 3_600_000;
let t: TestApp;
let server: RunningServer;
let fx: ReturnType<typeof fixtures>;
let locationId: string;
let resourceId: string;
let slotIds: string[];
const clients: Client[] = [];

/** Local id of a Slot global id. */
const local = (globalId: string) => decodeGlobalID(globalId).id;

beforeAll(async () => {
  t = await createTestApp({ config: { MAX_SUBSCRIPTIONS_PER_CONNECTION: '3', SHUTDOWN_TIMEOUT_MS: '200', LIVE_KEEPALIVE_MS: '300' } });
  server = await startServer(t.app, { port: 0, host: '127.0.0.1' });
  fx = fixtures(t.app.db.sql);
  locationId = await fx.location();
  resourceId = await fx.resource(locationId);
  const base = Date.now() + 24 * HOUR;
  slotIds = [];
  for (let i = 0; i < 3; i++) slotIds.push(await fx.slot(locationId, resourceId, { startAt: new Date(base + i * HOUR), capacity: 2 }));
});

afterAll(async () => {
  for (const client of clients) await client.dispose();
  await server.stop();
  await t.close();
});

function client() {
  const c = wsClient(server.url);
  clients.push(c);
  return c;
}

/** Holds one place on a slot in a committed transaction and publishes it, as the booking code does. */
function holdPlace(slotId: string, reason: 'HELD' | 'CONFIRMED' = 'HELD') {
  return runAndPublish(t.app.db.prisma, t.app.services.slotEvents, async (tx, changes) => {
    await tx.slot.update({ where: { id: slotId }, data: { held: { increment: 1 } } });
    changes.push(...(await slotChangesIn(tx, [slotId], reason)));
  });
}

async function dbSlots() {
  const rows = await t.app.db.sql.query<{ id: string; status: string; booked: number; held: number; version: number }>(
    `SELECT id, status, booked, held, version FROM slots
      WHERE resource_id = $1 AND status <> 'CANCELLED' AND start_at < now() + interval '14 days' ORDER BY start_at`,
    [resourceId],
  );
  return rows.map((r) => ({ id: r.id, status: r.status, booked: r.booked, held: r.held, version: r.version }));
}

const shown = (event: LiveEvent) =>
  event.slots!.map((s) => ({ id: local(s.id), status: s.status, booked: s.booked, held: s.held, version: s.version }));

describe('slotAvailability', () => {
  it('sends a snapshot first over WebSocket and SSE, then each committed change with its reason and version', async () => {
    const variables = { resourceId: encodeGlobalID('Resource', resourceId) };
    const ws = wsSubscribe(client(), variables);
    const sse = sseSubscribe(server.url, variables);
    for (const log of [ws.log, sse.log]) {
      const snapshot = await log.at(0);
      expect(snapshot).toMatchObject({ __typename: 'SlotAvailabilityEvent', kind: 'SNAPSHOT', reason: null });
      expect(shown(snapshot)).toEqual(await dbSlots());
    }

    await holdPlace(slotIds[0]!);
    // Waiting for the first event keeps its re-read from seeing the second change already.
    await Promise.all([ws.log.at(1), sse.log.at(1)]);
    await holdPlace(slotIds[0]!, 'CONFIRMED');
    for (const log of [ws.log, sse.log]) {
      const [first, second] = [await log.at(1), await log.at(2)];
      expect(first).toMatchObject({ kind: 'CHANGE', reason: 'HELD', slots: [{ status: 'PARTIAL', held: 1, remaining: 1, version: 2 }] });
      expect(second).toMatchObject({ kind: 'CHANGE', reason: 'CONFIRMED', slots: [{ status: 'FULL', held: 2, remaining: 0, version: 3 }] });
      expect(local(first.slots![0]!.id)).toBe(slotIds[0]);
    }
    ws.stop();
    sse.close();
  });

  it('pushes nothing for a transaction that rolled back', async () => {
    const { log, stop } = wsSubscribe(client(), { resourceId: encodeGlobalID('Resource', resourceId) });
    await log.at(0);
    await expect(
      runAndPublish(t.app.db.prisma, t.app.services.slotEvents, async (tx, changes) => {
        await tx.slot.update({ where: { id: slotIds[1]! }, data: { held: { increment: 1 } } });
        changes.push(...(await slotChangesIn(tx, [slotIds[1]!], 'HELD')));
        throw new Error('payment declined');
      }),
    ).rejects.toThrow('payment declined');
    // The next committed change is the next event: nothing came in between.
    await holdPlace(slotIds[2]!);
    const next = await log.at(1);
    expect(next.slots!.map((s) => local(s.id))).toEqual([slotIds[2]]);
    expect((await dbSlots()).find((s) => s.id === slotIds[1])).toMatchObject({ held: 0, version: 1 });
    expect(log.items).toHaveLength(2);
    stop();
  });

  it('leaves out changes outside the window or scope', async () => {
    const other = await fx.resource(locationId);
    const otherSlot = await fx.slot(locationId, other, { startAt: new Date(Date.now() + 30 * HOUR) });
    const late = await fx.slot(locationId, resourceId, { startAt: new Date(Date.now() + 20 * 24 * HOUR) });
    const { log, stop } = wsSubscribe(client(), { resourceId: encodeGlobalID('Resource', resourceId) });
    await log.at(0);
    await holdPlace(otherSlot);
    await holdPlace(late);
    await holdPlace(slotIds[1]!);
    expect((await log.at(1)).slots!.map((s) => local(s.id))).toEqual([slotIds[1]]);
    stop();
  });

  it('gives a reconnecting client a fresh snapshot that matches the database', async () => {
    const variables = { resourceId: encodeGlobalID('Resource', resourceId) };
    const first = client();
    const a = wsSubscribe(first, variables);
    await a.log.at(0);
    await first.dispose();
    await holdPlace(slotIds[1]!); // while disconnected
    const b = wsSubscribe(client(), variables);
    expect(shown(await b.log.at(0))).toEqual(await dbSlots());
    const c = sseSubscribe(server.url, variables);
    expect(shown(await c.log.at(0))).toEqual(await dbSlots());
    b.stop();
    c.close();
  });

  it('rejects bad arguments with a typed error naming the field', async () => {
    const c = client();
    const tooLong = wsSubscribe(c, {
      resourceId: encodeGlobalID('Resource', resourceId),
      from: new Date().toISOString(),
      to: new Date(Date.now() + 94 * 24 * HOUR).toISOString(),
    });
    expect(await tooLong.log.at(0)).toMatchObject({ __typename: 'ValidationError', fieldErrors: [{ path: ['to'] }] });
    const two = wsSubscribe(c, { resourceId: encodeGlobalID('Resource', resourceId), locationId: encodeGlobalID('Location', locationId) });
    expect(await two.log.at(0)).toMatchObject({ __typename: 'ValidationError', code: 'VALIDATION_FAILED' });
    const badId = wsSubscribe(c, { resourceId: 'nope' });
    expect(await badId.log.at(0)).toMatchObject({ __typename: 'ValidationError', fieldErrors: [{ path: ['resourceId'] }] });
    const missing = wsSubscribe(c, { resourceId: encodeGlobalID('Resource', '00000000-0000-4000-8000-000000000000') });
    expect(await missing.log.at(0)).toMatchObject({ __typename: 'NotFoundError' });
    for (const s of [tooLong, two, badId, missing]) await s.log.until(() => s.log.ended);
  });

  it('caps subscriptions per connection and frees a subscriber as soon as it unsubscribes', async () => {
    const c = client();
    const variables = { resourceId: encodeGlobalID('Resource', resourceId) };
    const subs = [wsSubscribe(c, variables), wsSubscribe(c, variables), wsSubscribe(c, variables)];
    for (const s of subs) await s.log.at(0);
    const fourth = wsSubscribe(c, variables);
    await fourth.log.until(() => fourth.log.ended);
    expect(JSON.stringify(fourth.log.error)).toContain('TOO_MANY_SUBSCRIPTIONS');
    expect(t.app.services.slotAvailability.feed.size).toBe(3);
    for (const s of subs) s.stop();
    await waitFor(() => t.app.services.slotAvailability.feed.size === 0, 'unsubscribe', 2000);
  });

  it('pings every LIVE_KEEPALIVE_MS and drops a socket that does not answer, while answering clients stay', async () => {
    const deaf = new WebSocket(`${server.url.replace(/^http/, 'ws')}/graphql`, 'graphql-transport-ws', { autoPong: false });
    let pings = 0;
    deaf.on('ping', () => pings++);
    const opened = Date.now();
    const [code] = (await once(deaf, 'close')) as [number];
    expect(pings).toBeGreaterThanOrEqual(1);
    expect(code).toBe(1006); // terminated, no close frame
    expect(Date.now() - opened).toBeLessThan(3000);

    // Every other test's clients answered pings throughout; this one outlives several intervals too.
    let answered = 0;
    const pinged = wsClient(server.url, { onPing: () => answered++ });
    clients.push(pinged);
    const { log, stop } = wsSubscribe(pinged, { resourceId: encodeGlobalID('Resource', resourceId) });
    await log.at(0);
    await waitFor(() => answered >= 3, 'three pings answered', 5000, 20);
    await holdPlace(slotIds[2]!);
    expect((await log.at(1)).slots!.map((s) => local(s.id))).toEqual([slotIds[2]]);
    stop();
  });

  it('gives each subscriber its own selection and actor when one change goes to many', async () => {
    const slotId = await fx.slot(locationId, resourceId, { startAt: new Date(Date.now() + 40 * HOUR), capacity: 5 });
    const token = await t.tokenFor(['user']);
    const signedIn = wsClient(server.url, { token });
    clients.push(signedIn);
    const from = new Date().toISOString();
    const variables = { resourceId: encodeGlobalID('Resource', resourceId), from, to: new Date(Date.parse(from) + 3 * 86_400_000).toISOString() };
    const narrow = `subscription ($resourceId: ID, $from: DateTime, $to: DateTime) { slotAvailability(resourceId: $resourceId, from: $from, to: $to) {
      ... on SlotAvailabilityEvent { kind reason slots { version } } } }`;
    const logs = [
      wsSubscribe(client(), variables).log,
      wsSubscribe(client(), variables, narrow).log,
      wsSubscribe(signedIn, variables).log,
      wsSubscribe(signedIn, variables, narrow).log,
    ];
    for (const log of logs) await log.at(0);
    await holdPlace(slotId);
    const [db] = (await dbSlots()).filter((s) => s.id === slotId);
    const [wide, small, wideSignedIn, smallSignedIn] = await Promise.all(logs.map((log) => log.at(1)));
    expect(shown(wide!)).toEqual([db]);
    expect(wideSignedIn).toEqual(wide);
    expect(small).toEqual({ kind: 'CHANGE', reason: 'HELD', slots: [{ version: db!.version }] });
    expect(smallSignedIn).toEqual(small);
  });

  it('never sends a slot state twice or older than the change that was published', async () => {
    const slotId = await fx.slot(locationId, resourceId, { startAt: new Date(Date.now() + 41 * HOUR), capacity: 5 });
    const { log, stop } = wsSubscribe(client(), { resourceId: encodeGlobalID('Resource', resourceId) });
    await log.at(0);
    const change = (version: number) => ({ slotId, version, reason: 'UPDATED' as const, locationId, resourceId });
    t.app.services.slotEvents.publish([change(1)]); // duplicate of the snapshot's version
    t.app.services.slotEvents.publish([change(7)]); // newer than the database: a lagging read, skipped
    await holdPlace(slotId); // version 2
    t.app.services.slotEvents.publish([change(2)]); // the same change again
    await holdPlace(slotId); // version 3
    await log.until(() => log.items.at(-1)!.slots![0]!.version === 3, 5000, 'version 3');
    // Events arrive in order: once version 4 is in, anything sent about the versions before it is too.
    await holdPlace(slotId);
    await log.until(() => log.items.at(-1)!.slots![0]!.version === 4, 5000, 'version 4');
    // A re-read may already see version 3 and send it early (the newer state wins); either way each
    // version goes out at most once, in order, and never one the database does not have.
    const versions = log.items.slice(1, -1).map((e) => e.slots![0]!.version);
    expect(versions).toEqual(versions.length === 1 ? [3] : [2, 3]);
    stop();
  });
});
