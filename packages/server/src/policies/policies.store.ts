import type { SqlQuery, SqlRunner } from '../db/database.js';
import { lockKeysInTransaction } from '../db/advisory-locks.js';
import { slotChangeOf, type SlotChange, type SlotChangeRow } from '../events/slot-events.js';
import { CONTEXT_PAD_MS, POLICY_COLUMNS, POLICY_FIELDS, isEmptyPolicy, type LiveBooking, type Policy } from './policy.js';

/**
 * Policies belong to a "subject": a resource (its slots and bookings), or a location for its
 * location-wide slots (no resource). Subject keys are the resource or location id.
 */
export interface SubjectPolicy {
  policy: Policy;
  timeZone: string;
}

/** The effective policy columns (the resource's `r` setting, else its location's `l`), each as `<prefix><field>`. */
const effectiveColumns = (prefix: string) =>
  POLICY_FIELDS.map((f) => `COALESCE(r.${POLICY_COLUMNS[f]}, l.${POLICY_COLUMNS[f]}) AS "${prefix}${f}"`).join(', ');
const effective = effectiveColumns('');

/**
 * Select-list columns for another domain's statement that joins a subject's resource as `r`
 * (possibly null: a location-wide slot) and its location as `l`: the effective policy, as
 * `withSubjectPolicy` reads it back. Saves a statement where the subject's row is read anyway.
 */
export const SUBJECT_POLICY_COLUMNS = `l.time_zone AS policy_time_zone, ${effectiveColumns('policy_')}`;

/** A row read with SUBJECT_POLICY_COLUMNS, those columns replaced by `policy` (null when the subject has none). */
export function withSubjectPolicy<T extends object>(row: T): T & { policy: SubjectPolicy | null } {
  const rest: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(row)) if (!key.startsWith('policy_')) rest[key] = value;
  const columns = row as Record<string, unknown>;
  const policy = Object.fromEntries(POLICY_FIELDS.map((f) => [f, (columns[`policy_${f}`] as number | null) ?? null])) as Policy;
  return { ...(rest as T), policy: isEmptyPolicy(policy) ? null : { policy, timeZone: columns.policy_time_zone as string } };
}
const own = POLICY_FIELDS.map((f) => `l.${POLICY_COLUMNS[f]} AS "${f}"`).join(', ');

/** Effective policies (resource over location) of the given subjects; those with no policy at all are left out. */
export async function loadPolicies(sql: SqlQuery, resourceIds: string[], locationIds: string[]): Promise<Map<string, SubjectPolicy>> {
  if (!resourceIds.length && !locationIds.length) return new Map();
  const rows = await sql.query<Policy & { key: string; time_zone: string }>(
    `SELECT r.id::text AS key, l.time_zone, ${effective}
       FROM resources r JOIN locations l ON l.id = r.location_id WHERE r.id = ANY($1::uuid[])
     UNION ALL
     SELECT l.id::text, l.time_zone, ${own} FROM locations l WHERE l.id = ANY($2::uuid[])`,
    [[...new Set(resourceIds)], [...new Set(locationIds)]],
  );
  const out = new Map<string, SubjectPolicy>();
  for (const { key, time_zone, ...policy } of rows) if (!isEmptyPolicy(policy)) out.set(key, { policy, timeZone: time_zone });
  return out;
}

/** SQL: some policy column is set on any of the rows `aliases` (of resources or locations). */
export const policySetOn = (...aliases: string[]): string =>
  `COALESCE(${aliases.flatMap((a) => POLICY_FIELDS.map((f) => `${a}.${POLICY_COLUMNS[f]}`)).join(', ')}) IS NOT NULL`;

/** Whether any slot of a resource or location scope falls under a policy (a location's resources included). */
export async function scopeHasPolicies(sql: SqlQuery, kind: 'resource' | 'location' | 'form', id: string): Promise<boolean> {
  // Form slots sit on resources or locations of their own; the row path sorts them out.
  if (kind === 'form') return true;
  const query = {
    resource: `SELECT EXISTS (SELECT 1 FROM resources r JOIN locations l ON l.id = r.location_id WHERE r.id = $1::uuid AND ${policySetOn('r', 'l')}) AS yes`,
    location: `SELECT EXISTS (SELECT 1 FROM locations l WHERE l.id = $1::uuid AND ${policySetOn('l')})
      OR EXISTS (SELECT 1 FROM resources r WHERE r.location_id = $1::uuid AND ${policySetOn('r')}) AS yes`,
  }[kind];
  const [row] = await sql.query<{ yes: boolean }>(query, [id]);
  return row!.yes;
}

/** Who is booking: bookings with the same email hash or phone hash count as theirs. */
export interface CustomerKey {
  emailHash: string;
  phoneHash: string | null;
}

/**
 * The live bookings (CONFIRMED, or HELD and not expired) of the subjects around a window, per
 * subject key, each marked when it is the given customer's.
 */
