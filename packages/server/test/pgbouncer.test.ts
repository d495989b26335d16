import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { encodeGlobalID } from '@pothos/plugin-relay';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSlotwise, type Slotwise } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { SLOT_CHANGES_TOPIC, changesOf } from '../src/events/slot-events.js';
import { ADMIN_DATABASE_URL, createTestDatabase } from './databases.js';
import { createBookableSlots, freePort, HOLD_MUTATION } from './faults.js';
import { TEST_SECRETS } from './kit/app.js';

/** Debian's package (bookworm: 1.18); .ci/run installs it when missing. */
const PGBOUNCER = '/usr/sbin/pgbouncer';

/** A PgBouncer of the test's own in front of the test PostgreSQL, on a free port; stopped by its pid. */
async function startPgBouncer(poolMode: 'session' | 'transaction', poolSize = 20): Promise<{ port: number; stop(): Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), 'slotwise-pgbouncer-'));
  const target = new URL(ADMIN_DATABASE_URL);
  const port = await freePort();
  writeFileSync(join(dir, 'users.txt'), `"${decodeURIComponent(target.username)}" "${decodeURIComponent(target.password)}"\n`);
  writeFileSync(
    join(dir, 'pgbouncer.ini'),
    [
      '[databases]',
      `* = host=${target.hostname} port=${target.port || 5432}`,
      '[pgbouncer]',
      'listen_addr = 127.0.0.1',
      `listen_port = ${port}`,
      'unix_socket_dir =',
      'auth_type = trust',
      `auth_file = ${join(dir, 'users.txt')}`,
      `pool_mode = ${poolMode}`,
      'max_client_conn = 200',
      `default_pool_size = ${poolSize}`,
    ].join('\n'),
  );
  chmodSync(dir, 0o755);
  // PgBouncer will not run as root: there it drops to the postgres user.
  const asRoot = process.getuid?.() === 0;
  const proc: ChildProcess = spawn(PGBOUNCER, [...(asRoot ? ['-u', 'postgres'] : []), join(dir, 'pgbouncer.ini')], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  await Promise.race([
    new Promise<void>((resolve) => {
      for (const stream of [proc.stdout!, proc.stderr!]) {
        createInterface({ input: stream }).on('line', (line) => {
          output.push(line);
          if (/listening on 127\.0\.0\.1/.test(line)) resolve();
        });
      }
    }),
    once(proc, 'exit').then(() => Promise.reject(new Error(`pgbouncer exited: ${output.join('\n')}`))),
  ]);
  return {
    port,
    async stop() {
      if (proc.exitCode === null && !proc.signalCode) {
        const exited = once(proc, 'exit');
        proc.kill('SIGTERM');
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

describe('through PgBouncer in session mode', () => {
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  let bouncer: Awaited<ReturnType<typeof startPgBouncer>>;
  const apps: Slotwise[] = [];

  beforeAll(async () => {
    database = await createTestDatabase();
    bouncer = await startPgBouncer('session');
    const url = new URL(database.url);
    url.port = String(bouncer.port);
    const config = loadConfig({
      ...TEST_SECRETS,
      DATABASE_URL: url.toString(),
      DATABASE_POOL_MAX: '5',
      LOG_LEVEL: 'silent',
      DATA_DIR: 'memory://',
      RATE_LIMIT_READS_PER_MINUTE: '0',
      RATE_LIMIT_BOOKINGS_PER_MINUTE: '0',
    });
    // Two instances behind one PgBouncer, as in production.
    apps.push(await createSlotwise({ config }), await createSlotwise({ config }));
  }, 60_000);

  afterAll(async () => {
    for (const app of apps) await app.close();
    await bouncer?.stop();
    await database?.drop();
  });

  it('runs the named prepared statements, session settings and LISTEN/NOTIFY of two instances', async () => {
    const [a, b] = apps as [Slotwise, Slotwise];
    expect(await a.db.sql.query('SHOW statement_timeout')).toEqual([{ statement_timeout: '30s' }]);
    expect(await a.db.sql.query('SHOW TimeZone')).toEqual([{ TimeZone: 'UTC' }]);
    const { slotIds } = await createBookableSlots(database.url, 30, 1);

    // Instance B listens for slot changes (through PgBouncer too).
    const changes = b.pubsub.subscribe(SLOT_CHANGES_TOPIC)[Symbol.asyncIterator]();
    const received: string[] = [];
    const collecting = (async () => {
      while (received.length < slotIds.length) {
        const next = await changes.next();
        if (next.done) return;
        for (const change of changesOf(next.value)) received.push(change.slotId);
      }
    })();

    // Many concurrent holds on instance A: the booking path's named prepared statements on 5 pooled connections.
    const answers = await Promise.all(
      slotIds.map(async (slotId, i) => {
        const response = await a.yoga.fetch('http://slotwise.test/graphql', {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({
            query: HOLD_MUTATION,
            variables: { input: { slotId: encodeGlobalID('Slot', slotId), customer: { name: `P ${i}`, email: `p${i}@example.com` } } },
          }),
        });
        return ((await response.json()) as { data: { hold: { __typename: string } } }).data.hold.__typename;
      }),
    );
    expect(answers.filter((t) => t === 'BookingReceipt')).toHaveLength(slotIds.length);
    await collecting;
    expect(new Set(received)).toEqual(new Set(slotIds));
    await changes.return?.();
    const [row] = await a.db.sql.query<{ held: number }>('SELECT sum(held)::int AS held FROM slots WHERE id = ANY($1::uuid[])', [slotIds]);
    expect(row!.held).toBe(slotIds.length);
  }, 60_000);
});

describe('PgBouncer 1.18 in transaction mode', () => {
  it('breaks named prepared statements (why the docs require session mode)', async () => {
    // Two server connections shared by eight clients, as a busy pool would.
    const bouncer = await startPgBouncer('transaction', 2);
    const url = new URL(ADMIN_DATABASE_URL);
    url.port = String(bouncer.port);
    const pool = new pg.Pool({ connectionString: url.toString(), max: 8 });
    try {
      const outcomes = await Promise.all(
        Array.from({ length: 40 }, (_, i) =>
          pool.query({ name: 'slotwise_probe', text: 'SELECT $1::int AS n', values: [i] }).then(
            () => 'ok',
            (err: Error) => err.message,
          ),
        ),
      );
      expect(outcomes.some((o) => /prepared statement "slotwise_probe" (already exists|does not exist)/.test(o))).toBe(true);
    } finally {
      await pool.end();
      await bouncer.stop();
    }
  }, 60_000);
});
