import type { InputFieldBuilder } from '@pothos/core';
import { encodeGlobalID } from '@pothos/plugin-relay';
import { GraphQLError } from 'graphql';
import { builder, nodeVisibility } from '../builder.js';
import { hasAnyRole } from '../shared/actor.js';
import { ValidationError } from '../shared/errors.js';
import { RuleKind } from '../generated/prisma/enums.js';
import { ErrorInterface } from '../shared/shared.graphql.js';
import { parseGlobalId } from '../shared/ids.js';
import { formatWallTime } from '../shared/time.js';
import { RuleOverlapError, ruleView, type RuleRow } from './rules.service.js';
import { SlotGenerationReportRef } from './generation.graphql.js';
import type { GenerationReport } from './generation.service.js';

const RULE_ROLES = { roles: ['manager' as const, 'scheduler' as const] };
nodeVisibility.set('AvailabilityRule', (_rule, ctx) => hasAnyRole(ctx.actor, RULE_ROLES.roles));

export const RuleKindEnum = builder.enumType(RuleKind, {
  name: 'AvailabilityRuleKind',
  description: 'WEEKLY repeats; DATE_RANGE and EXCEPTION replace the weekly rules on the dates they cover (EXCEPTION wins).',
});

export const AvailabilityRuleRef = builder.prismaNode('AvailabilityRule', {
  id: { field: 'id' },
  authScopes: RULE_ROLES,
  description: "Wall-clock availability in the location's zone. A closed rule (isClosed) removes slots on its dates and hours.",
  fields: (t) => ({
    kind: t.expose('kind', { type: RuleKindEnum }),
    location: t.relation('location'),
    resource: t.relation('resource', { nullable: true, description: 'Null for a location-wide rule.' }),
    daysOfWeek: t.exposeIntList('daysOfWeek', { description: 'ISO days, 1 = Monday ... 7 = Sunday; empty = every day (DATE_RANGE / EXCEPTION).' }),
    startTime: t.string({ description: 'HH:MM local', resolve: (r) => formatWallTime(r.startMinute) }),
    endTime: t.string({ description: "HH:MM local; '24:00' = end of day", resolve: (r) => formatWallTime(r.endMinute) }),
    slotDurationMinutes: t.exposeInt('slotDurationMinutes'),
    granularityMinutes: t.exposeInt('granularityMinutes'),
    capacity: t.exposeInt('capacity', { description: 'Places per slot (slots of exclusive resources always take 1).' }),
    validFrom: t.field({ type: 'Date', nullable: true, resolve: (r) => ruleView(r).validFrom }),
    validTo: t.field({ type: 'Date', nullable: true, resolve: (r) => ruleView(r).validTo }),
    isClosed: t.exposeBoolean('isClosed'),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    updatedAt: t.expose('updatedAt', { type: 'DateTime' }),
  }),
});

builder.objectType(RuleOverlapError, {
  name: 'RuleOverlapError',
  interfaces: [ErrorInterface],
  isTypeOf: (value) => value instanceof RuleOverlapError,
  fields: (t) => ({
    overlappingRuleId: t.id({ resolve: (e) => encodeGlobalID('AvailabilityRule', e.overlappingRuleId) }),
  }),
});

const RulePayload = builder.objectRef<{ rule: RuleRow; slots: GenerationReport }>('AvailabilityRulePayload');
RulePayload.implement({
  description: 'The rule, and what happened to the slots already generated for its scope.',
  fields: (t) => ({
    rule: t.field({ type: AvailabilityRuleRef, resolve: (p) => p.rule }),
    slots: t.field({ type: SlotGenerationReportRef, resolve: (p) => p.slots }),
  }),
});

const DeleteRulePayload = builder.objectRef<{ rule: RuleRow; slots: GenerationReport }>('DeleteAvailabilityRulePayload');
DeleteRulePayload.implement({
  fields: (t) => ({
    deletedRuleId: t.id({ resolve: (p) => encodeGlobalID('AvailabilityRule', p.rule.id) }),
    slots: t.field({ type: SlotGenerationReportRef, resolve: (p) => p.slots }),
  }),
});

