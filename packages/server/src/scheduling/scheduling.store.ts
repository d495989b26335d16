import type { SqlQuery } from '../db/database.js';
import type { AvailabilityRule, Prisma, Slot } from '../generated/prisma/client.js';
import { policySetOn } from '../policies/policies.store.js';
import type { PlannedSlot } from './rule-plan.js';

/**
 * The scheduling domain's SQL and Prisma writes: slot generation (reconcile, scope locks), the
 * availability reads, scope zones, rules and the PostgreSQL exposure cache. Callers own the
 * transactions and the rules.
 */

type Tx = Prisma.TransactionClient;

/** Which id an availability read is about. */
export type ScopeKind = 'resource' | 'location' | 'form';

// ---- scope locks and generation -------------------------------------------------------------

/** Waits for the scope's generation lock (an advisory lock released at commit). */
export async function waitForScopeLock(tx: Tx, key: string): Promise<void> {
  await tx.$queryRawUnsafe(`SELECT pg_advisory_xact_lock(hashtext('slotwise:slots'), hashtext($1))::text`, key);
}

/** Takes the scope's generation lock if it is free; false when another transaction holds it. */
export async function tryScopeLock(tx: Tx, key: string): Promise<boolean> {
  const [row] = await tx.$queryRawUnsafe<{ locked: boolean }[]>(
    `SELECT pg_try_advisory_xact_lock(hashtext('slotwise:slots'), hashtext($1)) AS locked`,
    key,
  );
  return Boolean(row?.locked);
}

/** One set of slots generation owns: a resource's, or a location's location-wide slots. */
interface GenerationScope {
  locationId: string;
  resourceId: string | null;
  timeZone: string;
}

// Session slots (session_minutes set) are opened by hand, not by rules: generation never touches them.
const scopeWhere = `form_id IS NULL AND session_minutes IS NULL AND location_id = $1::uuid AND resource_id IS NOT DISTINCT FROM $2::uuid`;

/**
 * The scope's future slots as runs of consecutive local dates (in the scope's zone), each run's
 * first and last slot start, in order: dates never generated between two runs stay a gap.
 */
export function selectFutureSlotRuns(tx: Tx, scope: GenerationScope, now: Date): Promise<{ first: Date; last: Date }[]> {
  return tx.$queryRawUnsafe<{ first: Date; last: Date }[]>(
    `SELECT min(start_at) AS first, max(start_at) AS last
       FROM (SELECT start_at,
                    (start_at AT TIME ZONE $4)::date - (dense_rank() OVER (ORDER BY (start_at AT TIME ZONE $4)::date))::int AS run
               FROM slots WHERE ${scopeWhere} AND start_at >= $3::timestamptz) dated
      GROUP BY run ORDER BY first`,
    scope.locationId,
    scope.resourceId,
    now.toISOString(),
    scope.timeZone,
  );
}

export interface ExistingSlot {
  id: string;
  start_at: Date;
  end_at: Date;
  capacity: number;
  booked: number;
  held: number;
  status: string;
  version: number;
  referenced: boolean;
}

/** The scope's generated slots starting in [from, to), locked, with whether bookings or registrations refer to them. */
export function lockScopeSlots(tx: Tx, scope: GenerationScope, from: Date, to: Date): Promise<ExistingSlot[]> {
  return tx.$queryRawUnsafe<ExistingSlot[]>(
    `SELECT id, start_at, end_at, capacity, booked, held, status::text AS status, version,
            (EXISTS (SELECT 1 FROM bookings b WHERE b.slot_id = s.id)
             OR EXISTS (SELECT 1 FROM registration_slots r WHERE r.slot_id = s.id)) AS referenced
       FROM slots s
      WHERE ${scopeWhere} AND start_at >= $3::timestamptz AND start_at < $4::timestamptz
      ORDER BY start_at
        FOR UPDATE`,
    scope.locationId,
    scope.resourceId,
    from.toISOString(),
    to.toISOString(),
  );
}

/** ON CONFLICT DO NOTHING keeps concurrent runs from doubling slots: only the inserted ones come back. */
export function insertPlannedSlots(tx: Tx, scope: GenerationScope, inserts: PlannedSlot[]): Promise<{ id: string; version: number }[]> {
  return tx.$queryRawUnsafe<{ id: string; version: number }[]>(
    `INSERT INTO slots (location_id, resource_id, rule_id, time_zone, start_at, end_at, capacity)
     SELECT $1::uuid, $2::uuid, u.rule_id, $3, u.start_at, u.end_at, u.capacity
       FROM unnest($4::uuid[], $5::timestamptz[], $6::timestamptz[], $7::int[]) AS u(rule_id, start_at, end_at, capacity)
     ON CONFLICT DO NOTHING
     RETURNING id, version`,
    scope.locationId,
    scope.resourceId,
    scope.timeZone,
    inserts.map((p) => p.ruleId),
    inserts.map((p) => p.startAt.toISOString()),
    inserts.map((p) => p.endAt.toISOString()),
    inserts.map((p) => p.capacity),
  );
}

