import { builder, connectionNames, nodeVisibility } from '../builder.js';
import type { Booking } from '../generated/prisma/client.js';
import type { BookingStatus } from '../generated/prisma/enums.js';
import { hasAnyRole, STAFF_ROLES } from '../shared/actor.js';
import { openNotes } from './details.js';
import { parseGlobalId } from '../shared/ids.js';
import { selectedFieldNames } from '../shared/selection.js';
import { canSeeBooking } from './access.js';
import { findVisibleBooking, myBookings, staffBookingsWhere } from './booking-queries.js';
import type { BookingReceipt } from './booking.service.js';
import { decryptCustomer, type CustomerView } from './customer.js';
import { BookingKindEnum, BookingStatusEnum } from './enums.graphql.js';
import { TIME_ZONE_ARG } from '../scheduling/availability.graphql.js';
import { viewerTimeZone } from '../shared/viewer.js';
import { mustExist } from '../db/exists.js';

const CustomerRef = builder.objectRef<CustomerView>('Customer').implement({
  description: 'Who booked. Only staff, the customer themselves, or the holder of the manage token see it.',
  fields: (t) => ({
    name: t.exposeString('name'),
    email: t.exposeString('email'),
    phone: t.exposeString('phone', { nullable: true }),
  }),
});

nodeVisibility.set('Booking', (booking, ctx) => canSeeBooking(ctx, ctx.actor, booking));

/** The bookings a read answered in a viewer's zone, and that zone. */
const viewerZones = new WeakMap<object, string>();

/** A booking as read in the viewer's zone: its slot's local dates and times in that zone (unchanged without one). */
function inViewerZone<B extends object>(booking: B, zone: string | null): B {
  if (!zone) return booking;
  // The slot is there when the plan loaded it with the booking; else Booking.slot reads it.
  const slot = (booking as { slot?: { timeZone: string } | null }).slot;
  const read = slot ? { ...booking, slot: { ...slot, timeZone: zone } } : { ...booking };
  viewerZones.set(read, zone);
  return read;
}

