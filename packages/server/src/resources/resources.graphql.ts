import { builder } from '../builder.js';
import { mustExist } from '../db/exists.js';
import { ResourceKind } from '../generated/prisma/enums.js';
import { parseGlobalId } from '../shared/ids.js';
import { policyInputFields, policyOutputFields } from '../policies/policies.graphql.js';

export const ResourceKindEnum = builder.enumType(ResourceKind, { name: 'ResourceKind' });

const OF = "Null: the location's value applies.";

export const ResourceRef = builder.prismaNode('Resource', {
  id: { field: 'id' },
  authScopes: { public: true },
  fields: (t) => ({
    kind: t.expose('kind', { type: ResourceKindEnum }),
    name: t.exposeString('name'),
    capacity: t.exposeInt('capacity'),
    exclusive: t.exposeBoolean('exclusive', { description: 'Bookable by free time range; live bookings never overlap.' }),
    active: t.exposeBoolean('active'),
    skills: t.exposeStringList('skills', { description: 'What this person (or resource) can do, lower case; availability reads filter by them.' }),
    email: t.exposeString('email', { nullable: true, authScopes: { roles: ['manager', 'scheduler', 'frontdesk'] } }),
    location: t.relation('location'),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    ...policyOutputFields((name, description) => t.exposeInt(name, { nullable: true, description }), OF),
  }),
});

const CreateResourceInput = builder.inputType('CreateResourceInput', {
  fields: (t) => ({
    locationId: t.id({ required: true }),
    kind: t.field({ type: ResourceKindEnum, required: true }),
    name: t.string({ required: true }),
    email: t.string(),
    capacity: t.int({ description: 'How many bookings a slot of this resource takes by default (1).' }),
    exclusive: t.boolean({ description: 'Range-bookable with no overlaps (rooms, facilities).' }),
    ...policyInputFields(t),
    skills: t.stringList({ description: 'e.g. ["dermatology"]: 1-48 letters, digits, spaces, + or -, lower-cased; at most 30.' }),
  }),
});

const UpdateResourceInput = builder.inputType('UpdateResourceInput', {
  fields: (t) => ({
    name: t.string(),
    email: t.string(),
    capacity: t.int(),
    exclusive: t.boolean(),
    active: t.boolean({
      description:
        'false archives it: it leaves `resources`, and its free future slots are withdrawn (CANCELLED); slots with bookings stay. true again: the slot horizon job plans its slots again.',
    }),
    ...policyInputFields(t),
    skills: t.stringList({ description: 'Replaces the list; [] clears it.' }),
  }),
});

builder.queryField('resources', (t) =>
  t.prismaField({
    type: ['Resource'],
    description: 'Active resources, optionally of one location and kind. An unknown locationId is a NotFoundError.',
    authScopes: { public: true },
    errors: {},
    args: { locationId: t.arg.id(), kind: t.arg({ type: ResourceKindEnum }) },
    resolve: async (query, _root, args, ctx) => {
      const locationId = args.locationId ? parseGlobalId(String(args.locationId), 'Location', ['locationId']) : undefined;
      await mustExist(ctx.db.prisma, 'Location', locationId);
      return ctx.db.prisma.resource.findMany({
        ...query,
        where: { active: true, ...(locationId ? { locationId } : {}), ...(args.kind ? { kind: args.kind } : {}) },
        orderBy: { name: 'asc' },
      });
    },
  }),
);

builder.mutationField('createResource', (t) =>
  t.prismaField({
    type: 'Resource',
    authScopes: { roles: ['manager'] },
    errors: {},
    args: { input: t.arg({ type: CreateResourceInput, required: true }) },
    resolve: (_query, _root, { input }, ctx) =>
      ctx.services.resources.create({
        ...input,
        locationId: parseGlobalId(String(input.locationId), 'Location', ['input', 'locationId']),
        capacity: input.capacity ?? undefined,
        exclusive: input.exclusive ?? undefined,
        skills: input.skills ?? undefined,
      }),
  }),
);

builder.mutationField('updateResource', (t) =>
  t.prismaField({
    type: 'Resource',
    authScopes: { roles: ['manager'] },
    errors: {},
    args: { id: t.arg.id({ required: true }), input: t.arg({ type: UpdateResourceInput, required: true }) },
    resolve: (_query, _root, { id, input }, ctx) => ctx.services.resources.update(parseGlobalId(String(id), 'Resource', ['id']), input),
  }),
);
