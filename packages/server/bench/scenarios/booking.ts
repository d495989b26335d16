import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { Temporal } from 'temporal-polyfill';
import { addDays, BENCH_ZONE, globalId, liveWindow } from '../dataset.js';
import { pick, wanted, type BenchContext } from '../lib/context.js';
import { sideBySide, TARGET_NAMES, TARGETS, type Target } from '../lib/compare.js';
import { JsonClient } from '../lib/http-client.js';
import { closedLoop, summarize, type Outcome } from '../lib/load.js';
import { printTable, skipped, type Row } from '../lib/report.js';
import { myBookingsBench } from './my-bookings.js';

const RECEIPT = `__typename ... on BookingReceipt { booking { id status } } ... on Error { code }`;
const SLOTWISE = {
  book: `mutation ($input: BookInput!) { book(input: $input) { ${RECEIPT} } }`,
  hold: `mutation ($input: HoldInput!) { hold(input: $input) { ${RECEIPT} } }`,
};
const FLOOR = {
  book: `mutation ($slotId: ID!, $customerName: String!, $customerEmail: String!) { book(slotId: $slotId, customerName: $customerName, customerEmail: $customerEmail) { kind id status } }`,
  hold: `mutation ($slotId: ID!, $customerName: String!, $customerEmail: String!) { hold(slotId: $slotId, customerName: $customerName, customerEmail: $customerEmail) { kind id status } }`,
  bookRange: `mutation ($resourceId: ID!, $startAt: String!, $endAt: String!, $customerName: String!, $customerEmail: String!) {
    bookRange(resourceId: $resourceId, startAt: $startAt, endAt: $endAt, customerName: $customerName, customerEmail: $customerEmail) { kind id conflict { startAt endAt } } }`,
};

const customer = (client: number) => ({ name: 'Bench Customer', email: `customer${client}@bench.example` });

/** What one attempt asks for: a slot, or a range on an exclusive resource. */
type Ask = { slotId: string } | { resourceId: string; startAt: string; endAt: string };

/** Sends one booking attempt to a target; a full slot or a taken range is a 'conflict'. */
async function attempt(
  target: Target,
  client: JsonClient,
  op: 'book' | 'hold',
  ask: Ask,
  who: number,
  headers?: Record<string, string>,
): Promise<Outcome> {
  const c = customer(who);
  const isRange = 'resourceId' in ask;
  if (target === 'slotwise') {
    const input = isRange
      ? { range: { resourceId: globalId('Resource', ask.resourceId), startAt: ask.startAt, endAt: ask.endAt }, customer: c }
      : { slotId: globalId('Slot', ask.slotId), customer: c };
    const data = await client.graphql(SLOTWISE[op], { input }, headers);
    const typename = data[op].__typename;
    if (typename === 'BookingReceipt') return 'ok';
    // The same client twice on one slot is refused by seed 003's rule: a conflict like a full slot.
    if (typename === 'SlotFullError' || typename === 'BookingConflictError' || typename === 'DuplicateBookingError') return 'conflict';
    throw new Error(`${op} answered ${typename} ${data[op].code ?? ''}`);
  }
  const field = isRange ? 'bookRange' : op;
  const vars = { ...ask, customerName: c.name, customerEmail: c.email };
  let kind: string;
  if (target === 'floor') kind = (await client.graphql(FLOOR[field], vars))[field].kind;
  else {
    const { status, body } = await client.post(`/${field}`, vars);
    if (status !== 200) throw new Error(`HTTP ${status}: ${JSON.stringify(body).slice(0, 200)}`);
    kind = body.data.__typename;
  }
  if (kind === 'Booking') return 'ok';
  if (kind === 'SlotFullError' || kind === 'BookingConflictError' || kind === 'DuplicateBookingError') return 'conflict';
  throw new Error(`${field} answered ${kind}`);
}

const localInstant = (date: string, minutes: number) =>
  Temporal.PlainDate.from(date)
    .toZonedDateTime({ timeZone: BENCH_ZONE, plainTime: Temporal.PlainTime.from({ hour: Math.floor(minutes / 60), minute: minutes % 60 }) })
    .toInstant()
    .toString();

function shuffle<T>(items: T[]): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [items[i], items[j]] = [items[j]!, items[i]!];
  }
  return items;
}

/**
 * Slots of the people (capacity 1), shuffled: each attempt takes the next, so spread-out bookings
 * never collide. The live suite's days stay free.
 */
async function spreadSlots(ctx: BenchContext): Promise<string[]> {
  const db = new pg.Client({ connectionString: ctx.databaseUrl });
  await db.connect();
  try {
    const live = liveWindow(ctx.dataset);
    const { rows } = await db.query<{ id: string }>(
      `SELECT s.id FROM slots s JOIN resources r ON r.id = s.resource_id
        WHERE NOT r.exclusive AND s.booked = 0 AND s.held = 0 AND NOT (s.start_at >= $1 AND s.start_at < $2) LIMIT 200000`,
      [live.from, live.to],
    );
    return shuffle(rows.map((r) => r.id));
  } finally {
    await db.end();
  }
}

/** One slot with room for every attempt of a run, per target: the hot slot. */
async function hotSlots(databaseUrl: string, resourceId: string): Promise<Record<Target, string>> {
  const db = new pg.Client({ connectionString: databaseUrl });
  await db.connect();
  try {
    const { rows } = await db.query<{ id: string }>(
      `INSERT INTO slots (location_id, resource_id, time_zone, start_at, end_at, capacity)
       SELECT r.location_id, r.id, $2, (current_date + 1 + time '03:00' + n * interval '30 minutes') AT TIME ZONE $2,
              (current_date + 1 + time '03:30' + n * interval '30 minutes') AT TIME ZONE $2, 1000000
         FROM resources r, generate_series(0, 2) n WHERE r.id = $1 ORDER BY n RETURNING id`,
      [resourceId, BENCH_ZONE],
    );
    return { floor: rows[0]!.id, bare: rows[1]!.id, slotwise: rows[2]!.id };
  } finally {
    await db.end();
  }
}

