import type { BookingMailer } from '../calendar/booking-mail.js';
import type { Config } from '../config.js';
import { findMagicLink } from '../links/magic-links.js';
import { noBookingMetrics, type BookingMetrics } from './booking-metrics.js';
import type { Booking } from '../generated/prisma/client.js';
import type { SlotChange, SlotEvents } from '../events/slot-events.js';
import type { Database, SqlQuery, SqlRunner } from '../db/database.js';
import { withRetry } from '../db/retry.js';
import { actorLabel, hasAnyRole, type Actor } from '../shared/actor.js';
import { NotFoundError, ValidationError, parseInput } from '../shared/errors.js';
import { BOOKING_MANAGER_ROLES, canManage } from './access.js';
import { bookingDetailsSchema, type BookingDetails } from './details.js';
import type { AuditActor } from './audit.js';
import { hostEmail, userName } from './booking.store.js';
import { customerSchema, type Customer } from './customer.js';
import {
  DuplicateBookingError,
  duplicateBookingField,
  HoldExpiredError,
  SlotFullError,
  SlotsUnavailableError,
  SlotUnavailableError,
  type UnavailableSlot,
} from './errors.js';
import { releaseExpiredHoldsIn } from './expiry.js';
import { cancelInTx, confirmInTx, type Authorize, type ConfirmOutcome, type TxContext } from './lifecycle.js';
import { bookSlotsInTransaction } from './multi-slot.js';
import { OverlapError } from './insert.js';
import { conflictError, insertRangeInTx, isOverlapViolation, rangeResource, validateRange } from './range.js';
import { rescheduleInTx, type RescheduleTarget } from './reschedule.js';
import { checkOverride, type PolicyOverride } from '../policies/enforce.js';
import { loadPolicies, touchNeighbourSlots } from '../policies/policies.store.js';
import { readsBookings } from '../policies/policy.js';
import { updateDetailsInTx } from './update.js';

/** Who is asking: the actor (or the public) and the request id audit rows carry. */
export interface Caller {
  actor: Actor | null;
  requestId?: string;
}

export interface BookingReceipt {
  booking: Booking;
  /** The per-booking secret to confirm, cancel or reschedule without signing in; shown once. */
  manageToken: string;
}

export interface CustomerInput {
  name: string;
  email: string;
  phone?: string | null;
  timeZone?: string | null;
}

/** Details as a mutation's input carries them (validated by the service). */
export interface DetailsInput {
  title?: string | null;
  notes?: string | null;
  internalNotes?: string | null;
  partySize?: number | null;
}

export interface RangeInput {
  resourceId: string;
  startAt: Date;
  endAt: Date;
}

/**
 * Longest wait for another transaction's row lock. Booking transactions hold their locks for
 * milliseconds, so a longer wait means something is stuck; the caller gets TryAgainError.
 */
const LOCK_TIMEOUT_MS = 5_000;

/**
 * The booking engine's one transaction, for every change that books or frees places (BookingService's
 * own, form registrations): plain SQL on one connection, retried on transient errors, giving up on a
 * row lock after lockTimeoutMs (TryAgainError).
 */
export function bookingTransaction<T>(sql: SqlRunner, fn: (tx: SqlQuery) => Promise<T>, lockTimeoutMs = LOCK_TIMEOUT_MS): Promise<T> {
  return withRetry(() => sql.transaction(fn, { lockTimeoutMs }));
}

export class BookingService {
  constructor(
    private readonly db: Pick<Database, 'sql'>,
    private readonly config: Pick<Config, 'HOLD_TTL_MINUTES'>,
    private readonly slotEvents: SlotEvents,
    /** Queues each change's mails inside its transaction (see calendar/booking-mail.ts). */
    readonly mail: BookingMailer,
    private readonly now: () => Date = () => new Date(),
    private readonly metrics: BookingMetrics = noBookingMetrics,
    private readonly lockTimeoutMs = LOCK_TIMEOUT_MS,
  ) {}

  /** Keeps a place on a slot for HOLD_TTL_MINUTES; `confirm` makes it a booking. */
  hold(
    slotId: string,
    customer: CustomerInput | null | undefined,
    caller: Caller,
    details: DetailsInput = {},
    override?: PolicyOverride | null,
  ): Promise<BookingReceipt> {
    return this.bookSlot(slotId, customer, caller, 'HELD', this.details(details, caller), checkOverride(override, caller.actor));
  }

