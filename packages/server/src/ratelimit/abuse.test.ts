import { randomInt } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { encodeGlobalID } from '@pothos/plugin-relay';
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../../test/kit/app.js';
import { fixtures } from '../../test/kit/fixtures.js';
import { EventLog, LIVE_QUERY, sseSubscribe, wsSubscribe, type LiveEvent } from '../../test/kit/live.js';
import { attachGraphQLWs } from '../live/ws-server.js';
import { REFUSED_OPERATION_COST } from './ratelimit.plugin.js';

/**
 * Issue #14's abuse findings, replayed against the default limits: each refused request is
 * refused before it touches the database (no pooled connection is checked out while it runs).
 */
let t: TestApp;
let url: string;
let close: () => Promise<void>;
let locationId: string;
let resourceId: string;
const DAY = 86_400_000;

beforeAll(async () => {
  // The defaults, except TRUST_PROXY: each test names its own client address in X-Forwarded-For.
  // Redis holds the rate budget here (as in production): without it the budget lives in PostgreSQL and every
  // request, refused or not, takes a pool connection for it.
  t = await createTestApp({ redis: true, config: { RATE_LIMIT_READS_PER_MINUTE: '1200', RATE_LIMIT_BOOKINGS_PER_MINUTE: '10', TRUST_PROXY: '1' } });
  const fx = fixtures(t.app.db.sql);
  const location = await fx.location();
  const resource = await fx.resource(location);
  await fx.slot(location, resource);
  locationId = encodeGlobalID('Location', location);
  resourceId = encodeGlobalID('Resource', resource);
  // HTTP, SSE and WebSocket as server.ts serves them, without its background jobs (they use the database).
  const httpServer = createServer((req, res) => void t.app.yoga(req, res));
  const ws = attachGraphQLWs(t.app, httpServer);
  await new Promise<void>((resolve) => httpServer.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(httpServer.address() as AddressInfo).port}`;
  close = async () => {
    await ws.close();
    httpServer.closeAllConnections();
    await new Promise<void>((resolve) => httpServer.close(() => resolve()));
  };
}, 60_000);
afterAll(async () => {
  await close?.();
  await t?.close();
});

/** `n` aliased availability fields, each a location over 92 days (the finding's request). */
function aliasedAvailability(n: number) {
  const fields = Array.from(
    { length: n },
    (_, i) =>
      `a${i}: availability(locationId: $l, from: $from, to: $to) { __typename ... on Availability { slots { id startAt endAt status remaining localDate } } }`,
  );
  const from = new Date();
  return {
    query: `query ($l: ID!, $from: DateTime!, $to: DateTime!) { ${fields.join(' ')} }`,
    variables: { l: locationId, from: from.toISOString(), to: new Date(from.getTime() + 92 * DAY).toISOString() },
  };
}

// Redis keeps rate windows between test runs: each run's client addresses and sessions are its own, so a
// run started within a minute of the last one starts with fresh budgets.
const RUN = randomInt(1, 0xffff).toString(16);
/** This run's n-th client address (IPv6 documentation prefix). */
const address = (n: number) => `2001:db8:${RUN}::${n.toString(16)}`;
const from = (ip: string, session?: string) => ({ 'x-forwarded-for': ip, ...(session ? { 'x-session-id': `${session}-${RUN}` } : {}) });

async function post(body: unknown, headers: Record<string, string>, accept = 'application/graphql-response+json') {
  const response = await fetch(`${url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept, ...headers },
    body: JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as { data?: unknown; errors?: { extensions?: Record<string, unknown> }[] } };
}

/** Runs `work` and returns how many pooled connections were checked out meanwhile. */
async function checkoutsDuring(work: () => Promise<unknown>): Promise<number> {
  const before = t.checkouts();
  await work();
  return t.checkouts() - before;
}

/** graphql-ws client whose upgrade request carries `headers` (a proxy's X-Forwarded-For, a session id). */
function wsFrom(headers: Record<string, string>): Client {
  class WithHeaders extends WebSocket {
    constructor(address: string, protocols?: string | string[]) {
      super(address, protocols, { headers });
    }
  }
  return createClient({ url: `${url.replace(/^http/, 'ws')}/graphql`, webSocketImpl: WithHeaders, retryAttempts: 0, lazy: true });
}

/** The first thing a subscription got: its SNAPSHOT, or the code of the error it was refused with. */
async function outcome(log: EventLog<LiveEvent>): Promise<string> {
  await log.until(() => log.items.length > 0 || log.ended, 60_000, 'a first event or a refusal');
  if (log.items.length) return log.items[0]!.kind ?? log.items[0]!.__typename;
  const errors = log.error as { extensions?: { code?: string }; message?: string }[] | Error;
  return Array.isArray(errors) ? String(errors[0]?.extensions?.code ?? errors[0]?.message) : String(errors);
}

