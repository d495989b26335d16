import { createSourceEventStream, execute, getOperationAST, type ExecutionArgs, type ExecutionResult } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { Actor } from '../shared/actor.js';
import { isShareable } from './shareable.js';

const results = new WeakMap<object, Map<string, ExecutionResult | Promise<ExecutionResult>>>();
const documentIds = new WeakMap<object, number>();
let nextDocumentId = 0;

function cacheKey(args: ExecutionArgs): string {
  let documentId = documentIds.get(args.document);
  if (documentId === undefined) documentIds.set(args.document, (documentId = nextDocumentId++));
  const actor = (args.contextValue as { actor: Actor | null }).actor;
  return `${documentId}|${args.operationName ?? ''}|${JSON.stringify(args.variableValues ?? {})}|${actor ? `${actor.userId}:${[...actor.roles].sort()}` : 'public'}`;
}

/**
 * A thousand widgets watching one resource receive the same event; executing the selection set
 * once per distinct (operation, variables, actor) instead of once per subscriber is most of the
 * fan-out cost. Only `slotAvailability` operations take this path, and only events marked
 * shareable are cached (keyed weakly by the event, so the cache lives as long as the event).
 */
export function useSharedLiveExecution(rootField = 'slotAvailability'): Plugin {
  return {
    onSubscribe({ args, setSubscribeFn }) {
      const operation = getOperationAST(args.document, args.operationName);
      const [first] = operation?.selectionSet.selections ?? [];
      if (operation?.selectionSet.selections.length !== 1 || first?.kind !== 'Field' || first.name.value !== rootField) return;
      setSubscribeFn(async (subscribeArgs) => {
        const source = await createSourceEventStream(subscribeArgs);
        if (!isAsyncIterable(source)) return source;
        return mapEvents(source, (payload) => executeShared(subscribeArgs, payload));
      });
    },
  };
}

function executeShared(args: ExecutionArgs, payload: unknown): ExecutionResult | Promise<ExecutionResult> {
  const run = () => execute({ ...args, rootValue: payload }) as ExecutionResult | Promise<ExecutionResult>;
  if (!isShareable(payload)) return run();
  let byKey = results.get(payload);
  if (!byKey) results.set(payload, (byKey = new Map()));
  const key = cacheKey(args);
  let result = byKey.get(key);
  if (!result) byKey.set(key, (result = run()));
  return result;
}

function isAsyncIterable(value: unknown): value is AsyncIterable<unknown> {
  return typeof value === 'object' && value !== null && Symbol.asyncIterator in value;
}

/** Maps an event stream, passing return() straight through so unsubscribing ends the source at once. */
function mapEvents<T, R>(source: AsyncIterable<T>, map: (value: T) => R | Promise<R>): AsyncIterableIterator<R> {
  const iterator = source[Symbol.asyncIterator]();
  return {
    async next() {
      const next = await iterator.next();
      return next.done ? { done: true, value: undefined } : { done: false, value: await map(next.value) };
    },
    async return() {
      await iterator.return?.();
      return { done: true, value: undefined };
    },
    async throw(error?: unknown) {
      await iterator.return?.();
      throw error;
    },
    [Symbol.asyncIterator]() {
      return this;
    },
  };
}