export async function liveBookingsAround(
  sql: SqlQuery,
  keys: string[],
  window: { start: number; end: number },
  now: Date,
  options: { customer?: CustomerKey | null; ignoreBookingIds?: string[] } = {},
): Promise<Map<string, LiveBooking[]>> {
  const out = new Map<string, LiveBooking[]>(keys.map((k) => [k, []]));
  if (!keys.length) return out;
  const from = new Date(window.start - CONTEXT_PAD_MS);
  const to = new Date(window.end + CONTEXT_PAD_MS);
  const live = `(b.status = 'CONFIRMED' OR (b.status = 'HELD' AND b.hold_expires_at > $4))
    AND b.start_at < $3 AND b.end_at > $2 AND b.id <> ALL($7::uuid[])`;
  const rows = await sql.query<{ id: string; slot_id: string | null; start_at: Date; end_at: Date; key: string; same_customer: boolean }>(
    `SELECT b.id, b.slot_id, b.start_at, b.end_at, b.resource_id::text AS key,
        (b.customer_email_hash = $5 OR (b.customer_phone_hash IS NOT NULL AND b.customer_phone_hash = $6)) IS TRUE AS same_customer
       FROM bookings b WHERE b.resource_id = ANY($1::uuid[]) AND ${live}
     UNION ALL
     SELECT b.id, b.slot_id, b.start_at, b.end_at, b.location_id::text,
        (b.customer_email_hash = $5 OR (b.customer_phone_hash IS NOT NULL AND b.customer_phone_hash = $6)) IS TRUE
       FROM bookings b WHERE b.resource_id IS NULL AND b.location_id = ANY($1::uuid[]) AND ${live}`,
    [keys, from, to, now, options.customer?.emailHash ?? null, options.customer?.phoneHash ?? null, options.ignoreBookingIds ?? []],
  );
  for (const r of rows) {
    out.get(r.key)?.push({ id: r.id, slotId: r.slot_id, start: r.start_at.getTime(), end: r.end_at.getTime(), sameCustomer: r.same_customer });
  }
  return out;
}

// Advisory-lock namespace of "policy checks on this resource or location" (apart from the
// exclusive-resource locks in booking/booking.store.ts, which are always taken before these).
const POLICY_LOCK_CLASS = 0x5357_0002;

/**
 * Serializes bookings of one subject whose policy reads other bookings (buffers, per-day and
 * per-customer limits): the next booking's count reads after this one committed, so two racing
 * for the last place of a limit cannot both pass. Held until the transaction ends; taken in key order.
 */
export function lockPolicySubjects(sql: SqlQuery, keys: string[]): Promise<void> {
  return lockKeysInTransaction(sql, POLICY_LOCK_CLASS, keys);
}

/** The audit row of a staff override, beside the booking's own. */
export async function writeOverrideAudit(
  sql: SqlQuery,
  actor: { actorId?: string | null; actorLabel: string; requestId?: string | null },
  rows: { bookingId: string; policies: string[]; reason: string }[],
): Promise<void> {
  if (!rows.length) return;
  await sql.query(
    `INSERT INTO audit_events (entity_type, entity_id, action, actor_id, actor_label, request_id, new_values)
     SELECT 'Booking', x.booking_id, 'POLICY_OVERRIDDEN', $2, $3, $4, jsonb_build_object('policies', x.policies, 'reason', x.reason)
       FROM jsonb_to_recordset($1::jsonb) AS x(booking_id uuid, policies jsonb, reason text)`,
    [
      JSON.stringify(rows.map((r) => ({ booking_id: r.bookingId, policies: r.policies, reason: r.reason }))),
      actor.actorId ?? null,
      actor.actorLabel,
      actor.requestId ?? null,
    ],
  );
}

/**
 * After a booking on a resource whose policy reads other bookings commits (or one is cancelled), its
 * other slots from a day before to a day after may have become refused or bookable again although
 * their rows did not change. Touching them (the slot trigger raises `version`) lets live subscribers
 * re-judge them. Its own short transaction; slots another booking holds locked are skipped (that
 * booking publishes its own).
 */
export async function touchNeighbourSlots(sql: SqlRunner, keys: string[], around: { start: Date; end: Date }): Promise<SlotChange[]> {
  if (!keys.length) return [];
  const rows = await sql.transaction((tx) =>
    tx.query<SlotChangeRow>(
      `WITH target AS (
         SELECT id FROM slots
          WHERE (resource_id = ANY($1::uuid[]) OR (resource_id IS NULL AND form_id IS NULL AND location_id = ANY($1::uuid[])))
            AND start_at >= $2 AND start_at < $3 AND status IN ('OPEN', 'PARTIAL', 'FULL')
          ORDER BY id FOR UPDATE SKIP LOCKED)
       UPDATE slots s SET updated_at = now() FROM target WHERE s.id = target.id
       RETURNING s.id, s.version, s.location_id, s.resource_id, s.form_id`,
      [keys, new Date(around.start.getTime() - 86_400_000), new Date(around.end.getTime() + 86_400_000)],
    ),
  );
  return rows.map((r) => slotChangeOf(r, 'UPDATED'));
}
