import { builder } from '../../builder.js';
import { STAFF_ROLES } from '../../shared/actor.js';
import { ErrorInterface } from '../../shared/shared.graphql.js';
import { parseGlobalId } from '../../shared/ids.js';
import { toLocal } from '../../shared/time.js';
import { FormSlotLimitError } from '../forms.errors.js';
import { FORM_EDITORS } from '../forms.service.js';
import { FormRef } from '../forms.graphql.js';
import type { GeneratedSlot } from '../form-schedule.js';
import type { ExtractedForm, Understood } from './extracted-form.js';
import type { FormFromText } from './form-from-text.js';
import type { FormInsight } from './form-insights.js';
import { FormTextNotUnderstoodError } from './form-text.errors.js';
import { explain } from './explain.js';
import '../form-mutations.graphql.js';

const UnderstoodRef = builder.objectRef<Understood>('FormTextPhrase').implement({
  description: 'A phrase of the text and what it was read as; phrase is empty for a default that was applied.',
  fields: (t) => ({ phrase: t.exposeString('phrase'), meaning: t.exposeString('meaning') }),
});

const ScheduleRef = builder.objectRef<ExtractedForm['schedule']>('FormSchedule').implement({
  description: 'The schedule read from the text, in the same shape as FormScheduleInput.',
  fields: (t) => ({
    daysOfWeek: t.exposeIntList('daysOfWeek'),
    startTime: t.exposeString('startTime'),
    endTime: t.exposeString('endTime'),
    slotMinutes: t.exposeInt('slotMinutes'),
    capacityPerSlot: t.exposeInt('capacityPerSlot'),
    startDate: t.field({ type: 'Date', resolve: (s) => s.startDate }),
    endDate: t.field({ type: 'Date', nullable: true, resolve: (s) => s.endDate }),
    weeks: t.exposeInt('weeks', { nullable: true }),
  }),
});

const PlannedSlotRef = builder.objectRef<GeneratedSlot & { timeZone: string }>('PlannedFormSlot').implement({
  description: "A slot the schedule gives: UTC instants and how they read in the form's zone.",
  fields: (t) => ({
    startAt: t.expose('startAt', { type: 'DateTime' }),
    endAt: t.expose('endAt', { type: 'DateTime' }),
    localStart: t.string({ description: "ISO 8601 with the zone's offset.", resolve: (s) => toLocal(s.startAt, s.timeZone).iso }),
    localEnd: t.string({ resolve: (s) => toLocal(s.endAt, s.timeZone).iso }),
    capacity: t.exposeInt('capacity'),
  }),
});

const ExtractorEnum = builder.enumType('FormTextExtractor', { values: ['OFFLINE', 'LLM'] as const });

const FormFromTextRef = builder.objectRef<FormFromText>('FormFromText').implement({
  fields: (t) => ({
    form: t.field({ type: FormRef, nullable: true, description: 'The created draft form; null on a dry run.', resolve: (r) => r.form }),
    dryRun: t.exposeBoolean('dryRun'),
    extractor: t.field({ type: ExtractorEnum, resolve: (r) => r.extractor }),
    fallbackReason: t.exposeString('fallbackReason', {
      nullable: true,
      description: 'Why the LLM answer was not used (the offline extractor read the text).',
    }),
    title: t.string({ resolve: (r) => r.extracted.title }),
    description: t.string({ nullable: true, resolve: (r) => r.extracted.description }),
    timeZone: t.string({ resolve: (r) => r.extracted.timeZone }),
    timeZoneSource: t.string({ resolve: (r) => r.extracted.timeZoneSource }),
    maxSlotsPerRegistration: t.int({ nullable: true, resolve: (r) => r.extracted.maxSlotsPerRegistration }),
    schedule: t.field({ type: ScheduleRef, resolve: (r) => r.extracted.schedule }),
    understood: t.field({ type: [UnderstoodRef], resolve: (r) => r.extracted.understood }),
    explanation: t.string({ description: 'What was understood, in words.', resolve: (r) => explain(r) }),
    slotCount: t.int({ resolve: (r) => r.slots.length }),
    slots: t.field({ type: [PlannedSlotRef], resolve: (r) => r.slots.map((s) => ({ ...s, timeZone: r.extracted.timeZone })) }),
  }),
});

