/**
 * The typed documents as real `TypedDocumentNode`s (`@slotwise/sdk/documents`), for urql, Apollo Client,
 * graphql-request or the Slotwise client, with the schema facts their caches need.
 */
export * from './generated/document-nodes.js';
export { possibleTypes, graphcacheKeys, graphcacheSchema } from './generated/schema-meta.js';
