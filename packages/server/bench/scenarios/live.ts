import pg from 'pg';
import WebSocket from 'ws';
import { createClient, type Client } from 'graphql-ws';
import { globalId, liveWindow } from '../dataset.js';
import type { BenchContext } from '../lib/context.js';
import { JsonClient } from '../lib/http-client.js';
import { percentile, sleep } from '../lib/load.js';
import { startChild, settled, startSlotwise, type Child } from '../lib/processes.js';
import { skipped } from '../lib/report.js';

const SUBSCRIBERS = 1000;
const ROUNDS = 24;
const LIVE_QUERY = `subscription ($resourceId: ID, $from: DateTime, $to: DateTime) {
  slotAvailability(resourceId: $resourceId, from: $from, to: $to) {
    __typename ... on SlotAvailabilityEvent { kind reason slots { id status remaining version } } } }`;
const BOOK = `mutation ($input: BookInput!) { book(input: $input) { __typename } }`;

interface LiveRow {
  scenario: string;
  subscribers: number;
  samples: number;
  missed: number;
  p50: number;
  p99: number;
  /** Latency of the triggering request itself (book mutation or /fire). */
  triggerP50: number;
  bytesPerSubscriber: number;
  goal?: string;
  met?: boolean;
}

/** Receipt times per awaited event: a round resolves when every expected subscriber got it (or times out). */
class Receipts {
  private round: { match: (e: any) => boolean; started: number; expected: number; got: number[]; done: () => void } | null = null;

  /** `seen` holds the rounds this subscriber already answered, so a repeat event counts once. */
  arrived(event: any, seen: Set<number>, round: number) {
    const r = this.round;
    if (!r || seen.has(round) || !r.match(event)) return;
    seen.add(round);
    r.got.push(performance.now() - r.started);
    if (r.got.length === r.expected) r.done();
  }

  async measure(expected: number, match: (e: any) => boolean, trigger: () => Promise<unknown>) {
    const got: number[] = [];
    const finished = new Promise<void>((resolve) => {
      this.round = { match, started: performance.now(), expected, got, done: resolve };
    });
    const sent = performance.now();
    await trigger();
    const triggerMs = performance.now() - sent;
    await Promise.race([finished, sleep(5_000)]);
    this.round = null;
    return { got, triggerMs };
  }
}

/** Opens `count` graphql-ws connections, one subscription each, in batches; resolves when each got its first event. */
async function subscribe(
  count: number,
  urlFor: (i: number) => string,
  variablesFor: (i: number) => Record<string, unknown>,
  query: string,
  onEvent: (i: number, e: any) => void,
) {
  const clients: Client[] = [];
  for (let start = 0; start < count; start += 50) {
    const batch = Array.from({ length: Math.min(50, count - start) }, (_, k) => start + k);
    await Promise.all(
      batch.map(
        (i) =>
          new Promise<void>((resolve, reject) => {
            const client = createClient({ url: urlFor(i), webSocketImpl: WebSocket, retryAttempts: 0 });
            clients[i] = client;
            let first = true;
            client.subscribe(
              { query, variables: variablesFor(i) },
              {
                next: (value) => {
                  if (first) {
                    first = false;
                    resolve();
                  }
                  onEvent(i, value.data);
                },
                error: reject,
                complete: () => {},
              },
            );
          }),
      ),
    );
  }
  return clients;
}

async function freeSlots(databaseUrl: string, resourceIds: string[], from: string, to: string) {
  const db = new pg.Client({ connectionString: databaseUrl });
  await db.connect();
  try {
    const { rows } = await db.query<{ id: string; resource_id: string }>(
      `SELECT id, resource_id FROM slots WHERE resource_id = ANY ($1) AND start_at >= $2 AND start_at < $3 AND booked = 0 AND held = 0 ORDER BY start_at`,
      [resourceIds, from, to],
    );
    return rows;
  } finally {
    await db.end();
  }
}

/**
 * 1,000 subscribers on one resource and 1,000 over 100 resources, on one instance and on two with
 * Redis: time from sending `book` to each subscriber's receipt of the change (so it includes the
 * mutation itself, an upper bound of commit-to-receipt). Beside it, plain graphql-ws fan-out.
 */