type Types = typeof builder extends PothosSchemaTypes.SchemaBuilder<infer T> ? T : never;

const ruleFields = <R extends boolean>(t: InputFieldBuilder<Types, 'InputObject'>, required: R) => ({
  daysOfWeek: t.intList({ description: 'ISO days, 1 = Monday ... 7 = Sunday' }),
  startTime: t.string({ required, description: 'HH:MM local' }),
  endTime: t.string({ required, description: "HH:MM local; '24:00' allowed" }),
  slotDurationMinutes: t.int({ description: 'Default 30; a multiple of granularityMinutes' }),
  granularityMinutes: t.int({ description: 'Default 15' }),
  capacity: t.int({ description: 'Default 1' }),
  validFrom: t.field({ type: 'Date' }),
  validTo: t.field({ type: 'Date' }),
  isClosed: t.boolean({ description: 'A closure: removes availability on its dates and hours' }),
});

const CreateRuleInput = builder.inputType('CreateAvailabilityRuleInput', {
  fields: (t) => ({
    locationId: t.id({ description: 'Required for a location-wide rule; optional with resourceId' }),
    resourceId: t.id(),
    kind: t.field({ type: RuleKindEnum, required: true }),
    ...ruleFields(t, true),
  }),
});

const UpdateRuleInput = builder.inputType('UpdateAvailabilityRuleInput', {
  description: 'Absent fields keep their value; null clears validFrom / validTo.',
  fields: (t) => ruleFields(t, false),
});

const optionalId = (value: string | number | null | undefined, type: string, path: string[]) =>
  value == null ? null : parseGlobalId(String(value), type, path);

builder.queryField('availabilityRules', (t) =>
  t.prismaField({
    type: ['AvailabilityRule'],
    description: "A resource's rules, or every rule at a location (location-wide and per resource).",
    authScopes: RULE_ROLES,
    args: { locationId: t.arg.id(), resourceId: t.arg.id() },
    resolve: (_q, _root, args, ctx) => {
      try {
        return ctx.services.rules.list({
          locationId: optionalId(args.locationId, 'Location', ['locationId']) ?? undefined,
          resourceId: optionalId(args.resourceId, 'Resource', ['resourceId']) ?? undefined,
        });
      } catch (error) {
        // A list query has no error union: a bad ID is a plain user-input error.
        if (error instanceof ValidationError) throw new GraphQLError(error.message, { extensions: { code: 'BAD_USER_INPUT' } });
        throw error;
      }
    },
  }),
);

builder.mutationField('createAvailabilityRule', (t) =>
  t.field({
    type: RulePayload,
    authScopes: RULE_ROLES,
    errors: { types: [RuleOverlapError] },
    args: { input: t.arg({ type: CreateRuleInput, required: true }) },
    resolve: (_root, { input }, ctx) =>
      ctx.services.rules.create({
        ...input,
        locationId: optionalId(input.locationId, 'Location', ['input', 'locationId']),
        resourceId: optionalId(input.resourceId, 'Resource', ['input', 'resourceId']),
      }),
  }),
);

builder.mutationField('updateAvailabilityRule', (t) =>
  t.field({
    type: RulePayload,
    authScopes: RULE_ROLES,
    errors: { types: [RuleOverlapError] },
    args: { id: t.arg.id({ required: true }), input: t.arg({ type: UpdateRuleInput, required: true }) },
    resolve: (_root, { id, input }, ctx) => ctx.services.rules.update(parseGlobalId(String(id), 'AvailabilityRule', ['id']), input),
  }),
);

builder.mutationField('deleteAvailabilityRule', (t) =>
  t.field({
    type: DeleteRulePayload,
    authScopes: RULE_ROLES,
    errors: {},
    args: { id: t.arg.id({ required: true }) },
    resolve: (_root, { id }, ctx) => ctx.services.rules.delete(parseGlobalId(String(id), 'AvailabilityRule', ['id'])),
  }),
);
