import { readFileSync } from 'node:fs';
import { GraphQLError, parse, print, type DocumentNode } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { Context } from '../context.js';
import { hasAnyRole, STAFF_ROLES } from '../shared/actor.js';

/** The SDK's manifest (`pnpm codegen`): sha256 hex of each operation's text -> the text. */
export const MANIFEST_FILE = new URL('../../../sdk/src/generated/persisted-operations.json', import.meta.url);

export type PersistedMode = 'off' | 'allow' | 'only';

export function loadManifest(file: URL = MANIFEST_FILE): Record<string, string> {
  return JSON.parse(readFileSync(file, 'utf8')) as Record<string, string>;
}

/**
 * `allow`: a request may name a manifest operation by `extensions.persistedQuery.sha256Hash` instead of sending its
 * text. `only`: besides, callers who are not staff may run manifest operations only (by hash, or by text that
 * prints the same, which is how graphql-ws subscriptions and TypedDocumentNode clients send them).
 */
export function usePersistedOperations(mode: PersistedMode, manifest: Record<string, string>): Plugin {
  if (mode === 'off') return {};
  const known = new Set(Object.values(manifest).map((text) => print(parse(text))));
  const checked = new WeakMap<DocumentNode, boolean>();
  const isKnown = (document: DocumentNode) => {
    let result = checked.get(document);
    if (result === undefined) checked.set(document, (result = known.has(print(document))));
    return result;
  };
  const refuseUnknown = (args: { document: DocumentNode; contextValue: unknown }) => {
    if (mode !== 'only' || hasAnyRole((args.contextValue as Context).actor, STAFF_ROLES) || isKnown(args.document)) return undefined;
    return {
      errors: [
        new GraphQLError('Only persisted operations are accepted: send extensions.persistedQuery.sha256Hash from the SDK manifest', {
          extensions: { code: 'PERSISTED_QUERY_ONLY', http: { status: 403 } },
        }),
      ],
    };
  };
  return {
    onParams({ params, setParams }) {
      const hash = (params.extensions?.persistedQuery as { sha256Hash?: unknown } | undefined)?.sha256Hash;
      if (typeof hash !== 'string') return;
      const query = manifest[hash];
      if (query === undefined) {
        throw new GraphQLError('PersistedQueryNotFound', { extensions: { code: 'PERSISTED_QUERY_NOT_FOUND', http: { status: 404 } } });
      }
      setParams({ ...params, query });
    },
    onExecute({ args, setResultAndStopExecution }) {
      const refusal = refuseUnknown(args);
      if (refusal) setResultAndStopExecution(refusal);
    },
    onSubscribe({ args, setResultAndStopExecution }) {
      const refusal = refuseUnknown(args);
      if (refusal) setResultAndStopExecution(refusal);
    },
  };
}