export async function liveBench(ctx: BenchContext) {
  if (!ctx.fields.has('Subscription.slotAvailability')) return skipped('skipped: slotAvailability not in schema');
  if (!ctx.fields.has('Mutation.book')) return skipped('skipped: book not in schema (live needs it to make changes)');
  const rows: LiveRow[] = [];
  const { from, to } = liveWindow(ctx.dataset);

  // Plain graphql-ws fan-out of a constant event.
  const fanout = await startChild('graphql-ws fan-out', 'bench/baselines/fanout-server.ts', {});
  try {
    rows.push(await fanoutBaseline(fanout));
  } finally {
    await fanout.stop();
  }

  const hundred = ctx.dataset.people.slice(10, 110).map((p) => p.id);
  let runs = 0;

  const run = async (scenario: string, instances: Child[], spread: boolean) => {
    // Each run its own resource (one-resource case) and the slots still free now, after the booking bench.
    const oneResource = ctx.dataset.people[2 + runs++]!.id;
    const resourceOf = (i: number) => (spread ? hundred[i % hundred.length]! : oneResource);
    const free = await freeSlots(ctx.databaseUrl, spread ? hundred : [oneResource], from, to);
    const used = new Set<string>();
    const pickSlot = (round: number) => {
      const preferred = spread ? hundred[(round * 7) % hundred.length]! : oneResource;
      const slot = free.find((s) => s.resource_id === preferred && !used.has(s.id)) ?? free.find((s) => !used.has(s.id));
      if (!slot) throw new Error(`no free slot left for ${scenario}`);
      used.add(slot.id);
      return slot;
    };
    rows.push(await measureLive(scenario, instances, resourceOf, pickSlot, from, to, !spread));
  };

  await run('slotAvailability, 1 resource, 1 instance', [ctx.slotwise], false);
  await run('slotAvailability, 100 resources, 1 instance', [ctx.slotwise], true);
  const pair = await Promise.all([
    startSlotwise(ctx.databaseUrl, { redis: true, name: 'slotwise A' }),
    startSlotwise(ctx.databaseUrl, { redis: true, name: 'slotwise B' }),
  ]);
  try {
    await settled();
    await run('slotAvailability, 1 resource, 2 instances + Redis', pair, false);
    await run('slotAvailability, 100 resources, 2 instances + Redis', pair, true);
  } finally {
    await Promise.all(pair.map((c) => c.stop()));
  }
  const warned = [ctx.slotwise, ...pair].some((c) => /MaxListenersExceeded/.test(c.stderr()));
  printLive(rows, warned);
  return rows;
}

async function measureLive(
  scenario: string,
  instances: Child[],
  resourceOf: (i: number) => string,
  pickSlot: (round: number) => { id: string; resource_id: string },
  from: string,
  to: string,
  measureMemory: boolean,
): Promise<LiveRow> {
  const receipts = new Receipts();
  let round = -1;
  const wsUrl = (i: number) => `${instances[i % instances.length]!.url.replace('http', 'ws')}/graphql`;
  const variables = (i: number) => ({ resourceId: globalId('Resource', resourceOf(i)), from, to });
  // A few subscriptions first, so code loading and JIT do not count as subscriber memory.
  const warm = await subscribe(20, wsUrl, variables, LIVE_QUERY, () => {});
  await Promise.all(warm.map((c) => c.dispose()));
  await sleep(500);
  const rssBefore = instances.reduce((s, c) => s + c.rss(), 0);
  const seen = Array.from({ length: SUBSCRIBERS }, () => new Set<number>());
  const subscribers = await subscribe(SUBSCRIBERS, wsUrl, variables, LIVE_QUERY, (i, data) =>
    receipts.arrived(data?.slotAvailability, seen[i]!, round),
  );
  await sleep(1_000);
  const bytesPerSubscriber = measureMemory ? (instances.reduce((s, c) => s + c.rss(), 0) - rssBefore) / SUBSCRIBERS : NaN;

  const http = new JsonClient(instances[0]!.url, 1);
  const latencies: number[] = [];
  const triggers: number[] = [];
  let missed = 0;
  for (round = 0; round < ROUNDS; round++) {
    const slot = pickSlot(round);
    const target = globalId('Slot', slot.id);
    const expected = Array.from({ length: SUBSCRIBERS }, (_, i) => i).filter((i) => resourceOf(i) === slot.resource_id).length;
    const { got, triggerMs } = await receipts.measure(
      expected,
      (e) => e?.kind === 'CHANGE' && e.slots?.some((s: { id: string }) => s.id === target),
      () => http.graphql(BOOK, { input: { slotId: target, customer: { name: 'Live Bench', email: `live${round}@bench.example` } } }),
    );
    latencies.push(...got);
    triggers.push(triggerMs);
    missed += expected - got.length;
    await sleep(100);
  }
  http.close();
  await Promise.all(subscribers.map((c) => c.dispose()));
  return summarize(scenario, latencies, triggers, missed, bytesPerSubscriber, true);
}

