import { builder } from '../builder.js';
import { READ_AFTER_HEADER } from '../db/read-replica.js';
import type { Slot } from '../generated/prisma/client.js';
import { parseGlobalId } from '../shared/ids.js';
import { STAFF_ROLES, hasAnyRole } from '../shared/actor.js';
import { WINDOW_CAP_DAYS } from '../shared/validation.js';
import { viewerOf } from '../shared/viewer.js';
import type { Context } from '../context.js';
import { encodeGlobalId } from '../sync-global-ids.js';
import type { AvailabilityDay, AvailabilityDays, AvailabilityResult, AvailableDate } from './availability.service.js';
import type { ExposureResult } from './exposure.service.js';
import { exposureVariant } from './exposure.js';
import { SlotRef } from './slots.graphql.js';
import { isKept } from './response-cache.js';

/** The viewer arguments every rendering read takes (see shared/viewer.ts). */
export const TIME_ZONE_ARG = "IANA zone to answer in (local dates and times); default: the location's (or form's) zone.";
export const SKILLS_ARG = 'Only slots of resources with every one of these skills (e.g. ["dermatology"]).';

/** One scope, an instant window [from, to), the viewer's zone and required skills. */
const SCOPE_WINDOW_ARGS = builder.args((t) => ({
  resourceId: t.id({ description: 'Give exactly one of resourceId, locationId, formId.' }),
  locationId: t.id(),
  formId: t.id(),
  from: t.field({ type: 'DateTime', required: true }),
  to: t.field({ type: 'DateTime', required: true }),
  timeZone: t.string({ description: TIME_ZONE_ARG }),
  skills: t.stringList({ description: SKILLS_ARG }),
}));

const viewer = (args: { timeZone?: string | null; skills?: string[] | null }, ctx: Context) => ({
  ...viewerOf(args, hasAnyRole(ctx.actor, STAFF_ROLES)),
  // The caller's last write (Slotwise-Read-After): a replica answers only once it has replayed it.
  readAfter: ctx.headers.get(READ_AFTER_HEADER),
  primary: isKept(ctx),
});

/** Decodes the scope arguments; each is a Relay ID of its own type. */
export function scopeIds(args: { resourceId?: string | number | null; locationId?: string | number | null; formId?: string | number | null }) {
  const decode = (value: string | number | null | undefined, type: string, field: string) =>
    value == null ? null : parseGlobalId(String(value), type, [field]);
  return {
    resourceId: decode(args.resourceId, 'Resource', 'resourceId'),
    locationId: decode(args.locationId, 'Location', 'locationId'),
    formId: decode(args.formId, 'Form', 'formId'),
  };
}

const AvailabilityRef = builder.objectRef<AvailabilityResult>('Availability').implement({
  description: 'The slots of a resource, location or form starting in a window (cancelled slots left out).',
  fields: (t) => ({
    timeZone: t.exposeString('timeZone', { description: "The zone local times are given in: the asked timeZone, else the scope's." }),
    from: t.expose('from', { type: 'DateTime' }),
    to: t.expose('to', { type: 'DateTime' }),
    // SlotRef is typed with every column of Prisma's Slot; a SlotView has all that it reads.
    slots: t.field({ type: [SlotRef], resolve: (a) => a.slots as Slot[] }),
  }),
});

const AvailabilityDayRef = builder.objectRef<AvailabilityDay>('AvailabilityDay').implement({
  description: "One resource's bookable slots starting on one local date, as parallel lists (the i-th of each is one slot).",
  fields: (t) => ({
    date: t.expose('date', { type: 'Date', description: "Local date in the answer's timeZone." }),
    resourceId: t.id({
      nullable: true,
      description: 'The Resource (null: slots of no resource).',
      resolve: (d) => (d.resourceId ? encodeGlobalId('Resource', d.resourceId) : null),
    }),
    slotIds: t.idList({
      description: 'Slot IDs (for hold and book); leave out for an overview.',
      resolve: (d) => d.slotIds.map((id) => encodeGlobalId('Slot', id)),
    }),
    starts: t.exposeIntList('starts', { description: 'Starts on the local wall clock, in minutes after midnight (540 = 09:00).' }),
    durations: t.exposeIntList('durations', { description: 'Lengths in minutes.' }),
    remaining: t.exposeIntList('remaining', { description: 'Places left.' }),
  }),
});

const AvailabilityDaysRef = builder.objectRef<AvailabilityDays>('AvailabilityDays').implement({
  description: 'The compact form of availability for big windows: bookable slots grouped per local date and resource.',
  fields: (t) => ({
    timeZone: t.exposeString('timeZone', { description: "The zone dates and starts are in: the asked timeZone, else the scope's." }),
    from: t.expose('from', { type: 'DateTime' }),
    to: t.expose('to', { type: 'DateTime' }),
    slotCount: t.exposeInt('slotCount'),
    days: t.field({ type: [AvailabilityDayRef], description: 'By date, then resource.', resolve: (d) => d.days }),
  }),
});

