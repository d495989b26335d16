import pg from 'pg';
import { createSlotwise } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { exerciseHotPaths, explainStatements, formatPlans, hotStatements, recordStatements } from '../../test/statement-plans.js';
import type { BenchContext } from '../lib/context.js';
import { BENCH_SECRETS } from '../lib/processes.js';

/**
 * The plans of the hot statements on this run's dataset (BENCH_SCALE): one request of each hot path
 * through an in-process server, every statement that reads slots or bookings EXPLAINed with the values
 * it was sent with. A Seq Scan on a big table is marked SEQ: its cost would grow with the table.
 */
export async function plansBench(ctx: BenchContext): Promise<void> {
  const db = new pg.Client({ connectionString: ctx.databaseUrl });
  await db.connect();
  const { rows } = await db
    .query<{ id: string }>(
      `SELECT s.id FROM slots s JOIN resources r ON r.id = s.resource_id
        WHERE NOT r.exclusive AND s.booked = 0 AND s.held = 0 AND s.start_at > now() + interval '2 days' LIMIT 2`,
    )
    .finally(() => db.end());
  const app = await createSlotwise({
    config: loadConfig({
      DATABASE_URL: ctx.databaseUrl,
      ...BENCH_SECRETS,
      LOG_LEVEL: 'silent',
      DATA_DIR: 'memory://',
      RATE_LIMIT_READS_PER_MINUTE: '0',
      RATE_LIMIT_BOOKINGS_PER_MINUTE: '0',
    }),
  });
  try {
    const person = ctx.dataset.people[0]!;
    const { statements } = await recordStatements(() =>
      exerciseHotPaths(app, {
        resourceId: person.id,
        locationId: person.locationId,
        freeSlotIds: [rows[0]!.id, rows[1]!.id],
        from: new Date(`${ctx.dataset.firstDate}T00:00:00Z`),
      }),
    );
    console.log(
      formatPlans(
        'query plans of the hot statements (availability, hold, book, myBookings, sweeper, mail consumer)',
        await explainStatements(ctx.databaseUrl, hotStatements(statements)),
      ),
    );
  } finally {
    await app.close();
  }
}
