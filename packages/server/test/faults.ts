import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { decodeGlobalID, encodeGlobalID } from '@pothos/plugin-relay';
import pg from 'pg';
import { TEST_SECRETS } from './kit/app.js';

/**
 * Real parts to break, for the fault tests and `pnpm chaos`: Slotwise server processes of our own
 * (on free loopback ports, killed by their pid only), a bounded booking load, and the invariants
 * checked afterwards in SQL. A Redis of our own is in kit/redis.ts.
 */

/** A port nothing listens on right now. */
export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  server.close();
  await once(server, 'close');
  return port;
}

export interface ServerProcess {
  url: string;
  proc: ChildProcess;
  /** Every JSON log line it wrote (LOG_LEVEL as given). */
  logs: Record<string, unknown>[];
  /** Every line it wrote to stderr. */
  stderr: string[];
  /** Its exit code or signal once it has exited; null while it runs. */
  exit(): { code: number | null; signal: string | null } | null;
  kill(signal?: NodeJS.Signals): Promise<void>;
}

const INSTANCE_SCRIPT = fileURLToPath(new URL('./kit/instance.ts', import.meta.url));

/** A Slotwise server in its own process (test/kit/instance.ts), listening on a free loopback port. */
export async function spawnServer(env: Record<string, string>): Promise<ServerProcess> {
  const proc = spawn(process.execPath, ['--import', 'tsx', INSTANCE_SCRIPT], {
    env: {
      ...process.env,
      ...TEST_SECRETS,
      LOG_LEVEL: 'warn',
      SEED_DEMO: 'false',
      RATE_LIMIT_READS_PER_MINUTE: '0',
      RATE_LIMIT_BOOKINGS_PER_MINUTE: '0',
      SHUTDOWN_TIMEOUT_MS: '500',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: Record<string, unknown>[] = [];
  const stderr: string[] = [];
  createInterface({ input: proc.stderr! }).on('line', (line) => stderr.push(line));
  let exited: { code: number | null; signal: string | null } | null = null;
  proc.once('exit', (code, signal) => (exited = { code, signal }));
  // Read every line as it comes: an unread pipe would fill and stall the server.
  const url = await new Promise<string>((resolve, reject) => {
    createInterface({ input: proc.stdout! }).on('line', (line) => {
      let parsed: Record<string, unknown>;
      try {
        parsed = JSON.parse(line) as Record<string, unknown>;
      } catch {
        parsed = { text: line };
      }
      if (typeof parsed.url === 'string' && parsed.level === undefined) resolve(parsed.url);
      else logs.push(parsed);
    });
    proc.once('exit', (code) => reject(new Error(`server exited with ${code} before listening: ${stderr.join('\n')}`)));
  });
  return {
    url,
    proc,
    logs,
    stderr,
    exit: () => exited,
    async kill(signal = 'SIGTERM') {
      if (exited) return;
      const done = once(proc, 'exit');
      proc.kill(signal);
      await done;
    },
  };
}

/** Rows a load needs, written straight to the database (set-up, not behaviour). */
export async function createBookableSlots(databaseUrl: string, count: number, capacity: number): Promise<{ resourceId: string; slotIds: string[] }> {
  return withClient(databaseUrl, async (client) => {
    const location = await client.query<{ id: string }>(`INSERT INTO locations (name, time_zone) VALUES ('Chaos', 'UTC') RETURNING id`);
    const resource = await client.query<{ id: string }>(
      `INSERT INTO resources (location_id, kind, name) VALUES ($1, 'PERSON', 'Chaos') RETURNING id`,
      [location.rows[0]!.id],
    );
    const resourceId = resource.rows[0]!.id;
    const slots = await client.query<{ id: string }>(
      `INSERT INTO slots (location_id, resource_id, time_zone, start_at, end_at, capacity)
       SELECT $1, $2, 'UTC', t, t + interval '30 minutes', $3
       FROM generate_series(date_trunc('hour', now()) + interval '2 days', date_trunc('hour', now()) + interval '2 days' + ($4 - 1) * interval '30 minutes', interval '30 minutes') AS t
       RETURNING id`,
      [location.rows[0]!.id, resourceId, capacity, count],
    );
    return { resourceId, slotIds: slots.rows.map((r) => r.id) };
  });
}

export async function withClient<T>(databaseUrl: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: databaseUrl });
  // A terminated admin connection must not take the test down either.
  client.on('error', () => {});
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end().catch(() => {});
  }
}

export const BOOK_MUTATION = `mutation Book($input: BookInput!) { book(input: $input) {
  __typename ... on BookingReceipt { manageToken booking { id status } } ... on Error { code message } } }`;
export const HOLD_MUTATION = `mutation Hold($input: HoldInput!) { hold(input: $input) {
  __typename ... on BookingReceipt { manageToken booking { id status } } ... on Error { code message } } }`;

/** One booking request and what the client saw. */
export interface Attempt {
  key: string;
  query: string;
  variables: Record<string, unknown>;
  /** BookingReceipt, a typed error's name, a GraphQL error code, or `network` (no answer). */
  outcome: string;
  bookingId?: string;
  status?: string;
  body?: unknown;
}

