/** The typed documents alone (`@slotwise/sdk/documents`), for urql, Apollo or any GraphQL client. */
export * from './generated/graphql.js';