/** Applies the planned end, capacity and rule; a CANCELLED slot reopens (`reopened`). */
export function updatePlannedSlots(
  tx: Tx,
  updates: { id: string; plan: PlannedSlot }[],
): Promise<{ id: string; version: number; reopened: boolean }[]> {
  return tx.$queryRawUnsafe<{ id: string; version: number; reopened: boolean }[]>(
    `UPDATE slots s SET end_at = u.end_at, capacity = u.capacity, rule_id = u.rule_id,
            status = CASE WHEN s.status = 'CANCELLED' THEN 'OPEN'::slot_status ELSE s.status END
       FROM unnest($1::uuid[], $2::timestamptz[], $3::int[], $4::uuid[]) AS u(id, end_at, capacity, rule_id),
            slots old
      WHERE s.id = u.id AND old.id = u.id
     RETURNING s.id, s.version, old.status = 'CANCELLED' AS reopened`,
    updates.map((u) => u.id),
    updates.map((u) => u.plan.endAt.toISOString()),
    updates.map((u) => u.plan.capacity),
    updates.map((u) => u.plan.ruleId),
  );
}

export function cancelSlots(tx: Tx, ids: string[]): Promise<{ id: string; version: number }[]> {
  return tx.$queryRawUnsafe<{ id: string; version: number }[]>(
    `UPDATE slots SET status = 'CANCELLED' WHERE id = ANY($1::uuid[]) RETURNING id, version`,
    ids,
  );
}

/** The version returned is the next one, so a subscriber sees the deletion as newer than the slot it had. */
export function deleteSlots(tx: Tx, ids: string[]): Promise<{ id: string; version: number }[]> {
  return tx.$queryRawUnsafe<{ id: string; version: number }[]>(
    `DELETE FROM slots WHERE id = ANY($1::uuid[]) RETURNING id, version + 1 AS version`,
    ids,
  );
}

/** A location's future slots (its forms' aside) take its new zone. */
export function retagSlotsFrom(
  tx: Tx,
  locationId: string,
  timeZone: string,
  now: Date,
): Promise<{ id: string; version: number; resource_id: string | null }[]> {
  return tx.$queryRawUnsafe(
    `UPDATE slots SET time_zone = $2
      WHERE location_id = $1::uuid AND form_id IS NULL AND start_at >= $3::timestamptz AND time_zone <> $2
     RETURNING id, version, resource_id`,
    locationId,
    timeZone,
    now.toISOString(),
  );
}

/**
 * Scopes with an open rule (a location's location-wide rules, or an active resource's), in key order
 * (`<location id>/<resource id or empty>`) after `after`, at most `limit`.
 */
export function selectScopesWithRules(
  tx: Tx,
  after: string | null,
  limit: number,
): Promise<{ location_id: string; resource_id: string | null; key: string }[]> {
  return tx.$queryRawUnsafe<{ location_id: string; resource_id: string | null; key: string }[]>(
    `SELECT DISTINCT r.location_id, r.resource_id, r.location_id::text || '/' || coalesce(r.resource_id::text, '') AS key
       FROM availability_rules r LEFT JOIN resources res ON res.id = r.resource_id
      WHERE NOT r.is_closed AND (r.resource_id IS NULL OR res.active)
        AND ($1::text IS NULL OR r.location_id::text || '/' || coalesce(r.resource_id::text, '') > $1::text)
      ORDER BY key LIMIT $2`,
    after,
    limit,
  );
}

// ---- rules ------------------------------------------------------------------------------------

export function insertRule(tx: Tx, data: Prisma.AvailabilityRuleUncheckedCreateInput): Promise<AvailabilityRule> {
  return tx.availabilityRule.create({ data });
}

export function updateRule(tx: Tx, id: string, data: Prisma.AvailabilityRuleUncheckedUpdateInput): Promise<AvailabilityRule> {
  return tx.availabilityRule.update({ where: { id }, data });
}

export function deleteRule(tx: Tx, id: string): Promise<AvailabilityRule> {
  return tx.availabilityRule.delete({ where: { id } });
}

// ---- scope zones and availability reads -------------------------------------------------------

/** A scope as availability reads see it: its zone, a form's status, and whether any of its slots can fall under a booking policy. */
export interface ScopeRow {
  time_zone: string;
  status: string | null;
  has_policies: boolean;
}

