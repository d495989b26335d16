import { builder } from '../builder.js';
import type { Context } from '../context.js';
import { TryAgainError } from '../db/retry.js';
import { ValidationError } from '../shared/errors.js';
import { parseGlobalId } from '../shared/ids.js';
import { grantBookingAccess } from './access.js';
import { BookingReceiptRef } from './booking.graphql.js';
import type { BookingReceipt, Caller } from './booking.service.js';
import { FormNotOpenError, FormRegistrationRequiredError } from '../forms/forms.errors.js';
import {
  BookingConflictError,
  BookingNotActiveError,
  DuplicateBookingError,
  HoldExpiredError,
  SlotFullError,
  SlotUnavailableError,
} from './errors.js';
import { BookingPolicyError } from '../policies/enforce.js';
import { PolicyOverrideInput } from '../policies/policies.graphql.js';

export const CustomerInput = builder.inputType('CustomerInput', {
  fields: (t) => ({
    name: t.string({ required: true }),
    email: t.string({ required: true }),
    phone: t.string(),
    timeZone: t.string({ description: "IANA zone the customer reads times in (their mails); the location's when left out." }),
  }),
});

/** The details a new booking may carry (hold, book) and updateBooking changes. */
type Types = typeof builder extends PothosSchemaTypes.SchemaBuilder<infer T> ? T : never;
const detailFields = (t: PothosSchemaTypes.InputFieldBuilder<Types, 'InputObject'>) => ({
  title: t.string({ description: 'What the booking is for, at most 200 characters; shown to the parties and in their calendars.' }),
  notes: t.string({ description: "The customer's notes (at most 2000 characters): seen by them and staff, shown in their mails." }),
  internalNotes: t.string({ description: 'Staff-only notes (at most 5000 characters); never shown to the customer. Staff only.' }),
  partySize: t.int({ description: 'Places of the slot this booking takes (default 1); exclusive resources and ranges take 1.' }),
});

const HoldInput = builder.inputType('HoldInput', {
  fields: (t) => ({
    slotId: t.id({ required: true }),
    customer: t.field({ type: CustomerInput, description: 'Who the place is for; leave out to book as the signed-in user.' }),
    override: t.field({ type: PolicyOverrideInput, description: 'Staff only: hold although a booking policy refuses the time (audited).' }),
    ...detailFields(t),
  }),
});

const BookRangeInput = builder.inputType('BookRangeInput', {
  description: 'A free range on an exclusive resource: 15-minute boundaries, at most 8 hours.',
  fields: (t) => ({
    resourceId: t.id({ required: true }),
    startAt: t.field({ type: 'DateTime', required: true }),
    endAt: t.field({ type: 'DateTime', required: true }),
  }),
});

const BookInput = builder.inputType('BookInput', {
  description: 'Exactly one of slotId or range.',
  fields: (t) => ({
    slotId: t.id(),
    range: t.field({ type: BookRangeInput }),
    customer: t.field({ type: CustomerInput, description: 'Who the booking is for; leave out to book as the signed-in user.' }),
    override: t.field({ type: PolicyOverrideInput, description: 'Staff only: book although a booking policy refuses the time (audited).' }),
    ...detailFields(t),
  }),
});

const UpdateBookingInput = builder.inputType('UpdateBookingInput', {
  description: 'Fields left out stay as they are; an empty string (or null) clears a text.',
  fields: (t) => ({
    bookingId: t.id({ required: true }),
    manageToken: t.string({ description: 'The token from the hold/book receipt; not needed by staff or the signed-in customer.' }),
    ...detailFields(t),
  }),
});

const ManageBookingInput = builder.inputType('ManageBookingInput', {
  fields: (t) => ({
    bookingId: t.id({ required: true }),
    manageToken: t.string({ description: 'The token from the hold/book receipt; not needed by staff or the signed-in customer.' }),
  }),
});

const RescheduleRangeInput = builder.inputType('RescheduleRangeInput', {
  fields: (t) => ({
    startAt: t.field({ type: 'DateTime', required: true }),
    endAt: t.field({ type: 'DateTime', required: true }),
  }),
});

const RescheduleBookingInput = builder.inputType('RescheduleBookingInput', {
  description: 'Exactly one of slotId (a slot booking, same resource) or range (a range booking, same resource).',
  fields: (t) => ({
    bookingId: t.id({ required: true }),
    manageToken: t.string(),
    slotId: t.id(),
    range: t.field({ type: RescheduleRangeInput }),
  }),
});

const caller = (ctx: Context): Caller => ({ actor: ctx.actor, requestId: ctx.requestId });
const bookingId = (id: string | number) => parseGlobalId(String(id), 'Booking', ['input', 'bookingId']);
const slotId = (id: string | number) => parseGlobalId(String(id), 'Slot', ['input', 'slotId']);

/** The request that made or proved a booking may read it (and its customer) in the response. */
function granted<T extends { id: string }>(ctx: Context, booking: T): T {
  grantBookingAccess(ctx, booking.id);
  return booking;
}
const receipt = (ctx: Context, r: BookingReceipt) => (granted(ctx, r.booking), r);

