import { request } from 'node:http';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import { serverAudits } from 'graphql-http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../../test/kit/app.js';
import { gid } from '../../test/kit/fixtures.js';
import { wsClient } from '../../test/kit/live.js';
import { seedDemoIfEmpty } from '../demo/seed.js';
import { startServer, type RunningServer } from '../server.js';
import { COMPRESSION_THRESHOLD_BYTES, preferredEncoding } from './compression.js';

let t: TestApp;
let server: RunningServer;
beforeAll(async () => {
  // The audit's variable checks query `__type`: introspection on, as in the embedded default.
  t = await createTestApp({ config: { INTROSPECTION: 'true' } });
  server = await startServer(t.app, { port: 0, host: '127.0.0.1' });
});
afterAll(async () => {
  await server.stop();
  await t.close();
});

const GRAPHQL_RESPONSE = 'application/graphql-response+json';

function post(body: unknown, headers: Record<string, string> = {}) {
  return fetch(`${server.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: GRAPHQL_RESPONSE, ...headers },
    body: JSON.stringify(body),
  });
}

describe('GraphQL over HTTP (graphql-http audits)', () => {
  // Every MUST and SHOULD of the spec the audit knows: an audit that is not "ok" fails with its reason.
  for (const audit of serverAudits({ url: () => `${server.url}/graphql` })) {
    it(audit.name, async () => {
      const result = await audit.fn();
      expect(result.status === 'ok' ? 'ok' : `${result.status}: ${result.reason}`).toBe('ok');
    });
  }
});

describe('request errors', () => {
  const CREATE = 'mutation($input: CreateResourceInput!) { createResource(input: $input) { __typename } }';

  it.each([
    ['a string for an Int', { locationId: 'x', kind: 'ROOM', name: 'R', capacity: '3' }],
    ['an unknown enum value', { locationId: 'x', kind: 'ROBOT', name: 'R' }],
  ])('variables with %s answer 400 under graphql-response+json, 200 under application/json', async (_, input) => {
    const strict = await post({ query: CREATE, variables: { input } }, { authorization: `Bearer ${t.adminToken}` });
    expect(strict.status).toBe(400);
    expect(strict.headers.get('content-type')).toContain(GRAPHQL_RESPONSE);
    const body = (await strict.json()) as { data?: unknown; errors: { message: string; extensions?: { code?: string } }[] };
    expect(body.data).toBeUndefined();
    expect(body.errors[0]!.message).toMatch(/\$input/);
    expect(body.errors[0]!.extensions?.code).toBe('BAD_USER_INPUT');
    const legacy = await post({ query: CREATE, variables: { input } }, { accept: 'application/json', authorization: `Bearer ${t.adminToken}` });
    expect(legacy.status).toBe(200);
    expect(await t.app.db.prisma.resource.count()).toBe(0);
  });

  it('a required variable left out is BAD_USER_INPUT naming it, over HTTP and over graphql-ws', async () => {
    const AVAILABILITY = 'query ($r: ID!, $from: DateTime!, $to: DateTime!) { availability(resourceId: $r, from: $from, to: $to) { __typename } }';
    const response = await post({ query: AVAILABILITY, variables: { r: 'x', from: '2055-01-01T00:00:00Z' } });
    expect(response.status).toBe(400);
    expect(((await response.json()) as { errors: unknown[] }).errors).toEqual([
      expect.objectContaining({ message: 'Variable "$to" of required type "DateTime!" was not provided.', extensions: { code: 'BAD_USER_INPUT' } }),
    ]);
    const client = wsClient(server.url);
    try {
      const errors = await new Promise<unknown[]>((resolve, reject) => {
        client.subscribe(
          { query: 'subscription ($r: ID!) { slotAvailability(resourceId: $r) { __typename } }', variables: {} },
          {
            next: (r) => r.errors && resolve([...r.errors]),
            error: (e) => resolve(Array.isArray(e) ? e : [e]),
            complete: () => reject(new Error('no error')),
          },
        );
      });
      expect(errors[0]).toMatchObject({ message: expect.stringContaining('"$r"'), extensions: { code: 'BAD_USER_INPUT' } });
    } finally {
      await client.dispose();
    }
  });

  it('a resolver failure with data stays 200', async () => {
    const response = await post({ query: '{ node(id: "bm90LWEtbm9kZQ==") { id } }' });
    expect(response.status).toBe(200);
  });

  it('serverTime below 100 ms is a VALIDATION_FAILED error on intervalMs, not a clamped stream', async () => {
    const client = wsClient(server.url);
    try {
      const errors = await new Promise<unknown[]>((resolve, reject) => {
        client.subscribe(
          { query: 'subscription { serverTime(intervalMs: 10) }' },
          {
            next: (r) => r.errors && resolve([...r.errors]),
            error: (e) => resolve(Array.isArray(e) ? e : [e]),
            complete: () => reject(new Error('completed without an error')),
          },
        );
      });
      expect(errors[0]).toMatchObject({ extensions: { code: 'VALIDATION_FAILED', fieldErrors: [{ path: ['intervalMs'] }] } });
    } finally {
      await client.dispose();
    }
  });
});

describe('compression', () => {
  it('reads Accept-Encoding with q-values', () => {
    expect(preferredEncoding('gzip, deflate, br')).toBe('br');
    expect(preferredEncoding('gzip;q=1, br;q=0.5')).toBe('gzip');
    expect(preferredEncoding('br;q=0, gzip')).toBe('gzip');
    expect(preferredEncoding('identity')).toBeUndefined();
    expect(preferredEncoding('*')).toBe('br');
    expect(preferredEncoding(null)).toBeUndefined();
  });

  it('compresses a week of a location’s availability with br or gzip, and leaves small answers alone', async () => {
    await seedDemoIfEmpty(t.app);
    const location = await t.app.db.prisma.location.findFirstOrThrow();
    const from = new Date();
    const to = new Date(from.getTime() + 7 * 86_400_000);
    const query = `query($locationId: ID!, $from: DateTime!, $to: DateTime!) { availability(locationId: $locationId, from: $from, to: $to) {
      ... on Availability { timeZone slots { id startAt endAt localDate localStart localEnd localStartAt timeZone durationMinutes dayPart capacity booked held remaining status version } } } }`;
    const body = { query, variables: { locationId: gid('Location', String(location.id)), from: from.toISOString(), to: to.toISOString() } };

    const plain = await post(body, { 'accept-encoding': 'identity' });
    const plainBytes = Buffer.from(await plain.arrayBuffer());
    expect(plain.headers.get('content-encoding')).toBeNull();
    const slots = JSON.parse(plainBytes.toString()).data.availability.slots as unknown[];
    expect(slots.length).toBeGreaterThan(100);

    const sizes: Record<string, number> = { identity: plainBytes.length };
    for (const [encoding, decode] of [
      ['br', brotliDecompressSync],
      ['gzip', gunzipSync],
    ] as const) {
      // Raw bytes as sent: node's fetch would decode them, so read them over http.request.
      const raw = await rawPost(body, { 'accept-encoding': encoding });
      expect(raw.headers['content-encoding']).toBe(encoding);
      expect(raw.headers.vary).toMatch(/accept-encoding/i);
      expect(Number(raw.headers['content-length'])).toBe(raw.body.length);
      expect(decode(raw.body).equals(plainBytes)).toBe(true);
      expect(raw.body.length).toBeLessThan(plainBytes.length / 5);
      sizes[encoding] = raw.body.length;
    }
    console.log(`a week of a location's availability (${slots.length} slots): ${JSON.stringify(sizes)} bytes`);

    const small = await rawPost({ query: '{ serverTime }' }, { 'accept-encoding': 'br, gzip' });
    expect(small.body.length).toBeLessThan(COMPRESSION_THRESHOLD_BYTES);
    expect(small.headers['content-encoding']).toBeUndefined();
  });

  it('never buffers an event stream', async () => {
    const controller = new AbortController();
    const response = await fetch(`${server.url}/graphql?query=${encodeURIComponent('subscription { serverTime(intervalMs: 100) }')}`, {
      headers: { accept: 'text/event-stream', 'accept-encoding': 'br, gzip' },
      signal: controller.signal,
    });
    expect(response.headers.get('content-encoding') ?? 'none').toBe('none');
    const reader = response.body!.getReader();
    const { value } = await reader.read();
    expect(new TextDecoder().decode(value)).toMatch(/:|data|event/);
    controller.abort();
    await reader.cancel().catch(() => {});
  });
});

async function rawPost(body: unknown, headers: Record<string, string>) {
  return new Promise<{ headers: Record<string, string | string[] | undefined>; body: Buffer }>((resolve, reject) => {
    const req = request(
      `${server.url}/graphql`,
      { method: 'POST', headers: { 'content-type': 'application/json', accept: GRAPHQL_RESPONSE, ...headers } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ headers: res.headers, body: Buffer.concat(chunks) }));
      },
    );
    req.on('error', reject);
    req.end(JSON.stringify(body));
  });
}
