import type { SqlQuery } from '../db/database.js';
import { AppError } from '../shared/errors.js';
import { STAFF_ROLES, hasAnyRole, type Actor } from '../shared/actor.js';
import { ValidationError } from '../shared/errors.js';
import { liveBookingsAround, loadPolicies, lockPolicySubjects, type CustomerKey, type SubjectPolicy } from './policies.store.js';
import {
  REASON_FIELD,
  bufferFieldOf,
  policyVerdict,
  readsBookings,
  type Candidate,
  type LiveBooking,
  type PolicyField,
  type PolicyReason,
} from './policy.js';

/** A booking policy refused the time; nothing was written. Staff may book anyway with `override`. */
export class BookingPolicyError extends AppError {
  readonly code = 'BOOKING_POLICY';
  readonly field: PolicyField;
  constructor(
    readonly policy: PolicyReason,
    readonly slotId: string | null,
    readonly startAt: Date,
    field: PolicyField = REASON_FIELD[policy],
  ) {
    super(`A booking policy does not allow this time: ${policy.toLowerCase().replaceAll('_', ' ')}`);
    this.field = field;
  }
}

/** Staff booking outside the policies says why; the reason goes to the audit log. */
export interface PolicyOverride {
  reason: string;
}

/** The override a caller may use: staff only, with a reason (ValidationError on input.override otherwise). */
export function checkOverride(override: PolicyOverride | null | undefined, actor: Actor | null): PolicyOverride | null {
  if (!override) return null;
  if (!hasAnyRole(actor, STAFF_ROLES)) throw ValidationError.field(['input', 'override'], 'only staff may override booking policies');
  const reason = override.reason.trim();
  if (!reason) throw ValidationError.field(['input', 'override', 'reason'], 'must not be empty');
  if (reason.length > 500) throw ValidationError.field(['input', 'override', 'reason'], 'must be at most 500 characters');
  return { reason };
}

/** A time being booked, on its resource (or, for a location-wide slot, its location). */
export interface PolicyTarget extends Candidate {
  resourceId: string | null;
  locationId: string | null;
}

/** What the step found: the policies a staff override set aside per target index (for the audit rows), and the subjects whose policy reads other bookings. */
export interface PolicyOutcome {
  overridden: Map<number, PolicyReason>;
  /** Resources (or locations) whose buffers or limits this booking may change for their other slots. */
  counted: string[];
}

/**
 * The one booking-policy step of the booking transaction, run after the slot (and exclusive
 * resource) locks: subjects whose policy reads other bookings are locked, then every target is
 * judged by the rule availability uses (policyVerdict), each one counting the targets before it.
 * Throws BookingPolicyError, unless `override` is given: then the refusals are returned for the audit.
 */
export async function enforceBookingPolicies(
  tx: SqlQuery,
  targets: PolicyTarget[],
  options: {
    now: Date;
    customer: CustomerKey | null;
    override: PolicyOverride | null;
    ignoreBookingIds?: string[];
    /** The targets' subject policies when the caller read them already (with its slot locks); read here otherwise. */
    policies?: Map<string, SubjectPolicy>;
  },
): Promise<PolicyOutcome> {
  const overridden = new Map<number, PolicyReason>();
  const keyOf = (t: PolicyTarget) => t.resourceId ?? t.locationId;
  const withKey = targets.filter((t) => keyOf(t) !== null);
  if (!withKey.length) return { overridden, counted: [] };
  const policies =
    options.policies ??
    (await loadPolicies(
      tx,
      withKey.flatMap((t) => (t.resourceId ? [t.resourceId] : [])),
      withKey.flatMap((t) => (t.resourceId ? [] : [t.locationId!])),
    ));
  if (!policies.size) return { overridden, counted: [] };

  const counted = [...policies].filter(([, p]) => readsBookings(p.policy)).map(([key]) => key);
  await lockPolicySubjects(tx, counted);
  const window = { start: Math.min(...targets.map((t) => t.start)), end: Math.max(...targets.map((t) => t.end)) };
  const bookings = await liveBookingsAround(tx, counted, window, options.now, {
    customer: options.customer,
    ignoreBookingIds: options.ignoreBookingIds,
  });

  targets.forEach((target, i) => {
    const key = keyOf(target);
    const subject = key ? policies.get(key) : undefined;
    if (!subject) return;
    const others: LiveBooking[] = bookings.get(key!) ?? [];
    const reason = policyVerdict(target, { policy: subject.policy, now: options.now.getTime(), timeZone: subject.timeZone, bookings: others });
    if (reason && !options.override) {
      const field = reason === 'BUFFER' ? bufferFieldOf(target, subject.policy, others) : undefined;
      throw new BookingPolicyError(reason, target.slotId, new Date(target.start), field);
    }
    if (reason) overridden.set(i, reason);
    // The next targets of this request count this one (a registration of several slots).
    others.push({ id: `target:${i}`, slotId: target.slotId, start: target.start, end: target.end, sameCustomer: options.customer !== null });
    bookings.set(key!, others);
  });
  return { overridden, counted };
}
