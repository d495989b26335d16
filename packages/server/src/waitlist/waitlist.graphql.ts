import { builder } from '../builder.js';
import { CustomerInput } from '../booking/booking-mutations.graphql.js';
import { ErrorInterface } from '../shared/shared.graphql.js';
import { parseGlobalId } from '../shared/ids.js';
import { mustExist } from '../db/exists.js';
import { pii } from '../shared/pii.js';
import type { JoinedWaitlist } from './waitlist.service.js';
import { SlotNotFullError } from './waitlist.service.js';
import type { WaitlistRow } from './waitlist.store.js';

const WaitlistStatusEnum = builder.enumType('WaitlistStatus', {
  description: 'WAITING in line; OFFERED a hold on a freed place; then BOOKED (confirmed), LAPSED (not confirmed in time) or LEFT.',
  values: ['WAITING', 'OFFERED', 'BOOKED', 'LAPSED', 'LEFT'] as const,
});

const WaitlistCustomerRef = builder.objectRef<WaitlistRow>('WaitlistCustomer').implement({
  fields: (t) => ({
    name: t.string({ resolve: (e) => pii().readText(e.customer_name) }),
    email: t.string({ resolve: (e) => pii().decrypt(e.customer_email) }),
    phone: t.string({ nullable: true, resolve: (e) => (e.customer_phone ? pii().decrypt(e.customer_phone) : null) }),
  }),
});

const WaitlistEntryRef = builder.objectRef<WaitlistRow>('WaitlistEntry').implement({
  description: 'A place in line for a full slot, or for any slot of a resource in a window.',
  fields: (t) => ({
    id: t.globalID({ resolve: (e) => ({ type: 'WaitlistEntry', id: e.id }) }),
    status: t.field({ type: WaitlistStatusEnum, resolve: (e) => e.status }),
    slotId: t.globalID({ nullable: true, resolve: (e) => (e.slot_id ? { type: 'Slot', id: e.slot_id } : null) }),
    resourceId: t.globalID({ nullable: true, resolve: (e) => (e.resource_id ? { type: 'Resource', id: e.resource_id } : null) }),
    windowStart: t.field({ type: 'DateTime', nullable: true, resolve: (e) => e.window_start }),
    windowEnd: t.field({ type: 'DateTime', nullable: true, resolve: (e) => e.window_end }),
    ahead: t.int({
      nullable: true,
      description: 'How many wait before this entry (WAITING only).',
      resolve: (e, _args, ctx) => (e.status === 'WAITING' ? ctx.services.waitlist.placeInLine(e) : null),
    }),
    offeredBookingId: t.globalID({ nullable: true, resolve: (e) => (e.offered_booking_id ? { type: 'Booking', id: e.offered_booking_id } : null) }),
    offeredAt: t.field({ type: 'DateTime', nullable: true, resolve: (e) => e.offered_at }),
    customer: t.field({
      type: WaitlistCustomerRef,
      nullable: true,
      description: 'Staff only (null for everyone else).',
      resolve: (e, _args, ctx) => (ctx.actor?.roles.some((r) => ['admin', 'manager', 'scheduler', 'frontdesk'].includes(r)) ? e : null),
    }),
    createdAt: t.field({ type: 'DateTime', resolve: (e) => e.created_at }),
  }),
});

const JoinedWaitlistRef = builder.objectRef<JoinedWaitlist>('JoinedWaitlist').implement({
  fields: (t) => ({
    entry: t.field({ type: WaitlistEntryRef, resolve: (j) => j.entry }),
    leaveToken: t.exposeString('leaveToken', { description: 'Shown once: leaves the list with leaveWaitlist (also in the mail).' }),
    ahead: t.exposeInt('ahead', { description: 'How many wait before this customer.' }),
  }),
});