const codes = (body: { errors?: { extensions?: Record<string, unknown> }[] }) => body.errors?.map((e) => e.extensions?.code);

describe('aliased availability: 30 locations x 92 days in one request', () => {
  it('is refused over HTTP (400, TOO_MANY_AVAILABILITY_FIELDS) and, with 5 aliases, by its cost (400, COST_LIMIT_EXCEEDED), touching no database', async () => {
    let thirty!: Awaited<ReturnType<typeof post>>;
    let five!: Awaited<ReturnType<typeof post>>;
    expect(await checkoutsDuring(async () => (thirty = await post(aliasedAvailability(30), from(address(1)))))).toBe(0);
    expect(thirty.status).toBe(400);
    expect(codes(thirty.body)).toEqual(['TOO_MANY_AVAILABILITY_FIELDS']);
    expect(thirty.body.errors![0]!.extensions).toMatchObject({ count: 30, max: 5 });
    expect(thirty.body.data).toBeUndefined();

    expect(await checkoutsDuring(async () => (five = await post(aliasedAvailability(5), from(address(1)))))).toBe(0);
    expect(five.status).toBe(400);
    expect(codes(five.body)).toEqual(['COST_LIMIT_EXCEEDED']);
    expect(five.body.errors![0]!.extensions).toMatchObject({ cost: 5 * (92 * 5 + 11), maxCost: 1000 });

    // One such field is an ordinary (if large) request: it runs.
    const one = await post(aliasedAvailability(1), from(address(2)));
    expect(one.status).toBe(200);
    expect(one.body.data).toMatchObject({ a0: { __typename: 'Availability' } });
  });

  it('six at once (they filled the pool before) are all refused without a checkout', async () => {
    const results: Awaited<ReturnType<typeof post>>[] = [];
    const used = await checkoutsDuring(() =>
      Promise.all(Array.from({ length: 6 }, (_, i) => post(aliasedAvailability(30), from(address(10 + i))).then((r) => results.push(r)))),
    );
    expect(used).toBe(0);
    expect(results.map((r) => r.status)).toEqual([400, 400, 400, 400, 400, 400]);
  });

  it('is refused over WebSocket and over SSE the same way', async () => {
    const client = wsFrom(from(address(20)));
    try {
      for (const [n, code] of [
        [30, 'TOO_MANY_AVAILABILITY_FIELDS'],
        [5, 'COST_LIMIT_EXCEEDED'],
      ] as const) {
        const result: unknown[] = [];
        const used = await checkoutsDuring(async () => {
          for await (const r of client.iterate(aliasedAvailability(n))) result.push(r);
        });
        expect(used).toBe(0);
        expect((result[0] as { errors: { extensions: { code: string } }[] }).errors[0]!.extensions.code).toBe(code);
      }
    } finally {
      await client.dispose();
    }
    for (const [n, code] of [
      [30, 'TOO_MANY_AVAILABILITY_FIELDS'],
      [5, 'COST_LIMIT_EXCEEDED'],
    ] as const) {
      const { query, variables } = aliasedAvailability(n);
      const sse = sseSubscribe(url, variables, query);
      let result!: string;
      expect(await checkoutsDuring(async () => (result = await outcome(sse.log)))).toBe(0);
      expect(result).toBe(code);
      sse.close();
    }
  });

  it('a subscription whose selection fans out past the maximum is refused (WebSocket and SSE), without a checkout', async () => {
    // Every slot's location, every resource of it, and 93 days of each one's slots.
    const query = `subscription ($l: ID) { slotAvailability(locationId: $l) { ... on SlotAvailabilityEvent {
      slots { resource { location { resources { slots(from: "2030-01-01T00:00:00Z", to: "2030-04-01T00:00:00Z") { id } } } } } } } }`;
    const client = wsFrom(from(address(21)));
    try {
      const ws = wsSubscribe(client, { l: locationId }, query);
      let viaWs!: string;
      expect(await checkoutsDuring(async () => (viaWs = await outcome(ws.log)))).toBe(0);
      expect(viaWs).toBe('COST_LIMIT_EXCEEDED');
    } finally {
      await client.dispose();
    }
    const sse = sseSubscribe(url, { l: locationId }, query);
    let viaSse!: string;
    expect(await checkoutsDuring(async () => (viaSse = await outcome(sse.log)))).toBe(0);
    expect(viaSse).toBe('COST_LIMIT_EXCEEDED');
    sse.close();
  });
});

