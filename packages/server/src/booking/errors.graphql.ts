import { builder } from '../builder.js';
import { TryAgainError } from '../db/retry.js';
import { ErrorInterface } from '../shared/shared.graphql.js';
import { BookingStatusEnum } from './enums.graphql.js';
import {
  BookingConflictError,
  BookingNotActiveError,
  DuplicateBookingError,
  HoldExpiredError,
  SlotFullError,
  SlotsUnavailableError,
  SlotUnavailableError,
  type TimeRange,
  type UnavailableSlot,
} from './errors.js';

export const SlotUnavailableReasonEnum = builder.enumType('SlotUnavailableReason', {
  values: ['NOT_FOUND', 'PAST', 'BLOCKED', 'CANCELLED', 'FULL', 'CONFLICT', 'WRONG_RESOURCE'] as const,
});

export const TimeRangeRef = builder.objectRef<TimeRange>('TimeRange').implement({
  fields: (t) => ({
    startAt: t.expose('startAt', { type: 'DateTime' }),
    endAt: t.expose('endAt', { type: 'DateTime' }),
    durationMinutes: t.int({ resolve: (r) => Math.round((r.endAt.getTime() - r.startAt.getTime()) / 60_000) }),
  }),
});

builder.objectType(SlotFullError, {
  name: 'SlotFullError',
  interfaces: [ErrorInterface],
  isTypeOf: (value) => value instanceof SlotFullError,
  fields: (t) => ({
    slotId: t.globalID({ resolve: (e) => ({ type: 'Slot', id: e.slotId }) }),
    remaining: t.exposeInt('remaining'),
  }),
});

builder.objectType(SlotUnavailableError, {
  name: 'SlotUnavailableError',
  interfaces: [ErrorInterface],
  isTypeOf: (value) => value instanceof SlotUnavailableError,
  fields: (t) => ({
    slotId: t.globalID({ resolve: (e) => ({ type: 'Slot', id: e.slotId }) }),
    reason: t.field({ type: SlotUnavailableReasonEnum, resolve: (e) => e.reason }),
  }),
});

builder.objectType(HoldExpiredError, {
  name: 'HoldExpiredError',
  interfaces: [ErrorInterface],
  isTypeOf: (value) => value instanceof HoldExpiredError,
  fields: (t) => ({
    bookingId: t.globalID({ resolve: (e) => ({ type: 'Booking', id: e.bookingId }) }),
    expiredAt: t.expose('expiredAt', { type: 'DateTime' }),
  }),
});

builder.objectType(BookingConflictError, {
  name: 'BookingConflictError',
  description: 'The time is taken. Shows the taken range (never whose booking it is) and free ranges of the same length nearby.',
  interfaces: [ErrorInterface],
  isTypeOf: (value) => value instanceof BookingConflictError,
  fields: (t) => ({
    conflict: t.field({ type: TimeRangeRef, resolve: (e) => e.conflict }),
    alternatives: t.field({
      type: [TimeRangeRef],
      description: 'Up to 5 free ranges of the requested length on the same resource, nearest to the requested start first.',
      resolve: (e) => e.alternatives,
    }),
  }),
});

const UnavailableSlotRef = builder.objectRef<UnavailableSlot>('UnavailableSlot').implement({
  fields: (t) => ({
    slotId: t.globalID({ resolve: (u) => ({ type: 'Slot', id: u.slotId }) }),
    reason: t.field({ type: SlotUnavailableReasonEnum, resolve: (u) => u.reason }),
  }),
});

builder.objectType(SlotsUnavailableError, {
  name: 'SlotsUnavailableError',
  description: 'Nothing was booked: every listed slot stood in the way.',
  interfaces: [ErrorInterface],
  isTypeOf: (value) => value instanceof SlotsUnavailableError,
  fields: (t) => ({
    unavailable: t.field({ type: [UnavailableSlotRef], resolve: (e) => e.unavailable }),
  }),
});

builder.objectType(TryAgainError, {
  name: 'TryAgainError',
  description: 'The database was too busy to finish; nothing changed. Send the same request again.',
  interfaces: [ErrorInterface],
  isTypeOf: (value) => value instanceof TryAgainError,
  fields: () => ({}),
});

builder.objectType(BookingNotActiveError, {
  name: 'BookingNotActiveError',
  description: 'The booking is cancelled or expired; it cannot be confirmed or moved.',
  interfaces: [ErrorInterface],
  isTypeOf: (value) => value instanceof BookingNotActiveError,
  fields: (t) => ({
    bookingId: t.globalID({ resolve: (e) => ({ type: 'Booking', id: e.bookingId }) }),
    status: t.field({ type: BookingStatusEnum, resolve: (e) => e.status }),
  }),
});

builder.objectType(DuplicateBookingError, {
  name: 'DuplicateBookingError',
  description:
    'This customer (same email or same phone) already holds or has booked the slot: one live booking per slot per customer. Nothing was written.',
  interfaces: [ErrorInterface],
  isTypeOf: (value) => value instanceof DuplicateBookingError,
  fields: (t) => ({
    slotIds: t.globalIDList({ description: 'The slots the customer already has.', resolve: (e) => e.slotIds.map((id) => ({ type: 'Slot', id })) }),
    field: t.exposeStringList('field', { description: 'The input that matched an existing booking, e.g. ["input", "customer", "email"].' }),
  }),
});