  /** hold + confirm at once: a slot, or a free range on an exclusive resource. */
  /** `override`: staff only, books outside the booking policies (audited with its reason). */
  async book(
    target: { slotId: string } | { range: RangeInput },
    customer: CustomerInput | null | undefined,
    caller: Caller,
    input: DetailsInput = {},
    override?: PolicyOverride | null,
  ): Promise<BookingReceipt> {
    const allowed = checkOverride(override, caller.actor);
    const details = this.details(input, caller);
    if ('slotId' in target) return this.bookSlot(target.slotId, customer, caller, 'CONFIRMED', details, allowed);
    if ((details.partySize ?? 1) > 1) throw ValidationError.field(['input', 'partySize'], 'a range booking is one party of 1');
    const now = this.now();
    const who = await this.customerFor(customer, caller.actor);
    validateRange(target.range, now, ['input', 'range']);
    const resource = await rangeResource(this.db.sql, target.range.resourceId, ['input', 'range', 'resourceId']);
    try {
      const receipt = await this.transaction((tx) =>
        insertRangeInTx(tx, {
          resourceId: resource.id,
          locationId: resource.locationId,
          range: target.range,
          customer: who.customer,
          userId: who.userId,
          details,
          now,
          actor: this.auditActor(caller),
          mail: this.mail,
          override: allowed,
        }),
      );
      this.metrics.recordBooking('confirmed');
      await this.slotEvents.publish(receipt.changes);
      await this.publishPolicyNeighbours(receipt.policyKeys, receipt.booking);
      return { booking: receipt.booking, manageToken: receipt.manageToken };
    } catch (error) {
      if (isOverlapViolation(error)) {
        this.metrics.recordBooking('conflict');
        throw await conflictError(this.db.sql, resource, target.range, now);
      }
      throw error;
    }
  }

  confirm(bookingId: string, manageToken: string | null | undefined, caller: Caller): Promise<Booking> {
    return this.confirmAs(bookingId, caller, this.authorizer(caller, bookingId, manageToken));
  }

  /** Confirms the hold a `manage` magic link is for (a waitlist offer's mail): the link is the proof. */
  async confirmWithLink(token: string, caller: Caller): Promise<Booking> {
    const link = await findMagicLink(this.db.sql, token, ['manage'], this.now());
    return this.confirmAs(link.bookingId, caller, () => {});
  }

  private async confirmAs(bookingId: string, caller: Caller, authorize: Authorize): Promise<Booking> {
    const outcome = await this.run((tx, c) => confirmInTx(tx, bookingId, c), authorize, caller);
    // A hold always has a slot, so changes are empty exactly when this call changed nothing (a repeat).
    if (outcome.changes.length) this.recordConfirm(outcome);
    if (outcome.expired) throw new HoldExpiredError(outcome.booking.id, outcome.expiredAt);
    return outcome.booking;
  }

  async cancel(bookingId: string, manageToken: string | null | undefined, caller: Caller): Promise<Booking> {
    return this.cancelAs(bookingId, caller, this.authorizer(caller, bookingId, manageToken));
  }

  /**
   * Cancels the booking a `manage` magic link (from a mail) is for: the link is the proof, as a
   * manage token is. MagicLinkError when the link is unknown or expired.
   */
  async cancelWithLink(token: string, caller: Caller): Promise<Booking> {
    const link = await findMagicLink(this.db.sql, token, ['manage'], this.now());
    return this.cancelAs(link.bookingId, caller, () => {});
  }

  private async cancelAs(bookingId: string, caller: Caller, authorize: Authorize): Promise<Booking> {
    const now = this.now();
    const { booking } = await this.run((tx, c) => cancelInTx(tx, bookingId, c), authorize, caller, now);
    // Cancelling twice changes nothing; only the call that cancelled has its own time on the row.
    if (booking.cancelledAt?.getTime() === now.getTime()) {
      this.metrics.recordBooking('cancelled');
      const key = booking.resourceId ?? booking.locationId;
      const policy = key ? (await loadPolicies(this.db.sql, booking.resourceId ? [key] : [], booking.resourceId ? [] : [key])).get(key) : undefined;
      if (policy && readsBookings(policy.policy)) await this.publishPolicyNeighbours([key!], booking);
    }
    return booking;
  }

