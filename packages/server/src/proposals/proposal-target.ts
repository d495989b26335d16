import type { SqlQuery } from '../db/database.js';
import { SlotFullError, SlotUnavailableError, type TimeRange } from '../booking/errors.js';
import { conflictError, validateRange } from '../booking/range.js';
import { NotFoundError, ValidationError } from '../shared/errors.js';
import type { BookingParties } from './parties.js';
import { exclusiveClash, selectSlotHome, selectTargetSlot } from './proposal.store.js';

export type ProposalTarget = { slotId: string } | { range: TimeRange };

export interface CheckedTarget {
  startAt: Date;
  endAt: Date;
  targetSlotId: string | null;
}

/**
 * Checks a proposed time against the booking and the calendar as it is now (approval checks again
 * through the booking engine): a free slot of the same resource, or a free range of the same resource.
 */
export async function checkTarget(sql: SqlQuery, b: BookingParties, target: ProposalTarget, now: Date): Promise<CheckedTarget> {
  if ('slotId' in target) {
    if (b.kind !== 'SLOT') throw ValidationError.field(['input', 'slotId'], 'a range booking moves to another range, not a slot');
    if (target.slotId === b.slotId) throw ValidationError.field(['input', 'slotId'], 'is already the time of this booking');
    const slot = await selectTargetSlot(sql, target.slotId, b.id);
    if (!slot) throw new NotFoundError('Slot', target.slotId);
    const current = await selectSlotHome(sql, b.slotId);
    const sameHome =
      slot.resource_id === current?.resource_id &&
      (slot.resource_id !== null || (slot.location_id === current?.location_id && slot.form_id === current?.form_id));
    if (!sameHome) throw new SlotUnavailableError(slot.id, 'WRONG_RESOURCE');
    if (new Date(slot.start_at).getTime() <= now.getTime()) throw new SlotUnavailableError(slot.id, 'PAST');
    if (slot.status === 'BLOCKED' || slot.status === 'CANCELLED') throw new SlotUnavailableError(slot.id, slot.status);
    // The whole party moves: the slot must have room for all of it.
    if (slot.free < slot.party) throw new SlotFullError(slot.id, Math.max(0, slot.free));
    return { startAt: new Date(slot.start_at), endAt: new Date(slot.end_at), targetSlotId: slot.id };
  }
  if (b.kind !== 'RANGE') throw ValidationError.field(['input', 'range'], 'a slot booking moves to another slot, not a range');
  validateRange(target.range, now, ['input', 'range']);
  const clash = await exclusiveClash(sql, {
    resourceId: b.resourceId,
    bookingId: b.id,
    startAt: target.range.startAt,
    endAt: target.range.endAt,
    now,
  });
  if (clash) throw await conflictError(sql, b.resourceId!, target.range, now, b.id);
  return { startAt: target.range.startAt, endAt: target.range.endAt, targetSlotId: null };
}

/** The booking engine's target for an approved proposal. */
export function rescheduleTargetOf(p: { targetSlotId: string | null; startAt: Date; endAt: Date }) {
  return p.targetSlotId ? { slotId: p.targetSlotId } : { range: { startAt: p.startAt, endAt: p.endAt } };
}
