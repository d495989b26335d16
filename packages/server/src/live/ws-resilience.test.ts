import { once } from 'node:events';
import { Writable } from 'node:stream';
import { encodeGlobalID } from '@pothos/plugin-relay';
import type { Client } from 'graphql-ws';
import WebSocket from 'ws';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../../test/kit/app.js';
import { fixtures, customer } from '../../test/kit/fixtures.js';
import { BOOK } from '../../test/kit/documents.js';
import { EventLog, wsClient, wsSubscribe } from '../../test/kit/live.js';
import { createLogger } from '../logger.js';
import { startServer, type RunningServer } from '../server.js';
import { pii } from '../shared/pii.js';

// Bad operations on a WebSocket are that operation's problem only: the socket and the client's
// other subscriptions on it go on.
const logLines: Record<string, unknown>[] = [];
const logStream = new Writable({
  write(chunk, _encoding, done) {
    for (const line of String(chunk).split('\n')) if (line.trim()) logLines.push(JSON.parse(line));
    done();
  },
});

let t: TestApp;
let server: RunningServer;
let resourceId: string;
let slotId: string;
let clients: Client[] = [];

beforeAll(async () => {
  t = await createTestApp({ logger: createLogger('warn', logStream), config: { MAX_WS_CONNECTIONS_PER_IP: '3', SHUTDOWN_TIMEOUT_MS: '200' } });
  server = await startServer(t.app, { port: 0, host: '127.0.0.1' });
  const fx = fixtures(t.app.db.sql);
  const locationId = await fx.location();
  resourceId = await fx.resource(locationId);
  slotId = await fx.slot(locationId, resourceId, { startAt: new Date(Date.now() + 86_400_000), capacity: 50 });
});
afterEach(async () => {
  for (const client of clients) await client.dispose();
  clients = [];
});
afterAll(async () => {
  await server.stop();
  await t.close();
});

/** A client that records whether its socket closed, and with which code. */
function trackedClient() {
  const closes: number[] = [];
  const client = wsClient(server.url);
  client.on('closed', (event) => closes.push((event as { code: number }).code));
  clients.push(client);
  return { client, closes };
}

/** One operation's outcome: its results, or the errors of the protocol's `error` message. */
function run(client: Client, query: string, variables?: Record<string, unknown>) {
  const log = new EventLog<{ data?: any; errors?: any[] }>();
  client.subscribe({ query, variables }, { next: (r) => log.push(r as never), error: (e) => log.end(e), complete: () => log.end() });
  return log;
}

