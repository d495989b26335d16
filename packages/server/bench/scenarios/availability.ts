import { addDays, globalId } from '../dataset.js';
import type { BenchContext } from '../lib/context.js';
import { pick, wanted } from '../lib/context.js';
import { sideBySide, TARGET_NAMES, type Target } from '../lib/compare.js';
import type { JsonClient } from '../lib/http-client.js';
import type { Outcome } from '../lib/load.js';
import { printTable, skipped, type Row } from '../lib/report.js';

const SLOT_FIELDS = 'id startAt endAt status remaining localDate localStart localEnd';
const WINDOW_DAYS = 7;

interface Query {
  field: string;
  /** Arguments for one request: a random resource and date. */
  args(ctx: BenchContext, client: number, seq: number): Record<string, any>;
  slotwise: string;
  floor: string;
  /** Converts raw ids to Relay IDs for the real API. */
  toApi(args: Record<string, any>): Record<string, any>;
  success: string;
}

const window = (ctx: BenchContext) => {
  const from = addDays(ctx.dataset.firstDate, Math.floor(Math.random() * 50));
  return { from: `${from}T00:00:00Z`, to: `${addDays(from, WINDOW_DAYS)}T00:00:00Z` };
};

const QUERIES: Query[] = [
  {
    field: 'availability',
    args: (ctx) => ({ resourceId: pick(ctx.dataset.people).id, ...window(ctx) }),
    slotwise: `query ($resourceId: ID!, $from: DateTime!, $to: DateTime!) {
      availability(resourceId: $resourceId, from: $from, to: $to) { __typename ... on Availability { timeZone slots { ${SLOT_FIELDS} } } } }`,
    floor: `query ($resourceId: ID!, $from: String!, $to: String!) {
      availability(resourceId: $resourceId, from: $from, to: $to) { timeZone slots { ${SLOT_FIELDS} } } }`,
    toApi: (a) => ({ ...a, resourceId: globalId('Resource', a.resourceId) }),
    success: 'Availability',
  },
  {
    field: 'exposedSlots',
    args: (ctx, client, seq) => ({
      resourceId: pick(ctx.dataset.people).id,
      date: addDays(ctx.dataset.firstDate, Math.floor(Math.random() * 50)),
      sessionId: `bench-${client}-${seq}`,
    }),
    slotwise: `query ($resourceId: ID!, $date: Date!, $sessionId: String) {
      exposedSlots(resourceId: $resourceId, date: $date, sessionId: $sessionId) { __typename ... on ExposedSlots { total hasMore k slots { id startAt endAt status remaining localStart } } } }`,
    floor: `query ($resourceId: ID!, $date: String!, $sessionId: String!) {
      exposedSlots(resourceId: $resourceId, date: $date, sessionId: $sessionId) { total hasMore k slots { id startAt endAt status remaining localStart } } }`,
    toApi: (a) => ({ ...a, resourceId: globalId('Resource', a.resourceId) }),
    success: 'ExposedSlots',
  },
  {
    field: 'searchAvailability',
    args: (ctx) => ({ resourceId: pick(ctx.dataset.rooms).id, durationMinutes: 60, ...window(ctx) }),
    slotwise: `query ($resourceId: ID!, $from: DateTime!, $to: DateTime!, $durationMinutes: Int!) {
      searchAvailability(resourceId: $resourceId, from: $from, to: $to, durationMinutes: $durationMinutes) {
        __typename ... on AvailabilitySearch { results { ranges { startAt endAt } nextAvailable { startAt endAt } } } } }`,
    floor: `query ($resourceId: ID!, $from: String!, $to: String!, $durationMinutes: Int!) {
      searchAvailability(resourceId: $resourceId, from: $from, to: $to, durationMinutes: $durationMinutes) { ranges { startAt endAt } } }`,
    toApi: (a) => ({ ...a, resourceId: globalId('Resource', a.resourceId) }),
    success: 'AvailabilitySearch',
  },
];

function requester(ctx: BenchContext, q: Query, target: Target, client: JsonClient) {
  return async (c: number, seq: number): Promise<Outcome> => {
    const args = q.args(ctx, c, seq);
    if (target === 'bare') {
      const { status } = await client.post(`/${q.field}`, args);
      if (status !== 200) throw new Error(`HTTP ${status}`);
      return 'ok';
    }
    if (target === 'floor') {
      await client.graphql(q.floor, args);
      return 'ok';
    }
    const data = await client.graphql(q.slotwise, q.toApi(args));
    const typename = data[q.field].__typename;
    if (typename !== q.success) throw new Error(`${q.field} answered ${typename}`);
    return 'ok';
  };
}

/** availability, exposedSlots and searchAvailability at 50 and 200 clients, beside the floor and bare node:http. */
export async function availabilityBench(ctx: BenchContext): Promise<Row[]> {
  const rows: Row[] = [];
  let warm = false;
  for (const q of QUERIES) {
    if (!ctx.fields.has(`Query.${q.field}`)) {
      skipped(`skipped: ${q.field} not in schema`);
      continue;
    }
    for (const clients of [50, 200]) {
      if (!wanted(`${q.field} ${clients}`)) continue;
      const measured = await sideBySide(ctx, clients, (target, client) => requester(ctx, q, target, client), {
        warmupMs: warm ? undefined : ctx.firstWarmupMs,
      });
      warm = true;
      const scenario = `${q.field} ${q.field === 'exposedSlots' ? '1 day' : `${WINDOW_DAYS}d window`}`;
      const results = Object.fromEntries(
        Object.entries(measured).map(([t, result]) => [t, { scenario, target: TARGET_NAMES[t as Target], result }]),
      ) as Record<Target, Row>;
      const floor = results.floor.result;
      for (const target of ['bare', 'slotwise'] as Target[]) results[target].ratio = results[target].result.rps / floor.rps;
      const s = results.slotwise;
      if (clients === 50) {
        s.goal = 'p95<100ms & >=0.8x floor';
        s.met = s.result.p95 < 100 && s.ratio! >= 0.8 && s.result.errors === 0;
      } else {
        s.goal = "p99 <= 2x floor's";
        s.met = s.result.p99 <= 2 * floor.p99 && s.result.errors === 0;
      }
      rows.push(results.floor, results.bare, s);
    }
  }
  printTable('availability (dataset: 200 resources x 60 days of 30-minute slots)', rows);
  return rows;
}
