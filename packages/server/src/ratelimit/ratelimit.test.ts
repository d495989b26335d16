import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../../test/kit/app.js';
import { fixtures, customer, gid } from '../../test/kit/fixtures.js';
import { HOLD } from '../../test/kit/documents.js';
import { wsClient } from '../../test/kit/live.js';
import { createSlotwise, type Slotwise } from '../app.js';
import { startServer, type RunningServer } from '../server.js';
import { Redis } from 'ioredis';
import pino from 'pino';
import { IP_CEILING_FACTOR, RateLimiter } from './limiter.js';
import { RedisRateLimitStore } from './store.js';

const READ = 'query { serverTime }';

/** One request through Yoga with its raw HTTP response (status and headers matter here). */
async function send(t: TestApp, query: string, options: { headers?: Record<string, string>; token?: string; variables?: object } = {}) {
  const headers: Record<string, string> = { 'content-type': 'application/json', ...options.headers };
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  const response = await t.app.yoga.fetch('http://slotwise.test/graphql', {
    method: 'POST',
    headers,
    body: JSON.stringify({ query, variables: options.variables }),
  });
  return { status: response.status, retryAfter: response.headers.get('retry-after'), body: (await response.json()) as any };
}

const session = (id: string) => ({ 'x-session-id': id });

function expectLimited(result: Awaited<ReturnType<typeof send>>) {
  expect(result.status).toBe(429);
  expect(result.body.errors[0].extensions.code).toBe('RATE_LIMITED');
  expect(result.body.data ?? null).toBeNull();
  const seconds = Number(result.retryAfter);
  expect(seconds).toBeGreaterThanOrEqual(1);
  expect(seconds).toBeLessThanOrEqual(60);
  expect(result.body.errors[0].extensions.retryAfterSeconds).toBe(seconds);
}

