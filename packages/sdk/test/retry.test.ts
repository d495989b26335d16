import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient } from '../src/index.js';
import { BookDocument } from '../src/documents.js';
import { startLiveServer, type LiveServer } from './live-server.js';
import { as, setUpScenario, type Scenario } from './scenario.js';

let server: LiveServer;
let s: Scenario;
beforeAll(async () => {
  server = await startLiveServer();
  s = await setUpScenario(server, { capacity: 3 });
});
afterAll(() => server?.stop());

const rawId = (globalId: string) => Buffer.from(globalId, 'base64').toString('utf8').split(':')[1]!;
const bookingsOn = async (slotId: string) =>
  (await server.query<{ n: number }>('SELECT count(*)::int AS n FROM bookings WHERE slot_id = $1', [rawId(slotId)]))[0]!.n;

/** A fetch whose first response is lost after the server handled the request. */
function losingFirstResponse() {
  const keys: (string | null)[] = [];
  const lossy: typeof fetch = async (input, init) => {
    keys.push(new Headers(init?.headers).get('idempotency-key'));
    const response = await fetch(input, init);
    if (keys.length === 1) {
      await response.arrayBuffer();
      throw new TypeError('fetch failed: connection reset');
    }
    return response;
  };
  return { lossy, keys };
}

describe('retried mutations', () => {
  it('a lost response is retried with the same Idempotency-Key and books once', async () => {
    const slot = s.slots[0]!;
    const { lossy, keys } = losingFirstResponse();
    const client = createClient({ url: server.url, fetch: lossy });
    const result = as(
      (await client.request(BookDocument, { input: { slotId: slot.id, customer: { name: 'Once', email: 'once@example.com' } } })).book,
      'BookingReceipt',
    );
    expect(keys).toHaveLength(2);
    expect(keys[0]).toMatch(/^[0-9a-f-]{36}$/);
    expect(keys[1]).toBe(keys[0]);
    expect(await bookingsOn(slot.id)).toBe(1);
    expect(result.booking.slot?.remaining).toBe(2);
  });

  it('each call gets a fresh key: two calls book twice', async () => {
    const slot = s.slots[1]!;
    const client = createClient({ url: server.url });
    // Two customers: one customer may hold a slot only once (seed 003), whatever the key.
    for (let i = 0; i < 2; i++)
      await client.request(BookDocument, { input: { slotId: slot.id, customer: { name: 'Twice', email: `twice${i}@example.com` } } });
    expect(await bookingsOn(slot.id)).toBe(2);
  });

  it('a caller-chosen key makes a repeated call safe across clients', async () => {
    const slot = s.slots[2]!;
    const input = { input: { slotId: slot.id, customer: { name: 'Key', email: 'key@example.com' } } };
    const first = await createClient({ url: server.url }).request(BookDocument, input, { idempotencyKey: 'order-42' });
    const again = await createClient({ url: server.url }).request(BookDocument, input, { idempotencyKey: 'order-42' });
    expect(again).toEqual(first);
    expect(await bookingsOn(slot.id)).toBe(1);
  });

  it('retries a 503 and gives up with a typed SlotwiseError after `retries`', async () => {
    let calls = 0;
    const unavailable: typeof fetch = async () => (calls++, new Response('busy', { status: 503 }));
    const client = createClient({ url: server.url, fetch: unavailable, retries: 2 });
    await expect(client.request(BookDocument, { input: { slotId: s.slots[3]!.id } })).rejects.toMatchObject({
      name: 'SlotwiseError',
      code: 'HTTP_ERROR',
      status: 503,
    });
    expect(calls).toBe(3);
  });
});