function exactlyOne(input: { slotId?: unknown; range?: unknown }) {
  if ((input.slotId == null) === (input.range == null)) {
    throw new ValidationError([
      { path: ['input', 'slotId'], message: 'give exactly one of slotId or range' },
      { path: ['input', 'range'], message: 'give exactly one of slotId or range' },
    ]);
  }
}

/** What taking a place can answer instead of a receipt (hold and book alike). */
const PLACE_ERRORS = [
  SlotFullError,
  SlotUnavailableError,
  BookingConflictError,
  DuplicateBookingError,
  BookingPolicyError,
  FormRegistrationRequiredError,
  TryAgainError,
];

builder.mutationField('hold', (t) =>
  t.field({
    type: BookingReceiptRef,
    description: 'Keeps a place on a slot for a few minutes (HOLD_TTL_MINUTES); confirm it before it expires.',
    authScopes: { public: true },
    errors: { types: PLACE_ERRORS },
    args: { input: t.arg({ type: HoldInput, required: true }) },
    resolve: async (_root, { input }, ctx) =>
      receipt(ctx, await ctx.services.bookings.hold(slotId(input.slotId), input.customer, caller(ctx), input, input.override)),
  }),
);

builder.mutationField('book', (t) =>
  t.field({
    type: BookingReceiptRef,
    description: 'Books a slot or a free range at once (hold + confirm).',
    authScopes: { public: true },
    errors: { types: PLACE_ERRORS },
    args: { input: t.arg({ type: BookInput, required: true }) },
    resolve: async (_root, { input }, ctx) => {
      exactlyOne(input);
      const target =
        input.slotId != null
          ? { slotId: slotId(input.slotId) }
          : {
              range: {
                resourceId: parseGlobalId(String(input.range!.resourceId), 'Resource', ['input', 'range', 'resourceId']),
                startAt: input.range!.startAt,
                endAt: input.range!.endAt,
              },
            };
      return receipt(ctx, await ctx.services.bookings.book(target, input.customer, caller(ctx), input, input.override));
    },
  }),
);

builder.mutationField('confirm', (t) =>
  t.prismaField({
    type: 'Booking',
    description: 'Turns a live hold into a booking. Staff, the signed-in customer, or the manage token.',
    authScopes: { public: true },
    errors: { types: [HoldExpiredError, BookingNotActiveError, FormNotOpenError, TryAgainError] },
    args: { input: t.arg({ type: ManageBookingInput, required: true }) },
    resolve: async (_query, _root, { input }, ctx) =>
      granted(ctx, await ctx.services.bookings.confirm(bookingId(input.bookingId), input.manageToken, caller(ctx))),
  }),
);

builder.mutationField('cancelBooking', (t) =>
  t.prismaField({
    type: 'Booking',
    description: 'Cancels a booking and frees its place. Admin, manager, frontdesk, the signed-in customer, or the manage token.',
    authScopes: { public: true },
    errors: { types: [BookingNotActiveError, TryAgainError] },
    args: { input: t.arg({ type: ManageBookingInput, required: true }) },
    resolve: async (_query, _root, { input }, ctx) =>
      granted(ctx, await ctx.services.bookings.cancel(bookingId(input.bookingId), input.manageToken, caller(ctx))),
  }),
);

builder.mutationField('rescheduleBooking', (t) =>
  t.prismaField({
    type: 'Booking',
    description: 'Moves a booking to another slot or range in one step; the calendar SEQUENCE goes up.',
    authScopes: { public: true },
    errors: {
      types: [
        SlotFullError,
        SlotUnavailableError,
        BookingConflictError,
        DuplicateBookingError,
        BookingPolicyError,
        HoldExpiredError,
        BookingNotActiveError,
        FormRegistrationRequiredError,
        FormNotOpenError,
        TryAgainError,
      ],
    },
    args: { input: t.arg({ type: RescheduleBookingInput, required: true }) },
    resolve: async (_query, _root, { input }, ctx) => {
      exactlyOne(input);
      const target =
        input.slotId != null ? { slotId: slotId(input.slotId) } : { range: { startAt: input.range!.startAt, endAt: input.range!.endAt } };
      return granted(ctx, await ctx.services.bookings.reschedule(bookingId(input.bookingId), input.manageToken, target, caller(ctx)));
    },
  }),
);

builder.mutationField('updateBooking', (t) =>
  t.prismaField({
    type: 'Booking',
    description:
      'Changes title, notes, internal notes (staff) or party size. Staff, the signed-in customer, or the manage token. ' +
      'Audited; a new party size must fit the slot; the parties are mailed an update when what they see changed.',
    authScopes: { public: true },
    errors: { types: [SlotFullError, BookingNotActiveError, TryAgainError] },
    args: { input: t.arg({ type: UpdateBookingInput, required: true }) },
    resolve: async (_query, _root, { input }, ctx) =>
      granted(ctx, await ctx.services.bookings.updateDetails(bookingId(input.bookingId), input.manageToken, input, caller(ctx))),
  }),
);
