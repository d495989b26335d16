/**
 * `pnpm bench [availability|booking|live|all]`: closed-loop load against a real server process on
 * a fresh database, beside baselines measured in the same run. Not part of `pnpm test`.
 * BENCH_SECONDS (default 5) and BENCH_WARMUP_SECONDS (default 1) set each run's length;
 * BENCH_FIRST_WARMUP_SECONDS (default 5) the warm-up before each suite's first measurement.
 * BENCH_SCALE (default 1) multiplies the dataset (bench/dataset.ts); `pnpm bench plans` prints the
 * query plans of the hot statements on it.
 */
import os from 'node:os';
import pg from 'pg';
import { loadDataset } from './dataset.js';
import { rootFields, type BenchContext } from './lib/context.js';
import { measureDatabaseCpu } from './lib/load.js';
import {
  createBenchDatabase,
  postmasterPid,
  runningChildren,
  settled,
  START_NODE_FLAGS,
  startFloor,
  startSlotwise,
  type Child,
} from './lib/processes.js';
import { availabilityBench } from './scenarios/availability.js';
import { bookingBench } from './scenarios/booking.js';
import { liveBench } from './scenarios/live.js';
import { scaleBench } from './scenarios/scale.js';
import { monthViewBench } from './scenarios/month-view.js';
import { plansBench } from './scenarios/plans.js';

const SUITES = {
  plans: plansBench,
  availability: availabilityBench,
  'month-view': monthViewBench,
  booking: bookingBench,
  live: liveBench,
  scale: scaleBench,
} as const;
type Suite = keyof typeof SUITES;

async function main() {
  const arg = process.argv[2] ?? 'all';
  const asked = arg === 'all' ? Object.keys(SUITES) : arg.split(',');
  if (asked.some((s) => !(s in SUITES))) {
    console.error(`usage: pnpm bench [${Object.keys(SUITES).join('|')}|all] (several: plans,booking)`);
    process.exit(2);
  }
  const suites = asked as Suite[];
  const cpu = os.cpus()[0]?.model ?? 'unknown cpu';
  const load = () =>
    os
      .loadavg()
      .map((l) => l.toFixed(1))
      .join(' ');
  console.log(
    `Slotwise bench ${new Date().toISOString()} on ${os.cpus().length} x ${cpu}, node ${process.version} ${START_NODE_FLAGS.join(' ')}; load average ${load()}`,
  );

  const database = await createBenchDatabase();
  const children: Child[] = [];
  // Ctrl-C still stops the server processes and drops the bench database.
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      void Promise.allSettled([...runningChildren].map((c) => c.stop()))
        .then(() => database.drop())
        .finally(() => process.exit(130));
    });
  }
  try {
    let started = performance.now();
    const dataset = await loadDataset(database.url);
    measureDatabaseCpu(await postmasterPid(database.url));
    console.log(`dataset loaded in ${((performance.now() - started) / 1000).toFixed(1)} s: ${await tableSizes(database.url)}`);
    started = performance.now();
    const start = async (child: Promise<Child>) => {
      children.push(await child);
      return children.at(-1)!;
    };
    const slotwise = await start(startSlotwise(database.url));
    const floor = await start(startFloor(database.url, 'yoga'));
    const bare = await start(startFloor(database.url, 'http'));
    console.log(
      `servers ready in ${((performance.now() - started) / 1000).toFixed(1)} s; start-up work done after ${((await settled()) / 1000).toFixed(1)} s more`,
    );
    const ctx: BenchContext = {
      databaseUrl: database.url,
      dataset,
      slotwise,
      floor,
      bare,
      fields: await rootFields(slotwise.url),
      warmupMs: Number(process.env.BENCH_WARMUP_SECONDS ?? 1) * 1000,
      firstWarmupMs: Number(process.env.BENCH_FIRST_WARMUP_SECONDS ?? 5) * 1000,
      durationMs: Number(process.env.BENCH_SECONDS ?? 5) * 1000,
    };
    for (const suite of suites) await SUITES[suite](ctx);
    // Unexpected errors are masked in responses; the server's error log says what they were.
    const logged = slotwise
      .stderr()
      .split('\n')
      .filter((l) => l.includes('"level":50'));
    if (logged.length)
      console.log(`\nslotwise logged ${logged.length} error line(s) in its last 8 KB of output; the latest:\n${logged.at(-1)!.slice(0, 1500)}`);
    console.log(`\nload average at the end: ${load()} (other work on the machine skews every figure; the ratios are measured side by side)`);
  } finally {
    await Promise.all(children.map((c) => c.stop()));
    await database.drop();
  }
}

async function tableSizes(databaseUrl: string): Promise<string> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const { rows } = await client.query<{ slots: number; bookings: number }>(
      `SELECT (SELECT count(*)::int FROM slots) AS slots, (SELECT count(*)::int FROM bookings) AS bookings`,
    );
    return `${rows[0]!.slots.toLocaleString('en-US')} slots, ${rows[0]!.bookings.toLocaleString('en-US')} bookings`;
  } finally {
    await client.end();
  }
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