const AvailableDateRef = builder.objectRef<AvailableDate>('AvailableDate').implement({
  fields: (t) => ({
    date: t.expose('date', { type: 'Date', description: "Local date in the answer's timeZone." }),
    slotCount: t.exposeInt('slotCount', { description: 'Bookable slots starting that day.' }),
    remaining: t.exposeInt('remaining', { description: 'Places left over those slots.' }),
  }),
});

const AvailableDatesRef = builder.objectRef<{ timeZone: string; dates: AvailableDate[] }>('AvailableDates').implement({
  fields: (t) => ({
    timeZone: t.exposeString('timeZone'),
    dates: t.field({ type: [AvailableDateRef], resolve: (d) => d.dates }),
  }),
});

const ExposedSlotsRef = builder.objectRef<ExposureResult>('ExposedSlots').implement({
  description: "Seed 003's deterministic exposure: a few slots chosen for this caller, the same for 7 minutes.",
  fields: (t) => ({
    date: t.expose('date', { type: 'Date' }),
    timeZone: t.exposeString('timeZone'),
    slots: t.field({ type: [SlotRef], description: 'The exposed slots, in start order.', resolve: (e) => e.slots }),
    total: t.exposeInt('total', { description: 'All bookable slots of the day.' }),
    hasMore: t.exposeBoolean('hasMore', { description: 'More bookable slots exist than are shown.' }),
    k: t.exposeInt('k', { description: 'How many slots were chosen (1-3 for a person, 3-5 for a location, capped by total).' }),
    variant: t.exposeString('variant', { description: 'The algorithm that ran: control or no-fairness (X-Exposure-Variant).' }),
  }),
});

builder.queryField('availability', (t) =>
  t.field({
    type: AvailabilityRef,
    description: `Slots starting in [from, to) with remaining places and local times. Window: at most ${WINDOW_CAP_DAYS.availability} days, not all in the past.`,
    authScopes: { public: true },
    errors: {},
    args: SCOPE_WINDOW_ARGS,
    resolve: (_root, args, ctx) => ctx.services.availability.availability(scopeIds(args), args.from, args.to, viewer(args, ctx)),
  }),
);

builder.queryField('availabilityByDay', (t) =>
  t.field({
    type: AvailabilityDaysRef,
    description:
      'The bookable slots (places left, allowed by the booking policies, not yet started) starting in [from, to), grouped per local date ' +
      'and resource with times as minute offsets: a few bytes per slot, for month and quarter views. ' +
      `Window: at most ${WINDOW_CAP_DAYS.availability} days.`,
    authScopes: { public: true },
    errors: {},
    args: SCOPE_WINDOW_ARGS,
    resolve: (_root, args, ctx) => ctx.services.availability.availabilityByDay(scopeIds(args), args.from, args.to, viewer(args, ctx)),
  }),
);

builder.queryField('availableDates', (t) =>
  t.field({
    type: AvailableDatesRef,
    description: "Local dates (in timeZone, else the scope's zone; from and to inclusive) that have bookable slots, with counts.",
    authScopes: { public: true },
    errors: {},
    args: {
      resourceId: t.arg.id({ description: 'Give exactly one of resourceId, locationId, formId.' }),
      locationId: t.arg.id(),
      formId: t.arg.id(),
      from: t.arg({ type: 'Date', required: true }),
      to: t.arg({ type: 'Date', required: true }),
      timeZone: t.arg.string({ description: `${TIME_ZONE_ARG} from, to and the dates are local dates in it.` }),
      skills: t.arg.stringList({ description: SKILLS_ARG }),
    },
    resolve: (_root, args, ctx) => ctx.services.availability.availableDates(scopeIds(args), args.from, args.to, viewer(args, ctx)),
  }),
);

builder.queryField('exposedSlots', (t) =>
  t.field({
    type: ExposedSlotsRef,
    description:
      'A person (resourceId) or location (locationId) date, exposed as seed 003 says. Anonymous callers send a session id ' +
      '(argument or X-Session-Id header); X-Exposure-Variant picks the algorithm.',
    authScopes: { public: true },
    errors: {},
    args: {
      resourceId: t.arg.id({ description: 'Person-scoped: 1-3 slots.' }),
      locationId: t.arg.id({ description: 'Location-scoped: 3-5 slots.' }),
      date: t.arg({ type: 'Date', required: true, description: "Local date in timeZone (else the scope's zone)." }),
      sessionId: t.arg.string({ description: 'Overrides X-Session-Id; ignored for signed-in callers.' }),
      timeZone: t.arg.string({ description: TIME_ZONE_ARG }),
      skills: t.arg.stringList({ description: SKILLS_ARG }),
    },
    resolve: (_root, args, ctx) => {
      const session = args.sessionId ?? ctx.headers.get('x-session-id');
      const { resourceId, locationId } = scopeIds(args);
      const { timeZone, skills } = viewer(args, ctx);
      return ctx.services.exposure.exposedSlots({
        resourceId,
        locationId,
        timeZone,
        skills,
        date: args.date,
        subject: ctx.actor ? `user:${ctx.actor.userId}` : session ? `session:${session}` : null,
        variant: exposureVariant(ctx.headers.get('x-exposure-variant')),
      });
    },
  }),
);