async function fanoutBaseline(server: Child): Promise<LiveRow> {
  const receipts = new Receipts();
  let round = -1;
  const rssBefore = server.rss();
  const subscribers: Client[] = [];
  // The baseline has no snapshot: subscribe, then wait until the server counts every listener.
  for (let i = 0; i < SUBSCRIBERS; i++) {
    const client = createClient({ url: `${server.url.replace('http', 'ws')}/graphql`, webSocketImpl: WebSocket, retryAttempts: 0 });
    const seen = new Set<number>();
    subscribers.push(client);
    client.subscribe(
      { query: 'subscription { tick { kind reason slots { id status remaining version } } }' },
      {
        next: (value) => receipts.arrived(value.data?.tick, seen, round),
        error: () => {},
        complete: () => {},
      },
    );
  }
  for (let n = 0; n < SUBSCRIBERS; ) {
    await sleep(200);
    n = Number(await (await fetch(`${server.url}/count`)).text());
  }
  await sleep(1_000);
  const bytesPerSubscriber = (server.rss() - rssBefore) / SUBSCRIBERS;
  const latencies: number[] = [];
  const triggers: number[] = [];
  let missed = 0;
  for (round = 0; round < ROUNDS; round++) {
    const { got, triggerMs } = await receipts.measure(
      SUBSCRIBERS,
      (e) => e?.kind === 'CHANGE',
      () => fetch(`${server.url}/fire`, { method: 'POST' }).then((r) => r.text()),
    );
    latencies.push(...got);
    triggers.push(triggerMs);
    missed += SUBSCRIBERS - got.length;
    await sleep(100);
  }
  await Promise.all(subscribers.map((c) => c.dispose()));
  return summarize('plain graphql-ws fan-out (baseline)', latencies, triggers, missed, bytesPerSubscriber, false);
}

function summarize(
  scenario: string,
  latencies: number[],
  triggers: number[],
  missed: number,
  bytesPerSubscriber: number,
  withGoal: boolean,
): LiveRow {
  latencies.sort((a, b) => a - b);
  triggers.sort((a, b) => a - b);
  const row: LiveRow = {
    scenario,
    subscribers: SUBSCRIBERS,
    samples: latencies.length,
    missed,
    p50: percentile(latencies, 0.5),
    p99: percentile(latencies, 0.99),
    triggerP50: percentile(triggers, 0.5),
    bytesPerSubscriber,
  };
  if (withGoal) {
    row.goal = 'p99<250ms';
    row.met = row.p99 < 250 && missed === 0;
  }
  return row;
}

function printLive(rows: LiveRow[], warned: boolean) {
  console.log('\n== live (send-to-receipt: from sending the change to each subscriber receiving it)');
  const header = ['scenario', 'subs', 'samples', 'missed', 'p50 ms', 'p99 ms', 'trigger p50 ms', 'KiB/idle sub', 'target'];
  const lines = rows.map((r) => [
    r.scenario,
    String(r.subscribers),
    String(r.samples),
    String(r.missed),
    r.p50.toFixed(1),
    r.p99.toFixed(1),
    r.triggerP50.toFixed(1),
    Number.isNaN(r.bytesPerSubscriber) ? '-' : (r.bytesPerSubscriber / 1024).toFixed(1),
    r.goal ? `${r.goal} ${r.met ? 'MET' : 'MISSED'}` : '',
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)));
  const fmt = (cells: string[]) => cells.map((c, i) => (i === 0 || i === 8 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  console.log(fmt(header));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const l of lines) console.log(fmt(l));
  console.log(
    "KiB/idle sub: growth of the server processes' RSS with 1,000 idle subscriptions open, divided by 1,000 (measured once per server set).",
  );
  console.log(`per-topic listener warnings (MaxListenersExceededWarning) from the servers: ${warned ? 'YES' : 'none'}`);
}
