import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../../test/kit/app.js';
import { BOOK, CANCEL, HOLD } from '../../test/kit/documents.js';
import { gid, fixtures } from '../../test/kit/fixtures.js';

/** Seed 003's strict mode: REQUIRE_IDEMPOTENCY_KEY=true. */
let t: TestApp;
let fx: ReturnType<typeof fixtures>;
let locationId: string;
let resourceId: string;

beforeAll(async () => {
  t = await createTestApp({ config: { REQUIRE_IDEMPOTENCY_KEY: 'true' } });
  fx = fixtures(t.app.db.sql);
  locationId = await fx.location();
  resourceId = await fx.resource(locationId);
});
afterAll(() => t?.close());

async function send(query: string, variables: Record<string, unknown>, headers: Record<string, string> = {}) {
  const response = await t.app.yoga.fetch('http://slotwise.test/graphql', {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json', ...headers },
    body: JSON.stringify({ query, variables }),
  });
  return { status: response.status, body: (await response.json()) as { data?: any; errors?: any[] } };
}

const customer = { name: 'Strict Customer', email: 'strict@example.com' };

describe('REQUIRE_IDEMPOTENCY_KEY=true', () => {
  it.each([
    ['book', BOOK],
    ['hold', HOLD],
  ])('%s without Idempotency-Key: 428, a typed error naming the header, nothing booked', async (_name, query) => {
    const slotId = await fx.slot(locationId, resourceId);
    const refused = await send(query, { input: { slotId: gid('Slot', slotId), customer } });
    expect(refused.status).toBe(428);
    expect(refused.body.data).toBeUndefined();
    expect(refused.body.errors).toEqual([
      expect.objectContaining({
        message: expect.stringContaining('Idempotency-Key'),
        extensions: { code: 'IDEMPOTENCY_KEY_REQUIRED', header: 'Idempotency-Key' },
      }),
    ]);
    expect(await fx.bookingCounts(slotId)).toEqual({});
  });

  it('with a key the same request books, and a repeat replays instead of booking twice', async () => {
    const slotId = await fx.slot(locationId, resourceId, { capacity: 2 });
    const key = randomUUID();
    const first = await send(BOOK, { input: { slotId: gid('Slot', slotId), customer } }, { 'idempotency-key': key });
    expect(first.status).toBe(200);
    expect(first.body.data.book.__typename).toBe('BookingReceipt');
    const again = await send(BOOK, { input: { slotId: gid('Slot', slotId), customer } }, { 'idempotency-key': key });
    expect(again.body).toEqual(first.body);
    expect(await fx.bookingCounts(slotId)).toEqual({ CONFIRMED: 1 });

    // Changing a booking is a booking mutation too.
    const { manageToken, booking } = first.body.data.book;
    expect((await send(CANCEL, { input: { bookingId: booking.id, manageToken } })).body.errors?.[0]?.extensions?.code).toBe(
      'IDEMPOTENCY_KEY_REQUIRED',
    );
    const cancelled = await send(CANCEL, { input: { bookingId: booking.id, manageToken } }, { 'idempotency-key': randomUUID() });
    expect(cancelled.body.data.cancelBooking.status).toBe('CANCELLED');
  });

  it('a booking mutation reached through a fragment or an alias still needs the key', async () => {
    const slotId = await fx.slot(locationId, resourceId);
    const hidden = `mutation ($input: BookInput!) { ...B } fragment B on Mutation { mine: book(input: $input) { __typename } }`;
    expect((await send(hidden, { input: { slotId: gid('Slot', slotId), customer } })).status).toBe(428);
    expect(await fx.bookingCounts(slotId)).toEqual({});
  });

  it('other mutations and queries do not need one', async () => {
    const created = await send(
      `mutation { createLocation(input: { name: "Keyless", timeZone: "UTC" }) { __typename } }`,
      {},
      { authorization: `Bearer ${t.adminToken}` },
    );
    expect(created.body.data.createLocation.__typename).toBe('Location');
    expect(
      (await send(`mutation ($input: RequestSignInInput!) { requestSignIn(input: $input) { __typename } }`, { input: { email: 'k@example.com' } }))
        .body.data,
    ).toEqual({ requestSignIn: { __typename: 'SignInRequested' } });
    expect((await send(`query { locations { id } }`, {})).status).toBe(200);
  });
});
