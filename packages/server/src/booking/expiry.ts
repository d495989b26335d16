import type { SqlQuery, SqlRunner } from '../db/database.js';
import type { SlotChange } from '../live/slot-events.js';
import { writeBookingAudit, type AuditActor } from './audit.js';
import { bookingsChanged } from './booking-changes.js';

export interface ReleaseOptions {
  /** Only holds on these slots (a booking reclaims its own slots' expired holds). */
  slotIds?: string[];
  now?: Date;
  /** Most holds released in one run; the sweeper comes back for the rest. */
  limit?: number;
}

export const EXPIRY_ACTOR: AuditActor = { actorLabel: 'system:hold-expiry' };

interface ExpiredRow {
  id: string;
  slot_id: string | null;
  resource_id: string | null;
  location_id: string | null;
  start_at: Date;
  end_at: Date;
  ics_sequence: number;
  hold_expires_at: Date;
  party_size: number;
}

/**
 * Marks HELD bookings past hold_expires_at EXPIRED and gives their places back, in one
 * transaction. Returns the slot changes to publish once it has committed.
 * Safe on many instances at once: holds are claimed with FOR UPDATE SKIP LOCKED.
 */
export async function releaseExpiredHolds(sql: SqlRunner, options: ReleaseOptions = {}): Promise<SlotChange[]> {
  const result = await sql.transaction((tx) => releaseExpiredHoldsIn(tx, options, EXPIRY_ACTOR));
  return result.changes;
}

/**
 * The same, inside the caller's transaction. A hold on a row that a confirm (or cancel) has
 * locked is skipped, never waited for: whoever holds the lock decides that booking's fate, and
 * the status is re-checked under the lock, so a place is never given back twice and counts
 * cannot go negative.
 */
export async function releaseExpiredHoldsIn(
  tx: SqlQuery,
  options: ReleaseOptions,
  actor: AuditActor = EXPIRY_ACTOR,
): Promise<{ changes: SlotChange[]; freed: Map<string, number> }> {
  const now = options.now ?? new Date();
  const expired = await tx.query<ExpiredRow>(
    // MATERIALIZED: claimed once. As an IN (...) subquery the planner may run the claim again for
    // each outer row, and with SKIP LOCKED every run finds other rows: far more than the limit.
    `WITH due AS MATERIALIZED (
      SELECT id FROM bookings
      WHERE status = 'HELD' AND hold_expires_at <= $1 ${options.slotIds ? 'AND slot_id = ANY($3::uuid[])' : ''}
      ORDER BY hold_expires_at
      LIMIT $2::int
      FOR UPDATE SKIP LOCKED)
    UPDATE bookings b SET status = 'EXPIRED', updated_at = now()
    FROM due WHERE b.id = due.id AND b.status = 'HELD'
    RETURNING b.id, b.slot_id, b.resource_id, b.location_id, b.start_at, b.end_at, b.ics_sequence, b.hold_expires_at, b.party_size`,
    [now, options.limit ?? 500, ...(options.slotIds ? [options.slotIds] : [])],
  );
  const freed = new Map<string, number>();
  if (!expired.length) return { changes: [], freed };

  // A hold gives back every place its party took.
  for (const row of expired) if (row.slot_id) freed.set(row.slot_id, (freed.get(row.slot_id) ?? 0) + row.party_size);
  const changes = await giveBackHeldPlaces(tx, freed);
  await writeBookingAudit(
    tx,
    actor,
    expired.map((row) => ({
      bookingId: row.id,
      action: 'EXPIRED' as const,
      oldValues: { status: 'HELD', holdExpiresAt: row.hold_expires_at.toISOString() },
      newValues: { status: 'EXPIRED' },
    })),
  );
  await bookingsChanged(
    tx,
    expired.map((row) => {
      const state = { id: row.id, slotId: row.slot_id, resourceId: row.resource_id, locationId: row.location_id, startAt: row.start_at, endAt: row.end_at, icsSequence: row.ics_sequence };
      return { before: { ...state, status: 'HELD' as const }, after: { ...state, status: 'EXPIRED' as const } };
    }),
    now,
    null,
  );
  return { changes, freed };
}

/** held -= n per slot; slots are locked in id order first, the order every booking path uses. */
async function giveBackHeldPlaces(tx: SqlQuery, freed: Map<string, number>): Promise<SlotChange[]> {
  if (!freed.size) return [];
  const ids = [...freed.keys()].sort();
  const counts = ids.map((id) => freed.get(id)!);
  await tx.query(`SELECT id FROM slots WHERE id = ANY($1::uuid[]) ORDER BY id FOR UPDATE`, [ids]);
  const rows = await tx.query<{ id: string; version: number; location_id: string | null; resource_id: string | null; form_id: string | null }>(
    `UPDATE slots s SET held = s.held - d.n
    FROM unnest($1::uuid[], $2::int[]) AS d(id, n)
    WHERE s.id = d.id
    RETURNING s.id, s.version, s.location_id, s.resource_id, s.form_id`,
    [ids, counts],
  );
  return rows.map((r) => ({
    slotId: r.id,
    version: r.version,
    reason: 'EXPIRED' as const,
    locationId: r.location_id,
    resourceId: r.resource_id,
    formId: r.form_id,
  }));
}