  private recordConfirm(outcome: ConfirmOutcome) {
    if (outcome.expired) return this.metrics.recordBooking('expired');
    this.metrics.recordBooking('confirmed');
    this.metrics.recordHoldToConfirm((outcome.booking.confirmedAt!.getTime() - outcome.booking.createdAt.getTime()) / 1000);
  }

  async reschedule(bookingId: string, manageToken: string | null | undefined, target: RescheduleTarget, caller: Caller): Promise<Booking> {
    const now = this.now();
    if ('range' in target) validateRange(target.range, now, ['input', 'range']);
    try {
      return (await this.run((tx, c) => rescheduleInTx(tx, bookingId, target, c), this.authorizer(caller, bookingId, manageToken), caller, now))
        .booking;
    } catch (error) {
      const duplicate = duplicateBookingField(error);
      if (duplicate && 'slotId' in target) throw new DuplicateBookingError([target.slotId], ['input', 'slotId']);
      // The move's own transaction read where it overlapped: the conflict is answered from that.
      if (error instanceof OverlapError) throw await conflictError(this.db.sql, error.resourceId, error.range, now, bookingId);
      throw error;
    }
  }

  /**
   * Buffers and limits: after a committed booking change, the resource's other slots around it are
   * touched and published, so live subscribers re-judge them (see touchNeighbourSlots). Best effort:
   * the booking stands whatever happens here.
   */
  private async publishPolicyNeighbours(keys: string[], around: { startAt: Date; endAt: Date }): Promise<void> {
    if (!keys.length) return;
    try {
      await this.slotEvents.publish(await touchNeighbourSlots(this.db.sql, keys, { start: around.startAt, end: around.endAt }));
    } catch {
      // A failure here only delays live updates of neighbouring slots until their next change.
    }
  }

  /**
   * Changes title, notes, internal notes (staff only) or party size: staff, the customer, the
   * manage token or the host, as for cancel. Audited; slot counts published after commit when the
   * party changed; the parties mailed (calendar SEQUENCE + 1) when what they see changed.
   */
  async updateDetails(bookingId: string, manageToken: string | null | undefined, input: DetailsInput, caller: Caller): Promise<Booking> {
    const patch = this.details(input, caller);
    return (await this.run((tx, c) => updateDetailsInTx(tx, bookingId, patch, c), this.authorizer(caller, bookingId, manageToken), caller)).booking;
  }

  /** Validates details; internal notes are for staff who manage bookings. */
  private details(input: DetailsInput, caller: Caller): BookingDetails {
    const details = parseInput(bookingDetailsSchema, input, ['input']);
    if (details.internalNotes !== undefined && !hasAnyRole(caller.actor, BOOKING_MANAGER_ROLES)) {
      throw ValidationError.field(['input', 'internalNotes'], 'only staff may write internal notes');
    }
    return details;
  }

  /** The sweeper's run: expired holds released (safe on many instances), freed places published. */
  async releaseExpiredHolds(): Promise<SlotChange[]> {
    const { changes, freed } = await this.transaction((tx) => releaseExpiredHoldsIn(tx, { now: this.now() }));
    await this.slotEvents.publish(changes);
    this.metrics.recordBooking(
      'expired',
      [...freed.values()].reduce((sum, n) => sum + n, 0),
    );
    return changes;
  }

  private async bookSlot(
    slotId: string,
    customer: CustomerInput | null | undefined,
    caller: Caller,
    status: 'HELD' | 'CONFIRMED',
    details: BookingDetails,
    override: PolicyOverride | null,
  ): Promise<BookingReceipt> {
    const now = this.now();
    const who = await this.customerFor(customer, caller.actor);
    const actor = this.auditActor(caller);
    try {
      const result = await this.transaction((tx) =>
        bookSlotsInTransaction(tx, {
          slotIds: [slotId],
          customer: who.customer,
          userId: who.userId,
          actorLabel: actor.actorLabel,
          actorId: actor.actorId,
          requestId: caller.requestId,
          status,
          now,
          holdTtlMinutes: this.config.HOLD_TTL_MINUTES,
          mail: this.mail,
          details,
          override,
        }),
      );
      await this.slotEvents.publish(result.changes);
      this.metrics.recordBooking(status === 'HELD' ? 'held' : 'confirmed');
      await this.publishPolicyNeighbours(result.policyKeys, result.bookings[0]!);
      return { booking: result.bookings[0]!, manageToken: result.manageTokens[0]! };
    } catch (error) {
      const duplicate = duplicateBookingField(error);
      if (duplicate) throw new DuplicateBookingError([slotId], ['input', 'customer', duplicate]);
      if (error instanceof SlotsUnavailableError) {
        const single = singleSlotError(error.unavailable[0]!);
        if (single instanceof SlotFullError) this.metrics.recordBooking('full');
        if (single) throw single;
      }
      // A conflict is answered from the slot's resource and time as the transaction read them.
      const taken =
        error instanceof SlotsUnavailableError
          ? error.conflicts.get(slotId)
          : error instanceof OverlapError
            ? { resourceId: error.resourceId, ...error.range }
            : undefined;
      if (!taken) throw error;
      this.metrics.recordBooking('conflict');
      throw await conflictError(this.db.sql, taken.resourceId, taken, now);
    }
  }