builder.objectType(FormTextNotUnderstoodError, {
  name: 'FormTextNotUnderstoodError',
  interfaces: [ErrorInterface],
  isTypeOf: (value) => value instanceof FormTextNotUnderstoodError,
  fields: (t) => ({
    unparsed: t.exposeStringList('unparsed', { description: 'Phrases of the text no rule could read, as written.' }),
    missing: t.exposeStringList('missing', { description: 'Parts a schedule needs that the text does not give.' }),
    conflicts: t.exposeStringList('conflicts', { description: 'Phrases that contradict an earlier one.' }),
    understood: t.field({ type: [UnderstoodRef], resolve: (e) => e.understood }),
  }),
});

const CreateFormFromTextInput = builder.inputType('CreateFormFromTextInput', {
  fields: (t) => ({
    text: t.string({ required: true, description: 'E.g. "1-1 soccer coaching, 5-9pm, Mon/Wed, 1h slots, next 2 weeks, Eastern".' }),
    timeZone: t.string({ description: "IANA zone used when the text names none (default: your latest form's zone, else DEFAULT_TIME_ZONE)." }),
    dryRun: t.boolean({ description: 'Read and validate only: returns the schedule and slots, writes nothing.' }),
  }),
});

builder.mutationField('createFormFromText', (t) =>
  t.field({
    type: FormFromTextRef,
    description: 'Reads a sentence into a form and schedule, then creates it like createForm (a draft, at most 100 slots, one transaction).',
    authScopes: { roles: FORM_EDITORS },
    errors: { types: [FormTextNotUnderstoodError, FormSlotLimitError] },
    args: { input: t.arg({ type: CreateFormFromTextInput, required: true }) },
    resolve: (_root, { input }, ctx) => ctx.services.formsFromText.create(input, ctx.actor, ctx.log),
  }),
);

const InsightIntentEnum = builder.enumType('FormInsightIntent', {
  values: ['FULLNESS', 'BEST_DAY', 'WHO_SIGNED_UP', 'SEATS_LEFT', 'OTHER'] as const,
});

const FormInsightRef = builder.objectRef<FormInsight>('FormInsight').implement({
  description: "An answer in words, made from the same numbers as formAnalytics (in the form's zone).",
  fields: (t) => ({
    question: t.exposeString('question', { nullable: true }),
    intent: t.field({ type: InsightIntentEnum, resolve: (i) => i.intent }),
    answer: t.exposeString('answer'),
    source: t.field({ type: ExtractorEnum, resolve: (i) => i.source }),
    fallbackReason: t.exposeString('fallbackReason', { nullable: true }),
    totalSlots: t.int({ resolve: (i) => i.analytics.totalSlots }),
    capacity: t.int({ resolve: (i) => i.analytics.capacity }),
    seatsBooked: t.int({ resolve: (i) => i.analytics.seatsBooked }),
    fillRate: t.float({ resolve: (i) => i.analytics.fillRate }),
  }),
});

builder.queryField('formInsights', (t) =>
  t.field({
    type: FormInsightRef,
    description: 'Answers "how full is it", "which day fills best", "who signed up for Monday", "how many seats are left next week" (staff only).',
    authScopes: { roles: STAFF_ROLES },
    errors: {},
    args: { formId: t.arg.id({ required: true }), question: t.arg.string() },
    resolve: (_root, { formId, question }, ctx) =>
      ctx.services.formInsights.ask(parseGlobalId(String(formId), 'Form', ['formId']), question ?? null, ctx.log),
  }),
);
