import { builder } from '../builder.js';
import { ResourceRef } from '../resources/resources.graphql.js';
import { toLocal } from '../shared/time.js';
import { WINDOW_CAP_DAYS } from '../shared/validation.js';
import { viewerOf } from '../shared/viewer.js';
import { TIME_ZONE_ARG, scopeIds } from './availability.graphql.js';
import type { ResourceAvailability, TimeRange } from './search.service.js';

const FreeRangeRef = builder.objectRef<TimeRange>('FreeRange').implement({
  description: 'A free time range on an exclusive resource.',
  fields: (t) => ({
    startAt: t.expose('startAt', { type: 'DateTime' }),
    endAt: t.expose('endAt', { type: 'DateTime' }),
    durationMinutes: t.int({ resolve: (r) => Math.round((r.endAt.getTime() - r.startAt.getTime()) / 60_000) }),
    timeZone: t.exposeString('timeZone', { description: "The zone local times are given in: the asked timeZone, else the resource's location's." }),
    localDate: t.field({ type: 'Date', resolve: (r) => toLocal(r.startAt, r.timeZone).date }),
    localStart: t.string({ description: 'HH:MM on the local wall clock', resolve: (r) => toLocal(r.startAt, r.timeZone).time }),
    localEnd: t.string({ description: 'HH:MM on the local wall clock', resolve: (r) => toLocal(r.endAt, r.timeZone).time }),
    localStartAt: t.string({ description: 'Start as ISO 8601 with the local offset', resolve: (r) => toLocal(r.startAt, r.timeZone).iso }),
  }),
});

const ResourceAvailabilityRef = builder.objectRef<ResourceAvailability>('ResourceAvailability').implement({
  fields: (t) => ({
    resource: t.field({ type: ResourceRef, resolve: (r) => r.resource }),
    ranges: t.field({ type: [FreeRangeRef], description: 'Every free range of the asked duration, on 15-minute steps.', resolve: (r) => r.ranges }),
    nextAvailable: t.field({
      type: FreeRangeRef,
      nullable: true,
      description: 'When the window has no range: the first one in the 31 days after it.',
      resolve: (r) => r.nextAvailable,
    }),
  }),
});

const AvailabilitySearchRef = builder.objectRef<{ durationMinutes: number; results: ResourceAvailability[] }>('AvailabilitySearch').implement({
  fields: (t) => ({
    durationMinutes: t.exposeInt('durationMinutes'),
    results: t.field({ type: [ResourceAvailabilityRef], description: 'One entry per exclusive resource, by name.', resolve: (s) => s.results }),
  }),
});

builder.queryField('searchAvailability', (t) =>
  t.field({
    type: AvailabilitySearchRef,
    description:
      'Free ranges of durationMinutes (a multiple of 15, 15-480) on exclusive resources within working hours, minus live ' +
      `bookings. Give resourceId or locationId; the window may span at most ${WINDOW_CAP_DAYS.search} days.`,
    authScopes: { public: true },
    errors: {},
    args: {
      resourceId: t.arg.id(),
      locationId: t.arg.id(),
      from: t.arg({ type: 'DateTime', required: true }),
      to: t.arg({ type: 'DateTime', required: true }),
      durationMinutes: t.arg.int({ required: true }),
      timeZone: t.arg.string({ description: TIME_ZONE_ARG }),
      skills: t.arg.stringList({ description: 'Only resources with every one of these skills.' }),
    },
    resolve: async (_root, args, ctx) => {
      const { resourceId, locationId } = scopeIds(args);
      const results = await ctx.services.search.searchAvailability(
        { resourceId, locationId },
        args.from,
        args.to,
        args.durationMinutes,
        viewerOf(args, false),
      );
      return { durationMinutes: args.durationMinutes, results };
    },
  }),
);