  /**
   * Who may change a booking: staff, its customer, the manage token, or its host (the signed-in
   * user whose email is the booked PERSON's). Unknown and not-yours look the same, so a manage
   * token cannot be used to probe ids.
   */
  private authorizer(caller: Caller, bookingId: string, manageToken: string | null | undefined): Authorize {
    return async (booking, tx) => {
      if (canManage(caller.actor, booking, manageToken)) return;
      if (caller.actor && booking.resourceId) {
        const host = await hostEmail(tx, booking.resourceId);
        if (host?.toLowerCase() === caller.actor.email.toLowerCase()) return;
      }
      throw new NotFoundError('Booking', bookingId);
    };
  }

  /** The context the booking engine's transaction steps (confirmInTx, cancelInTx, rescheduleInTx, updateDetailsInTx) need. */
  private txContext(caller: Caller, authorize: Authorize, now = this.now()): TxContext {
    return { now, actor: this.auditActor(caller), authorize, mail: this.mail };
  }

  /** Runs a change to one existing booking: retried on transient errors, published after commit. */
  private async run<T extends { changes: SlotChange[] }>(
    fn: (tx: SqlQuery, c: TxContext) => Promise<T>,
    authorize: Authorize,
    caller: Caller,
    now = this.now(),
  ): Promise<T> {
    const c = this.txContext(caller, authorize, now);
    const result = await this.transaction((tx) => fn(tx, c));
    await this.slotEvents.publish(result.changes);
    return result;
  }

  /**
   * Every booking transaction (hold, book, confirm, cancel, reschedule, update, expiry): plain SQL
   * on one connection, retried on transient errors, giving up on a row lock after lockTimeoutMs.
   */
  private transaction<T>(fn: (tx: SqlQuery) => Promise<T>): Promise<T> {
    return bookingTransaction(this.db.sql, fn, this.lockTimeoutMs);
  }

  private auditActor(caller: Caller): AuditActor {
    return { actorId: caller.actor?.userId ?? null, actorLabel: actorLabel(caller.actor), requestId: caller.requestId ?? null };
  }

  /**
   * The customer is whoever the input names; a signed-in caller may leave it out and book as
   * themselves. The booking is linked to the account only when it is the caller's own.
   */
  private async customerFor(input: CustomerInput | null | undefined, actor: Actor | null): Promise<{ customer: Customer; userId: string | null }> {
    if (!input) {
      if (!actor) throw ValidationError.field(['input', 'customer'], 'is required when not signed in');
      const name = (await userName(this.db.sql, actor.userId))?.trim() || actor.email.split('@')[0]!;
      return { customer: { name, email: actor.email, phone: null }, userId: actor.userId };
    }
    const customer = parseInput(customerSchema, input, ['input', 'customer']);
    const own = actor !== null && customer.email.toLowerCase() === actor.email.toLowerCase();
    return { customer, userId: own ? actor.userId : null };
  }
}

/** One slot asked for: its failure as the specific typed error (null: a conflict, answered with alternatives). */
function singleSlotError({ slotId, reason, remaining }: UnavailableSlot) {
  switch (reason) {
    case 'NOT_FOUND':
      return new NotFoundError('Slot', slotId);
    case 'FULL':
      return new SlotFullError(slotId, remaining);
    case 'CONFLICT':
      return null;
    default:
      return new SlotUnavailableError(slotId, reason);
  }
}
