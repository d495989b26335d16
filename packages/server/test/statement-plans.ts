import { createRequire } from 'node:module';
import pg from 'pg';

// pg's own conversion of a bound value to its text form (arrays, dates, JSON), as it sends it.
const { prepareValue } = createRequire(import.meta.url)('pg/lib/utils.js') as { prepareValue(value: unknown): string | Buffer | null };

/** One statement as this process sent it through `pg` (Prisma's adapter and plain SQL alike). */
export interface RecordedStatement {
  text: string;
  values: unknown[];
}

/** Records every statement this process sends through `pg` while `fn` runs (the server under test runs in-process). */
export async function recordStatements<T>(fn: () => Promise<T>): Promise<{ result: T; statements: RecordedStatement[] }> {
  const original = pg.Client.prototype.query;
  const statements: RecordedStatement[] = [];
  pg.Client.prototype.query = function (this: pg.Client, config: unknown, values?: unknown, callback?: unknown) {
    const text = typeof config === 'string' ? config : (config as { text?: string } | null)?.text;
    const params = (config as { values?: unknown[] } | null)?.values ?? (Array.isArray(values) ? values : []);
    if (text) statements.push({ text, values: params });
    return (original as (...args: unknown[]) => unknown).call(this, config, values, callback);
  } as typeof original;
  try {
    return { result: await fn(), statements };
  } finally {
    pg.Client.prototype.query = original;
  }
}

/** The tables whose size grows with the business: a hot statement must reach them through an index. */
export const BIG_TABLES = ['slots', 'bookings'];

export interface StatementPlan {
  /** The statement's text on one line, shortened. */
  statement: string;
  /** After five calls PostgreSQL runs it on its one cached generic plan (shown), not a plan per call. */
  generic: boolean;
  /** "Index Scan using slots_resource_start_key on slots", one per scan node of a big table. */
  scans: string[];
  /** Scan nodes that read a whole big table. */
  seqScans: string[];
}

interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  'Index Name'?: string;
  Plans?: PlanNode[];
}

/** Statements that reach a big table (not transaction control), each once by text. */
export function hotStatements(statements: RecordedStatement[]): RecordedStatement[] {
  const seen = new Set<string>();
  return statements.filter((s) => {
    if (seen.has(s.text) || !/^\s*(SELECT|WITH|UPDATE|INSERT|DELETE)\b/i.test(s.text)) return false;
    if (!BIG_TABLES.some((t) => new RegExp(`\\b${t}\\b`, 'i').test(s.text))) return false;
    seen.add(s.text);
    return true;
  });
}

type Explained = { 'QUERY PLAN': { Plan: PlanNode }[] }[];

/** How many calls of a prepared statement PostgreSQL plans for their values before it may keep one generic plan. */
const CUSTOM_PLAN_CALLS = 5;

/**
 * EXPLAIN (not ANALYZE: nothing runs) of each statement as the server runs it: a named prepared
 * statement (src/db/database.ts), planned for its values on its first five calls, then on whichever
 * plan PostgreSQL's plan cache keeps (often one generic plan). So a statement with values is prepared
 * here too and EXPLAINed through EXECUTE six times: the first plan and the sixth are both judged.
 */
export async function explainStatements(databaseUrl: string, statements: RecordedStatement[]): Promise<StatementPlan[]> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  // EXECUTE takes no bind parameters: its values go as literals, in the text form pg sends them in.
  const literal = (value: unknown) => {
    const text = prepareValue(value);
    return text === null ? 'NULL' : client.escapeLiteral(String(text));
  };
  const explain = async (s: RecordedStatement): Promise<{ plans: PlanNode[]; generic: boolean }> => {
    if (!s.values.length)
      return { plans: [((await client.query(`EXPLAIN (FORMAT JSON) ${s.text}`)).rows as Explained)[0]!['QUERY PLAN'][0]!.Plan], generic: false };
    await client.query(`PREPARE plan_probe AS ${s.text}`);
    try {
      const execute = `EXPLAIN (FORMAT JSON) EXECUTE plan_probe(${s.values.map(literal).join(', ')})`;
      const plans: PlanNode[] = [];
      for (let call = 0; call <= CUSTOM_PLAN_CALLS; call++) plans.push(((await client.query(execute)).rows as Explained)[0]!['QUERY PLAN'][0]!.Plan);
      const [cache] = (await client.query(`SELECT generic_plans FROM pg_prepared_statements WHERE name = 'plan_probe'`)).rows as {
        generic_plans: string;
      }[];
      return { plans: [plans[0]!, plans[CUSTOM_PLAN_CALLS]!], generic: Number(cache!.generic_plans) > 0 };
    } finally {
      await client.query('DEALLOCATE plan_probe');
    }
  };
  try {
    const result: StatementPlan[] = [];
    for (const s of statements) {
      const { plans, generic } = await explain(s);
      const scans = new Set<string>();
      const seqScans = new Set<string>();
      const visit = (node: PlanNode) => {
        const table = node['Relation Name'];
        // A bitmap scan names its table on the heap node and its index on the child.
        if (node['Node Type'] === 'Bitmap Index Scan') scans.add(`Bitmap Index Scan using ${node['Index Name']}`);
        if (table && BIG_TABLES.includes(table)) {
          const scan = `${node['Node Type']}${node['Index Name'] ? ` using ${node['Index Name']}` : ''} on ${table}`;
          scans.add(scan);
          if (node['Node Type'] === 'Seq Scan') seqScans.add(scan);
        }
        for (const child of node.Plans ?? []) visit(child);
      };
      for (const plan of plans) visit(plan);
      result.push({ statement: s.text.replace(/\s+/g, ' ').trim().slice(0, 140), generic, scans: [...scans], seqScans: [...seqScans] });
    }
    return result;
  } finally {
    await client.end();
  }
}