describe('rate limits in one process (in-memory)', () => {
  let t: TestApp;
  let fx: ReturnType<typeof fixtures>;
  let locationId: string;
  let resourceId: string;

  beforeAll(async () => {
    t = await createTestApp({ config: { RATE_LIMIT_READS_PER_MINUTE: '3', RATE_LIMIT_BOOKINGS_PER_MINUTE: '2', TRUST_PROXY: 'true' } });
    fx = fixtures(t.app.db.sql);
    locationId = await fx.location();
    resourceId = await fx.resource(locationId);
  });
  afterAll(() => t?.close());

  it('refuses the 4th read in a minute from one session with 429, Retry-After and RATE_LIMITED; other sessions go on', async () => {
    for (let i = 0; i < 3; i++) expect((await send(t, READ, { headers: session('s-1') })).status).toBe(200);
    expectLimited(await send(t, READ, { headers: session('s-1') }));
    expect((await send(t, READ, { headers: session('s-2') })).body.data.serverTime).toBeTruthy();
  });

  it('keys a signed-in user by account, whatever session ids it sends; staff are exempt', async () => {
    const user = await t.tokenFor(['user']);
    for (let i = 0; i < 3; i++) expect((await send(t, READ, { token: user, headers: session(`u-${i}`) })).status).toBe(200);
    expectLimited(await send(t, READ, { token: user, headers: session('u-fresh') }));

    for (const role of ['frontdesk', 'scheduler', 'manager', 'admin'] as const) {
      const staff = await t.tokenFor([role]);
      for (let i = 0; i < 5; i++) expect((await send(t, READ, { token: staff })).status).toBe(200);
    }
  });

  it('counts booking mutations per root field in their own bucket: a refused hold writes nothing', async () => {
    const slotId = await fx.slot(locationId, resourceId, { capacity: 10 });
    const hold = (n: number) =>
      send(t, HOLD, { headers: session('booker'), variables: { input: { slotId: gid('Slot', slotId), customer: customer(n) } } });
    expect((await hold(1)).body.data.hold.__typename).toBe('BookingReceipt');
    // Reads are a separate bucket.
    expect((await send(t, READ, { headers: session('booker') })).status).toBe(200);
    expect((await hold(2)).body.data.hold.__typename).toBe('BookingReceipt');
    expectLimited(await hold(3));
    expect(await fx.bookingCounts(slotId)).toEqual({ HELD: 2 });

    // Three aliased holds in one request cost three: over a fresh session's limit of two, so none runs.
    const input = (n: number) => ({ slotId: gid('Slot', slotId), customer: customer(`alias-${n}`) });
    const aliased = `mutation ($a: HoldInput!, $b: HoldInput!, $c: HoldInput!) {
      a: hold(input: $a) { __typename } b: hold(input: $b) { __typename } c: hold(input: $c) { __typename } }`;
    expectLimited(await send(t, aliased, { headers: session('aliases'), variables: { a: input(1), b: input(2), c: input(3) } }));
    expect(await fx.bookingCounts(slotId)).toEqual({ HELD: 2 });
  });

  it('keys anonymous callers without a session by address (X-Forwarded-For with TRUST_PROXY), and caps one address rotating session ids', async () => {
    const from = (ip: string) => ({ 'x-forwarded-for': `${ip}, 10.0.0.1` });
    // The rightmost entry is what the one trusted proxy saw; the left part is the client's to forge.
    for (let i = 0; i < 3; i++) expect((await send(t, READ, { headers: from('198.51.100.7') })).status).toBe(200);
    expectLimited(await send(t, READ, { headers: from('198.51.100.7') }));
    const forwarded = (ip: string) => ({ 'x-forwarded-for': ip });
    for (let i = 0; i < 3; i++) expect((await send(t, READ, { headers: forwarded('198.51.100.8') })).status).toBe(200);
    expectLimited(await send(t, READ, { headers: forwarded('198.51.100.8') }));
    expect((await send(t, READ, { headers: forwarded('198.51.100.9') })).status).toBe(200);

    const ceiling = 3 * IP_CEILING_FACTOR;
    const rotating = (i: number) => ({ ...forwarded('203.0.113.5'), ...session(`rotating-${i}`) });
    for (let i = 0; i < ceiling; i++) expect((await send(t, READ, { headers: rotating(i) })).status).toBe(200);
    expectLimited(await send(t, READ, { headers: rotating(ceiling) }));
  });

  it('serves plain HTTP routes too: app.rateLimiter.check shares the buckets', async () => {
    const source = { actor: null, headers: new Headers(), remoteAddress: '192.0.2.50' };
    expect(await t.app.rateLimiter.check(source, 'booking', 1, t.app.log)).toBeNull();
    expect(await t.app.rateLimiter.check(source, 'booking', 1, t.app.log)).toBeNull();
    const refused = await t.app.rateLimiter.check(source, 'booking', 1, t.app.log);
    expect(refused!.retryAfterSeconds).toBeGreaterThanOrEqual(59);
  });

  it('counts refusals in slotwise_rate_limited_total', async () => {
    const text = await t.app.metrics.registry.metrics();
    expect(Number(/slotwise_rate_limited_total\{kind="read"\} (\d+)/.exec(text)?.[1])).toBeGreaterThanOrEqual(5);
    expect(Number(/slotwise_rate_limited_total\{kind="booking"\} (\d+)/.exec(text)?.[1])).toBe(3);
  });
});

