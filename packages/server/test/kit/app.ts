import { loadConfig, type Config } from '../../src/config.js';
import { createSlotwise, type Slotwise } from '../../src/app.js';
import { openDatabase } from '../../src/db/database.js';
import type { Logger } from 'pino';
import type { Role } from '../../src/generated/prisma/enums.js';
import type { DocumentNode } from 'graphql';
import { print } from 'graphql';
import { createTestDatabase, TEST_REDIS_URL } from '../databases.js';
import { SqlRecorder } from './sql-recorder.js';

export const TEST_SECRETS = {
  JWT_SECRET: 'test-secret-that-is-long-enough-0123456789',
  ENCRYPTION_KEY: '0f'.repeat(32),
};

export interface GraphQLResponse<T = any> {
  data?: T;
  errors?: { message: string; path?: string[]; extensions?: Record<string, any> }[];
}

/**
 * A typed document of the SDK (packages/sdk/src/generated: `TypedDocumentString` or `TypedDocumentNode`):
 * the result and variables types ride on it.
 */
export interface TypedDocument<TResult, TVariables> {
  __apiType?: (variables: TVariables) => TResult;
}

export interface ExecuteOptions {
  token?: string;
  headers?: Record<string, string>;
}

export interface TestApp {
  app: Slotwise;
  databaseUrl: string;
  /** Every SQL statement sent since the last `sql.reset()`, Prisma's and plain SQL's. */
  sql: SqlRecorder;
  /** Pooled-connection checkouts since the app opened (any SQL at all, Prisma's or plain). */
  checkouts(): number;
  /**
   * Sends one GraphQL request through Yoga's fetch (no port). With an SDK document the variables
   * and the answer are typed; a string (for ad-hoc queries) answers `any`.
   */
  execute<T = any>(query: string, variables?: Record<string, unknown>, options?: ExecuteOptions): Promise<GraphQLResponse<T>>;
  execute<TResult, TVariables>(
    document: TypedDocument<TResult, TVariables>,
    variables: NoInfer<TVariables>,
    options?: ExecuteOptions,
  ): Promise<GraphQLResponse<TResult>>;
  /** A user with the given roles and an API token for it. */
  tokenFor(roles: Role[], email?: string): Promise<string>;
  adminToken: string;
  close(): Promise<void>;
}

let users = 0;

/** A Slotwise app on a fresh copy of the migrated template database. */
export async function createTestApp(
  options: { redis?: boolean; config?: Partial<Record<keyof Config, string>>; logger?: Logger } = {},
): Promise<TestApp> {
  const database = await createTestDatabase();
  const config = loadConfig({
    DATABASE_URL: database.url,
    LOG_LEVEL: 'silent',
    // Nothing on disk: without SMTP_URL a test server's mail is discarded, not written to ./.slotwise/mail.
    DATA_DIR: 'memory://',
    ...TEST_SECRETS,
    ...(options.redis ? { REDIS_URL: TEST_REDIS_URL } : {}),
    // Tests fire many requests from one client; rate-limit tests turn the limits on.
    RATE_LIMIT_READS_PER_MINUTE: '0',
    RATE_LIMIT_BOOKINGS_PER_MINUTE: '0',
    ...options.config,
  });
  const sql = new SqlRecorder();
  let checkouts = 0;
  const db = await openDatabase({ url: database.url, poolMax: 20, onStatement: sql.record, onCheckout: () => checkouts++ });
  const app = await createSlotwise({ config, db, logger: options.logger });

  const tokenFor = async (roles: Role[], email = `user${++users}-${Date.now()}@test.example`) => {
    const user = await app.db.prisma.user.upsert({ where: { email }, create: { email, roles }, update: { roles } });
    return (await app.services.auth.createApiToken(user.id, { name: 'test' })).token;
  };

  return {
    app,
    databaseUrl: database.url,
    sql,
    async execute(document: string | TypedDocument<any, any>, variables?: unknown, opts: ExecuteOptions = {}) {
      const headers: Record<string, string> = { 'content-type': 'application/json', ...opts.headers };
      if (opts.token) headers.authorization = `Bearer ${opts.token}`;
      const response = await app.yoga.fetch('http://slotwise.test/graphql', {
        method: 'POST',
        headers,
        body: JSON.stringify({ query: documentText(document), variables }),
      });
      return response.json();
    },
    checkouts: () => checkouts,
    tokenFor,
    adminToken: await tokenFor(['admin'], `admin-${Date.now()}@test.example`),
    async close() {
      await app.close();
      await database.drop();
    },
  };
}

/** Fails with the errors' text when a response has any, so a test shows why. */
export function expectNoErrors<T>(response: GraphQLResponse<T>): T {
  if (response.errors?.length) throw new Error(`GraphQL errors: ${JSON.stringify(response.errors, null, 2)}`);
  return response.data as T;
}

/** A string, an SDK `TypedDocumentString` (a String) or a `TypedDocumentNode` (an AST), as text. */
function documentText(document: string | TypedDocument<any, any>): string {
  if (typeof document === 'string' || document instanceof String) return String(document);
  return print(document as DocumentNode);
}

/** Narrows a result union to the member named, failing with what came instead (typed documents' answers). */
export function expectTypename<T extends { __typename: string }, N extends T['__typename']>(value: T, typename: N): Extract<T, { __typename: N }> {
  if (value.__typename !== typename) throw new Error(`expected ${typename}, got ${JSON.stringify(value)}`);
  return value as Extract<T, { __typename: N }>;
}
