import type { SqlQuery } from '../db/database.js';
import { liveBookingsAround, loadPolicies } from './policies.store.js';
import { policyVerdict, readsBookings, type PolicyReason } from './policy.js';

/** The slot fields the policy rule reads. */
export interface PolicySlot {
  id: string;
  resourceId: string | null;
  locationId: string | null;
  startAt: Date;
  endAt: Date;
}

/**
 * The slots a booking policy would refuse now, with the reason: availability leaves them out,
 * so what is shown is what can be booked. The same rule as the booking transaction
 * (policyVerdict); per-customer limits need a customer and are judged only when booking.
 */
export async function blockedSlots(sql: SqlQuery, slots: PolicySlot[], now: Date): Promise<Map<string, PolicyReason>> {
  return (await judgeSlots(sql, slots, now)).blocked;
}

export interface SlotJudgement {
  /** Slots a policy refuses now, with the reason. */
  blocked: Map<string, PolicyReason>;
  /** For bookable slots under a minimum notice: the instant (epoch ms) the notice window reaches them. */
  noticeAt: Map<string, number>;
}

/** blockedSlots, and when each bookable slot will fall inside its minimum notice (live feeds remove it then). */
export async function judgeSlots(sql: SqlQuery, slots: PolicySlot[], now: Date): Promise<SlotJudgement> {
  const blocked = new Map<string, PolicyReason>();
  const noticeAt = new Map<string, number>();
  if (!slots.length) return { blocked, noticeAt };
  const keyOf = (s: PolicySlot) => s.resourceId ?? s.locationId;
  const policies = await loadPolicies(
    sql,
    slots.flatMap((s) => (s.resourceId ? [s.resourceId] : [])),
    slots.flatMap((s) => (!s.resourceId && s.locationId ? [s.locationId] : [])),
  );
  if (!policies.size) return { blocked, noticeAt };
  const counted = [...policies].filter(([, p]) => readsBookings(p.policy)).map(([key]) => key);
  const window = { start: Math.min(...slots.map((s) => s.startAt.getTime())), end: Math.max(...slots.map((s) => s.endAt.getTime())) };
  const bookings = await liveBookingsAround(sql, counted, window, now);
  for (const slot of slots) {
    const key = keyOf(slot);
    const subject = key ? policies.get(key) : undefined;
    if (!subject) continue;
    const reason = policyVerdict(
      { slotId: slot.id, start: slot.startAt.getTime(), end: slot.endAt.getTime() },
      { policy: subject.policy, now: now.getTime(), timeZone: subject.timeZone, bookings: bookings.get(key!) ?? [] },
    );
    if (reason) blocked.set(slot.id, reason);
    else if (subject.policy.minNoticeMinutes) noticeAt.set(slot.id, slot.startAt.getTime() - subject.policy.minNoticeMinutes * 60_000);
  }
  return { blocked, noticeAt };
}

/** The slots no policy refuses, in their order. */
export async function bookableUnderPolicies<T extends PolicySlot>(sql: SqlQuery, slots: T[], now: Date): Promise<T[]> {
  const blocked = await blockedSlots(sql, slots, now);
  return blocked.size ? slots.filter((s) => !blocked.has(s.id)) : slots;
}