describe('subscription flood: 25 connections x 20 slotAvailability from one address', () => {
  it('admits what the rate budget pays for, then refuses the rest (RATE_LIMITED) before the database', async () => {
    const ip = address(31);
    const clients = Array.from({ length: 25 }, () => wsFrom(from(ip)));
    const subscribe = (client: Client) => wsSubscribe(client, { locationId }, LIVE_QUERY);
    try {
      // One connection first, until the address's budget is spent: 1,200 units at 5 x 14 + 11 each.
      const first = Array.from({ length: 20 }, () => subscribe(clients[0]!));
      const firstOutcomes = await Promise.all(first.map((s) => outcome(s.log)));
      const admitted = firstOutcomes.filter((o) => o === 'SNAPSHOT').length;
      expect(admitted).toBe(Math.floor(1200 / (5 * 14 + 11)));
      expect(firstOutcomes.filter((o) => o !== 'SNAPSHOT').every((o) => o === 'RATE_LIMITED')).toBe(true);

      const delay = monitorEventLoopDelay({ resolution: 10 });
      delay.enable();
      const heapBefore = process.memoryUsage().heapUsed;
      let rest!: string[];
      const used = await checkoutsDuring(async () => {
        rest = await Promise.all(clients.slice(1).flatMap((client) => Array.from({ length: 20 }, () => outcome(subscribe(client).log))));
      });
      delay.disable();
      expect(used).toBe(0);
      expect(rest).toHaveLength(480);
      expect(new Set(rest)).toEqual(new Set(['RATE_LIMITED']));
      console.log(
        `flood of 480 refused subscriptions: event loop delay max ${(delay.max / 1e6).toFixed(0)} ms, p99 ${(delay.percentile(99) / 1e6).toFixed(0)} ms; ` +
          `heap ${((process.memoryUsage().heapUsed - heapBefore) / 1e6).toFixed(1)} MB`,
      );
    } finally {
      await Promise.all(clients.map((c) => c.dispose()));
    }
  }, 120_000);

  it('with a session per connection the per-address cap holds: 100 admitted, the rest TOO_MANY_SUBSCRIPTIONS over WebSocket and SSE', async () => {
    const ip = address(32);
    // Resource subscriptions (25 units): each session's budget would allow 48, the address's 480.
    const clients = Array.from({ length: 20 }, (_, i) => wsFrom(from(ip, `flood-${i}`)));
    const subscribe = (client: Client) => wsSubscribe(client, { resourceId }, LIVE_QUERY);
    try {
      const admitted = clients.slice(0, 5).flatMap((client) => Array.from({ length: 20 }, () => subscribe(client)));
      expect(new Set(await Promise.all(admitted.map((s) => outcome(s.log))))).toEqual(new Set(['SNAPSHOT']));
      expect(t.app.subscriptionsOf(ip)).toBe(100);

      let rest!: string[];
      let viaSse!: string;
      const used = await checkoutsDuring(async () => {
        rest = await Promise.all(clients.slice(5).flatMap((client) => Array.from({ length: 20 }, () => outcome(subscribe(client).log))));
        const sse = sseSubscribeFrom(from(ip, 'flood-sse'), { resourceId });
        viaSse = await outcome(sse.log);
        sse.close();
      });
      expect(used).toBe(0);
      expect(rest).toHaveLength(300);
      expect(new Set(rest)).toEqual(new Set(['TOO_MANY_SUBSCRIPTIONS']));
      expect(viaSse).toBe('TOO_MANY_SUBSCRIPTIONS');

      // Ending subscriptions gives their places back.
      for (const s of admitted.slice(0, 10)) s.stop();
      await new EventLog().until(() => t.app.subscriptionsOf(ip) === 90, 15_000, 'ten places back');
      expect(await outcome(subscribe(clients[6]!).log)).toBe('SNAPSHOT');
    } finally {
      await Promise.all(clients.map((c) => c.dispose()));
    }
  }, 120_000);
});

