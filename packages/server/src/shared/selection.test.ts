import { buildSchema, execute, parse, type GraphQLResolveInfo, type OperationDefinitionNode } from 'graphql';
import { describe, expect, it } from 'vitest';
import { rootFieldNames } from '../ratelimit/client.js';
import { selectedFieldNames } from './selection.js';

const schema = buildSchema(`
  type Query { list: ListResult }
  union ListResult = ListSuccess | Failure
  type ListSuccess { data: [Item!]! }
  type Failure { message: String! }
  type Item { id: ID! status: String! customer: Customer }
  type Customer { email: String! }
`);

/** What `list`'s resolver would see of a document: the field names under `data`. */
function underData(document: string): string[] {
  let seen: Set<string> | undefined;
  execute({
    schema,
    document: parse(document),
    rootValue: {
      list: (_args: unknown, _ctx: unknown, info: GraphQLResolveInfo) => {
        seen = selectedFieldNames(info, ['data']);
        return null;
      },
    },
  });
  return [...seen!].sort();
}

describe('selectedFieldNames', () => {
  it('names the fields under a path, through inline fragments, named fragments and aliases', () => {
    expect(underData('{ list { __typename ... on ListSuccess { data { id status } } } }')).toEqual(['id', 'status']);
    expect(underData('{ list { ... on ListSuccess { data { ...Row } } } } fragment Row on Item { id customer { email } }')).toEqual([
      'customer',
      'id',
    ]);
    expect(underData('{ list { ... on ListSuccess { rows: data { key: id } more: data { status } } } }')).toEqual(['id', 'status']);
    expect(underData('{ list { ...Wrap } } fragment Wrap on ListSuccess { data { ... on Item { status } } }')).toEqual(['status']);
  });

  it('counts a field under @skip or @include (reads too much, never too little), and nothing where the path is not selected', () => {
    expect(underData('{ list { ... on ListSuccess { data { id customer @skip(if: true) { email } } } } }')).toEqual(['customer', 'id']);
    expect(underData('{ list { __typename ... on Failure { message } } }')).toEqual([]);
  });
});

describe('rootFieldNames', () => {
  it('reads root fields through fragments, and a fragment that spreads itself only once', () => {
    const document = parse('mutation { a: book ...F } fragment F on Mutation { hold ...F }');
    const operation = document.definitions[0] as OperationDefinitionNode;
    expect(rootFieldNames(operation.selectionSet, document)).toEqual(['book', 'hold']);
  });
});