export interface LoadOptions {
  url: string | (() => string);
  slotIds: string[];
  concurrency: number;
  /** Upper bounds: the load stops at whichever comes first (or when `stop()` is called). */
  maxRequests: number;
  maxMs: number;
  /** Every n-th request is a hold instead of a booking (0: none). */
  holdEvery?: number;
}

/** Sends one mutation with an Idempotency-Key; never throws. */
export async function sendBooking(url: string, attempt: Omit<Attempt, 'outcome'>): Promise<Attempt> {
  try {
    const response = await fetch(`${url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'idempotency-key': attempt.key },
      body: JSON.stringify({ query: attempt.query, variables: attempt.variables }),
      signal: AbortSignal.timeout(15_000),
    });
    const body = (await response.json()) as { data?: Record<string, any>; errors?: { extensions?: { code?: string } }[] };
    const result = body.data && Object.values(body.data)[0];
    if (result?.__typename === 'BookingReceipt') {
      return { ...attempt, outcome: 'BookingReceipt', bookingId: result.booking.id, status: result.booking.status, body };
    }
    return { ...attempt, outcome: result?.__typename ?? body.errors?.[0]?.extensions?.code ?? `http ${response.status}`, body };
  } catch {
    return { ...attempt, outcome: 'network' };
  }
}

/** A closed-loop booking load, bounded in requests and time. */
export function bookingLoad(options: LoadOptions) {
  const attempts: Attempt[] = [];
  let sent = 0;
  let stopped = false;
  const deadline = Date.now() + options.maxMs;
  const urlOf = typeof options.url === 'string' ? () => options.url as string : options.url;
  // Every load its own customers: one live booking per slot per customer (seed 003).
  const run = randomUUID().slice(0, 8);
  const worker = async () => {
    while (!stopped && sent < options.maxRequests && Date.now() < deadline) {
      const n = sent++;
      const hold = options.holdEvery ? n % options.holdEvery === options.holdEvery - 1 : false;
      const slotId = options.slotIds[n % options.slotIds.length]!;
      const variables = { input: { slotId: encodeGlobalID('Slot', slotId), customer: { name: `Load ${n}`, email: `load-${run}-${n}@example.com` } } };
      attempts.push(await sendBooking(urlOf(), { key: randomUUID(), query: hold ? HOLD_MUTATION : BOOK_MUTATION, variables }));
    }
  };
  const done = Promise.all(Array.from({ length: options.concurrency }, worker)).then(() => attempts);
  return {
    attempts,
    done,
    stop() {
      stopped = true;
      return done;
    },
    receipts: () => attempts.filter((a) => a.outcome === 'BookingReceipt'),
  };
}

/** Outcomes by name, for assertions and reports. */
export function tally(attempts: Attempt[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const a of attempts) counts[a.outcome] = (counts[a.outcome] ?? 0) + 1;
  return counts;
}

export interface Invariants {
  /** Bookings a client was told about (receipts) that are not in the database. */
  missing: string[];
  /** Slots whose booked/held counters differ from their live bookings. */
  counterMismatches: { id: string; booked: number; held: number; confirmed: number; holding: number }[];
  /** Holds still HELD after their expiry. */
  expiredHolds: number;
}

/** What must hold whatever happened: checked in SQL, not through the server. */
export async function checkInvariants(databaseUrl: string, receipts: Attempt[]): Promise<Invariants> {
  return withClient(databaseUrl, async (client) => {
    // Global ids in the API, uuids in the database.
    const uuids = receipts.map((r) => decodeGlobalID(r.bookingId!).id);
    const found = await client.query<{ id: string }>('SELECT id::text FROM bookings WHERE id = ANY($1::uuid[])', [uuids]);
    const present = new Set(found.rows.map((r) => r.id));
    const mismatches = await client.query<Invariants['counterMismatches'][number]>(`
      SELECT s.id, s.booked, s.held, coalesce(b.confirmed, 0)::int AS confirmed, coalesce(b.holding, 0)::int AS holding
      FROM slots s
      LEFT JOIN (SELECT slot_id, count(*) FILTER (WHERE status = 'CONFIRMED') AS confirmed, count(*) FILTER (WHERE status = 'HELD') AS holding
                 FROM bookings GROUP BY slot_id) b ON b.slot_id = s.id
      WHERE s.booked <> coalesce(b.confirmed, 0) OR s.held <> coalesce(b.holding, 0)`);
    const expired = await client.query<{ n: number }>(`SELECT count(*)::int AS n FROM bookings WHERE status = 'HELD' AND hold_expires_at < now()`);
    return { missing: uuids.filter((id) => !present.has(id)), counterMismatches: mismatches.rows, expiredHolds: expired.rows[0]!.n };
  });
}

/** Ends every connection of `database` but the caller's own (never another database's). */
export async function terminateConnections(adminUrl: string, database: string): Promise<number> {
  return withClient(adminUrl, async (client) => {
    const { rows } = await client.query<{ n: number }>(
      `SELECT count(*) FILTER (WHERE pg_terminate_backend(pid))::int AS n FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()`,
      [database],
    );
    return rows[0]!.n;
  });
}

export async function readiness(url: string): Promise<{ status: number; body: { ok: boolean; checks: Record<string, string> } } | null> {
  try {
    const response = await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(5_000) });
    return { status: response.status, body: (await response.json()) as { ok: boolean; checks: Record<string, string> } };
  } catch {
    return null;
  }
}