describe('graphql-ws: one bad operation does not end the socket', () => {
  it('answers a syntax error, an armor-refused query and an unknown operation with per-operation errors, runs a mutation, and the subscription keeps receiving', async () => {
    const { client, closes } = trackedClient();
    const live = wsSubscribe(client, { resourceId: encodeGlobalID('Resource', resourceId) });
    const snapshot = await live.log.at(0);

    const syntax = run(client, 'subscription { serverTime(');
    await syntax.until(() => syntax.ended);
    expect(JSON.stringify(syntax.error)).toMatch(/Syntax Error/);

    const aliases = Array.from({ length: 40 }, (_, i) => `a${i}: serverTime`).join(' ');
    const armored = run(client, `query { ${aliases} }`);
    await armored.until(() => armored.ended);
    expect(JSON.stringify(armored.error)).toMatch(/aliases/i);

    const unknownOperation = new EventLog<unknown>();
    client.subscribe(
      { query: 'query A { serverTime }', operationName: 'B' },
      { next: (r) => unknownOperation.push(r), error: (e) => unknownOperation.end(e), complete: () => unknownOperation.end() },
    );
    await unknownOperation.until(() => unknownOperation.ended);
    expect(JSON.stringify(unknownOperation.error)).toMatch(/operation/i);

    // Mutations run over the socket like over HTTP, through the same plugins.
    const booked = run(client, BOOK, { input: { slotId: encodeGlobalID('Slot', slotId), customer: customer('ws') } });
    await booked.until(() => booked.ended);
    expect(booked.items[0]!.data.book.__typename).toBe('BookingReceipt');

    // The subscription opened before all of that still receives, on the same socket.
    const change = await live.log.at(1);
    expect(change).toMatchObject({ kind: 'CHANGE', reason: 'CONFIRMED', slots: [{ booked: snapshot.slots![0]!.booked + 1 }] });
    expect(live.log.ended).toBe(false);
    expect(closes).toEqual([]);

    // Each refusal is one warn line with a request id, without a stack trace.
    const refused = logLines.filter((l) => l.msg === 'operation refused' && l.transport === 'ws');
    expect(refused.length).toBeGreaterThanOrEqual(2);
    for (const line of refused) {
      expect(line.level).toBe(40);
      expect(line.requestId).toEqual(expect.any(String));
      expect(JSON.stringify(line)).not.toMatch(/\n\s+at /);
    }
    expect(logLines.filter((l) => (l.level as number) >= 50)).toEqual([]);
    live.stop();
  });

  it('applies Idempotency-Key (extensions.idempotencyKey) to mutations over the socket as over HTTP', async () => {
    const { client } = trackedClient();
    const send = (key: string, name: string) => {
      const log = new EventLog<{ data?: any; errors?: any[] }>();
      client.subscribe(
        {
          query: BOOK,
          variables: { input: { slotId: encodeGlobalID('Slot', slotId), customer: customer(name) } },
          extensions: { idempotencyKey: key },
        },
        { next: (r) => log.push(r as never), error: (e) => log.end(e), complete: () => log.end() },
      );
      return log.until(() => log.ended).then(() => log);
    };
    const key = `ws-${Date.now()}`;
    const first = await send(key, 'idem');
    const again = await send(key, 'idem');
    expect(first.items[0]!.data.book.__typename).toBe('BookingReceipt');
    expect(again.items[0]).toEqual(first.items[0]);
    // Names are encrypted at rest: count by the email's lookup hash.
    const rows = await t.app.db.sql.query<{ n: number }>(`SELECT count(*)::int AS n FROM bookings WHERE customer_email_hash = $1`, [
      pii().emailHash(customer('idem').email),
    ]);
    expect(rows[0]!.n).toBe(1);
    const reused = await send(key, 'someone else');
    expect(reused.items[0]!.errors![0].extensions.code).toBe('IDEMPOTENCY_KEY_REUSED');
  });

  it('accepts exactly MAX_SUBSCRIPTIONS_PER_CONNECTION of a burst of 25 sent at once', async () => {
    const { client, closes } = trackedClient();
    const variables = { resourceId: encodeGlobalID('Resource', resourceId) };
    const burst = Array.from({ length: 25 }, () => wsSubscribe(client, variables));
    await Promise.all(burst.map((s) => s.log.until(() => s.log.items.length > 0 || s.log.ended, 10_000)));
    const accepted = burst.filter((s) => s.log.items.length > 0 && !s.log.ended);
    const refused = burst.filter((s) => s.log.ended);
    expect(accepted).toHaveLength(t.app.config.MAX_SUBSCRIPTIONS_PER_CONNECTION);
    expect(refused).toHaveLength(5);
    for (const s of refused) expect(JSON.stringify(s.log.error)).toContain('TOO_MANY_SUBSCRIPTIONS');
    // Ending one frees its place at once.
    accepted[0]!.stop();
    const again = wsSubscribe(client, variables);
    await again.log.until(() => again.log.items.length > 0 || again.log.ended, 5_000);
    expect(again.log.items[0]).toMatchObject({ kind: 'SNAPSHOT' });
    expect(closes).toEqual([]);
  });

  it('closes only the socket that sends a message over WS_MAX_PAYLOAD_BYTES (1009), with one warn line', async () => {
    const { client, closes } = trackedClient();
    const live = wsSubscribe(client, { resourceId: encodeGlobalID('Resource', resourceId) });
    await live.log.at(0);
    const big = new WebSocket(`${server.url.replace(/^http/, 'ws')}/graphql`, 'graphql-transport-ws');
    await once(big, 'open');
    big.send('x'.repeat(t.app.config.WS_MAX_PAYLOAD_BYTES + 1));
    const [code] = (await once(big, 'close')) as [number];
    expect(code).toBe(1009);
    expect(logLines.filter((l) => l.msg === 'WebSocket closed for a protocol error')).toHaveLength(1);
    expect(logLines.filter((l) => (l.level as number) >= 50)).toEqual([]);
    // The other client's socket and subscription are untouched.
    const booked = run(client, BOOK, { input: { slotId: encodeGlobalID('Slot', slotId), customer: customer('after-big') } });
    await booked.until(() => booked.ended);
    expect(await live.log.at(1)).toMatchObject({ kind: 'CHANGE' });
    expect(closes).toEqual([]);
  });

  it('refuses a WebSocket beyond MAX_WS_CONNECTIONS_PER_IP from one address, and admits one again once a socket closes', async () => {
    const url = `${server.url.replace(/^http/, 'ws')}/graphql`;
    const open = () => new WebSocket(url, 'graphql-transport-ws');
    const sockets = [open(), open(), open()];
    await Promise.all(sockets.map((s) => once(s, 'open')));
    const fourth = open();
    const [, response] = (await once(fourth, 'unexpected-response')) as [unknown, { statusCode: number }];
    expect(response.statusCode).toBe(429);
    sockets[0]!.close();
    await once(sockets[0]!, 'close');
    const fifth = open();
    await once(fifth, 'open');
    for (const s of [...sockets, fifth]) s.terminate();
  });
});
