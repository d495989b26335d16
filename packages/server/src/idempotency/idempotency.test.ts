import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { createTestApp, type TestApp } from '../../test/kit/app.js';
import { fixtures } from '../../test/kit/fixtures.js';
import { payloadHash } from './idempotency.service.js';

const CREATE = `mutation ($input: CreateLocationInput!) {
  createLocation(input: $input) {
    __typename
    ... on Location { id name }
    ... on ValidationError { code }
  }
}`;

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(() => t.close());

/** POSTs through Yoga's fetch keeping the HTTP status and headers the test asserts on. */
async function send(query: string, variables: Record<string, unknown>, options: { token?: string; key?: string } = {}) {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  if (options.key) headers['idempotency-key'] = options.key;
  const response = await t.app.yoga.fetch('http://slotwise.test/graphql', { method: 'POST', headers, body: JSON.stringify({ query, variables }) });
  return { status: response.status, headers: response.headers, body: (await response.json()) as { data?: any; errors?: any[] } };
}

const createLocation = (name: string, key: string, token = t.adminToken) =>
  send(CREATE, { input: { name, timeZone: 'Europe/Paris' } }, { token, key });

async function countLocations(name: string) {
  const [row] = await t.app.db.sql.query<{ n: number }>('SELECT count(*)::int AS n FROM locations WHERE name = $1', [name]);
  return row!.n;
}

async function records(key: string) {
  return t.app.db.sql.query<{ actor: string; operation: string; response: unknown }>(
    'SELECT actor, operation, response FROM idempotency_records WHERE key = $1 ORDER BY actor',
    [key],
  );
}

describe('Idempotency-Key on mutations', () => {
  it('replays the stored response for the same key, actor and payload, and creates one row only', async () => {
    const key = randomUUID();
    const first = await createLocation('Replay', key);
    expect(first.status).toBe(200);
    expect(first.body.data.createLocation).toMatchObject({ __typename: 'Location', name: 'Replay' });

    const again = await createLocation('Replay', key);
    expect(again.body).toEqual(first.body);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(first.headers.get('idempotent-replayed')).toBeNull();
    expect(await countLocations('Replay')).toBe(1);
    const [record] = await records(key);
    expect(record).toMatchObject({ operation: 'createLocation', response: { sealed: expect.any(String) } });
    // Sealed at rest: responses can carry customer details and manage tokens.
    expect(JSON.stringify(record!.response)).not.toContain('Replay');
  });

  it('lets 20 concurrent requests with one key create one row; every answer carries that row', async () => {
    const key = randomUUID();
    const answers = await Promise.all(Array.from({ length: 20 }, () => createLocation('Concurrent', key)));
    expect(await countLocations('Concurrent')).toBe(1);
    expect(await records(key)).toHaveLength(1);
    const ids = new Set(answers.filter((a) => a.status === 200).map((a) => a.body.data.createLocation.id));
    expect(ids.size).toBe(1);
    // A repeat still running after the wait gets 409; with a fast mutation none should.
    for (const a of answers.filter((a) => a.status !== 200)) {
      expect(a).toMatchObject({ status: 409, body: { errors: [{ extensions: { code: 'IDEMPOTENCY_KEY_IN_PROGRESS' } }] } });
    }
  });

  it('refuses the same key with another payload (422, IDEMPOTENCY_KEY_REUSED) and writes nothing', async () => {
    const key = randomUUID();
    await createLocation('Original', key);
    const changed = await createLocation('Changed', key);
    expect(changed.status).toBe(422);
    expect(changed.body.data).toBeUndefined();
    expect(changed.body.errors).toMatchObject([{ extensions: { code: 'IDEMPOTENCY_KEY_REUSED' } }]);
    expect(changed.body.errors![0].extensions.http).toBeUndefined();
    expect(await countLocations('Changed')).toBe(0);
    expect(await records(key)).toHaveLength(1);
  });

  it('keeps keys of different actors apart', async () => {
    const key = randomUUID();
    const otherAdmin = await t.tokenFor(['admin']);
    const mine = await createLocation('Shared key', key);
    const theirs = await createLocation('Shared key', key, otherAdmin);
    expect(theirs.body.data.createLocation.id).not.toBe(mine.body.data.createLocation.id);
    expect(await countLocations('Shared key')).toBe(2);
    expect(await records(key)).toHaveLength(2);
  });

  it('answers 409 while the first request with the key is still running', async () => {
    const key = randomUUID();
    const variables = { input: { name: 'Running', timeZone: 'Europe/Paris' } };
    const [admin] = await t.app.db.sql.query<{ id: string }>(
      `SELECT u.id FROM users u JOIN api_tokens a ON a.user_id = u.id WHERE u.roles @> '{admin}' ORDER BY a.created_at LIMIT 1`,
    );
    // A claim (response JSON null) as the first request leaves it while its mutation runs.
    await t.app.db.sql.query(
      `INSERT INTO idempotency_records (key, actor, operation, payload_hash, response, expires_at)
       VALUES ($1, $2, 'createLocation', $3, 'null'::jsonb, now() + interval '1 day')`,
      [key, `user:${admin!.id}`, payloadHash({ query: CREATE, variables })],
    );
    const started = Date.now();
    const repeat = await send(CREATE, variables, { token: t.adminToken, key });
    expect(repeat.status).toBe(409);
    expect(repeat.body.errors).toMatchObject([{ extensions: { code: 'IDEMPOTENCY_KEY_IN_PROGRESS' } }]);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1_000);
    expect(await countLocations('Running')).toBe(0);
  });

  it('ignores expired records, and the cleanup job deletes them', async () => {
    const key = randomUUID();
    const first = await createLocation('Expiring', key);
    await t.app.db.sql.query(`UPDATE idempotency_records SET expires_at = now() - interval '1 second' WHERE key = $1`, [key]);
    const after = await createLocation('Expiring', key);
    expect(after.body.data.createLocation.id).not.toBe(first.body.data.createLocation.id);
    expect(await countLocations('Expiring')).toBe(2);

    const stale = randomUUID();
    await createLocation('Stale', stale);
    await t.app.db.sql.query(`UPDATE idempotency_records SET expires_at = now() - interval '1 hour' WHERE key = $1`, [stale]);
    expect(await t.app.services.idempotency.deleteExpired()).toBeGreaterThanOrEqual(1);
    expect(await records(stale)).toHaveLength(0);
    expect(await records(key)).toHaveLength(1);
  });

  it('stores typed business errors but not unexpected failures, so a retry can succeed', async () => {
    const typed = randomUUID();
    const invalid = await send(CREATE, { input: { name: 'Bad zone', timeZone: 'Mars/Olympus' } }, { token: t.adminToken, key: typed });
    expect(invalid.body.data.createLocation.__typename).toBe('ValidationError');
    expect(await records(typed)).toHaveLength(1);

    const key = randomUUID();
    await t.app.db.sql.exec('ALTER TABLE locations RENAME TO locations_away');
    try {
      const failed = await createLocation('After outage', key);
      expect(failed.body.errors).toMatchObject([{ extensions: { code: 'INTERNAL_SERVER_ERROR' } }]);
    } finally {
      await t.app.db.sql.exec('ALTER TABLE locations_away RENAME TO locations');
    }
    expect(await records(key)).toHaveLength(0);
    const retry = await createLocation('After outage', key);
    expect(retry.body.data.createLocation).toMatchObject({ __typename: 'Location', name: 'After outage' });
    expect(await countLocations('After outage')).toBe(1);
  });

  it('does not record queries and rejects a malformed key', async () => {
    const key = randomUUID();
    const query = await send('{ locations { id } }', {}, { key });
    expect(query.status).toBe(200);
    expect(await records(key)).toHaveLength(0);

    const malformed = await createLocation('Bad key', 'with spaces in it');
    expect(malformed.status).toBe(400);
    expect(malformed.body.errors).toMatchObject([{ extensions: { code: 'IDEMPOTENCY_KEY_INVALID' } }]);
    expect(await countLocations('Bad key')).toBe(0);
  });
});