builder.objectType(SlotNotFullError, {
  name: 'SlotNotFullError',
  interfaces: [ErrorInterface],
  isTypeOf: (value) => value instanceof SlotNotFullError,
  fields: (t) => ({
    slotId: t.globalID({ resolve: (e) => ({ type: 'Slot', id: e.slotId }) }),
    remaining: t.exposeInt('remaining'),
  }),
});

const JoinWaitlistInput = builder.inputType('JoinWaitlistInput', {
  description: 'Either slotId (a full slot), or resourceId with from and to (any slot of it that starts and ends inside).',
  fields: (t) => ({
    slotId: t.id(),
    resourceId: t.id(),
    from: t.field({ type: 'DateTime' }),
    to: t.field({ type: 'DateTime' }),
    customer: t.field({ type: CustomerInput, required: true }),
  }),
});

const LeaveWaitlistInput = builder.inputType('LeaveWaitlistInput', {
  description: 'The leave token from joinWaitlist or the mail; staff may give entryId instead.',
  fields: (t) => ({
    leaveToken: t.string(),
    entryId: t.id(),
  }),
});

const STAFF = ['admin', 'manager', 'scheduler', 'frontdesk'];

builder.mutationField('joinWaitlist', (t) =>
  t.field({
    type: JoinedWaitlistRef,
    description: 'Waits for a full slot (or a resource in a window). When a place frees, the first in line gets a hold and a mail to confirm it.',
    authScopes: { public: true },
    errors: { types: [SlotNotFullError] },
    args: { input: t.arg({ type: JoinWaitlistInput, required: true }) },
    resolve: (_root, { input }, ctx) =>
      ctx.services.waitlist.join({
        slotId: input.slotId != null ? parseGlobalId(String(input.slotId), 'Slot', ['input', 'slotId']) : null,
        resourceId: input.resourceId != null ? parseGlobalId(String(input.resourceId), 'Resource', ['input', 'resourceId']) : null,
        from: input.from,
        to: input.to,
        customer: input.customer,
      }),
  }),
);

builder.mutationField('leaveWaitlist', (t) =>
  t.field({
    type: WaitlistEntryRef,
    description: 'Leaves the list: with the leave token, or (staff) by entry id.',
    authScopes: { public: true },
    errors: {},
    args: { input: t.arg({ type: LeaveWaitlistInput, required: true }) },
    resolve: (_root, { input }, ctx) => {
      if (input.leaveToken) return ctx.services.waitlist.leave({ leaveToken: input.leaveToken });
      const staff = ctx.actor?.roles.some((r) => STAFF.includes(r));
      // Without a token, an entry id is only staff's to remove; to the public it does not exist.
      const entryId = input.entryId != null ? parseGlobalId(String(input.entryId), 'WaitlistEntry', ['input', 'entryId']) : '';
      if (!staff || !entryId) return ctx.services.waitlist.leave({ leaveToken: '' });
      return ctx.services.waitlist.leave({ entryId });
    },
  }),
);

builder.queryField('waitlist', (t) =>
  t.field({
    type: [WaitlistEntryRef],
    description: 'Staff: the line for a slot, or every line of a resource, first in line first.',
    authScopes: { roles: ['manager', 'scheduler', 'frontdesk'] },
    errors: {},
    args: {
      slotId: t.arg.id(),
      resourceId: t.arg.id(),
      statuses: t.arg({ type: [WaitlistStatusEnum], description: 'Default: WAITING and OFFERED.' }),
    },
    resolve: async (_root, args, ctx) => {
      const scope = {
        slotId: args.slotId != null ? parseGlobalId(String(args.slotId), 'Slot', ['slotId']) : undefined,
        resourceId: args.resourceId != null ? parseGlobalId(String(args.resourceId), 'Resource', ['resourceId']) : undefined,
      };
      await mustExist(ctx.db.prisma, 'Slot', scope.slotId);
      await mustExist(ctx.db.prisma, 'Resource', scope.resourceId);
      return ctx.services.waitlist.list(scope, args.statuses ?? undefined);
    },
  }),
);
