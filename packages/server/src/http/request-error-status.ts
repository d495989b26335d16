import { GraphQLError } from 'graphql';
import { isAsyncIterable, type Plugin } from 'graphql-yoga';

/**
 * GraphQL over HTTP: an answer without `data` (variables that do not coerce, such as `capacity: "3"` or an unknown
 * enum value) is a request error, 4xx under application/graphql-response+json. `spec: true` keeps the legacy
 * application/json answer at 200, as that media type requires. Errors that carry their own status (401, 429) and
 * masked internal errors (500) keep theirs;
 * the executor's own 400 for bad variables gets `spec` too.
 */
export function useRequestErrorStatus(): Plugin {
  return {
    onResultProcess({ result, setResult }) {
      if (Array.isArray(result) || isAsyncIterable(result) || result.data !== undefined || !result.errors?.length) return;
      setResult({ ...result, errors: result.errors.map(withBadRequestStatus) });
    },
  };
}

function withBadRequestStatus(error: GraphQLError): GraphQLError {
  const http = error.extensions?.http as { status?: number; headers?: Record<string, string> } | undefined;
  // Errors about the request's parameters (no location in the document) keep Yoga's 400 in both media types.
  if (!error.locations?.length || (http?.status && http.status !== 400) || error.extensions?.code === 'INTERNAL_SERVER_ERROR') return error;
  return new GraphQLError(error.message, {
    nodes: error.nodes,
    source: error.source,
    positions: error.positions,
    path: error.path,
    originalError: error.originalError,
    extensions: { ...error.extensions, http: { ...http, status: 400, spec: true } },
  });
}