const BOOK = `mutation ($input: BookInput!) {
  book(input: $input) {
    __typename
    ... on BookingReceipt { manageToken booking { id status } }
    ... on Error { code }
  }
}`;

describe('Idempotency-Key on book', () => {
  it('replays a book with the same booking id and token, and books one place however often it is sent', async () => {
    const fx = fixtures(t.app.db.sql);
    const slotId = await fx.slot(await fx.location(), null, { capacity: 5 });
    const variables = { input: { slotId: Buffer.from(`Slot:${slotId}`).toString('base64'), customer: { name: 'Ada', email: 'ada@example.com' } } };
    const key = randomUUID();

    const first = await send(BOOK, variables, { key });
    expect(first.body.data.book).toMatchObject({ __typename: 'BookingReceipt', booking: { status: 'CONFIRMED' } });
    const again = await Promise.all(Array.from({ length: 10 }, () => send(BOOK, variables, { key })));
    for (const a of again) expect(a.body).toEqual(first.body);
    expect(await fx.slotCounts(slotId)).toMatchObject({ booked: 1, held: 0 });
    expect(await fx.bookingCounts(slotId)).toEqual({ CONFIRMED: 1 });

    // Without a key, the same request runs again (not a replay): the same customer is refused a second
    // place on the slot (seed 003), someone else gets one.
    const again2 = await send(BOOK, variables);
    expect(again2.body.data.book).toMatchObject({ __typename: 'DuplicateBookingError', code: 'DUPLICATE_BOOKING' });
    const other = await send(BOOK, { input: { ...variables.input, customer: { name: 'Bo', email: 'bo@example.com' } } });
    expect(other.body.data.book.booking.id).not.toBe(first.body.data.book.booking.id);
    expect(await fx.slotCounts(slotId)).toMatchObject({ booked: 2 });
  });
});