/** sseSubscribe with request headers (the client address a proxy reports, a session). */
function sseSubscribeFrom(headers: Record<string, string>, variables: Record<string, unknown>) {
  const log = new EventLog<LiveEvent>();
  const abort = new AbortController();
  void (async () => {
    try {
      const response = await fetch(`${url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'text/event-stream', ...headers },
        body: JSON.stringify({ query: LIVE_QUERY, variables }),
        signal: abort.signal,
      });
      const text = await response.text();
      const data = text
        .split('\n')
        .filter((line) => line.startsWith('data:') && line.slice(5).trim())
        .map((line) => JSON.parse(line.slice(5)) as { data?: { slotAvailability: LiveEvent }; errors?: unknown });
      const first = data[0];
      if (first?.data) log.push(first.data.slotAvailability);
      log.end(first?.errors);
    } catch (error) {
      log.end(abort.signal.aborted ? undefined : error);
    }
  })();
  return { log, close: () => abort.abort() };
}

describe('request bodies', () => {
  it('a 20 MB body is answered 413 (REQUEST_ENTITY_TOO_LARGE) without being parsed, with or without Content-Length', async () => {
    const huge = JSON.stringify({ query: '{ serverTime }', variables: { pad: 'x'.repeat(20 * 1024 * 1024) } });
    let sized!: Response;
    expect(
      await checkoutsDuring(
        async () =>
          (sized = await fetch(`${url}/graphql`, {
            method: 'POST',
            headers: { 'content-type': 'application/json', ...from(address(41)) },
            body: huge,
          })),
      ),
    ).toBe(0);
    expect(sized.status).toBe(413);
    expect(((await sized.json()) as { errors: { extensions: { code: string } }[] }).errors[0]!.extensions.code).toBe('REQUEST_ENTITY_TOO_LARGE');

    // Chunked: no Content-Length, so the limit is counted while reading.
    const bytes = new TextEncoder().encode(huge);
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        for (let i = 0; i < bytes.length; i += 64 * 1024) controller.enqueue(bytes.subarray(i, i + 64 * 1024));
        controller.close();
      },
    });
    const chunked = await fetch(`${url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...from(address(42)) },
      body: stream,
      duplex: 'half',
    } as RequestInit);
    expect(chunked.status).toBe(413);

    // Just under the limit is read as usual.
    const fits = JSON.stringify({ query: '{ serverTime }', variables: { pad: 'x'.repeat(1024 * 1024 - 200) } });
    expect(
      (await fetch(`${url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', ...from(address(43)) }, body: fits })).status,
    ).toBe(200);
  });
});

describe('invalid operations count against the limit', () => {
  const allowed = 1200 / REFUSED_OPERATION_COST;

  it(`over HTTP: ${allowed} refused operations use up a session's minute; then even a valid one gets 429`, async () => {
    const headers = from(address(410), 'broken-client');
    // Run once with its variable (by another client), its weight is kept; the variables are still checked every time.
    const needsId = 'query ($id: ID!) { node(id: $id) { id } }';
    expect((await post({ query: needsId, variables: { id: 'Tm9uZTox' } }, from(address(49), 'working-client'))).status).toBe(200);
    const kinds = ['{ serverTime', '{ noSuchField }', needsId];
    const statuses = [];
    for (let i = 0; i < allowed; i++) statuses.push((await post({ query: kinds[i % kinds.length] }, headers)).status);
    expect(new Set(statuses)).toEqual(new Set([400]));
    const over = await post({ query: '{ noSuchField }' }, headers);
    expect(over.status).toBe(429);
    expect(codes(over.body)).toEqual(['RATE_LIMITED']);
    expect((await post({ query: '{ serverTime }' }, headers)).status).toBe(429);
    // A failed sign-in counts too (a bad token costs the caller, not the database, from here on).
    const signIn = from(address(411), 'bad-token');
    for (let i = 0; i < allowed; i++) await post({ query: '{ serverTime }' }, { ...signIn, authorization: 'Bearer not-a-real-token' });
    expect((await post({ query: '{ serverTime }' }, { ...signIn, authorization: 'Bearer not-a-real-token' })).status).toBe(429);
  }, 60_000);

  it('over WebSocket: refused operations are charged; the connection stays open and then answers RATE_LIMITED', async () => {
    const client = wsFrom(from(address(412), 'broken-ws'));
    try {
      const first = async (query: string) => {
        try {
          for await (const r of client.iterate({ query }))
            return (r as { errors?: { extensions?: { code?: string } }[] }).errors?.[0]?.extensions?.code ?? 'OK';
        } catch (errors) {
          return (errors as { extensions?: { code?: string } }[])[0]?.extensions?.code ?? 'INVALID';
        }
        return 'NONE';
      };
      const results = [];
      for (let i = 0; i < allowed; i++) results.push(await first('{ noSuchField }'));
      expect(results.every((r) => r !== 'RATE_LIMITED')).toBe(true);
      expect(await first('{ noSuchField }')).toBe('RATE_LIMITED');
      expect(await first('{ serverTime }')).toBe('RATE_LIMITED');
    } finally {
      await client.dispose();
    }
  }, 60_000);
});
