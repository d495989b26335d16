export {
  browserTimeZone,
  createClient,
  type ClientOptions,
  type RequestOptions,
  type SlotwiseClient,
  type Subscription,
  type Document,
} from './client.js';
export { createSessionClient, type SessionClient, type SessionClientOptions, type SessionTokens } from './session.js';
export { SlotwiseError, isBusinessError, type BusinessError } from './errors.js';
export { possibleTypes, graphcacheKeys } from './generated/schema-meta.js';
export * from './generated/graphql.js';
