import { addDays, globalId } from '../dataset.js';
import type { BenchContext } from '../lib/context.js';
import { JsonClient } from '../lib/http-client.js';
import { closedLoop, summarize, type LoadSample, type Outcome } from '../lib/load.js';
import { settled, startSlotwise } from '../lib/processes.js';
import { printTable, type Row } from '../lib/report.js';

const CLIENTS = 10;
const DAYS = 30;
const SLOT_FIELDS = 'id startAt endAt status remaining localDate localStart localEnd';
const QUERY = `query ($resourceId: ID!, $from: DateTime!, $to: DateTime!) {
  availability(resourceId: $resourceId, from: $from, to: $to) { __typename ... on Availability { timeZone slots { ${SLOT_FIELDS} } } } }`;

/**
 * One resource's month (every client asks the same question, as on a popular booking page) at 10
 * clients: Slotwise with its response cache, the same server with RESPONSE_CACHE=off, and bare
 * node:http running the one SQL. Prints the cache's hit rate from the X-Response-Cache headers.
 */
export async function monthViewBench(ctx: BenchContext): Promise<Row[]> {
  const resource = ctx.dataset.people[0]!;
  const from = addDays(ctx.dataset.firstDate, 1);
  const args = { resourceId: resource.id, from: `${from}T00:00:00Z`, to: `${addDays(from, DAYS)}T00:00:00Z` };
  const uncachedServer = await startSlotwise(ctx.databaseUrl, { name: 'slotwise (RESPONSE_CACHE=off)', env: { RESPONSE_CACHE: 'off' } });
  try {
    const cache = { hit: 0, miss: 0, bypass: 0, none: 0 };
    let slots = 0;
    const slotwise = (client: JsonClient, count: boolean) => async (): Promise<Outcome> => {
      const { body, headers } = await client.post('/graphql', { query: QUERY, variables: { ...args, resourceId: globalId('Resource', args.resourceId) } });
      if (body.data?.availability?.__typename !== 'Availability') throw new Error(JSON.stringify(body).slice(0, 300));
      slots = body.data.availability.slots.length;
      if (count) cache[(headers['x-response-cache'] as keyof typeof cache | undefined) ?? 'none']++;
      return 'ok';
    };
    const targets: { name: string; url: string; pid: number; request: (client: JsonClient) => () => Promise<Outcome> }[] = [
      { name: 'bare node:http+pg', url: ctx.bare.url, pid: ctx.bare.pid, request: (c) => async () => ((await c.post('/availability', args)).status === 200 ? 'ok' : 'error') },
      { name: 'slotwise, no cache', url: uncachedServer.url, pid: uncachedServer.pid, request: (c) => slotwise(c, false) },
      { name: 'slotwise, cached', url: ctx.slotwise.url, pid: ctx.slotwise.pid, request: (c) => slotwise(c, true) },
    ];
    await settled();
    const samples = new Map<string, LoadSample[]>(targets.map((t) => [t.name, []]));
    // Two alternating segments per target, as sideBySide does: other work on the machine hits each.
    for (const order of [targets, [...targets].reverse()]) {
      for (const t of order) {
        const client = new JsonClient(t.url, CLIENTS);
        samples.get(t.name)!.push(
          await closedLoop({ clients: CLIENTS, warmupMs: ctx.warmupMs, durationMs: ctx.durationMs / 2, request: t.request(client), serverPid: t.pid }),
        );
        client.close();
      }
    }
    const rows: Row[] = targets.map((t) => ({ scenario: `month view (${slots} slots)`, target: t.name, result: summarize(samples.get(t.name)!) }));
    for (const row of rows) row.ratio = row.result.rps / rows[0]!.result.rps;
    printTable('month view: one resource, 30 days, 10 clients (x floor = x bare node:http here)', rows);
    const answered = cache.hit + cache.miss + cache.bypass + cache.none;
    console.log(`response cache: ${((100 * cache.hit) / Math.max(1, answered)).toFixed(1)}% hits (${cache.hit} hit, ${cache.miss} miss, ${cache.bypass} bypass, ${cache.none} uncached of ${answered})`);
    return rows;
  } finally {
    await uncachedServer.stop();
  }
}
