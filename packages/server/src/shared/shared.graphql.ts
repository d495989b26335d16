import { GraphQLError, Kind } from 'graphql';
import { builder } from '../builder.js';
import { type AppError, NotFoundError, ValidationError, type FieldError } from './errors.js';
import { isLocalDate } from './validation.js';

// Answers repeat the same instants (slots on a shared grid, each end the next start): each
// instant's string is made once; toISOString was a sixth of a week of slots.
const isoStrings = new Map<number, string>();

function isoString(date: Date): string {
  const ms = date.getTime();
  let iso = isoStrings.get(ms);
  if (iso === undefined) {
    iso = date.toISOString();
    if (isoStrings.size >= 100_000) isoStrings.clear();
    isoStrings.set(ms, iso);
  }
  return iso;
}

builder.scalarType('DateTime', {
  description: 'An instant, RFC 3339 with offset (always UTC, "Z", in responses).',
  serialize: (value) => isoString(value as Date),
  parseValue: (value) => parseDateTime(value),
  parseLiteral: (ast) => parseDateTime(ast.kind === Kind.STRING ? ast.value : undefined),
});

builder.scalarType('Date', {
  description: 'A calendar date, YYYY-MM-DD, with no time zone.',
  serialize: (value) => value,
  parseValue: (value) => parseDate(value),
  parseLiteral: (ast) => parseDate(ast.kind === Kind.STRING ? ast.value : undefined),
});

function parseDateTime(value: unknown): Date {
  // An offset is required: a wall time without a zone is ambiguous.
  if (typeof value === 'string' && /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/i.test(value)) {
    const date = new Date(value);
    if (!Number.isNaN(date.getTime())) return date;
  }
  throw new GraphQLError(`DateTime must be RFC 3339 with an offset, e.g. 2026-03-08T09:00:00-05:00; got ${JSON.stringify(value)}`, {
    extensions: { code: 'BAD_USER_INPUT' },
  });
}

function parseDate(value: unknown): string {
  if (isLocalDate(value)) return value;
  throw new GraphQLError(`Date must be YYYY-MM-DD; got ${JSON.stringify(value)}`, { extensions: { code: 'BAD_USER_INPUT' } });
}

export const ErrorInterface = builder.interfaceRef<AppError>('Error').implement({
  description: 'An expected failure. `code` is stable; switch on `__typename` or `code`.',
  fields: (t) => ({
    message: t.exposeString('message'),
    code: t.exposeString('code'),
  }),
});

const FieldErrorRef = builder.objectRef<FieldError>('FieldError').implement({
  fields: (t) => ({
    path: t.exposeStringList('path', { description: 'Path to the input field, e.g. ["input", "timeZone"].' }),
    message: t.exposeString('message'),
  }),
});

builder.objectType(ValidationError, {
  name: 'ValidationError',
  interfaces: [ErrorInterface],
  isTypeOf: (value) => value instanceof ValidationError,
  fields: (t) => ({
    fieldErrors: t.field({ type: [FieldErrorRef], resolve: (e) => e.fieldErrors }),
  }),
});

builder.objectType(NotFoundError, {
  name: 'NotFoundError',
  interfaces: [ErrorInterface],
  isTypeOf: (value) => value instanceof NotFoundError,
  fields: (t) => ({
    entity: t.exposeString('entity'),
    id: t.exposeString('id'),
  }),
});

builder.queryType({});
builder.mutationType({});
builder.subscriptionType({});
