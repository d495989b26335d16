/**
 * The baselines the bench divides by, run as their own process like the real server:
 * FLOOR_MODE=yoga  the "stack floor": a minimal graphql-yoga server, SQL through pg, no ORM, no auth;
 * FLOOR_MODE=http  bare node:http with the same SQL and JSON in and out.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import pg from 'pg';
import { createSchema, createYoga } from 'graphql-yoga';
import { FloorSql } from './floor-sql.js';

const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL, max: Number(process.env.DATABASE_POOL_MAX ?? 10) });
pool.on('error', () => {});
const sql = new FloorSql(pool);

type Args = Record<string, any>;
const customer = (a: Args) => ({ name: a.customerName, email: a.customerEmail });

/** One handler per operation, shared by both modes. */
const operations: Record<string, (a: Args) => Promise<unknown>> = {
  availability: (a) => sql.availability(a.resourceId, a.from, a.to),
  exposedSlots: (a) => sql.exposedSlots(a.resourceId, a.date, a.sessionId),
  searchAvailability: (a) => sql.searchAvailability(a.resourceId, a.from, a.to, a.durationMinutes),
  hold: (a) => sql.bookSlot(a.slotId, 'hold', customer(a)),
  book: (a) => sql.bookSlot(a.slotId, 'book', customer(a)),
  bookRange: (a) => sql.bookRange(a.resourceId, a.startAt, a.endAt, customer(a)),
  myBookings: (a) => sql.myBookings(a.userId, a.email),
};

const typeDefs = /* GraphQL */ `
  type Slot { id: ID! startAt: String! endAt: String! status: String! remaining: Int! localDate: String localStart: String! localEnd: String }
  type Availability { timeZone: String! slots: [Slot!]! }
  type Exposed { total: Int! hasMore: Boolean! k: Int! slots: [Slot!]! }
  type Range { startAt: String! endAt: String! }
  type Search { ranges: [Range!]! }
  type BookResult { kind: String! id: ID status: String conflict: Range }
  type BookingRow { id: ID! status: String! startAt: String! endAt: String! }
  type Query {
    availability(resourceId: ID!, from: String!, to: String!): Availability!
    exposedSlots(resourceId: ID!, date: String!, sessionId: String!): Exposed!
    searchAvailability(resourceId: ID!, from: String!, to: String!, durationMinutes: Int!): Search!
    myBookings(userId: ID!, email: String!): [BookingRow!]!
  }
  type Mutation {
    hold(slotId: ID!, customerName: String!, customerEmail: String!): BookResult!
    book(slotId: ID!, customerName: String!, customerEmail: String!): BookResult!
    bookRange(resourceId: ID!, startAt: String!, endAt: String!, customerName: String!, customerEmail: String!): BookResult!
  }
`;
const toIso = (v: unknown) => (v instanceof Date ? v.toISOString() : v);
const resolvers = {
  Query: Object.fromEntries(
    ['availability', 'exposedSlots', 'searchAvailability', 'myBookings'].map((n) => [n, (_: unknown, a: Args) => operations[n]!(a)]),
  ),
  Mutation: Object.fromEntries(['hold', 'book', 'bookRange'].map((n) => [n, (_: unknown, a: Args) => operations[n]!(a)])),
  Slot: { startAt: (s: Args) => toIso(s.startAt), endAt: (s: Args) => toIso(s.endAt) },
  Range: { startAt: (s: Args) => toIso(s.startAt), endAt: (s: Args) => toIso(s.endAt) },
  BookingRow: { startAt: (s: Args) => toIso(s.startAt), endAt: (s: Args) => toIso(s.endAt) },
  BookResult: { kind: (r: Args) => r.__typename },
};

const mode = process.env.FLOOR_MODE ?? 'yoga';
const yoga = createYoga({ schema: createSchema({ typeDefs, resolvers }), logging: false, landingPage: false, graphiql: false });

async function bare(req: IncomingMessage, res: ServerResponse) {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  const op = operations[(req.url ?? '/').slice(1)];
  if (!op) {
    res.writeHead(404).end();
    return;
  }
  try {
    const data = await op(JSON.parse(Buffer.concat(chunks).toString('utf8')));
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ data }));
  } catch (err) {
    res.writeHead(500, { 'content-type': 'application/json' }).end(JSON.stringify({ errors: [{ message: String(err) }] }));
  }
}

const server = createServer((req, res) => {
  if (req.url === '/healthz') return void res.writeHead(200).end('ok');
  if (mode === 'http') return void bare(req, res);
  return void yoga(req, res);
});
// As Slotwise's default (HTTP_KEEP_ALIVE_TIMEOUT_MS): with Node's 5 s, the load driver's idle sockets
// were closed under it between two segments of a run ("socket hang up" in the warm-up).
server.keepAliveTimeout = 65_000;
server.listen(Number(process.env.PORT), process.env.HOST ?? '127.0.0.1');
process.once('SIGTERM', () => {
  server.close();
  server.closeAllConnections();
  void pool.end().then(() => process.exit(0));
});
