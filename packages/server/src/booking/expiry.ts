import type { SqlQuery, SqlRunner } from '../db/database.js';
import type { SlotChange } from '../events/slot-events.js';
import type { AuditActor } from './audit.js';
import { expireHolds, giveBackHeldPlaces, writeBookingAudit } from './booking.store.js';
import { bookingsChanged } from './booking-changes.js';

export interface ReleaseOptions {
  /** Only holds on these slots (a booking reclaims its own slots' expired holds). */
  slotIds?: string[];
  now?: Date;
  /** Most holds released in one run; the sweeper comes back for the rest. */
  limit?: number;
}

export const EXPIRY_ACTOR: AuditActor = { actorLabel: 'system:hold-expiry' };

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
  const expired = await expireHolds(tx, { now, limit: options.limit ?? 500, slotIds: options.slotIds });
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
  const covered = await bookingsChanged(
    tx,
    expired.map((row) => {
      const state = {
        id: row.id,
        slotId: row.slot_id,
        resourceId: row.resource_id,
        locationId: row.location_id,
        exclusive: row.exclusive,
        startAt: row.start_at,
        endAt: row.end_at,
        icsSequence: row.ics_sequence,
      };
      return { before: { ...state, status: 'HELD' as const }, after: { ...state, status: 'EXPIRED' as const } };
    }),
    now,
    null,
  );
  return { changes: [...changes, ...covered], freed };
}