// A location's policy flag counts its resources' policies; form slots sit on resources or locations
// of their own, so they are always judged.
const SCOPE_ROW: Record<ScopeKind, string> = {
  resource: `SELECT l.time_zone, NULL::text AS status, ${policySetOn('r', 'l')} AS has_policies
    FROM resources r JOIN locations l ON l.id = r.location_id WHERE r.id = $1::uuid`,
  location: `SELECT l.time_zone, NULL::text AS status,
      ${policySetOn('l')} OR EXISTS (SELECT 1 FROM resources r WHERE r.location_id = l.id AND ${policySetOn('r')}) AS has_policies
    FROM locations l WHERE l.id = $1::uuid`,
  form: 'SELECT time_zone, status::text AS status, true AS has_policies FROM forms WHERE id = $1::uuid',
};

/** The scope's row; undefined when it does not exist. */
export async function selectScope(sql: SqlQuery, kind: ScopeKind, id: string): Promise<ScopeRow | undefined> {
  const [row] = await sql.query<ScopeRow>(SCOPE_ROW[kind], [id]);
  return row;
}

type WithScope<T> = T & { scope_time_zone: string; scope_status: string | null; scope_has_policies: boolean };

/**
 * The scope's row and slots read for it, in one statement (one round trip on the hottest reads):
 * `rows` is a query on $1 (the scope id) and `params` from $2, with a never-null `id` and a
 * `startAt`, answered in that order. The rows keep the scope's columns (scope_*) beside their own.
 */
async function selectScopeWith<T extends { id: string; startAt: Date }>(
  sql: SqlQuery,
  kind: ScopeKind,
  id: string,
  rows: string,
  params: unknown[],
): Promise<{ scope: ScopeRow | undefined; rows: T[] }> {
  const result = await sql.query<WithScope<T>>(
    `WITH scope AS (${SCOPE_ROW[kind]})
     SELECT scope.time_zone AS scope_time_zone, scope.status AS scope_status, scope.has_policies AS scope_has_policies, r.*
       FROM scope LEFT JOIN LATERAL (${rows}) r ON true
      ORDER BY r."startAt", r.id`,
    [id, ...params],
  );
  const first = result[0];
  if (!first) return { scope: undefined, rows: [] };
  const scope = { time_zone: first.scope_time_zone, status: first.scope_status, has_policies: first.scope_has_policies };
  // A scope without rows comes back as one row of nulls beside its own columns.
  return { scope, rows: first.id === null ? [] : result };
}

const SCOPE_COLUMN = { resource: 'resource_id', location: 'location_id', form: 'form_id' } as const;

/** The scope's slots as SQL ($1 = the scope id); see loadScope for why form slots stay in their form. */
function scopeFilter(kind: ScopeKind): string {
  return kind === 'form' ? 'form_id = $1::uuid' : `${SCOPE_COLUMN[kind]} = $1::uuid AND form_id IS NULL`;
}

/** What a Slot in an answer shows: the GraphQL Slot type reads no other column. */
export type SlotView = Omit<Slot, 'formId' | 'ruleId' | 'createdAt' | 'updatedAt'>;

/** The SlotView columns, named as Prisma's Slot type names them; `zone` (a parameter) overrides the slot's zone. */
const slotViewColumns = (
  zone: string,
) => `id, location_id AS "locationId", resource_id AS "resourceId", coalesce(${zone}::text, time_zone) AS "timeZone",
  start_at AS "startAt", end_at AS "endAt", capacity, booked, held, status, version`;

/** Slots of resources with every required skill ($n: text[] or null for no requirement). */
/**
 * A slot with places left that nothing blocks: THE bookable test of the availability reads. A slot
 * whose time another live booking of its exclusive resource takes is FULL (`covered`, migration 0016).
 */
const BOOKABLE = `status IN ('OPEN', 'PARTIAL') AND capacity > booked + held`;

/** The places a slot (a `slots` row) has free: none while another booking covers its time. */
export const FREE_PLACES = `CASE WHEN covered > 0 THEN 0 ELSE greatest(capacity - booked - held, 0) END`;

const skillFilter = (param: string) => `(${param}::text[] IS NULL OR resource_id IN (SELECT id FROM resources WHERE skills @> ${param}::text[]))`;

/** The scope's row and up to `limit` of its slots starting in [from, to), cancelled ones left out, in start order. */
export function selectScopeSlots(
  sql: SqlQuery,
  kind: ScopeKind,
  id: string,
  window: { from: Date; to: Date; limit: number; timeZone: string | null; skills: string[] | null },
): Promise<{ scope: ScopeRow | undefined; rows: SlotView[] }> {
  return selectScopeWith<SlotView>(
    sql,
    kind,
    id,
    `SELECT ${slotViewColumns('$5')} FROM slots
      WHERE ${scopeFilter(kind)} AND start_at >= $2 AND start_at < $3 AND status <> 'CANCELLED' AND ${skillFilter('$6')}
      ORDER BY start_at, id LIMIT $4`,
    [window.from, window.to, window.limit, window.timeZone, window.skills],
  );
}

