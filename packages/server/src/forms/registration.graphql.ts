import { encodeGlobalID } from '@pothos/plugin-relay';
import { builder } from '../builder.js';
import { DuplicateBookingError, SlotsUnavailableError } from '../booking/errors.js';
import { BookingPolicyError } from '../policies/enforce.js';
import '../policies/policies.graphql.js';
// Registers SlotsUnavailableError's GraphQL type, which register returns.
import '../booking/errors.graphql.js';
import { STAFF_ROLES } from '../shared/actor.js';
import { ErrorInterface } from '../shared/shared.graphql.js';
import { parseGlobalId } from '../shared/ids.js';
import { ValidationError } from '../shared/errors.js';
import { FormNotOpenError, FormRegistrationRequiredError, FormSlotNotFoundError } from './forms.errors.js';
import { FormStatusEnum } from './forms.graphql.js';
import { SlotRef } from '../scheduling/slots.graphql.js';
import { slotLabel } from './slot-label.js';
import { pii } from '../shared/pii.js';
import { viewerTimeZone } from '../shared/viewer.js';
import { TIME_ZONE_ARG } from '../scheduling/availability.graphql.js';

export const RegistrationRef = builder.prismaNode('Registration', {
  id: { field: 'id' },
  authScopes: { public: true },
  description: "One person's signup on a form: their answers and the slots they booked (all confirmed together).",
  fields: (t) => ({
    form: t.relation('form'),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    slots: t.field({
      type: [SlotRef],
      select: { slots: { select: { slot: true }, orderBy: { slot: { startAt: 'asc' } } } },
      resolve: (r) => r.slots.map((s) => s.slot),
    }),
    slotLabels: t.stringList({
      description:
        'The slots as a registrant reads them, in the form\'s zone (the viewer\'s when register was asked with timeZone): "Mon Oct 7, 5:00–6:00 PM".',
      select: { slots: { select: { slot: { select: { startAt: true, endAt: true, timeZone: true } } }, orderBy: { slot: { startAt: 'asc' } } } },
      resolve: (r) => r.slots.map(({ slot }) => slotLabel(slot.startAt, slot.endAt, slot.timeZone)),
    }),
    // Name and answers are encrypted at rest (plaintext in rows older than migration 0006).
    name: t.string({ authScopes: { roles: STAFF_ROLES }, select: { name: true }, resolve: (r) => pii().readText(r.name) }),
    answers: t.field({
      type: [
        builder.objectRef<[string, unknown]>('FormAnswer').implement({
          fields: (a) => ({
            question: a.string({ resolve: ([q]) => q }),
            answer: a.string({ resolve: ([, v]) => String(v) }),
          }),
        }),
      ],
      authScopes: { roles: STAFF_ROLES },
      select: { answers: true },
      resolve: (r) => Object.entries(pii().unseal<Record<string, unknown> | null>(r.answers) ?? {}),
    }),
  }),
});

/** A registration as the registrant reads it: its slots' local times and labels in their zone (unchanged without one). */
function inViewerZone<R extends object>(registration: R, zone: string | null): R {
  // The slots are there when the query selected them (Pothos loads them with the registration).
  const slots = (registration as { slots?: { slot?: { timeZone: string } }[] }).slots;
  if (!zone || !slots) return registration;
  return { ...registration, slots: slots.map((s) => (s.slot ? { ...s, slot: { ...s.slot, timeZone: zone } } : s)) };
}

const FormAnswerInput = builder.inputType('FormAnswerInput', {
  fields: (t) => ({
    question: t.string({ required: true }),
    answer: t.string({ required: true }),
  }),
});

const RegisterInput = builder.inputType('RegisterInput', {
  description: 'Give formSlug or formId. All chosen slots are booked, or none.',
  fields: (t) => ({
    formSlug: t.string(),
    formId: t.id(),
    name: t.string({ required: true }),
    email: t.string({ required: true }),
    phone: t.string(),
    answers: t.field({ type: [FormAnswerInput], description: 'Stored as one JSON object, question -> answer.' }),
    slotIds: t.idList({ required: true }),
  }),
});

builder.objectType(FormNotOpenError, {
  name: 'FormNotOpenError',
  interfaces: [ErrorInterface],
  isTypeOf: (value) => value instanceof FormNotOpenError,
  fields: (t) => ({
    formId: t.id({ resolve: (e) => encodeGlobalID('Form', e.formId) }),
    status: t.field({ type: FormStatusEnum, resolve: (e) => e.status }),
  }),
});

builder.objectType(FormRegistrationRequiredError, {
  name: 'FormRegistrationRequiredError',
  description: "The slot belongs to a form: book it with the `register` mutation (the form's status and slot limit apply).",
  interfaces: [ErrorInterface],
  isTypeOf: (value) => value instanceof FormRegistrationRequiredError,
  fields: (t) => ({
    formId: t.id({ resolve: (e) => encodeGlobalID('Form', e.formId) }),
    mutation: t.string({ description: 'The mutation to use instead: register.', resolve: (e) => e.mutation }),
  }),
});

builder.objectType(FormSlotNotFoundError, {
  name: 'FormSlotNotFoundError',
  description: 'Slots that are not part of the form (nothing was booked).',
  interfaces: [ErrorInterface],
  isTypeOf: (value) => value instanceof FormSlotNotFoundError,
  fields: (t) => ({
    slotIds: t.idList({ resolve: (e) => e.slotIds.map((id) => encodeGlobalID('Slot', id)) }),
  }),
});

builder.mutationField('register', (t) =>
  t.prismaField({
    type: 'Registration',
    description: 'Signs up for one or more slots of a published form, all or nothing.',
    authScopes: { public: true },
    errors: { types: [FormNotOpenError, FormSlotNotFoundError, SlotsUnavailableError, DuplicateBookingError, BookingPolicyError] },
    args: {
      input: t.arg({ type: RegisterInput, required: true }),
      timeZone: t.arg.string({ description: `${TIME_ZONE_ARG} The registration's slots and slotLabels read in it.` }),
    },
    resolve: async (query, _root, { input, timeZone }, ctx) => {
      const zone = viewerTimeZone(timeZone);
      const { formSlug, formId, slotIds, ...rest } = input;
      if (!formSlug === !formId) throw ValidationError.field(['input', 'formSlug'], 'give formSlug or formId');
      const key = formSlug ? { slug: formSlug } : { id: parseGlobalId(String(formId), 'Form', ['input', 'formId']) };
      const ids = slotIds.map((id, i) => parseGlobalId(String(id), 'Slot', ['input', 'slotIds', String(i)]));
      const { registration } = await ctx.services.registrations.register(key, { ...rest, slotIds: ids }, ctx);
      const read = await ctx.db.prisma.registration.findUniqueOrThrow({ ...query, where: { id: registration.id } });
      return inViewerZone(read, zone);
    },
  }),
);
