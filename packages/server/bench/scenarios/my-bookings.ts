import { SignJWT } from 'jose';
import pg from 'pg';
import { globalId } from '../dataset.js';
import { sideBySide, TARGET_NAMES, TARGETS } from '../lib/compare.js';
import type { BenchContext } from '../lib/context.js';
import { JsonClient } from '../lib/http-client.js';
import { BENCH_SECRETS } from '../lib/processes.js';
import type { Row } from '../lib/report.js';

const USERS = 50;
const BOOKINGS_EACH = 20;
const MY_BOOKINGS = `query { myBookings { __typename ... on MyBookingsSuccess { data { id status startAt endAt } } } }`;
const FLOOR = `query ($userId: ID!, $email: String!) { myBookings(userId: $userId, email: $email) { id status startAt endAt } }`;

/**
 * Seed 002's "a user's booking list": 50 signed-in users (JWT), each with 20 bookings made through
 * the API, each client reading its own user's list. The floor reads the same rows by user id.
 */
export async function myBookingsBench(ctx: BenchContext): Promise<Row[]> {
  const secret = new TextEncoder().encode(BENCH_SECRETS.JWT_SECRET);
  const users = await Promise.all(
    Array.from({ length: USERS }, async (_, i) => {
      const email = `bench-user-${i}@bench.example`;
      const jwt = await new SignJWT({ email, roles: ['user'] })
        .setProtectedHeader({ alg: 'HS256' })
        .setIssuedAt()
        .setExpirationTime('2h')
        .sign(secret);
      return { email, headers: { authorization: `Bearer ${jwt}` }, id: '' };
    }),
  );

  const db = new pg.Client({ connectionString: ctx.databaseUrl });
  await db.connect();
  try {
    const { rows: slots } = await db.query<{ id: string }>(
      `SELECT s.id FROM slots s JOIN resources r ON r.id = s.resource_id
        WHERE NOT r.exclusive AND s.booked = 0 AND s.held = 0 ORDER BY s.start_at DESC LIMIT $1`,
      [USERS * BOOKINGS_EACH],
    );
    const seeding = new JsonClient(ctx.slotwise.url, USERS);
    await Promise.all(
      users.map(async (user, u) => {
        for (let b = 0; b < BOOKINGS_EACH; b++) {
          const slotId = globalId('Slot', slots[u * BOOKINGS_EACH + b]!.id);
          const data = await seeding.graphql(
            `mutation ($input: BookInput!) { book(input: $input) { __typename } }`,
            { input: { slotId } },
            user.headers,
          );
          if (data.book.__typename !== 'BookingReceipt') throw new Error(`seeding myBookings: book answered ${data.book.__typename}`);
        }
      }),
    );
    seeding.close();
    const { rows } = await db.query<{ id: string; email: string }>('SELECT id, email FROM users WHERE email = ANY ($1)', [users.map((u) => u.email)]);
    for (const user of users) user.id = rows.find((r) => r.email === user.email)!.id;
  } finally {
    await db.end();
  }

  const results = await sideBySide(ctx, USERS, (target, client) => async (c) => {
    const user = users[c % USERS]!;
    if (target === 'bare') {
      const { status, body } = await client.post('/myBookings', { userId: user.id, email: user.email });
      if (status !== 200 || body.data.length !== BOOKINGS_EACH) throw new Error(`HTTP ${status}, ${body.data?.length} bookings`);
      return 'ok';
    }
    if (target === 'floor') {
      const data = await client.graphql(FLOOR, { userId: user.id, email: user.email });
      if (data.myBookings.length !== BOOKINGS_EACH) throw new Error(`${data.myBookings.length} bookings`);
      return 'ok';
    }
    const data = await client.graphql(MY_BOOKINGS, {}, user.headers);
    if (data.myBookings.data?.length !== BOOKINGS_EACH)
      throw new Error(`myBookings answered ${data.myBookings.__typename} with ${data.myBookings.data?.length} bookings`);
    return 'ok';
  });
  const rows = TARGETS.map((t) => ({
    scenario: `myBookings (${BOOKINGS_EACH} each)`,
    target: TARGET_NAMES[t],
    result: results[t],
    ratio: t === 'floor' ? undefined : results[t].rps / results.floor.rps,
  })) as Row[];
  rows[2]!.goal = 'p95<150ms';
  rows[2]!.met = results.slotwise.p95 < 150 && results.slotwise.errors === 0;
  return rows;
}