/** Bookable slots and places left per local date of `zone`, for slots starting in [start, end) and not before now. */
export function countBookableByDate(
  sql: SqlQuery,
  kind: ScopeKind,
  id: string,
  window: { zone: string; start: Date; end: Date; now: Date; skills: string[] | null },
): Promise<{ date: string; slot_count: number; remaining: number }[]> {
  return sql.query<{ date: string; slot_count: number; remaining: number }>(
    `SELECT to_char(start_at AT TIME ZONE $2, 'YYYY-MM-DD') AS date,
            count(*)::int AS slot_count,
            sum(capacity - booked - held)::int AS remaining
       FROM slots
      WHERE ${scopeFilter(kind)}
        AND start_at >= $3 AND start_at < $4 AND start_at >= $5
        AND ${BOOKABLE} AND ${skillFilter('$6')}
      GROUP BY 1 ORDER BY 1`,
    [id, window.zone, window.start, window.end, window.now, window.skills],
  );
}

/** A bookable slot as the compact form lists it: its local date and wall-clock minute in `zone`, places left. */
export interface CompactSlot {
  id: string;
  resourceId: string | null;
  locationId: string | null;
  startAt: Date;
  endAt: Date;
  date: string;
  start: number;
  places: number;
}

/**
 * The scope's row and its bookable slots (places left, not yet started) starting in [from, to), in
 * start order, at most `limit`; local dates and minutes in `zone`, else the scope's.
 */
export function selectScopeCompactSlots(
  sql: SqlQuery,
  kind: ScopeKind,
  id: string,
  w: { from: Date; to: Date; now: Date; zone: string | null; limit: number; skills: string[] | null },
): Promise<{ scope: ScopeRow | undefined; rows: CompactSlot[] }> {
  const zone = 'coalesce($5::text, scope.time_zone)';
  return selectScopeWith<CompactSlot>(
    sql,
    kind,
    id,
    `SELECT id, resource_id AS "resourceId", location_id AS "locationId", start_at AS "startAt", end_at AS "endAt",
            to_char(start_at AT TIME ZONE ${zone}, 'YYYY-MM-DD') AS date,
            (extract(hour FROM start_at AT TIME ZONE ${zone}) * 60 + extract(minute FROM start_at AT TIME ZONE ${zone}))::int AS start,
            capacity - booked - held AS places
       FROM slots
      WHERE ${scopeFilter(kind)} AND start_at >= $2 AND start_at < $3 AND start_at > $7
        AND ${BOOKABLE} AND ${skillFilter('$6')}
      ORDER BY start_at, id LIMIT $4`,
    [w.from, w.to, w.limit, w.zone, w.skills, w.now],
  );
}

export interface BookableSlot {
  id: string;
  resourceId: string | null;
  locationId: string | null;
  startAt: Date;
  endAt: Date;
  date: string;
  places_left: number;
}

/** The bookable slots starting in [start, end) and not before now, each with its local date in `zone`. */
export function selectBookableSlots(
  sql: SqlQuery,
  kind: ScopeKind,
  id: string,
  window: { zone: string; start: Date; end: Date; now: Date },
): Promise<BookableSlot[]> {
  return sql.query<BookableSlot>(
    `SELECT id, resource_id AS "resourceId", location_id AS "locationId", start_at AS "startAt", end_at AS "endAt",
            to_char(start_at AT TIME ZONE $2, 'YYYY-MM-DD') AS date, capacity - booked - held AS places_left
       FROM slots
      WHERE ${scopeFilter(kind)}
        AND start_at >= $3 AND start_at < $4 AND start_at >= $5
        AND ${BOOKABLE}
      ORDER BY start_at`,
    [id, window.zone, window.start, window.end, window.now],
  );
}

// ---- exposure cache (PostgreSQL) ----------------------------------------------------------------

export async function selectExposure<T>(sql: SqlQuery, key: string): Promise<T | null> {
  const [row] = await sql.query<{ value: T }>('SELECT value FROM exposure_cache WHERE key = $1 AND expires_at > now()', [key]);
  return row?.value ?? null;
}

export async function upsertExposure(sql: SqlQuery, key: string, value: unknown, ttlSeconds: number): Promise<void> {
  await sql.query(
    `INSERT INTO exposure_cache (key, value, expires_at) VALUES ($1, $2, now() + make_interval(secs => $3))
     ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, expires_at = EXCLUDED.expires_at`,
    [key, JSON.stringify(value), ttlSeconds],
  );
}

export async function deleteExpiredExposureRows(sql: SqlQuery): Promise<number> {
  const rows = await sql.query('DELETE FROM exposure_cache WHERE expires_at <= now() RETURNING 1');
  return rows.length;
}
