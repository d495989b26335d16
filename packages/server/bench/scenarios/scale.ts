import { addDays, globalId } from '../dataset.js';
import { pick, type BenchContext } from '../lib/context.js';
import { JsonClient } from '../lib/http-client.js';
import { closedLoop, summarize, type Outcome } from '../lib/load.js';
import { processTreeCpuMs, settled, startSlotwise, type Child } from '../lib/processes.js';

const CLIENTS = 100;
const QUERY = `query ($resourceId: ID!, $from: DateTime!, $to: DateTime!) {
  availability(resourceId: $resourceId, from: $from, to: $to) { __typename ... on Availability { timeZone slots { id startAt endAt status remaining localDate localStart localEnd } } } }`;

interface Setup {
  name: string;
  servers: Child[];
}

/**
 * Scaling out (issue #18): the 7-day `availability` read at 100 clients against one server process,
 * WORKERS=2, and two instances (each WORKERS=1) with the clients split between them. Beside req/s,
 * the servers' CPU time per request (ms), from their own /proc counters, workers included. No Redis:
 * live events go through LISTEN/NOTIFY and rate limits through PostgreSQL (the bench's limits are
 * high, but still counted).
 */
export async function scaleBench(ctx: BenchContext): Promise<void> {
  const extra: Child[] = [];
  try {
    const started = await Promise.allSettled([
      startSlotwise(ctx.databaseUrl, { name: 'slotwise WORKERS=2', workers: 2 }),
      startSlotwise(ctx.databaseUrl, { name: 'slotwise B' }),
    ]);
    for (const s of started) if (s.status === 'fulfilled') extra.push(s.value);
    for (const s of started) if (s.status === 'rejected') throw s.reason;
    const [workers, second] = extra as [Child, Child];
    const setups: Setup[] = [
      { name: 'one process (WORKERS=1)', servers: [ctx.slotwise] },
      { name: 'WORKERS=2', servers: [workers] },
      { name: 'two instances (WORKERS=1 each)', servers: [ctx.slotwise, second] },
    ];
    console.log('\n== scale-out: availability 7d window, 100 clients');
    console.log('setup                            req/s   p50 ms   p95 ms   errors   server CPU ms/request');
    for (const setup of setups) {
      await settled();
      const clients = setup.servers.map((s) => new JsonClient(s.url, CLIENTS));
      const request = async (client: number): Promise<Outcome> => {
        const from = addDays(ctx.dataset.firstDate, Math.floor(Math.random() * 50));
        const data = await clients[client % clients.length]!.graphql(QUERY, {
          resourceId: globalId('Resource', pick(ctx.dataset.people).id),
          from: `${from}T00:00:00Z`,
          to: `${addDays(from, 7)}T00:00:00Z`,
        });
        if (data.availability.__typename !== 'Availability') throw new Error(`availability answered ${data.availability.__typename}`);
        return 'ok';
      };
      await closedLoop({ clients: CLIENTS, warmupMs: 0, durationMs: ctx.firstWarmupMs, request });
      const cpuBefore = setup.servers.reduce((sum, s) => sum + processTreeCpuMs(s.pid), 0);
      const sample = await closedLoop({ clients: CLIENTS, warmupMs: 0, durationMs: ctx.durationMs, request });
      const cpuMs = setup.servers.reduce((sum, s) => sum + processTreeCpuMs(s.pid), 0) - cpuBefore;
      for (const c of clients) c.close();
      const result = summarize([sample]);
      const handled = result.ok + result.errors;
      console.log(
        `${setup.name.padEnd(31)}  ${result.rps.toFixed(0).padStart(5)}  ${result.p50.toFixed(1).padStart(7)}  ${result.p95.toFixed(1).padStart(7)}  ${String(result.errors).padStart(7)}  ${(cpuMs / Math.max(1, handled)).toFixed(2).padStart(10)}`,
      );
      if (result.firstError) console.log(`   first error: ${result.firstError.slice(0, 300)}`);
    }
  } finally {
    await Promise.all(extra.map((c) => c.stop()));
  }
}
