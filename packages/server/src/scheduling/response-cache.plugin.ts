import { createHash } from 'node:crypto';
import { getArgumentValues, getOperationAST, print, type DocumentNode, type ExecutionResult, type GraphQLSchema } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { Context } from '../context.js';
import { scopeIds } from './availability.graphql.js';
import { willKeep, type CacheOutcome, type ResponseCache, type Scope } from './response-cache.js';

/** Root fields whose answer depends only on their arguments, the slots of one scope and the clock. */
const CACHEABLE_FIELDS = new Set(['availability', 'availabilityByDay', 'availableDates']);

/**
 * Serves repeated anonymous availability queries from the ResponseCache, keyed by the document, the
 * operation name and the variables. Signed-in callers (staff see draft forms), operations with any
 * other root field, and answers with errors are never cached. Each response says what happened in
 * `X-Response-Cache` (hit, miss or bypass).
 */
export function useResponseCache(cache: ResponseCache, onOutcome: (outcome: CacheOutcome) => void = () => {}): Plugin {
  const printed = new WeakMap<DocumentNode, string>();
  const outcomes = new WeakMap<Request, CacheOutcome>();

  return {
    async onExecute({ args, setResultAndStopExecution }) {
      const context = args.contextValue as unknown as Context & { request?: Request };
      const scopes = context.actor ? null : cacheableScopes(args.schema, args.document, args.operationName, args.variableValues);
      const outcome = (value: CacheOutcome) => {
        onOutcome(value);
        if (context.request) outcomes.set(context.request, value);
      };
      if (!scopes) return;
      let text = printed.get(args.document);
      if (text === undefined) printed.set(args.document, (text = print(args.document)));
      const key = createHash('sha256')
        .update(`${text}\n${args.operationName ?? ''}\n${JSON.stringify(args.variableValues ?? {})}`)
        .digest('base64url');
      const found = await cache.lookup(key, scopes);
      if (!found) return outcome('bypass');
      if ('hit' in found) {
        outcome('hit');
        return setResultAndStopExecution(found.hit as ExecutionResult);
      }
      outcome('miss');
      willKeep(context);
      return {
        onExecuteDone({ result }) {
          if ('data' in result && !result.errors?.length) void cache.keep(key, found.gens, { data: result.data });
        },
      };
    },
    onResponse({ request, response }) {
      const outcome = outcomes.get(request);
      if (outcome) response.headers.set('x-response-cache', outcome);
    },
  };
}

/** The scopes a query reads when every root field is a cacheable one; null when it is not cacheable. */
function cacheableScopes(
  schema: GraphQLSchema,
  document: DocumentNode,
  operationName: string | null | undefined,
  variables: Record<string, unknown> | null | undefined,
): Scope[] | null {
  const operation = getOperationAST(document, operationName);
  const queryType = schema.getQueryType();
  if (operation?.operation !== 'query' || !queryType) return null;
  const scopes = new Set<Scope>();
  try {
    for (const selection of operation.selectionSet.selections) {
      if (selection.kind !== 'Field') return null;
      if (selection.name.value === '__typename') continue;
      if (!CACHEABLE_FIELDS.has(selection.name.value) || selection.directives?.length) return null;
      const field = queryType.getFields()[selection.name.value]!;
      const ids = scopeIds(getArgumentValues(field, selection, variables ?? {}));
      for (const [kind, id] of [
        ['resource', ids.resourceId],
        ['location', ids.locationId],
        ['form', ids.formId],
      ] as const) {
        if (id) scopes.add(`${kind}:${id}`);
      }
    }
  } catch {
    // Bad arguments: executing reports them; nothing to cache.
    return null;
  }
  return scopes.size ? [...scopes] : null;
}
