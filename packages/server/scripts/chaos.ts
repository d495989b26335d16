/**
 * `pnpm chaos`: breaks a real Slotwise the ways issue #11 lists and prints what it did and what held.
 *
 * Everything runs on loopback against parts this script starts itself: a fresh PostgreSQL database
 * (on TEST_DATABASE_URL's server, dropped at the end), a redis-server on a free port, Slotwise
 * server processes. Only those are killed or cut off, by pid or by database name. Every load is
 * bounded in requests and time; the whole run takes about a minute.
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { encodeGlobalID } from '@pothos/plugin-relay';
import { SignJWT } from 'jose';
import { ADMIN_DATABASE_URL, createTestDatabase, ensureTemplate } from '../test/databases.js';
import {
  BOOK_MUTATION,
  bookingLoad,
  checkInvariants,
  createBookableSlots,
  readiness,
  sendBooking,
  spawnServer,
  tally,
  terminateConnections,
  withClient,
  type ServerProcess,
} from '../test/faults.js';
import { serversSharingOwnRedis } from '../test/kit/redis.js';
import { waitFor } from '../test/kit/wait.js';
import { TEST_SECRETS } from '../test/kit/app.js';
import { EventLog, wsClient, wsSubscribe } from '../test/kit/live.js';

interface Check {
  fault: string;
  what: string;
  held: boolean;
  observed: string;
}
const checks: Check[] = [];
let fault = '';

function check(what: string, held: boolean, observed: unknown) {
  const text = typeof observed === 'string' ? observed : JSON.stringify(observed);
  checks.push({ fault, what, held, observed: text });
  console.log(`  ${held ? 'held  ' : 'BROKEN'} ${what}: ${text}`);
}

async function step(name: string, run: () => Promise<void>) {
  fault = name;
  console.log(`\n== ${name}`);
  const started = Date.now();
  try {
    await run();
  } catch (err) {
    check('step finished', false, (err as Error).message);
  }
  console.log(`  (${((Date.now() - started) / 1000).toFixed(1)} s)`);
}

const alive = (...servers: ServerProcess[]) => servers.every((s) => s.exit() === null);
const ready = async (server: ServerProcess) => (await readiness(server.url))?.body.checks ?? 'no answer';

async function main() {
  await ensureTemplate();
  const database = await createTestDatabase();
  const { resourceId, slotIds } = await createBookableSlots(database.url, 20, 1000);
  const { redis, env, servers: started } = await serversSharingOwnRedis(database.url);
  let [a, b] = started;
  const servers = [a, b];
  console.log(
    `database ${database.name}, redis pid ${redis.pid} on ${redis.port}, servers ${a.url} (pid ${a.proc.pid}) and ${b.url} (pid ${b.proc.pid})`,
  );
  const live = () => ({ resourceId: encodeGlobalID('Resource', resourceId) });
  const book = (server: ServerProcess, n: number) =>
    sendBooking(server.url, {
      key: randomUUID(),
      query: BOOK_MUTATION,
      variables: {
        input: { slotId: encodeGlobalID('Slot', slotIds[n % slotIds.length]!), customer: { name: `Chaos ${n}`, email: `chaos${n}@example.com` } },
      },
    });
  let n = 0;

  try {
    await step('PostgreSQL: pg_terminate_backend of every server connection, 6 times, under 10 concurrent bookings', async () => {
      const load = bookingLoad({ url: a.url, slotIds, concurrency: 10, maxRequests: 300, maxMs: 15_000 });
      let terminated = 0;
      for (let round = 0; round < 6; round++) {
        const before = load.attempts.length;
        await waitFor(() => load.attempts.length >= before + 10 || load.attempts.length >= 300, 'answers', 10_000, 10);
        terminated += await terminateConnections(ADMIN_DATABASE_URL, database.name);
      }
      const attempts = await load.done;
      console.log(`  did: ${attempts.length} bookings, ${terminated} connections terminated`);
      check('server still running', alive(a), { pid: a.proc.pid });
      check(
        'every request answered (booked or TRY_AGAIN)',
        attempts.every((x) => ['BookingReceipt', 'TryAgainError', 'TRY_AGAIN'].includes(x.outcome)),
        tally(attempts),
      );
      const inv = await checkInvariants(database.url, load.receipts());
      check('every answered booking in the database', inv.missing.length === 0, { receipts: load.receipts().length, missing: inv.missing.length });
      check('slot counters equal live bookings', inv.counterMismatches.length === 0, { mismatches: inv.counterMismatches.length });
      const r = await waitFor(async () => (await readiness(a.url))?.status === 200, '/readyz 200').catch(() => false);
      check('/readyz recovers', r === true, await ready(a));
    });

    await step('Redis: SIGKILL mid-load (two servers booking, a subscriber on each), then restart', async () => {
      const subA = wsSubscribe(wsClient(a.url), live());
      await subA.log.at(0, 10_000);
      const loads = [a, b].map((s) => bookingLoad({ url: s.url, slotIds, concurrency: 4, maxRequests: 60, maxMs: 15_000 }));
      const answers = () => loads.reduce((sum, l) => sum + l.attempts.length, 0);
      await waitFor(() => answers() >= 20, 'answers before the kill');
      await redis.kill();
      const eventsAtKill = subA.log.items.length;
      const atKill = answers();
      await waitFor(() => answers() >= atKill + 30, 'answers while Redis is down', 15_000).catch(() => {});
      console.log(`  did: killed redis-server (pid ${redis.pid}) after ${atKill} answers`);
      check('/readyz stays 200, says redis degraded', (await readiness(a.url))?.status === 200, await ready(a));
      await subA.log.until(() => subA.log.items.length > eventsAtKill, 5_000).catch(() => {});
      check('same-instance subscriber keeps receiving', subA.log.items.length > eventsAtKill, {
        eventsWhileDown: subA.log.items.length - eventsAtKill,
      });
      await redis.start();
      const attempts = (await Promise.all(loads.map((l) => l.done))).flat();
      check(
        'bookings kept succeeding',
        attempts.every((x) => x.outcome === 'BookingReceipt'),
        tally(attempts),
      );
      await waitFor(
        async () => (await readiness(b.url))?.body.checks.redis === 'ok' && (await readiness(a.url))?.body.checks.redis === 'ok',
        'redis ok',
      ).catch(() => {});
      check('redis ok again on both, no restart', alive(a, b), { a: await ready(a), b: await ready(b) });
      const subB = wsSubscribe(wsClient(b.url), live());
      await subB.log.at(0, 10_000);
      const delivered = await waitFor(
        async () => {
          await book(a, n++);
          await subB.log.until(() => subB.log.items.length > 1, 1_000).catch(() => {});
          return subB.log.items.length > 1;
        },
        'a cross-instance event',
        15_000,
        0,
      ).catch(() => false);
      check('cross-instance events resume (booked on A, seen on B)', delivered === true, { eventsOnB: subB.log.items.length - 1 });
      const metrics = await (await fetch(`${a.url}/metrics`)).text();
      check(
        'fallbacks counted in slotwise_redis_fallback_total',
        /slotwise_redis_fallback_total\{component="\w+"\} [1-9]/.test(metrics),
        metrics
          .split('\n')
          .filter((l) => l.startsWith('slotwise_redis_fallback_total'))
          .join('; '),
      );
    });

    await step('Redis down at start: a new server process starts while Redis is dead', async () => {
      await redis.kill();
      const c = await spawnServer(env);
      servers.push(c);
      console.log(`  did: killed redis, started ${c.url} (pid ${c.proc.pid})`);
      check('/readyz 200 degraded', (await readiness(c.url))?.status === 200, await ready(c));
      check('books without Redis', (await book(c, n++)).outcome === 'BookingReceipt', 'BookingReceipt');
      await redis.start();
      await waitFor(async () => (await readiness(c.url))?.body.checks.redis === 'ok', 'redis ok').catch(() => {});
      check('still running, redis ok once it is back', alive(c), await ready(c));
    });

    await step('graphql-ws: bad operations on a socket that carries a live subscription; a burst of 25 subscriptions', async () => {
      const client = wsClient(a.url);
      const closes: number[] = [];
      client.on('closed', (e) => closes.push((e as { code: number }).code));
      const sub = wsSubscribe(client, live());
      await sub.log.at(0, 10_000);
      const outcome = (query: string, variables?: Record<string, unknown>) => {
        const log = new EventLog<unknown>();
        client.subscribe({ query, variables }, { next: (r) => log.push(r), error: (e) => log.end(e), complete: () => log.end() });
        return log.until(() => log.ended).then(() => (log.error ? 'error message' : JSON.stringify(log.items[0]).slice(0, 60)));
      };
      console.log('  did: a syntax error, 40 aliases, a book mutation, then 25 subscriptions at once on another socket');
      check('syntax error -> per-operation error', (await outcome('subscription { serverTime(')) === 'error message', 'error message');
      const aliases = Array.from({ length: 40 }, (_, i) => `a${i}: serverTime`).join(' ');
      check('armor-refused query -> per-operation error', (await outcome(`query { ${aliases} }`)) === 'error message', 'error message');
      const mutation = await outcome(BOOK_MUTATION, {
        input: { slotId: encodeGlobalID('Slot', slotIds[0]!), customer: { name: 'WS', email: 'ws@example.com' } },
      });
      check('mutation over the socket runs', mutation.includes('BookingReceipt'), mutation);
      const received = await sub.log.at(1, 5_000).then(
        () => true,
        () => false,
      );
      check('the subscription keeps receiving; socket open', received && closes.length === 0, { events: sub.log.items.length, closes });
      const burstClient = wsClient(a.url);
      const burst = Array.from({ length: 25 }, () => wsSubscribe(burstClient, live()));
      await Promise.all(burst.map((s) => s.log.until(() => s.log.items.length > 0 || s.log.ended, 10_000).catch(() => {})));
      const accepted = burst.filter((s) => s.log.items.length > 0 && !s.log.ended).length;
      check('burst of 25 -> exactly 20 accepted', accepted === 20, { accepted, refused: burst.filter((s) => s.log.ended).length });
      await client.dispose();
      await burstClient.dispose();
    });

    await step('First requests of a new JWT user, 20 at once', async () => {
      const email = `chaos-${Date.now()}@idp.example`;
      const token = await new SignJWT({ email, roles: ['user'] })
        .setProtectedHeader({ alg: 'HS256' })
        .setExpirationTime('5m')
        .sign(new TextEncoder().encode(TEST_SECRETS.JWT_SECRET));
      const responses = await Promise.all(
        Array.from({ length: 20 }, () =>
          fetch(`${a.url}/graphql`, {
            method: 'POST',
            headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
            body: JSON.stringify({ query: '{ myBookings { __typename } }' }),
          }).then((r) => r.json() as Promise<{ errors?: unknown[] }>),
        ),
      );
      const users = await withClient(database.url, (c) => c.query('SELECT count(*)::int AS n FROM users WHERE email = $1', [email]));
      check('all 20 succeed, one user row', responses.every((r) => !r.errors) && users.rows[0].n === 1, {
        failed: responses.filter((r) => r.errors).length,
        users: users.rows[0].n,
      });
    });

    await step('SIGKILL of a server during a booking load, then a restart', async () => {
      const load = bookingLoad({ url: a.url, slotIds, concurrency: 8, maxRequests: 300, maxMs: 15_000, holdEvery: 4 });
      await waitFor(() => load.receipts().length >= 40, 'bookings before the kill');
      await a.kill('SIGKILL');
      const attempts = await load.stop();
      console.log(`  did: SIGKILL pid ${a.proc.pid} after ${load.receipts().length} receipts; outcomes ${JSON.stringify(tally(attempts))}`);
      // The holds' time runs out while the server is down.
      await withClient(database.url, (c) => c.query(`UPDATE bookings SET hold_expires_at = now() - interval '1 second' WHERE status = 'HELD'`));
      a = await spawnServer(env);
      servers.push(a);
      const inv = await waitFor(async () => {
        const i = await checkInvariants(database.url, load.receipts());
        return i.expiredHolds === 0 ? i : null;
      }, 'expired holds released').catch(() => checkInvariants(database.url, load.receipts()));
      check('every booking a client saw is there', inv.missing.length === 0, { receipts: load.receipts().length, missing: inv.missing.length });
      check('slot counters equal live bookings', inv.counterMismatches.length === 0, { mismatches: inv.counterMismatches.length });
      check('no hold outlives its expiry', inv.expiredHolds === 0, { expiredHolds: inv.expiredHolds });
      let same = 0;
      const sample = load.receipts().slice(0, 10);
      for (const r of sample) if (JSON.stringify((await sendBooking(a.url, r)).body) === JSON.stringify(r.body)) same++;
      check('idempotent replays answer the original', same === sample.length, { replayed: sample.length, identical: same });
    });

    await step('Two embedded processes on one DATA_DIR', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'slotwise-chaos-'));
      try {
        const start = () =>
          spawn(process.execPath, ['--import', 'tsx', fileURLToPath(new URL('../src/main.ts', import.meta.url))], {
            env: { ...process.env, DATA_DIR: dir, PORT: '0', HOST: '127.0.0.1', SEED_DEMO: 'false', DATABASE_URL: '', REDIS_URL: '' },
            stdio: ['ignore', 'ignore', 'pipe'],
          });
        const first = start();
        // It holds the lock before it opens the database: no need to wait for the whole start.
        await waitFor(
          () => {
            try {
              return (JSON.parse(readFileSync(join(dir, 'slotwise.lock'), 'utf8')) as { pid: number }).pid === first.pid;
            } catch {
              return false;
            }
          },
          'the first process to hold the lock',
          30_000,
        );
        const second = start();
        const lines: string[] = [];
        createInterface({ input: second.stderr! }).on('line', (l) => lines.push(l));
        const [code] = (await once(second, 'exit')) as [number];
        console.log(`  did: started pid ${first.pid} on ${dir}, then a second process`);
        check('second exits non-zero with one line', code !== 0 && lines.length === 1 && lines[0]!.includes(`process ${first.pid}`), {
          code,
          stderr: lines,
        });
        check('first still running', first.exitCode === null, { pid: first.pid });
        first.kill('SIGKILL');
        await once(first, 'exit');
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  } finally {
    await Promise.all(servers.map((s) => s.kill()));
    await redis.kill();
    await database.drop();
  }

  const broken = checks.filter((c) => !c.held);
  console.log(
    `\n${checks.length - broken.length} of ${checks.length} checks held${broken.length ? `; broken: ${broken.map((c) => `${c.fault} / ${c.what}`).join('; ')}` : ''}`,
  );
  process.exit(broken.length ? 1 : 0);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
