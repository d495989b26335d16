import { randomUUID } from 'node:crypto';
import { encodeGlobalID } from '@pothos/plugin-relay';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../../test/kit/app.js';
import { fixtures } from '../../test/kit/fixtures.js';

/** Anonymous callers' keys are scoped by X-Session-Id plus client address: replays never cross. */
let t: TestApp;
beforeAll(async () => {
  // One proxy in front: the client address is the last X-Forwarded-For entry.
  t = await createTestApp({ config: { TRUST_PROXY: '1' } });
});
afterAll(() => t.close());

const BOOK = `mutation ($input: BookInput!) { book(input: $input) {
  __typename ... on BookingReceipt { manageToken booking { id customer { name email phone } } } } }`;

async function book(slotId: string, key: string, headers: Record<string, string>) {
  const response = await t.app.yoga.fetch('http://slotwise.test/graphql', {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'idempotency-key': key, ...headers },
    // The same body for everyone: a shared customer, as a copied request would carry.
    body: JSON.stringify({
      query: BOOK,
      variables: { input: { slotId, customer: { name: 'Vera Visitor', email: 'vera@example.com', phone: '+1 212 555 0199' } } },
    }),
  });
  return { replayed: response.headers.get('idempotent-replayed'), text: await response.text() };
}

describe('idempotency scope of anonymous callers', () => {
  it('two sessions (or one session from two addresses) with the same key and body each run the request; a true repeat replays', async () => {
    const fx = fixtures(t.app.db.sql);
    const slot = await fx.slot(await fx.location(), null, { capacity: 5 });
    const slotId = encodeGlobalID('Slot', slot);
    const key = randomUUID();

    const first = await book(slotId, key, { 'x-session-id': 'session-a', 'x-forwarded-for': '198.51.100.7' });
    const otherSession = await book(slotId, key, { 'x-session-id': 'session-b', 'x-forwarded-for': '198.51.100.7' });
    const otherAddress = await book(slotId, key, { 'x-session-id': 'session-a', 'x-forwarded-for': '203.0.113.9' });
    const repeat = await book(slotId, key, { 'x-session-id': 'session-a', 'x-forwarded-for': '198.51.100.7' });

    // Each scope runs the request itself: the copies are not replays of the first (which would hand them
    // its booking and manage token); they book for the same customer, which seed 003 refuses.
    const answers = [first, otherSession, otherAddress].map((r) => JSON.parse(r.text).data.book);
    expect(answers.map((r) => r.__typename)).toEqual(['BookingReceipt', 'DuplicateBookingError', 'DuplicateBookingError']);
    for (const r of [otherSession, otherAddress]) {
      expect(r.text).not.toContain(answers[0].booking.id);
      expect(r.text).not.toContain(answers[0].manageToken);
    }
    expect([first.replayed, otherSession.replayed, otherAddress.replayed]).toEqual([null, null, null]);
    expect(repeat.replayed).toBe('true');
    expect(repeat.text).toBe(first.text);
    expect(await fx.bookingCounts(slot)).toEqual({ CONFIRMED: 1 });
    const owners = await t.app.db.sql.query<{ actor: string }>('SELECT actor FROM idempotency_records WHERE key = $1', [key]);
    expect(owners).toHaveLength(3);
    // The owner is a hash: neither the session id nor the address is stored.
    expect(JSON.stringify(owners)).not.toMatch(/session-a|198\.51|203\.0/);
  });
});
