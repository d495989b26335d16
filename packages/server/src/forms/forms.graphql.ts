import { encodeGlobalID } from '@pothos/plugin-relay';
import { builder, nodeVisibility } from '../builder.js';
import { FormStatus } from '../generated/prisma/enums.js';
import { ErrorInterface } from '../shared/shared.graphql.js';
import { parseGlobalId } from '../shared/ids.js';
import { STAFF_ROLES, hasAnyRole } from '../shared/actor.js';
import type { Context } from '../context.js';
import { SlotRef } from '../scheduling/slots.graphql.js';
import { slotsInZone } from '../scheduling/availability-fields.graphql.js';
import { TIME_ZONE_ARG } from '../scheduling/availability.graphql.js';
import { viewerTimeZone } from '../shared/viewer.js';
import { formSlotsLoader } from './form-slots-loader.js';
import { formAnalytics, type FormAnalytics, type SlotTotals } from './form-analytics.js';
import { FormSlotLimitError } from './forms.errors.js';

export const FormStatusEnum = builder.enumType(FormStatus, { name: 'FormStatus' });

/** Drafts and closed forms (and their slots) are for staff; published forms are public. */
export const canSeeForm = (form: { status: FormStatus }, ctx: Context) => form.status === 'PUBLISHED' || hasAnyRole(ctx.actor, STAFF_ROLES);

nodeVisibility.set('Form', canSeeForm);
nodeVisibility.set('Slot', async (slot: { formId: string | null }, ctx: Context) => {
  if (!slot.formId) return true;
  const form = await ctx.db.prisma.form.findUnique({ where: { id: slot.formId }, select: { status: true } });
  return form !== null && canSeeForm(form, ctx);
});

export const FormRef = builder.prismaNode('Form', {
  id: { field: 'id' },
  authScopes: (form, ctx) => canSeeForm(form, ctx),
  fields: (t) => ({
    slug: t.exposeString('slug'),
    title: t.exposeString('title'),
    description: t.exposeString('description', { nullable: true }),
    timeZone: t.exposeString('timeZone', { description: "IANA zone the form's slots are scheduled and shown in." }),
    status: t.expose('status', { type: FormStatusEnum }),
    maxSlotsPerRegistration: t.exposeInt('maxSlotsPerRegistration', { nullable: true }),
    path: t.string({ description: 'The public signup page, relative to the server: /form/<slug>.', resolve: (f) => `/form/${f.slug}` }),
    location: t.relation('location', { nullable: true }),
    publishedAt: t.expose('publishedAt', { type: 'DateTime', nullable: true }),
    closedAt: t.expose('closedAt', { type: 'DateTime', nullable: true }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    slots: t.field({
      type: [SlotRef],
      description: "The form's slots by start, Full and Cancelled ones included; past ones only with includePast.",
      args: {
        includePast: t.arg.boolean({ defaultValue: false, required: true }),
        timeZone: t.arg.string({ description: "IANA zone to show local times in; default: the form's zone." }),
      },
      // A batched field rather than a relation: the slots are read here, so they can be shown in the viewer's zone.
      resolve: async (form, args, ctx) =>
        slotsInZone(await formSlotsLoader(ctx, ctx.db.prisma, args.includePast ? null : ctx.services.forms.now()).load(form.id), args.timeZone),
    }),
  }),
});

builder.queryField('form', (t) =>
  t.prismaField({
    type: 'Form',
    nullable: true,
    description: 'A form by slug. Published forms are public; drafts and closed forms are visible to staff only (null otherwise).',
    authScopes: { public: true },
    args: { slug: t.arg.string({ required: true }) },
    resolve: async (query, _root, { slug }, ctx) => {
      const form = await ctx.services.forms.bySlug(slug, ctx.actor);
      return form && ctx.db.prisma.form.findUnique({ ...query, where: { id: form.id } });
    },
  }),
);

builder.queryField('forms', (t) =>
  t.prismaField({
    type: ['Form'],
    description: 'Every form, newest first.',
    authScopes: { roles: STAFF_ROLES },
    args: { status: t.arg({ type: FormStatusEnum }) },
    resolve: (query, _root, { status }, ctx) =>
      ctx.db.prisma.form.findMany({ ...query, where: status ? { status } : {}, orderBy: { createdAt: 'desc' } }),
  }),
);

const FormDayAnalyticsRef = builder.objectRef<SlotTotals & { date: string }>('FormDayAnalytics').implement({
  description: "Counts of one local date in the answer's timeZone.",
  fields: (t) => ({
    date: t.field({ type: 'Date', resolve: (d) => d.date }),
    totalSlots: t.exposeInt('totalSlots'),
    bookedSlots: t.exposeInt('bookedSlots'),
    fullSlots: t.exposeInt('fullSlots'),
    capacity: t.exposeInt('capacity'),
    seatsBooked: t.exposeInt('seatsBooked'),
    fillRate: t.exposeFloat('fillRate'),
  }),
});

const FormAnalyticsRef = builder.objectRef<FormAnalytics>('FormAnalytics').implement({
  description:
    "Totals over the form's slots that are not cancelled. bookedSlots: slots with at least one booking; fillRate: seatsBooked / capacity (0..1).",
  fields: (t) => ({
    formId: t.id({ resolve: (a) => encodeGlobalID('Form', a.formId) }),
    timeZone: t.exposeString('timeZone', { description: "The zone the days are local dates of: the asked timeZone, else the form's." }),
    totalSlots: t.exposeInt('totalSlots'),
    bookedSlots: t.exposeInt('bookedSlots'),
    fullSlots: t.exposeInt('fullSlots'),
    cancelledSlots: t.exposeInt('cancelledSlots'),
    capacity: t.exposeInt('capacity'),
    seatsBooked: t.exposeInt('seatsBooked'),
    fillRate: t.exposeFloat('fillRate'),
    registrations: t.exposeInt('registrations'),
    days: t.field({ type: [FormDayAnalyticsRef], description: 'Per local date in timeZone, in date order.', resolve: (a) => a.days }),
  }),
});

builder.queryField('formAnalytics', (t) =>
  t.field({
    type: FormAnalyticsRef,
    authScopes: { roles: STAFF_ROLES },
    errors: {},
    args: { formId: t.arg.id({ required: true }), timeZone: t.arg.string({ description: `${TIME_ZONE_ARG} The days are local dates in it.` }) },
    resolve: (_root, { formId, timeZone }, ctx) =>
      formAnalytics(ctx.db.prisma, parseGlobalId(String(formId), 'Form', ['formId']), viewerTimeZone(timeZone)),
  }),
);

builder.objectType(FormSlotLimitError, {
  name: 'FormSlotLimitError',
  interfaces: [ErrorInterface],
  isTypeOf: (value) => value instanceof FormSlotLimitError,
  fields: (t) => ({
    requested: t.exposeInt('requested', { description: 'How many slots the form would have had.' }),
    limit: t.exposeInt('limit'),
    suggestedForms: t.exposeInt('suggestedForms', { description: 'How many forms the schedule splits into.' }),
  }),
});
