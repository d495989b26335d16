import { GraphQLError } from 'graphql';
import { builder } from '../builder.js';
import { slotsLoader } from './loaders.js';
import { SlotRef } from './slots.graphql.js';
import { viewerTimeZone } from '../shared/viewer.js';
import { TIME_ZONE_MESSAGE, instantWindowIssue } from '../shared/validation.js';
import { TIME_ZONE_ARG } from './availability.graphql.js';
import type { Slot } from '../generated/prisma/client.js';

/** Nested fields have no error union either: a bad zone is a plain input error too. */
function nestedZone(zone: string | null | undefined): string | null {
  try {
    return viewerTimeZone(zone);
  } catch {
    throw new GraphQLError(`timeZone ${TIME_ZONE_MESSAGE}`, { extensions: { code: 'BAD_USER_INPUT' } });
  }
}

/** The slots with their local fields in the viewer's zone (unchanged without one). */
export function slotsInZone(slots: Slot[], zone: string | null | undefined): Slot[] {
  const timeZone = nestedZone(zone);
  return timeZone ? slots.map((s) => ({ ...s, timeZone })) : slots;
}

/** Nested list fields cannot return a typed error union, so a bad window is a plain input error. */
function checkNestedWindow(from: Date, to: Date): void {
  const issue = instantWindowIssue(from, to, 'availability');
  if (issue) throw new GraphQLError(`to: ${issue}`, { extensions: { code: 'BAD_USER_INPUT' } });
}

builder.prismaObjectFields('Resource', (t) => ({
  slots: t.field({
    type: [SlotRef],
    description: "This resource's slots starting in [from, to), cancelled ones left out; batched across resources.",
    args: {
      from: t.arg({ type: 'DateTime', required: true }),
      to: t.arg({ type: 'DateTime', required: true }),
      timeZone: t.arg.string({ description: TIME_ZONE_ARG }),
    },
    resolve: async (resource, { from, to, timeZone }, ctx) => {
      checkNestedWindow(from, to);
      return slotsInZone(await slotsLoader(ctx, ctx.db.prisma, 'resourceId', from, to).load(resource.id), timeZone);
    },
  }),
}));

builder.prismaObjectFields('Location', (t) => ({
  slots: t.field({
    type: [SlotRef],
    description: 'Every slot of this location starting in [from, to), cancelled ones left out; batched across locations.',
    args: {
      from: t.arg({ type: 'DateTime', required: true }),
      to: t.arg({ type: 'DateTime', required: true }),
      timeZone: t.arg.string({ description: TIME_ZONE_ARG }),
    },
    resolve: async (location, { from, to, timeZone }, ctx) => {
      checkNestedWindow(from, to);
      return slotsInZone(await slotsLoader(ctx, ctx.db.prisma, 'locationId', from, to).load(location.id), timeZone);
    },
  }),
}));
