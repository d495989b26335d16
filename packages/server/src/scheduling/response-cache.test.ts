import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeGlobalID } from '@pothos/plugin-relay';
import { createTestApp, type TestApp } from '../../test/kit/app.js';
import { BOOK_MUTATION, createBookableSlots, spawnServer, type ServerProcess } from '../../test/faults.js';
import { TEST_REDIS_URL } from '../../test/databases.js';
import { startServer, type RunningServer } from '../server.js';

const AVAILABILITY = `query Month($resourceId: ID!, $from: DateTime!, $to: DateTime!) {
  availability(resourceId: $resourceId, from: $from, to: $to) {
    __typename ... on Availability { slots { id booked remaining } } ... on Error { code message } } }`;

let t: TestApp;
let serverA: RunningServer;
let b: ServerProcess;
let resourceId: string;
let slotIds: string[];
const window = { from: new Date(Date.now()).toISOString(), to: new Date(Date.now() + 30 * 86_400_000).toISOString() };

/** The availability answer and the instance's X-Response-Cache verdict. */
async function readSlots(url: string, token?: string) {
  const response = await fetch(`${url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ query: AVAILABILITY, variables: { resourceId: encodeGlobalID('Resource', resourceId), ...window } }),
  });
  const body = (await response.json()) as { data: { availability: { slots: { id: string; booked: number; remaining: number }[] } } };
  return { slots: body.data.availability.slots, cache: response.headers.get('x-response-cache') };
}

async function book(url: string, slotId: string, n: number) {
  const response = await fetch(`${url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      query: BOOK_MUTATION,
      variables: { input: { slotId: encodeGlobalID('Slot', slotId), customer: { name: `C ${n}`, email: `c${n}@example.com` } } },
    }),
  });
  const body = (await response.json()) as { data: { book: { __typename: string } } };
  expect(body.data.book.__typename).toBe('BookingReceipt');
}

beforeAll(async () => {
  t = await createTestApp({ redis: true });
  serverA = await startServer(t.app, { port: 0, host: '127.0.0.1' });
  ({ resourceId, slotIds } = await createBookableSlots(t.databaseUrl, 48, 100));
  b = await spawnServer({ DATABASE_URL: t.databaseUrl, REDIS_URL: TEST_REDIS_URL });
}, 60_000);

afterAll(async () => {
  await b?.kill();
  await serverA?.stop();
  await t?.close();
});

describe('response cache (two instances, one Redis)', () => {
  it('serves a repeated anonymous month view from the cache, on either instance', async () => {
    const first = await readSlots(serverA.url);
    expect(first.slots).toHaveLength(48);
    expect(['miss', 'hit']).toContain(first.cache);
    // The entry is kept after the answer is sent: the next reads find it.
    let again = await readSlots(b.url);
    for (let i = 0; i < 50 && again.cache !== 'hit'; i++) again = await readSlots(b.url);
    expect(again.cache).toBe('hit');
    expect(again.slots).toEqual(first.slots);
    expect((await readSlots(serverA.url)).cache).toBe('hit');
  });

  it('never hides a committed booking: a read on the other instance right after the booking response shows it', async () => {
    const booked = new Map<string, number>();
    for (let i = 0; i < 24; i++) {
      // Alternate which instance books and which reads; warm the reader's cache first.
      const [writer, reader] = i % 2 ? [b.url, serverA.url] : [serverA.url, b.url];
      await readSlots(reader);
      await readSlots(reader);
      const slotId = slotIds[i % 6]!;
      await book(writer, slotId, i);
      booked.set(slotId, (booked.get(slotId) ?? 0) + 1);
      const after = await readSlots(reader);
      expect(after.cache).not.toBe('hit');
      for (const [id, count] of booked) expect(after.slots.find((s) => s.id === encodeGlobalID('Slot', id))?.booked).toBe(count);
    }
  }, 120_000);

  it('keeps concurrent bookings visible: after parallel bookings on both instances every read shows all of them', async () => {
    const slotId = slotIds[10]!;
    await Promise.all([readSlots(serverA.url), readSlots(b.url)]);
    await Promise.all(Array.from({ length: 20 }, (_, i) => book(i % 2 ? b.url : serverA.url, slotId, 100 + i)));
    for (const url of [serverA.url, b.url, serverA.url, b.url]) {
      const { slots } = await readSlots(url);
      expect(slots.find((s) => s.id === encodeGlobalID('Slot', slotId))?.booked).toBe(20);
    }
  }, 60_000);

  it('is not used for signed-in callers', async () => {
    const token = await t.tokenFor(['admin']);
    await readSlots(serverA.url);
    const signedIn = await readSlots(serverA.url, token);
    expect(signedIn.cache).toBeNull();
    expect(signedIn.slots).toHaveLength(48);
  });
});
