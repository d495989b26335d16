import { placesAdded } from '../booking/booking-changes.js';
import { sqlIn } from '../db/database.js';
import type { Prisma } from '../generated/prisma/client.js';
import type { SlotChange } from '../events/slot-events.js';
import type { PlannedSlot } from './rule-plan.js';
import {
  cancelSlots,
  deleteSlots,
  insertPlannedSlots,
  lockScopeSlots,
  retagSlotsFrom,
  selectFutureSlotRuns,
  tryScopeLock,
  updatePlannedSlots,
  waitForScopeLock,
  type ExistingSlot,
} from './scheduling.store.js';

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

/** Serializes generation per scope across instances; released at commit. */
export function scopeLockKey(scope: { locationId: string; resourceId: string | null }): string {
  return scope.resourceId ?? `location:${scope.locationId}`;
}

/** Waits for the locks of several scopes, always in the same order so two runs cannot deadlock. */
export async function lockScopes(tx: Tx, keys: string[]): Promise<void> {
  for (const key of [...new Set(keys)].sort()) await lockScope(tx, key, true);
}

export async function lockScope(tx: Tx, key: string, wait: boolean): Promise<boolean> {
  if (!wait) return tryScopeLock(tx, key);
  await waitForScopeLock(tx, key);
  return true;
}

/**
 * The materialized future dates of a scope, as runs of consecutive local dates (each run's first and
 * last slot start): what a rule or zone change re-plans. Dates never generated between two runs are
 * left to generateSlots and the horizon job.
 */
export function futureSlotRuns(tx: Tx, scope: SlotScope, now: Date): Promise<{ first: Date; last: Date }[]> {
  return selectFutureSlotRuns(tx, scope, now);
}

/**
 * Makes the scope's slots in [from, to) match the plan. New slots are inserted (ON CONFLICT DO
 * NOTHING keeps concurrent runs from doubling them); slots no longer planned are deleted, or
 * CANCELLED when bookings or registrations refer to them; changed duration or capacity is applied
 * when the counts allow. Slots with bookings or holds that would have to change are left as they
 * are and reported in `kept`. BLOCKED slots are a person's decision and stay untouched.
 */
export async function reconcileScope(tx: Tx, scope: SlotScope, plan: PlannedSlot[], from: Date, to: Date): Promise<ReconcileResult> {
  const existing = await lockScopeSlots(tx, scope, from, to);
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

  const change =
    (reason: SlotChange['reason']) =>
    (row: { id: string; version: number }): SlotChange => ({
      slotId: row.id,
      version: row.version,
      reason,
      locationId: scope.locationId,
      resourceId: scope.resourceId,
    });
  if (inserts.length) {
    const rows = await insertPlannedSlots(tx, scope, inserts);
    result.created += rows.length;
    result.unchanged += inserts.length - rows.length;
    result.changes.push(...rows.map(change('GENERATED')));
  }
  if (updates.length) {
    const rows = await updatePlannedSlots(tx, updates);
    result.updated += rows.length;
    result.changes.push(...rows.map((r) => change(r.reopened ? 'GENERATED' : 'UPDATED')(r)));
    // A raised capacity (or a reopened slot) is a free place for whoever waits for it.
    await placesAdded(
      sqlIn(tx),
      rows.map((r) => r.id),
      new Date(),
    );
  }
  const toCancel = removals.filter((s) => s.referenced).map((s) => s.id);
  const toDelete = removals.filter((s) => !s.referenced).map((s) => s.id);
  if (toCancel.length) {
    const rows = await cancelSlots(tx, toCancel);
    result.changes.push(...rows.map(change('CANCELLED')));
  }
  if (toDelete.length) {
    const rows = await deleteSlots(tx, toDelete);
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
  const rows = await retagSlotsFrom(tx, locationId, timeZone, now);
  return rows.map((r) => ({ slotId: r.id, version: r.version, reason: 'UPDATED', locationId, resourceId: r.resource_id }));
}