/** A booking. Visible to staff, its own customer, and a request that showed its manage token. */
export const BookingRef = builder.prismaNode('Booking', {
  id: { field: 'id' },
  authScopes: (booking, ctx) => canSeeBooking(ctx, ctx.actor, booking),
  fields: (t) => ({
    kind: t.expose('kind', { type: BookingKindEnum }),
    status: t.expose('status', { type: BookingStatusEnum }),
    startAt: t.expose('startAt', { type: 'DateTime' }),
    endAt: t.expose('endAt', { type: 'DateTime' }),
    slot: t.relation('slot', {
      nullable: true,
      // Only when the booking came without its slot (a list the plan did not reach): read it here, in the viewer's zone.
      resolve: async (query, booking, _args, ctx) => {
        if (!booking.slotId) return null;
        const slot = await ctx.db.prisma.slot.findUnique({ ...query, where: { id: booking.slotId } });
        const zone = viewerZones.get(booking);
        return slot && zone ? { ...slot, timeZone: zone } : slot;
      },
    }),
    resource: t.relation('resource', { nullable: true }),
    location: t.relation('location', { nullable: true }),
    holdExpiresAt: t.expose('holdExpiresAt', {
      type: 'DateTime',
      nullable: true,
      description: 'While HELD: when the place is given back unless confirmed.',
    }),
    icsUid: t.exposeString('icsUid', { description: 'UID of the calendar event; stays the same across reschedules.' }),
    icsSequence: t.exposeInt('icsSequence', { description: 'SEQUENCE of the calendar event; goes up on every reschedule and on cancel.' }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    confirmedAt: t.expose('confirmedAt', { type: 'DateTime', nullable: true }),
    cancelledAt: t.expose('cancelledAt', { type: 'DateTime', nullable: true }),
    title: t.exposeString('title', { nullable: true }),
    partySize: t.exposeInt('partySize', { description: 'Places of the slot this booking takes.' }),
    notes: t.string({
      nullable: true,
      description: "The customer's notes: seen by them and staff.",
      resolve: (booking, _args, ctx) => (canSeeBooking(ctx, ctx.actor, booking) ? openNotes(booking.notes) : null),
    }),
    internalNotes: t.string({
      nullable: true,
      description: 'Staff-only notes; null for everyone else.',
      resolve: (booking, _args, ctx) => (hasAnyRole(ctx.actor, STAFF_ROLES) ? openNotes(booking.internalNotes) : null),
    }),
    customer: t.field({
      type: CustomerRef,
      nullable: true,
      resolve: (booking, _args, ctx) => (canSeeBooking(ctx, ctx.actor, booking) ? decryptCustomer(booking) : null),
    }),
  }),
});

export const BookingReceiptRef = builder.objectRef<BookingReceipt>('BookingReceipt').implement({
  description: 'A new booking and its manage token. The token is shown only here: keep it to confirm, cancel or reschedule.',
  fields: (t) => ({
    booking: t.field({ type: BookingRef, resolve: (r) => r.booking }),
    manageToken: t.exposeString('manageToken'),
  }),
});

builder.queryField('booking', (t) =>
  t.prismaField({
    type: 'Booking',
    description: 'One booking: for staff, its own customer, or with its manage token.',
    authScopes: { public: true },
    errors: {},
    args: { id: t.arg.id({ required: true }), manageToken: t.arg.string(), timeZone: t.arg.string({ description: TIME_ZONE_ARG }) },
    resolve: async (query, _root, args, ctx) => {
      const zone = viewerTimeZone(args.timeZone);
      const booking = await findVisibleBooking(
        ctx.db.prisma,
        query,
        parseGlobalId(String(args.id), 'Booking', ['id']),
        args.manageToken,
        ctx,
        ctx.actor,
      );
      return inViewerZone(booking, zone);
    },
  }),
);

/** The Booking fields a BookingSummary answers: status, times, the slot (by its id) and the resource and location (read by the booking's id). */
const SUMMARY_FIELDS = new Set(['__typename', 'id', 'status', 'startAt', 'endAt', 'slot', 'resource', 'location']);

builder.queryField('myBookings', (t) =>
  t.field({
    type: [BookingRef],
    description: "The signed-in user's bookings overlapping [from, to) (default: the next 90 days), by start.",
    authScopes: { authenticated: true },
    errors: {},
    args: { from: t.arg({ type: 'DateTime' }), to: t.arg({ type: 'DateTime' }), timeZone: t.arg.string({ description: TIME_ZONE_ARG }) },
    resolve: async (_root, args, ctx, info) => {
      const zone = viewerTimeZone(args.timeZone);
      const summaries = [...selectedFieldNames(info, ['data'])].every((name) => SUMMARY_FIELDS.has(name));
      // Summary rows hold every column the fields in SUMMARY_FIELDS read.
      const bookings = (await myBookings(ctx.db.sql, ctx.actor!, args.from, args.to, new Date(), summaries)) as Booking[];
      return bookings.map((b) => inViewerZone(b, zone));
    },
  }),
);

interface StaffBookingArgs {
  resourceId?: string | number | null;
  locationId?: string | number | null;
  status?: BookingStatus[] | null;
  from?: Date | null;
  to?: Date | null;
  customerEmail?: string | null;
}

const scopeOf = (args: StaffBookingArgs) => ({
  resourceId: args.resourceId ? parseGlobalId(String(args.resourceId), 'Resource', ['resourceId']) : null,
  locationId: args.locationId ? parseGlobalId(String(args.locationId), 'Location', ['locationId']) : null,
});
const staffWhere = (args: StaffBookingArgs) => staffBookingsWhere({ ...args, ...scopeOf(args) });

builder.queryField('bookings', (t) =>
  t.prismaConnection(
    {
      type: 'Booking',
      cursor: 'id',
      description: 'All bookings, newest first, for staff. Filters combine; customerEmail matches however it is capitalised.',
      authScopes: { roles: STAFF_ROLES },
      errors: {},
      args: {
        resourceId: t.arg.id(),
        locationId: t.arg.id(),
        status: t.arg({ type: [BookingStatusEnum] }),
        from: t.arg({ type: 'DateTime', description: 'Bookings ending after this instant' }),
        to: t.arg({ type: 'DateTime', description: 'Bookings starting before this instant' }),
        customerEmail: t.arg.string(),
        timeZone: t.arg.string({ description: TIME_ZONE_ARG }),
      },
      totalCount: (_root, args, ctx) => ctx.db.prisma.booking.count({ where: staffWhere(args) }),
      resolve: async (query, _root, args, ctx) => {
        const zone = viewerTimeZone(args.timeZone);
        const where = staffWhere(args);
        const { resourceId, locationId } = scopeOf(args);
        await mustExist(ctx.db.prisma, 'Resource', resourceId);
        await mustExist(ctx.db.prisma, 'Location', locationId);
        const bookings = await ctx.db.prisma.booking.findMany({ ...query, where, orderBy: { id: 'desc' } });
        return bookings.map((b) => inViewerZone(b, zone));
      },
    },
    ...connectionNames('Booking'),
  ),
);
