import { placesAdded } from '../booking/booking-changes.js';
import { sqlIn } from '../db/database.js';
import type { Prisma } from '../generated/prisma/client.js';
import type { SlotChange } from '../live/slot-events.js';
import type { PlannedSlot } from './rule-plan.js';

type Tx = Prisma.TransactionClient;

/** One set of slots generation owns: a resource's, or a location's location-wide slots. */
export interface SlotScope {
  locationId: string;
  resourceId: string | null;
  timeZone: string;
}

export interface ReconcileResult {
  created: number;
  updated: number;
  unchanged: number;
  removed: number;
  kept: string[];
  changes: SlotChange[];
}

interface ExistingSlot {
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

/** Serializes generation per scope across instances; released at commit. */
export function scopeLockKey(scope: { locationId: string; resourceId: string | null }): string {
  return scope.resourceId ?? `location:${scope.locationId}`;
}

/** Waits for the locks of several scopes, always in the same order so two runs cannot deadlock. */
export async function lockScopes(tx: Tx, keys: string[]): Promise<void> {
  for (const key of [...new Set(keys)].sort()) await lockScope(tx, key, true);
}

export async function lockScope(tx: Tx, key: string, wait: boolean): Promise<boolean> {
  if (wait) {
    await tx.$queryRawUnsafe(`SELECT pg_advisory_xact_lock(hashtext('slotwise:slots'), hashtext($1))::text`, key);
    return true;
  }
  const [row] = await tx.$queryRawUnsafe<{ locked: boolean }[]>(
    `SELECT pg_try_advisory_xact_lock(hashtext('slotwise:slots'), hashtext($1)) AS locked`,
    key,
  );
  return Boolean(row?.locked);
}

// Session slots (session_minutes set) are opened by hand, not by rules: generation never touches them.
const scopeWhere = `form_id IS NULL AND session_minutes IS NULL AND location_id = $1::uuid AND resource_id IS NOT DISTINCT FROM $2::uuid`;

/** Starts of the first and last materialized future slots of a scope, or null when it has none. */
export async function futureSlotSpan(tx: Tx, scope: SlotScope, now: Date): Promise<{ first: Date; last: Date } | null> {
  const [row] = await tx.$queryRawUnsafe<{ first: Date | null; last: Date | null }[]>(
    `SELECT min(start_at) AS first, max(start_at) AS last FROM slots WHERE ${scopeWhere} AND start_at >= $3::timestamptz`,
    scope.locationId,
    scope.resourceId,
    now.toISOString(),
  );
  return row?.first && row.last ? { first: row.first, last: row.last } : null;
}

/**
 * Makes the scope's slots in [from, to) match the plan. New slots are inserted (ON CONFLICT DO
 * NOTHING keeps concurrent runs from doubling them); slots no longer planned are deleted, or
 * CANCELLED when bookings or registrations refer to them; changed duration or capacity is applied
 * when the counts allow. Slots with bookings or holds that would have to change are left as they
 * are and reported in `kept`. BLOCKED slots are a person's decision and stay untouched.
 */
export async function reconcileScope(tx: Tx, scope: SlotScope, plan: PlannedSlot[], from: Date, to: Date): Promise<ReconcileResult> {
  const existing = await tx.$queryRawUnsafe<ExistingSlot[]>(
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
  const result: ReconcileResult = { created: 0, updated: 0, unchanged: 0, removed: 0, kept: [], changes: [] };
  const byStart = new Map(existing.map((s) => [s.start_at.getTime(), s]));
  const inserts: PlannedSlot[] = [];
  const updates: { id: string; plan: PlannedSlot }[] = [];
  for (const planned of plan) {
    const slot = byStart.get(planned.startAt.getTime());
    byStart.delete(planned.startAt.getTime());
    if (!slot) {
      inserts.push(planned);
      continue;
    }
    const busy = slot.booked + slot.held;
    const sameEnd = slot.end_at.getTime() === planned.endAt.getTime();
    if (slot.status === 'BLOCKED' || (sameEnd && slot.capacity === planned.capacity && slot.status !== 'CANCELLED')) {
      result.unchanged++;
    } else if ((sameEnd || busy === 0) && planned.capacity >= busy) {
      updates.push({ id: slot.id, plan: planned });
    } else {
      result.kept.push(slot.id);
    }
  }
  const removals: ExistingSlot[] = [];
  for (const slot of byStart.values()) {
    if (slot.status === 'CANCELLED') continue;
    if (slot.booked + slot.held > 0) result.kept.push(slot.id);
    else removals.push(slot);
  }

  const change = (reason: SlotChange['reason']) => (row: { id: string; version: number }): SlotChange => ({
    slotId: row.id,
    version: row.version,
    reason,
    locationId: scope.locationId,
    resourceId: scope.resourceId,
  });
  if (inserts.length) {
    const rows = await tx.$queryRawUnsafe<{ id: string; version: number }[]>(
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
    result.created += rows.length;
    result.unchanged += inserts.length - rows.length;
    result.changes.push(...rows.map(change('GENERATED')));
  }
  if (updates.length) {
    const rows = await tx.$queryRawUnsafe<{ id: string; version: number; reopened: boolean }[]>(
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
    result.updated += rows.length;
    result.changes.push(...rows.map((r) => change(r.reopened ? 'GENERATED' : 'UPDATED')(r)));
    // A raised capacity (or a reopened slot) is a free place for whoever waits for it.
    await placesAdded(sqlIn(tx), rows.map((r) => r.id), new Date());
  }
  const toCancel = removals.filter((s) => s.referenced).map((s) => s.id);
  const toDelete = removals.filter((s) => !s.referenced).map((s) => s.id);
  if (toCancel.length) {
    const rows = await tx.$queryRawUnsafe<{ id: string; version: number }[]>(
      `UPDATE slots SET status = 'CANCELLED' WHERE id = ANY($1::uuid[]) RETURNING id, version`,
      toCancel,
    );
    result.changes.push(...rows.map(change('CANCELLED')));
  }
  if (toDelete.length) {
    const rows = await tx.$queryRawUnsafe<{ id: string; version: number }[]>(
      `DELETE FROM slots WHERE id = ANY($1::uuid[]) RETURNING id, version + 1 AS version`,
      toDelete,
    );
    result.changes.push(...rows.map(change('CANCELLED')));
  }
  result.removed = toCancel.length + toDelete.length;
  const startOf = new Map(existing.map((slot) => [slot.id, slot.start_at.getTime()]));
  result.kept.sort((a, b) => startOf.get(a)! - startOf.get(b)!);
  return result;
}

/**
 * After a location moved to another zone: its future slots (its forms' aside) read in the new zone,
 * those kept with bookings and the session slots too. Returns the changes to publish after commit.
 */
export async function retagFutureSlots(tx: Tx, locationId: string, timeZone: string, now: Date): Promise<SlotChange[]> {
  const rows = await tx.$queryRawUnsafe<{ id: string; version: number; resource_id: string | null }[]>(
    `UPDATE slots SET time_zone = $2
      WHERE location_id = $1::uuid AND form_id IS NULL AND start_at >= $3::timestamptz AND time_zone <> $2
     RETURNING id, version, resource_id`,
    locationId,
    timeZone,
    now.toISOString(),
  );
  return rows.map((r) => ({ slotId: r.id, version: r.version, reason: 'UPDATED', locationId, resourceId: r.resource_id }));
}
