import SchemaBuilder, { RootFieldBuilder } from '@pothos/core';
import ScopeAuthPlugin from '@pothos/plugin-scope-auth';
import ErrorsPlugin from '@pothos/plugin-errors';
import PrismaPlugin from '@pothos/plugin-prisma';
import RelayPlugin, { encodeGlobalID } from '@pothos/plugin-relay';
import DataloaderPlugin from '@pothos/plugin-dataloader';
import { GraphQLError } from 'graphql';
import type PrismaTypes from './generated/pothos-prisma-types.js';
import { getDatamodel } from './generated/pothos-prisma-types.js';
import type { Context } from './context.js';
import type { Role } from './generated/prisma/enums.js';
import { hasAnyRole } from './shared/actor.js';
import { NotFoundError, ValidationError } from './shared/errors.js';

export const builder = new SchemaBuilder<{
  Context: Context;
  PrismaTypes: PrismaTypes;
  AuthScopes: { public: boolean; authenticated: boolean; roles: Role[] };
  Scalars: {
    DateTime: { Input: Date; Output: Date };
    Date: { Input: string; Output: string };
    ID: { Input: string; Output: string | number };
  };
  DefaultFieldNullability: false;
}>({
  plugins: [ScopeAuthPlugin, ErrorsPlugin, PrismaPlugin, RelayPlugin, DataloaderPlugin],
  defaultFieldNullability: false,
  scopeAuth: {
    authScopes: (ctx) => ({
      public: true,
      authenticated: ctx.actor !== null,
      roles: (roles) => hasAnyRole(ctx.actor, roles),
    }),
    unauthorizedError: (_parent, ctx) =>
      ctx.actor
        ? new GraphQLError('You do not have a role that allows this', { extensions: { code: 'FORBIDDEN', http: { status: 200 } } })
        : new GraphQLError('Sign in to do this', { extensions: { code: 'UNAUTHENTICATED', http: { status: 200 } } }),
  },
  errors: {
    defaultTypes: [ValidationError, NotFoundError],
    directResult: true,
    // Public names from the field alone (book -> BookResult), never the builder's Mutation/Query prefix:
    // every root field added later gets its name by this rule (test/schema-names.test.ts lists any other).
    defaultUnionOptions: { name: ({ fieldName }) => `${upperFirst(fieldName)}Result` },
    defaultResultOptions: { name: ({ fieldName }) => `${upperFirst(fieldName)}Success` },
  },
  prisma: {
    client: (ctx) => ctx.db.prisma,
    dmmf: getDatamodel(),
    exposeDescriptions: false,
    filterConnectionTotalCount: true,
    onUnusedQuery: null,
  },
  relay: {
    clientMutationId: 'omit',
    cursorType: 'String',
    // Open to everyone: each node type's own authScopes decide what a caller may see.
    nodeQueryOptions: { authScopes: { public: true } },
    nodesQueryOptions: { authScopes: { public: true } },
  },
});

function upperFirst(name: string): string {
  return name.charAt(0).toUpperCase() + name.slice(1);
}

/** Relay connection and edge names from the node type (Booking -> BookingConnection, BookingEdge). */
export function connectionNames(nodeType: string) {
  return [{ name: `${nodeType}Connection` }, { name: `${nodeType}Edge` }] as const;
}

type GlobalIdSource = { type: unknown; id: unknown } | string | null | undefined;
type Resolver<T> = (parent: unknown, args: unknown, context: unknown, info: unknown) => T | Promise<T>;

/**
 * The relay plugin's `globalID` field (every node's `id`) is always async, so each node in a list
 * (a week of slots is hundreds) completes through promises: about a third of the time of an
 * availability answer. Same field and encoding, synchronous when the id is at hand.
 */
(RootFieldBuilder.prototype as unknown as { globalID: unknown }).globalID = function globalID(
  this: { builder: { configStore: { getTypeConfig(ref: unknown): { name: string } } }; field(options: object): unknown },
  { resolve, ...options }: { resolve: Resolver<GlobalIdSource> },
) {
  const encode = (item: GlobalIdSource) =>
    !item || typeof item !== 'object' ? item : encodeGlobalID(this.builder.configStore.getTypeConfig(item.type).name, String(item.id));
  return this.field({
    ...options,
    type: 'ID',
    resolve: (parent: unknown, args: unknown, context: unknown, info: unknown) => {
      const result = resolve(parent, args, context, info);
      return result instanceof Promise ? result.then(encode) : encode(result);
    },
  });
};
