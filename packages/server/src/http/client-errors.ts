import type { GraphQLError } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { Logger } from 'pino';

interface ErrorLike {
  message?: unknown;
  extensions?: { code?: unknown };
}

/** What a refused operation is logged with: codes and short messages, never a stack. */
export function describeClientErrors(errors: readonly (GraphQLError | ErrorLike)[]) {
  return {
    codes: [...new Set(errors.map((e) => (typeof e.extensions?.code === 'string' ? e.extensions.code : 'BAD_REQUEST')))],
    messages: errors.slice(0, 3).map((e) => withoutValues(String(e.message)).slice(0, 200)),
  };
}

/**
 * graphql-js quotes the offending input in its messages (`Variable "$input" got invalid value
 * { name: "...", email: "..." }`, `String cannot represent a non string value: 4420...`, a JSON
 * parser's snippet of the body): the values a client sent may be personal data, so the logged
 * message keeps where and what kind of problem, not the value. The client's own answer is unchanged.
 */
export function withoutValues(message: string): string {
  const variable = /^Variable "(\$[^"]+)" got invalid value/.exec(message);
  if (variable) {
    const at = / at "([\w.]+)"; /.exec(message);
    return `Variable "${variable[1]}" got invalid value${at ? ` at "${at[1]}"` : ''}`;
  }
  return message
    .replace(/(cannot represent[^:]*:).*$/s, '$1 [value]')
    .replace(/(, found ).*$/s, '$1[value]')
    .replace(/^Value ".*?" does not exist/s, 'Value [value] does not exist')
    .replace(/".*" is not valid JSON/s, '[body] is not valid JSON');
}

/**
 * Anyone can send a broken query, so a refusal (syntax, validation, limits, authentication) is one
 * warn line with the request id, not an error with a stack trace. Unexpected errors are logged
 * where they are masked.
 */
export function useClientErrorLog(log: Logger, requestIdOf: (request: Request) => string | undefined): Plugin {
  return {
    onResultProcess({ request, result }) {
      if (Symbol.asyncIterator in Object(result)) return;
      for (const single of Array.isArray(result) ? result : [result]) {
        const errors = (single as { errors?: readonly ErrorLike[] }).errors;
        if (!errors?.length) continue;
        const described = describeClientErrors(errors);
        if (described.codes.every((code) => code === 'INTERNAL_SERVER_ERROR')) continue;
        log.warn({ requestId: requestIdOf(request), ...described }, 'operation refused');
      }
    },
  };
}
