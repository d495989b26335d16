import { builder, nodeVisibility } from '../builder.js';
import { Role } from '../generated/prisma/enums.js';
import type { Context } from '../context.js';
import { hasAnyRole } from '../shared/actor.js';
import { parseGlobalId } from '../shared/ids.js';

// An account and its tokens are its owner's and the admins' (as `users` is admin-only), not every signed-in caller's.
const ownerOrAdmin = (userId: string, ctx: Context) => ctx.actor !== null && (ctx.actor.userId === userId || hasAnyRole(ctx.actor, ['admin']));
nodeVisibility.set('User', (user: { id: string }, ctx) => ownerOrAdmin(user.id, ctx));
nodeVisibility.set('ApiToken', (token: { userId: string }, ctx) => ownerOrAdmin(token.userId, ctx));

export const RoleEnum = builder.enumType(Role, { name: 'Role' });

export const UserRef = builder.prismaNode('User', {
  id: { field: 'id' },
  authScopes: { authenticated: true },
  fields: (t) => ({
    email: t.exposeString('email'),
    name: t.exposeString('name'),
    roles: t.expose('roles', { type: [RoleEnum] }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
  }),
});

export const ApiTokenRef = builder.prismaNode('ApiToken', {
  id: { field: 'id' },
  authScopes: { authenticated: true },
  fields: (t) => ({
    name: t.exposeString('name'),
    prefix: t.exposeString('prefix', { description: 'The first characters of the token, to tell tokens apart.' }),
    expiresAt: t.expose('expiresAt', { type: 'DateTime', nullable: true }),
    lastUsedAt: t.expose('lastUsedAt', { type: 'DateTime', nullable: true }),
    revokedAt: t.expose('revokedAt', { type: 'DateTime', nullable: true }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
  }),
});

interface CreatedApiTokenShape {
  token: string;
  apiToken: { id: string };
}

const CreatedApiToken = builder.objectRef<CreatedApiTokenShape>('CreatedApiToken').implement({
  fields: (t) => ({
    token: t.exposeString('token', { description: 'The secret. Shown this once; only its hash is stored.' }),
    apiToken: t.prismaField({
      type: 'ApiToken',
      resolve: (query, created, _args, ctx) => ctx.db.prisma.apiToken.findUniqueOrThrow({ ...query, where: { id: created.apiToken.id } }),
    }),
  }),
});

builder.queryField('me', (t) =>
  t.prismaField({
    type: 'User',
    nullable: true,
    description: 'The signed-in user, or null for the public. `roles` are the ones this request is authorized with.',
    authScopes: { public: true },
    resolve: async (query, _root, _args, ctx) => {
      if (!ctx.actor) return null;
      const user = await ctx.db.prisma.user.findUnique({ ...query, where: { id: ctx.actor.userId } });
      // A JWT's roles come from the identity provider and authorize this request; the stored row may differ.
      return user && { ...user, roles: ctx.actor.roles };
    },
  }),
);

builder.queryField('users', (t) =>
  t.prismaField({
    type: ['User'],
    authScopes: { roles: ['admin'] },
    resolve: (query, _root, _args, ctx) => ctx.db.prisma.user.findMany({ ...query, orderBy: { email: 'asc' } }),
  }),
);

builder.queryField('myApiTokens', (t) =>
  t.prismaField({
    type: ['ApiToken'],
    authScopes: { authenticated: true },
    resolve: (query, _root, _args, ctx) =>
      ctx.db.prisma.apiToken.findMany({ ...query, where: { userId: ctx.actor!.userId }, orderBy: { createdAt: 'desc' } }),
  }),
);

const CreateUserInput = builder.inputType('CreateUserInput', {
  fields: (t) => ({
    email: t.string({ required: true }),
    name: t.string(),
    roles: t.field({ type: [RoleEnum] }),
  }),
});

builder.mutationField('createUser', (t) =>
  t.prismaField({
    type: 'User',
    authScopes: { roles: ['admin'] },
    errors: {},
    args: { input: t.arg({ type: CreateUserInput, required: true }) },
    resolve: (_query, _root, { input }, ctx) =>
      ctx.services.auth.createUser({ email: input.email, name: input.name ?? undefined, roles: input.roles ?? undefined }),
  }),
);

const CreateApiTokenInput = builder.inputType('CreateApiTokenInput', {
  fields: (t) => ({
    name: t.string({ required: true }),
    expiresAt: t.field({ type: 'DateTime' }),
  }),
});

builder.mutationField('createApiToken', (t) =>
  t.field({
    type: CreatedApiToken,
    authScopes: { authenticated: true },
    errors: {},
    args: { input: t.arg({ type: CreateApiTokenInput, required: true }) },
    resolve: (_root, { input }, ctx) => ctx.services.auth.createApiToken(ctx.actor!.userId, input, ctx.actor!.via),
  }),
);

builder.mutationField('revokeApiToken', (t) =>
  t.prismaField({
    type: 'ApiToken',
    authScopes: { authenticated: true },
    errors: {},
    args: { id: t.arg.id({ required: true }) },
    resolve: (_query, _root, { id }, ctx) => ctx.services.auth.revokeApiToken(ctx.actor!, parseGlobalId(String(id), 'ApiToken', ['id'])),
  }),
);
