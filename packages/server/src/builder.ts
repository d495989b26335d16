import SchemaBuilder from '@pothos/core';
import ScopeAuthPlugin from '@pothos/plugin-scope-auth';
import ErrorsPlugin from '@pothos/plugin-errors';
import PrismaPlugin from '@pothos/plugin-prisma';
import RelayPlugin, { decodeGlobalID } from '@pothos/plugin-relay';
import DataloaderPlugin from '@pothos/plugin-dataloader';
import { GraphQLError, isObjectType, type GraphQLResolveInfo } from 'graphql';
import type PrismaTypes from './generated/pothos-prisma-types.js';
import { getDatamodel } from './generated/pothos-prisma-types.js';
import type { Context } from './context.js';
import type { Role } from './generated/prisma/enums.js';
import { hasAnyRole } from './shared/actor.js';
import { NotFoundError, ValidationError } from './shared/errors.js';
import { patchSynchronousGlobalIds } from './sync-global-ids.js';

patchSynchronousGlobalIds();

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
    // Open to everyone: a node the caller may not see, or that does not exist, is null (visibleNode).
    decodeGlobalID: decodeOrUnknown,
    nodeQueryOptions: {
      authScopes: { public: true },
      resolve: (_root, { id }, ctx, info, resolveNode) => visibleNode(ctx, info, id, () => resolveNode(id)),
    },
    nodesQueryOptions: {
      authScopes: { public: true },
      // The plugin's resolveNodes loads the field's own `args.ids` whatever it is passed, and one
      // missing row fails its whole batch: so each id is loaded on its own (the loads still batch).
      resolve: (_root, args, ctx, info, resolveNodes) => {
        const ids = args.ids;
        const loads = ids.map((id) => {
          if (!isNodeId(info, id)) return null;
          args.ids = [id];
          const loaded = resolveNodes([id]).then((nodes) => nodes[0]);
          loaded.catch(() => {}); // handled by visibleNode
          return loaded;
        });
        args.ids = ids;
        return ids.map((id, i) => visibleNode(ctx, info, id, () => loads[i]));
      },
    },
  },
});

/**
 * Per node type, who may see one through `node`/`nodes`; it must agree with the type's authScopes
 * (which still guard every other path). Types not listed are public.
 */
// biome-ignore lint/suspicious/noExplicitAny: each node type registers a check over its own row type.
export const nodeVisibility = new Map<string, (node: any, ctx: Context) => boolean | Promise<boolean>>();

const UNKNOWN_NODE = { typename: '', id: '' };
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** An id that does not decode is no node at all (null), not an error. */
function decodeOrUnknown(globalID: string): { typename: string; id: string } {
  try {
    return decodeGlobalID(globalID);
  } catch {
    return UNKNOWN_NODE;
  }
}

function isNodeId(info: GraphQLResolveInfo, id: { typename: string; id: string }): boolean {
  const type = info.schema.getType(id.typename);
  return isObjectType(type) && type.getInterfaces().some((i) => i.name === 'Node') && UUID.test(id.id);
}

/** Unknown, malformed and hidden ids all answer null alike: `node` never tells that something exists. */
async function visibleNode(ctx: Context, info: GraphQLResolveInfo, id: { typename: string; id: string }, load: () => unknown): Promise<unknown> {
  if (!isNodeId(info, id)) return null;
  let node: unknown;
  try {
    node = await load();
  } catch (error) {
    // Prisma's "record not found" from the node loader; anything else (a database fault) stays an error.
    if ((error as { code?: string }).code === 'P2025') return null;
    throw error;
  }
  const visible = nodeVisibility.get(id.typename);
  return node && (!visible || (await visible(node, ctx))) ? node : null;
}

function upperFirst(name: string): string {
  return name.charAt(0).toUpperCase() + name.slice(1);
}

/** Relay connection and edge names from the node type (Booking -> BookingConnection, BookingEdge). */
export function connectionNames(nodeType: string) {
  return [{ name: `${nodeType}Connection` }, { name: `${nodeType}Edge` }] as const;
}
