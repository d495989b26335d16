import { isIntrospectionType } from 'graphql';
import { describe, expect, it } from 'vitest';
import { schema } from '../src/schema.js';

/**
 * Pothos names generated types after their root type and field (`MutationBookResult`, `QueryBookingsConnectionEdge`)
 * unless told otherwise. The builder names error unions `<Field>Result` and success wrappers `<Field>Success`;
 * connections take `connectionNames(<Node>)`. Anything still named by the default shows up here.
 */
const AUTO_NAMED = /^(Query|Mutation|Subscription)[A-Z]|ConnectionEdge$/;

describe('schema type names', () => {
  it('has no builder-default names (Query…/Mutation…/Subscription… prefixes, …ConnectionEdge)', () => {
    const names = Object.keys(schema.getTypeMap()).filter((name) => !isIntrospectionType(schema.getType(name)!));
    expect(names.filter((name) => AUTO_NAMED.test(name))).toEqual([]);
  });

  it('names results after their field: book -> BookResult, bookings -> BookingConnection / BookingEdge', () => {
    const field = (root: 'Query' | 'Mutation', name: string) =>
      String((root === 'Query' ? schema.getQueryType() : schema.getMutationType())!.getFields()[name]!.type);
    expect(field('Mutation', 'book')).toBe('BookResult!');
    expect(field('Mutation', 'hold')).toBe('HoldResult!');
    expect(field('Query', 'bookings')).toBe('BookingsResult!');
    expect(schema.getType('BookingConnection')).toBeDefined();
    expect(schema.getType('BookingEdge')).toBeDefined();
    expect(field('Query', 'myBookings')).toBe('MyBookingsResult!');
  });
});
