import { parse } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient } from '../src/index.js';
import { isMutation } from '../src/client.js';
import * as documents from '../src/generated/graphql.js';
import { BookDocument, CancelBookingDocument, HoldDocument } from '../src/documents.js';
import { startLiveServer, type LiveServer } from './live-server.js';
import { as, setUpScenario, type Scenario } from './scenario.js';

/** The SDK always sends an Idempotency-Key on mutations, so it works against REQUIRE_IDEMPOTENCY_KEY=true. */
let server: LiveServer;
let s: Scenario;
beforeAll(async () => {
  server = await startLiveServer({ config: { REQUIRE_IDEMPOTENCY_KEY: 'true' } });
  s = await setUpScenario(server, { capacity: 3 });
});
afterAll(() => server?.stop());

/** A fetch that records the Idempotency-Key of each request. */
function recording() {
  const keys: (string | null)[] = [];
  const fetchFn: typeof fetch = (input, init) => {
    keys.push(new Headers(init?.headers).get('idempotency-key'));
    return fetch(input, init);
  };
  return { keys, fetchFn };
}

describe('Idempotency-Key from the SDK', () => {
  it('every SDK document is recognised: mutations get a key, queries and subscriptions do not', () => {
    const all = Object.entries(documents).filter(([name]) => name.endsWith('Document')) as [string, { toString(): string }][];
    expect(all.length).toBeGreaterThan(50);
    for (const [name, document] of all) {
      const operations = parse(document.toString()).definitions.filter((d) => d.kind === 'OperationDefinition');
      expect(isMutation(document.toString()), name).toBe(operations.some((o) => o.operation === 'mutation'));
    }
    // Hand-written documents: fragments first, comments, a field called mutation.
    expect(isMutation('fragment F on Booking { id }\n# note\nmutation M { cancelBooking(input: {}) { ...F } }')).toBe(true);
    expect(isMutation('# mutation in a comment\nquery Q { me { email } }')).toBe(false);
  });

  it('book, hold and cancel through the SDK succeed against a server that requires the key; without one the server refuses', async () => {
    const { keys, fetchFn } = recording();
    const client = createClient({ url: server.url, fetch: fetchFn });
    const booked = as(
      (await client.request(BookDocument, { input: { slotId: s.slots[0]!.id, customer: { name: 'Strict', email: 'strict@example.com' } } })).book,
      'BookingReceipt',
    );
    as(
      (await client.request(HoldDocument, { input: { slotId: s.slots[1]!.id, customer: { name: 'Strict', email: 'strict@example.com' } } })).hold,
      'BookingReceipt',
    );
    const cancelled = as(
      (await client.request(CancelBookingDocument, { input: { bookingId: booked.booking.id, manageToken: booked.manageToken } })).cancelBooking,
      'Booking',
    );
    expect(cancelled.status).toBe('CANCELLED');
    expect(keys).toHaveLength(3);
    expect(new Set(keys).size).toBe(3);
    for (const key of keys) expect(key).toMatch(/^[0-9a-f-]{36}$/);

    const raw = await fetch(server.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json' },
      body: JSON.stringify({
        query: documents.BookDocument.toString(),
        variables: { input: { slotId: s.slots[2]!.id, customer: { name: 'No key', email: 'nokey@example.com' } } },
      }),
    });
    expect(raw.status).toBe(428);
    expect(((await raw.json()) as { errors: { extensions: unknown }[] }).errors[0]!.extensions).toEqual({
      code: 'IDEMPOTENCY_KEY_REQUIRED',
      header: 'Idempotency-Key',
    });
  });

  it('a hand-written mutation with its fragments first is sent with a key too', async () => {
    const { keys, fetchFn } = recording();
    const client = createClient({ url: server.url, fetch: fetchFn });
    const query = `fragment R on BookingReceipt { manageToken }
      mutation HandWritten($input: BookInput!) { book(input: $input) { __typename ...R } }`;
    const result = await client.request<{ book: { __typename: string } }, { input: unknown }>(query, {
      input: { slotId: s.slots[3]!.id, customer: { name: 'Hand', email: 'hand@example.com' } },
    });
    expect(result.book.__typename).toBe('BookingReceipt');
    expect(keys[0]).toMatch(/^[0-9a-f-]{36}$/);
  });
});
