import { GraphQLError } from 'graphql';
import { builder } from '../builder.js';
import { MAX_WINDOW_DAYS } from './availability-window.js';
import { slotsLoader } from './loaders.js';
import { SlotRef } from './slots.graphql.js';

/** Nested list fields cannot return a typed error union, so a bad window is a plain input error. */
function checkNestedWindow(from: Date, to: Date): void {
  const days = (to.getTime() - from.getTime()) / 86_400_000;
  if (days <= 0 || days > MAX_WINDOW_DAYS) {
    throw new GraphQLError(`to must be after from and at most ${MAX_WINDOW_DAYS} days later`, { extensions: { code: 'BAD_USER_INPUT' } });
  }
}

builder.prismaObjectFields('Resource', (t) => ({
  slots: t.field({
    type: [SlotRef],
    description: 'This resource\'s slots starting in [from, to), cancelled ones left out; batched across resources.',
    args: { from: t.arg({ type: 'DateTime', required: true }), to: t.arg({ type: 'DateTime', required: true }) },
    resolve: (resource, { from, to }, ctx) => {
      checkNestedWindow(from, to);
      return slotsLoader(ctx, ctx.db.prisma, 'resourceId', from, to).load(resource.id);
    },
  }),
}));

builder.prismaObjectFields('Location', (t) => ({
  slots: t.field({
    type: [SlotRef],
    description: 'Every slot of this location starting in [from, to), cancelled ones left out; batched across locations.',
    args: { from: t.arg({ type: 'DateTime', required: true }), to: t.arg({ type: 'DateTime', required: true }) },
    resolve: (location, { from, to }, ctx) => {
      checkNestedWindow(from, to);
      return slotsLoader(ctx, ctx.db.prisma, 'locationId', from, to).load(location.id);
    },
  }),
}));