describe('rate limits over a listening server', () => {
  let t: TestApp;
  let server: RunningServer;

  beforeAll(async () => {
    t = await createTestApp({ config: { RATE_LIMIT_READS_PER_MINUTE: '3', SHUTDOWN_TIMEOUT_MS: '200' } });
    server = await startServer(t.app, { port: 0, host: '127.0.0.1' });
  });
  afterAll(async () => {
    await server?.stop();
    await t?.close();
  });

  it('limits WebSocket operations like HTTP ones (same plugins through getEnveloped)', async () => {
    const client = wsClient(server.url, { token: await t.tokenFor(['user']) });
    try {
      const results = [];
      for (let i = 0; i < 4; i++) {
        for await (const result of client.iterate({ query: READ })) results.push(result);
      }
      expect(results.slice(0, 3).every((r) => !r.errors && r.data?.serverTime)).toBe(true);
      expect(results[3]!.errors![0]!.extensions).toMatchObject({ code: 'RATE_LIMITED' });
      // Starting a subscription counts as a read too.
      for await (const result of client.iterate({ query: 'subscription { serverTime(intervalMs: 100) }' })) {
        expect(result.errors![0]!.extensions).toMatchObject({ code: 'RATE_LIMITED' });
        break;
      }
    } finally {
      await client.dispose();
    }
  });

  it('keys an anonymous HTTP caller by its socket address and ignores X-Forwarded-For without TRUST_PROXY', async () => {
    const post = (ip: string) =>
      fetch(`${server.url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-forwarded-for': ip },
        body: JSON.stringify({ query: READ }),
      });
    const statuses = [];
    for (let i = 0; i < 4; i++) statuses.push((await post(`192.0.2.${i}`)).status);
    expect(statuses).toEqual([200, 200, 200, 429]);
    const refused = await post('192.0.2.99');
    expect(refused.headers.get('retry-after')).toMatch(/^\d+$/);
  });
});

describe('rate limits on Redis, shared by instances', () => {
  let t: TestApp;
  let second: Slotwise;

  beforeAll(async () => {
    t = await createTestApp({ redis: true, config: { RATE_LIMIT_READS_PER_MINUTE: '3', RATE_LIMIT_BOOKINGS_PER_MINUTE: '3' } });
    second = await createSlotwise({ config: t.app.config, logger: t.app.log });
  });
  afterAll(async () => {
    await second?.close();
    await t?.close();
  });

  it('counts one client across two instances on the same database and Redis', async () => {
    // Redis outlives a test run: a fresh session id per run keeps windows from an earlier run out.
    const id = `redis-${randomUUID()}`;
    const viaSecond = async () => {
      const response = await second.yoga.fetch('http://slotwise.test/graphql', {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...session(id) },
        body: JSON.stringify({ query: READ }),
      });
      return { status: response.status, retryAfter: response.headers.get('retry-after'), body: (await response.json()) as any };
    };
    expect((await send(t, READ, { headers: session(id) })).status).toBe(200);
    expect((await viaSecond()).status).toBe(200);
    expect((await send(t, READ, { headers: session(id) })).status).toBe(200);
    expectLimited(await viaSecond());
    expectLimited(await send(t, READ, { headers: session(id) }));
    expect((await viaSecond()).body.errors?.[0]?.extensions.code).toBe('RATE_LIMITED');
    expect((await send(t, READ, { headers: session(`${id}-other`) })).status).toBe(200);
  });

  it('lets exactly the limit through when one client races many requests at both instances', async () => {
    const id = `race-${randomUUID()}`;
    const apps = [t.app, second];
    const responses = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        apps[i % 2]!.yoga.fetch('http://slotwise.test/graphql', {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...session(id) },
          body: JSON.stringify({ query: READ }),
        }),
      ),
    );
    const statuses = responses.map((r) => r.status);
    expect(statuses.filter((s) => s === 200)).toHaveLength(3);
    expect(statuses.filter((s) => s === 429)).toHaveLength(17);
  });

  it('staff are exempt on Redis too', async () => {
    const staff = await t.tokenFor(['frontdesk']);
    for (let i = 0; i < 6; i++) expect((await send(t, READ, { token: staff })).status).toBe(200);
  });
});

describe('rate limits when Redis is down', () => {
  it('let requests through and log a warning', async () => {
    const redis = new Redis('redis://127.0.0.1:1', { maxRetriesPerRequest: 0, retryStrategy: () => null, lazyConnect: true });
    redis.on('error', () => {}); // the refused connection is the point of this test
    const lines: string[] = [];
    const log = pino({ level: 'warn' }, { write: (line: string) => lines.push(line) });
    const limiter = new RateLimiter({ readsPerMinute: 1, bookingsPerMinute: 1, trustedProxies: 0, store: new RedisRateLimitStore(redis) });
    const source = { actor: null, headers: new Headers({ 'x-session-id': 'down' }), remoteAddress: undefined };
    try {
      for (let i = 0; i < 3; i++) expect(await limiter.check(source, 'read', 1, log)).toBeNull();
      expect(lines.join('')).toContain('rate limit store unavailable');
    } finally {
      redis.disconnect();
    }
  });
});

describe('rate limits off', () => {
  it('0 disables a bucket; the test harness turns both off unless a test sets them', async () => {
    const t = await createTestApp({ config: { RATE_LIMIT_READS_PER_MINUTE: '0', RATE_LIMIT_BOOKINGS_PER_MINUTE: '1' } });
    const defaults = await createTestApp();
    try {
      const id = randomUUID();
      const reads = await Promise.all(Array.from({ length: 80 }, () => send(t, READ, { headers: session(id) })));
      expect(reads.every((r) => r.status === 200)).toBe(true);
      const defaultReads = await Promise.all(Array.from({ length: 80 }, () => send(defaults, READ, { headers: session(id) })));
      expect(defaultReads.every((r) => r.status === 200)).toBe(true);
      expect(defaults.app.config).toMatchObject({ RATE_LIMIT_READS_PER_MINUTE: 0, RATE_LIMIT_BOOKINGS_PER_MINUTE: 0 });
    } finally {
      await t.close();
      await defaults.close();
    }
  });
});
