import { addDays, globalId } from '../dataset.js';
import type { BenchContext } from '../lib/context.js';
import { JsonClient } from '../lib/http-client.js';
import { closedLoop, summarize, type LoadSample, type Outcome } from '../lib/load.js';
import { processTreeCpuMs, settled, startSlotwise, type Child } from '../lib/processes.js';
import { request as httpRequest } from 'node:http';
import { percentile } from '../lib/load.js';
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
      const { body, headers } = await client.post('/graphql', {
        query: QUERY,
        variables: { ...args, resourceId: globalId('Resource', args.resourceId) },
      });
      if (body.data?.availability?.__typename !== 'Availability') throw new Error(JSON.stringify(body).slice(0, 300));
      slots = body.data.availability.slots.length;
      if (count) cache[(headers['x-response-cache'] as keyof typeof cache | undefined) ?? 'none']++;
      return 'ok';
    };
    const targets: { name: string; url: string; pid: number; request: (client: JsonClient) => () => Promise<Outcome> }[] = [
      {
        name: 'bare node:http+pg',
        url: ctx.bare.url,
        pid: ctx.bare.pid,
        request: (c) => async () => ((await c.post('/availability', args)).status === 200 ? 'ok' : 'error'),
      },
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
          await closedLoop({
            clients: CLIENTS,
            warmupMs: ctx.warmupMs,
            durationMs: ctx.durationMs / 2,
            request: t.request(client),
            serverPid: t.pid,
          }),
        );
        client.close();
      }
    }
    const rows: Row[] = targets.map((t) => ({ scenario: `month view (${slots} slots)`, target: t.name, result: summarize(samples.get(t.name)!) }));
    for (const row of rows) row.ratio = row.result.rps / rows[0]!.result.rps;
    printTable('month view: one resource, 30 days, 10 clients (x floor = x bare node:http here)', rows);
    const answered = cache.hit + cache.miss + cache.bypass + cache.none;
    console.log(
      `response cache: ${((100 * cache.hit) / Math.max(1, answered)).toFixed(1)}% hits (${cache.hit} hit, ${cache.miss} miss, ${cache.bypass} bypass, ${cache.none} uncached of ${answered})`,
    );
    await bigWindows(ctx, uncachedServer);
    return rows;
  } finally {
    await uncachedServer.stop();
  }
}

const FULL = `query ($id: ID!, $from: DateTime!, $to: DateTime!) {
  availability(locationId: $id, from: $from, to: $to) { __typename ... on Availability { timeZone slots { ${SLOT_FIELDS} } } } }`;
const compact = (withIds: boolean) => `query ($id: ID!, $from: DateTime!, $to: DateTime!) {
  availabilityByDay(locationId: $id, from: $from, to: $to) { __typename ... on AvailabilityDays { timeZone slotCount days { date resourceId starts durations remaining${withIds ? ' slotIds' : ''} } } } }`;

/** One POST /graphql: the bytes on the wire (as the encoding asked for) and the time to the last byte. */
function sized(url: string, body: unknown, encoding?: 'br' | 'gzip'): Promise<{ bytes: number; ms: number; status: number }> {
  const payload = Buffer.from(JSON.stringify(body));
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const target = new URL(`${url}/graphql`);
    const req = httpRequest(
      {
        host: target.hostname,
        port: target.port,
        method: 'POST',
        path: target.pathname,
        headers: { 'content-type': 'application/json', 'content-length': payload.length, ...(encoding ? { 'accept-encoding': encoding } : {}) },
      },
      (res) => {
        let bytes = 0;
        res.on('data', (c: Buffer) => (bytes += c.length));
        res.on('end', () => resolve({ bytes, ms: performance.now() - started, status: res.statusCode ?? 0 }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

/**
 * Big windows on the server without a response cache: a location-wide week (20 resources) and the
 * 92-day location window, the full form (in windows of at most 5,000 slots, as a client must ask it)
 * against the compact form (availabilityByDay, without and with slot ids); bytes as JSON and on the
 * wire with brotli and gzip, time per answer (p50 of 5, one client) and server CPU per answer.
 */
async function bigWindows(ctx: BenchContext, server: Child): Promise<void> {
  const location = ctx.dataset.people[0]!.locationId;
  const first = new Date(`${addDays(ctx.dataset.firstDate, 0)}T00:00:00Z`);
  const at = (days: number) => new Date(first.getTime() + days * 86_400_000).toISOString();
  const ask = (query: string, from: number, days: number) => ({
    query,
    variables: { id: globalId('Location', location), from: at(from), to: at(from + days) },
  });
  // 20 resources x 24 slots a day: 10 days stay under the full form's 5,000 slots.
  const fullParts = (days: number) => Array.from({ length: Math.ceil(days / 10) }, (_, i) => ask(FULL, i * 10, Math.min(10, days - i * 10)));
  const forms: { name: string; requests: ReturnType<typeof ask>[] }[] = [
    { name: 'location week, full form', requests: fullParts(7) },
    { name: 'location week, compact', requests: [ask(compact(true), 0, 7)] },
    { name: '92 days, full form', requests: fullParts(92) },
    { name: '92 days, compact + slot ids', requests: [ask(compact(true), 0, 92)] },
    { name: '92 days, compact (overview)', requests: [ask(compact(false), 0, 92)] },
  ];
  await settled();
  console.log('\n== big windows, no response cache, one client (the dataset has 60 days: 28,800 slots per location)');
  console.log('form                            requests   JSON bytes     br bytes   gzip bytes  ms p50 json / br  CPU ms json / br');
  for (const form of forms) {
    const bytes = { json: 0, br: 0, gzip: 0 };
    for (const body of form.requests) {
      for (const encoding of [undefined, 'br', 'gzip'] as const) {
        const r = await sized(server.url, body, encoding);
        if (r.status !== 200) throw new Error(`${form.name}: HTTP ${r.status}`);
        bytes[encoding ?? 'json'] += r.bytes;
      }
    }
    // Time to the last byte and server CPU per answer, as JSON and with brotli (what compressing costs the server).
    const timed = async (encoding?: 'br') => {
      const times: number[] = [];
      const cpuBefore = processTreeCpuMs(server.pid);
      for (let i = 0; i < 5; i++) {
        let ms = 0;
        for (const body of form.requests) ms += (await sized(server.url, body, encoding)).ms;
        times.push(ms);
      }
      return {
        ms: percentile(
          times.sort((a, b) => a - b),
          0.5,
        ),
        cpu: (processTreeCpuMs(server.pid) - cpuBefore) / 5,
      };
    };
    const plain = await timed();
    const br = await timed('br');
    const n = (v: number, width = 11) => Math.round(v).toLocaleString('en-US').padStart(width);
    console.log(
      `${form.name.padEnd(31)} ${String(form.requests.length).padStart(8)} ${n(bytes.json)}  ${n(bytes.br)}  ${n(bytes.gzip)}  ${n(plain.ms, 8)} / ${n(br.ms, 6)}  ${n(plain.cpu, 8)} / ${n(br.cpu, 6)}`,
    );
  }
}
