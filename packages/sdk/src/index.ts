export { createClient, type ClientOptions, type RequestOptions, type SlotwiseClient } from './client.js';
export { SlotwiseError, isBusinessError, type BusinessError } from './errors.js';
export * from './generated/graphql.js';
