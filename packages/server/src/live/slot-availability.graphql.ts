import { errorTypeMap, wrapErrorIfMatches } from '@pothos/plugin-errors';
import { builder } from '../builder.js';
import { NotFoundError, ValidationError } from '../shared/errors.js';
import { TIME_ZONE_ARG, scopeIds } from '../scheduling/availability.graphql.js';
import { WINDOW_CAP_DAYS } from '../shared/validation.js';
import { viewerOf, type Viewer } from '../shared/viewer.js';
import { SlotRef } from '../scheduling/slots.graphql.js';
import { SLOT_CHANGE_REASONS } from '../events/slot-events.js';
import type { SlotAvailabilityEvent, SlotAvailabilityMessage } from './slot-availability.service.js';
import { connectionCutter } from './transport.js';
import { STAFF_ROLES, hasAnyRole } from '../shared/actor.js';

const EventKindEnum = builder.enumType('SlotAvailabilityEventKind', {
  values: {
    SNAPSHOT: { description: 'The first event: every slot in the window now (cancelled ones left out).' },
    CHANGE: { description: 'Slots that changed since, each at its newest version.' },
    REMOVED: {
      description:
        'Slots a booking policy now refuses (minimum notice reached as time passed, a buffer, a daily limit): drop them. ' +
        '`reason` is the change that caused it, or null when time alone did.',
    },
  } as const,
});

const ReasonEnum = builder.enumType('SlotChangeReason', { values: SLOT_CHANGE_REASONS });

const SlotAvailabilityEventRef = builder.objectRef<SlotAvailabilityEvent>('SlotAvailabilityEvent').implement({
  description: 'One live availability event. Keep per slot the highest `version` seen and ignore a slot whose version is not higher.',
  fields: (t) => ({
    kind: t.field({ type: EventKindEnum, resolve: (e) => e.kind }),
    reason: t.field({ type: ReasonEnum, nullable: true, description: 'Why the slots changed; null for SNAPSHOT.', resolve: (e) => e.reason }),
    slots: t.field({ type: [SlotRef], resolve: (e) => e.slots }),
    timeZone: t.exposeString('timeZone', { description: "The zone local times are given in: the asked timeZone, else the scope's." }),
    from: t.expose('from', { type: 'DateTime' }),
    to: t.expose('to', { type: 'DateTime' }),
  }),
});

const SlotAvailabilityResult = builder.unionType('SlotAvailabilityResult', {
  types: [SlotAvailabilityEventRef, ValidationError, NotFoundError],
  // Errors arrive wrapped by Pothos (graphql-js would throw a returned Error), tagged with their type.
  resolveType: (value) => {
    const errorType = errorTypeMap.get(value as object);
    return errorType === ValidationError ? 'ValidationError' : errorType === NotFoundError ? 'NotFoundError' : 'SlotAvailabilityEvent';
  },
});

builder.subscriptionField('slotAvailability', (t) =>
  t.field({
    type: SlotAvailabilityResult,
    description:
      'Live slots of a resource, location or form: first a SNAPSHOT of the window, then a CHANGE event per committed change. ' +
      `Window: from defaults to the start of the current minute, to to from + 14 days, at most ${WINDOW_CAP_DAYS.availability} days. Bad arguments: one ValidationError or NotFoundError, then the end.`,
    authScopes: { public: true },
    args: {
      resourceId: t.arg.id({ description: 'Give exactly one of resourceId, locationId, formId.' }),
      locationId: t.arg.id(),
      formId: t.arg.id(),
      from: t.arg({ type: 'DateTime' }),
      to: t.arg({ type: 'DateTime' }),
      timeZone: t.arg.string({ description: TIME_ZONE_ARG }),
    },
    subscribe: (_root, args, ctx) => {
      let ids: ReturnType<typeof scopeIds>;
      let viewer: Viewer;
      try {
        ids = scopeIds(args);
        viewer = viewerOf(args, hasAnyRole(ctx.actor, STAFF_ROLES));
      } catch (err) {
        return single(err as ValidationError);
      }
      return ctx.services.slotAvailability.subscribe(ids, { from: args.from, to: args.to }, connectionCutter(ctx), viewer);
    },
    resolve: (message: SlotAvailabilityMessage) => wrapErrorIfMatches(message, [ValidationError, NotFoundError]) as SlotAvailabilityMessage,
  }),
);

async function* single(message: SlotAvailabilityMessage) {
  yield message;
}