/** Plans as the bench prints them: each statement, then its scans of the big tables. */
export function formatPlans(title: string, plans: StatementPlan[]): string {
  const lines = [
    `\n== ${title}: ${plans.length} statements on ${BIG_TABLES.join('/')}, ${plans.filter((p) => p.seqScans.length).length} with a Seq Scan`,
  ];
  for (const p of plans)
    lines.push(
      `${p.seqScans.length ? 'SEQ ' : '    '}${p.generic ? '(generic plan) ' : ''}${p.statement}`,
      `       ${p.scans.join('; ') || '(no scan of a big table)'}`,
    );
  return lines.join('\n');
}

/** What the hot paths need from a dataset: a resource and its location, and two free slots of people. */
export interface HotPathTargets {
  resourceId: string;
  locationId: string;
  freeSlotIds: [string, string];
  /** The first day with slots. */
  from: Date;
}

interface InProcessApp {
  yoga: { fetch(url: string, init: RequestInit): Promise<Response> | Response };
  db: { sql: import('../src/db/database.js').SqlRunner };
  services: {
    auth: { issueJwt(user: { email: string; roles: ['user'] }): Promise<string> };
    bookings: { releaseExpiredHolds(): Promise<unknown> };
    bookingMail: { renderQueued(db: import('../src/db/database.js').SqlRunner): Promise<unknown> };
  };
}

const gid = (type: string, id: string) => Buffer.from(`${type}:${id}`).toString('base64');
const DAY_MS = 86_400_000;

/**
 * One request of each hot path, in-process: availability (a resource's week, a location's week, the
 * compact form of a location's 92 days, available dates), hold, book as a signed-in user, myBookings,
 * then a run of the hold sweeper and of the booking-mail consumer. Throws on any error answer.
 */
export async function exerciseHotPaths(app: InProcessApp, targets: HotPathTargets): Promise<void> {
  const gql = async (query: string, variables: Record<string, unknown>, token?: string) => {
    const response = await app.yoga.fetch('http://slotwise.test/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify({ query, variables }),
    });
    const body = (await response.json()) as { data?: Record<string, { __typename: string }>; errors?: unknown[] };
    const answer = body.data && Object.values(body.data)[0];
    if (body.errors?.length || !answer || /Error$/.test(answer.__typename)) throw new Error(`hot path failed: ${JSON.stringify(body).slice(0, 500)}`);
  };
  const week = { from: targets.from.toISOString(), to: new Date(targets.from.getTime() + 7 * DAY_MS).toISOString() };
  const SLOTS = 'slots { id startAt endAt status remaining localDate localStart localEnd }';
  await gql(
    `query ($id: ID!, $from: DateTime!, $to: DateTime!) { availability(resourceId: $id, from: $from, to: $to) { __typename ... on Availability { ${SLOTS} } } }`,
    { id: gid('Resource', targets.resourceId), ...week },
  );
  await gql(
    `query ($id: ID!, $from: DateTime!, $to: DateTime!) { availability(locationId: $id, from: $from, to: $to) { __typename ... on Availability { ${SLOTS} } } }`,
    { id: gid('Location', targets.locationId), ...week },
  );
  await gql(
    `query ($id: ID!, $from: DateTime!, $to: DateTime!) { availabilityByDay(locationId: $id, from: $from, to: $to) { __typename ... on AvailabilityDays { days { date resourceId starts durations remaining slotIds } } } }`,
    {
      id: gid('Location', targets.locationId),
      from: targets.from.toISOString(),
      to: new Date(targets.from.getTime() + 92 * DAY_MS).toISOString(),
    },
  );
  const day = (d: Date) => d.toISOString().slice(0, 10);
  await gql(`query ($id: ID!, $from: Date!, $to: Date!) { availableDates(locationId: $id, from: $from, to: $to) { __typename } }`, {
    id: gid('Location', targets.locationId),
    from: day(targets.from),
    to: day(new Date(targets.from.getTime() + 30 * DAY_MS)),
  });
  const RECEIPT = '__typename ... on BookingReceipt { booking { id } }';
  await gql(`mutation ($input: HoldInput!) { hold(input: $input) { ${RECEIPT} } }`, {
    input: { slotId: gid('Slot', targets.freeSlotIds[0]), customer: { name: 'Plan Hold', email: `plan-hold-${Date.now()}@plans.example` } },
  });
  const token = await app.services.auth.issueJwt({ email: `plan-user-${Date.now()}@plans.example`, roles: ['user'] });
  await gql(
    `mutation ($input: BookInput!) { book(input: $input) { ${RECEIPT} } }`,
    { input: { slotId: gid('Slot', targets.freeSlotIds[1]) } },
    token,
  );
  await gql(`query { myBookings { __typename ... on MyBookingsSuccess { data { id status startAt endAt } } } }`, {}, token);
  await app.services.bookings.releaseExpiredHolds();
  await app.services.bookingMail.renderQueued(app.db.sql);
}