/**
 * book and hold at 20 and 80 clients on spread-out slots and on one hot slot; range-booking conflict
 * detection at 100 paced (about 1 s think time) and 100 closed-loop clients, beside conflict-free ranges.
 */
export async function bookingBench(ctx: BenchContext): Promise<Row[]> {
  const rows: Row[] = [];
  let warm = false;
  const across = async (
    scenario: string,
    clients: number,
    run: (t: Target, client: JsonClient) => (c: number, s: number) => Promise<Outcome>,
    pauseMs = 0,
  ) => {
    if (!wanted(`${scenario} ${clients}`)) return undefined;
    const results = await sideBySide(ctx, clients, run, { pauseMs, warmupMs: warm ? undefined : ctx.firstWarmupMs });
    warm = true;
    const made = TARGETS.map(
      (t) =>
        ({ scenario, target: TARGET_NAMES[t], result: results[t], ratio: t === 'floor' ? undefined : results[t].rps / results.floor.rps }) as Row,
    );
    rows.push(...made);
    return made[2]!;
  };

  const slotOps = (['book', 'hold'] as const).filter((op) => {
    if (ctx.fields.has(`Mutation.${op}`)) return true;
    skipped(`skipped: ${op} not in schema`);
    return false;
  });
  if (slotOps.length) {
    const slots = await spreadSlots(ctx);
    const hot = await hotSlots(ctx.databaseUrl, ctx.dataset.people[0]!.id);
    let cursor = 0;
    for (const op of slotOps) {
      for (const clients of [20, 80]) {
        const spread = await across(
          `${op} spread slots`,
          clients,
          (t, client) => (c) => attempt(t, client, op, { slotId: slots[cursor++ % slots.length]! }, c),
        );
        if (spread && op === 'book' && clients === 20) {
          spread.goal = 'p95<100ms & >=0.5x floor';
          spread.met = spread.result.p95 < 100 && spread.ratio! >= 0.5 && spread.result.errors === 0;
        }
        await across(`${op} one hot slot`, clients, (t, client) => (c) => attempt(t, client, op, { slotId: hot[t] }, c));
      }
    }
    if (slotOps.includes('book') && wanted('book spread + Idempotency-Key')) {
      // What an Idempotency-Key costs: the same spread-out book, each request with a fresh key.
      const client = new JsonClient(ctx.slotwise.url, 20);
      const result = summarize([
        await closedLoop({
          clients: 20,
          warmupMs: ctx.warmupMs,
          durationMs: ctx.durationMs,
          request: (c) => attempt('slotwise', client, 'book', { slotId: slots[cursor++ % slots.length]! }, c, { 'idempotency-key': randomUUID() }),
          serverPid: ctx.slotwise.pid,
        }),
      ]);
      client.close();
      rows.push({ scenario: 'book spread + Idempotency-Key', target: 'slotwise', result });
    }
  }

  if (ctx.fields.has('Mutation.book')) {
    const rooms = ctx.dataset.rooms;
    const contested = rooms.slice(0, 10);
    let day = 50;
    // Mostly conflicting: 10 rooms, one day per run, 60-minute ranges starting 09:00-16:00 on 15-minute steps.
    const conflicting = (t: Target, client: JsonClient) => {
      const date = addDays(ctx.dataset.firstDate, day++);
      return (c: number) => {
        const start = 9 * 60 + 15 * Math.floor(Math.random() * 29);
        return attempt(
          t,
          client,
          'book',
          { resourceId: pick(contested).id, startAt: localInstant(date, start), endAt: localInstant(date, start + 60) },
          c,
        );
      };
    };
    const paced = await across('conflict 100 paced (~1 s pause)', 100, conflicting, 1000);
    if (paced) {
      paced.goal = 'p95<50ms';
      paced.met = paced.result.p95 < 50 && paced.result.errors === 0;
    }
    const heavy = await across('conflict 100 closed-loop', 100, conflicting);
    // Conflict-free: every attempt takes its own (room, day, hour) cell.
    const cells = shuffle(rooms.flatMap((r) => Array.from({ length: 46 * 12 }, (_, i) => ({ r: r.id, d: Math.floor(i / 12), h: 8 + (i % 12) }))));
    let next = 0;
    const free = await across('range book conflict-free 100', 100, (t, client) => (c) => {
      const cell = cells[next++ % cells.length]!;
      const date = addDays(ctx.dataset.firstDate, cell.d);
      return attempt(
        t,
        client,
        'book',
        { resourceId: cell.r, startAt: localInstant(date, cell.h * 60), endAt: localInstant(date, cell.h * 60 + 60) },
        c,
      );
    });
    if (heavy && free) {
      heavy.goal = '>=0.5x conflict-free rps';
      heavy.met = heavy.result.rps >= 0.5 * free.result.rps && heavy.result.errors === 0;
    }
  } else skipped('skipped: book not in schema (range conflicts)');

  if (ctx.fields.has('Query.myBookings') && ctx.fields.has('Mutation.book')) {
    if (wanted('myBookings')) rows.push(...(await myBookingsBench(ctx)));
  } else skipped('skipped: myBookings not in schema');

  printTable('booking', rows);
  return rows;
}
