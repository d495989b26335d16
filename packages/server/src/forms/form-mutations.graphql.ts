import { encodeGlobalID } from '@pothos/plugin-relay';
import { builder } from '../builder.js';
import { ErrorInterface } from '../shared/shared.graphql.js';
import { parseGlobalId } from '../shared/ids.js';
import { FormSlotBookedError, FormSlotLimitError } from './forms.errors.js';
import './forms.graphql.js';

import { FORM_EDITORS } from './forms.service.js';

const FormScheduleInput = builder.inputType('FormScheduleInput', {
  description: "A weekly window cut into equal slots, in the form's zone. Give endDate or weeks.",
  fields: (t) => ({
    daysOfWeek: t.intList({ required: true, description: 'ISO days: 1 = Monday ... 7 = Sunday.' }),
    startTime: t.string({ required: true, description: 'Local HH:MM, e.g. 17:00.' }),
    endTime: t.string({ required: true, description: 'Local HH:MM, e.g. 21:00 (24:00 = midnight).' }),
    slotMinutes: t.int({ required: true }),
    capacityPerSlot: t.int({ description: 'Places per slot (default 1).' }),
    startDate: t.field({ type: 'Date', description: "First local date (default: today in the form's zone). Past windows are skipped." }),
    endDate: t.field({ type: 'Date', description: 'Last local date, inclusive.' }),
    weeks: t.int({ description: 'Number of weeks from startDate (instead of endDate).' }),
  }),
});

const CreateFormInput = builder.inputType('CreateFormInput', {
  fields: (t) => ({
    title: t.string({ required: true }),
    description: t.string(),
    slug: t.string({ required: true, description: 'URL name: lowercase letters, digits, hyphens; the page is /form/<slug>.' }),
    timeZone: t.string({ required: true, description: 'IANA zone, e.g. America/New_York.' }),
    maxSlotsPerRegistration: t.int(),
    locationId: t.id(),
    schedule: t.field({ type: FormScheduleInput, description: "Generates the form's slots (at most 100) with the form." }),
  }),
});

const AddFormSlotInput = builder.inputType('AddFormSlotInput', {
  description: "Either startAt and endAt, or date, startTime and endTime (local, in the form's zone).",
  fields: (t) => ({
    startAt: t.field({ type: 'DateTime' }),
    endAt: t.field({ type: 'DateTime' }),
    date: t.field({ type: 'Date' }),
    startTime: t.string({ description: 'Local HH:MM.' }),
    endTime: t.string({ description: 'Local HH:MM; at or before startTime means the next day.' }),
    capacity: t.int({ description: 'Places (default 1).' }),
  }),
});

builder.objectType(FormSlotBookedError, {
  name: 'FormSlotBookedError',
  interfaces: [ErrorInterface],
  isTypeOf: (value) => value instanceof FormSlotBookedError,
  fields: (t) => ({
    slotId: t.id({ resolve: (e) => encodeGlobalID('Slot', e.slotId) }),
    booked: t.exposeInt('booked', { description: 'Live bookings and holds on the slot.' }),
  }),
});

builder.mutationField('createForm', (t) =>
  t.prismaField({
    type: 'Form',
    description: 'Creates a draft form and, with a schedule, its slots, in one transaction.',
    authScopes: { roles: FORM_EDITORS },
    errors: { types: [FormSlotLimitError] },
    args: { input: t.arg({ type: CreateFormInput, required: true }) },
    resolve: async (query, _root, { input }, ctx) => {
      const locationId = input.locationId ? parseGlobalId(String(input.locationId), 'Location', ['input', 'locationId']) : null;
      const form = await ctx.services.forms.create({ ...input, locationId }, ctx.actor);
      return ctx.db.prisma.form.findUniqueOrThrow({ ...query, where: { id: form.id } });
    },
  }),
);

for (const [name, action] of [
  ['publishForm', 'publish'],
  ['closeForm', 'close'],
] as const) {
  builder.mutationField(name, (t) =>
    t.prismaField({
      type: 'Form',
      description: action === 'publish' ? 'Opens the form for registrations (also reopens a closed one).' : 'Stops registrations; the page says so.',
      authScopes: { roles: FORM_EDITORS },
      errors: {},
      args: { id: t.arg.id({ required: true }) },
      resolve: async (query, _root, { id }, ctx) => {
        const form = await ctx.services.forms[action](parseGlobalId(String(id), 'Form', ['id']));
        return ctx.db.prisma.form.findUniqueOrThrow({ ...query, where: { id: form.id } });
      },
    }),
  );
}

builder.mutationField('addFormSlot', (t) =>
  t.prismaField({
    type: 'Slot',
    authScopes: { roles: FORM_EDITORS },
    errors: { types: [FormSlotLimitError] },
    args: { formId: t.arg.id({ required: true }), input: t.arg({ type: AddFormSlotInput, required: true }) },
    resolve: async (query, _root, { formId, input }, ctx) => {
      const slot = await ctx.services.forms.addSlot(parseGlobalId(String(formId), 'Form', ['formId']), input);
      return ctx.db.prisma.slot.findUniqueOrThrow({ ...query, where: { id: slot.id } });
    },
  }),
);

builder.mutationField('addFormSchedule', (t) =>
  t.prismaField({
    type: ['Slot'],
    description:
      "More slots for an existing form, from a schedule, with createForm's rules and limits; times it already has are kept. Answers the new slots.",
    authScopes: { roles: FORM_EDITORS },
    errors: { types: [FormSlotLimitError] },
    args: { formId: t.arg.id({ required: true }), schedule: t.arg({ type: FormScheduleInput, required: true }) },
    resolve: async (query, _root, { formId, schedule }, ctx) => {
      const slots = await ctx.services.forms.addSchedule(parseGlobalId(String(formId), 'Form', ['formId']), schedule);
      return ctx.db.prisma.slot.findMany({ ...query, where: { id: { in: slots.map((s) => s.id) } }, orderBy: { startAt: 'asc' } });
    },
  }),
);

builder.mutationField('cancelFormSlot', (t) =>
  t.prismaField({
    type: 'Slot',
    description: 'Cancels a form slot. Refused with FormSlotBookedError while it has bookings or holds.',
    authScopes: { roles: FORM_EDITORS },
    errors: { types: [FormSlotBookedError] },
    args: { slotId: t.arg.id({ required: true }) },
    resolve: async (query, _root, { slotId }, ctx) => {
      const slot = await ctx.services.forms.cancelSlot(parseGlobalId(String(slotId), 'Slot', ['slotId']));
      return ctx.db.prisma.slot.findUniqueOrThrow({ ...query, where: { id: slot.id } });
    },
  }),
);
