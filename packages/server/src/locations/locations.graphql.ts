import { builder } from '../builder.js';
import { parseGlobalId } from '../shared/ids.js';
import { policyInputFields, policyOutputFields } from '../policies/policies.graphql.js';
import { SlotGenerationReportRef } from '../scheduling/generation.graphql.js';
import type { GenerationReport } from '../scheduling/generation.service.js';
import type { Location } from '../generated/prisma/client.js';

const OF = 'The default of its resources; null: no policy.';

export const LocationRef = builder.prismaNode('Location', {
  id: { field: 'id' },
  authScopes: { public: true },
  fields: (t) => ({
    name: t.exposeString('name'),
    timeZone: t.exposeString('timeZone', { description: 'IANA time zone; local times of this location are shown in it.' }),
    address: t.exposeString('address', { nullable: true }),
    resources: t.relation('resources', { query: { where: { active: true }, orderBy: { name: 'asc' } } }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    updatedAt: t.expose('updatedAt', { type: 'DateTime' }),
    ...policyOutputFields((name, description) => t.exposeInt(name, { nullable: true, description }), OF),
  }),
});

const CreateLocationInput = builder.inputType('CreateLocationInput', {
  fields: (t) => ({
    name: t.string({ required: true }),
    timeZone: t.string({ required: true, description: 'IANA time zone, e.g. America/New_York' }),
    address: t.string(),
    ...policyInputFields(t),
  }),
});

const UpdateLocationInput = builder.inputType('UpdateLocationInput', {
  fields: (t) => ({
    name: t.string(),
    timeZone: t.string({ description: "IANA time zone. A new zone re-plans the future free slots in it (the rules' wall-clock times stay)." }),
    address: t.string(),
    ...policyInputFields(t),
  }),
});

builder.queryField('locations', (t) =>
  t.prismaField({
    type: ['Location'],
    description: 'All locations, by name.',
    authScopes: { public: true },
    resolve: (query, _root, _args, ctx) => ctx.db.prisma.location.findMany({ ...query, orderBy: { name: 'asc' } }),
  }),
);

builder.mutationField('createLocation', (t) =>
  t.prismaField({
    type: 'Location',
    authScopes: { roles: ['manager'] },
    errors: {},
    args: { input: t.arg({ type: CreateLocationInput, required: true }) },
    resolve: (_query, _root, { input }, ctx) => ctx.services.locations.create(input),
  }),
);

const UpdateLocationPayload = builder.objectRef<{ location: Location; slots: GenerationReport }>('UpdateLocationPayload').implement({
  description: 'The location, and what a new zone did to its future slots (all zeros when the zone stayed).',
  fields: (t) => ({
    location: t.field({ type: LocationRef, resolve: (p) => p.location }),
    slots: t.field({
      type: SlotGenerationReportRef,
      description: 'Free slots moved to the same wall-clock times in the new zone; slots with bookings or holds are kept (and read in the new zone).',
      resolve: (p) => p.slots,
    }),
  }),
});

builder.mutationField('updateLocation', (t) =>
  t.field({
    type: UpdateLocationPayload,
    authScopes: { roles: ['manager'] },
    errors: {},
    args: { id: t.arg.id({ required: true }), input: t.arg({ type: UpdateLocationInput, required: true }) },
    resolve: (_root, { id, input }, ctx) => ctx.services.locations.update(parseGlobalId(String(id), 'Location', ['id']), input),
  }),
);
