// Scratch profiling driver (not committed): one scenario against a server started with --cpu-prof.
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { SignJWT } from 'jose';
import { addDays, globalId, loadDataset } from './dataset.js';
import { BENCH_SECRETS, createBenchDatabase, processTreeCpuMs, startSlotwise } from './lib/processes.js';
import { JsonClient } from './lib/http-client.js';
import { closedLoop, summarize } from './lib/load.js';
import { pick } from './lib/context.js';

const which = process.argv[2] ?? 'book';
const clients = Number(process.argv[3] ?? 20);
const seconds = Number(process.env.SECONDS_RUN ?? 6);
const database = await createBenchDatabase();
try {
  const dataset = await loadDataset(database.url);
  const server = await startSlotwise(database.url, { env: process.env.PROFILE === '0' ? {} : {} });
  const db = new pg.Client({ connectionString: database.url });
  await db.connect();
  const { rows } = await db.query<{ id: string }>(`SELECT s.id FROM slots s JOIN resources r ON r.id = s.resource_id WHERE NOT r.exclusive AND s.booked = 0 LIMIT 100000`);
  const slots = rows.map((r) => r.id).sort(() => Math.random() - 0.5);
  let cursor = 0;
  const client = new JsonClient(server.url, clients);
  let request: (c: number) => Promise<'ok'>;
  if (which === 'book' || which === 'hold') {
    request = async (c) => {
      const d = await client.graphql(`mutation ($input: ${which === 'book' ? 'BookInput' : 'HoldInput'}!) { ${which}(input: $input) { __typename } }`, {
        input: { slotId: globalId('Slot', slots[cursor++]!), customer: { name: 'Bench Customer', email: `c${c}-${randomUUID()}@bench.example` } },
      });
      if (d[which].__typename !== 'BookingReceipt') throw new Error(d[which].__typename);
      return 'ok';
    };
  } else if (which === 'my') {
    const secret = new TextEncoder().encode(BENCH_SECRETS.JWT_SECRET);
    const users = await Promise.all(Array.from({ length: 50 }, async (_, i) => `Bearer ${await new SignJWT({ email: `u${i}@bench.example`, roles: ['user'] }).setProtectedHeader({ alg: 'HS256' }).setIssuedAt().setExpirationTime('2h').sign(secret)}`));
    for (const [u, auth] of users.entries()) for (let b = 0; b < 20; b++) await client.graphql(`mutation ($input: BookInput!) { book(input: $input) { __typename } }`, { input: { slotId: globalId('Slot', slots[cursor++]!) } }, { authorization: auth });
    request = async (c) => {
      const d = await client.graphql(`query { myBookings { __typename ... on MyBookingsSuccess { data { id status startAt endAt } } } }`, {}, { authorization: users[c % 50]! });
      if (d.myBookings.data.length !== 20) throw new Error('count');
      return 'ok';
    };
  } else {
    request = async () => {
      const from = addDays(dataset.firstDate, Math.floor(Math.random() * 50));
      const d = await client.graphql(`query ($resourceId: ID!, $from: DateTime!, $to: DateTime!) { availability(resourceId: $resourceId, from: $from, to: $to) { __typename ... on Availability { timeZone slots { id startAt endAt status remaining localDate localStart localEnd } } } }`, {
        resourceId: globalId('Resource', pick(dataset.people).id), from: `${from}T00:00:00Z`, to: `${addDays(from, 7)}T00:00:00Z`,
      });
      if (d.availability.__typename !== 'Availability') throw new Error('x');
      return 'ok';
    };
  }
  await closedLoop({ clients, warmupMs: 0, durationMs: 3000, request });
  const before = processTreeCpuMs(server.pid);
  const sample = await closedLoop({ clients, warmupMs: 0, durationMs: seconds * 1000, request });
  const cpu = processTreeCpuMs(server.pid) - before;
  const r = summarize([{ ...sample }]);
  console.log(`${which} x${clients}: ${r.rps.toFixed(0)} req/s p50 ${r.p50.toFixed(1)} p95 ${r.p95.toFixed(1)} errors ${r.errors} ${r.firstError ?? ''}; server CPU ${(cpu / sample.handled).toFixed(2)} ms/req`);
  client.close();
  await db.end();
  await server.stop();
} finally {
  await database.drop();
}
process.exit(0);
