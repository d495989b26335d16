import { loadConfig, type Config } from '../src/config.js';
import { createSlotwise, type Slotwise } from '../src/app.js';
import { openDatabase } from '../src/db/database.js';
import type { Logger } from 'pino';
import type { Role } from '../src/generated/prisma/enums.js';
import { createTestDatabase, TEST_REDIS_URL } from './databases.js';

export const TEST_SECRETS = {
  JWT_SECRET: 'test-secret-that-is-long-enough-0123456789',
  ENCRYPTION_KEY: '0f'.repeat(32),
};

export interface GraphQLResponse<T = any> {
  data?: T;
  errors?: { message: string; path?: string[]; extensions?: Record<string, any> }[];
}

export interface TestApp {
  app: Slotwise;
  databaseUrl: string;
  /** Every SQL statement Prisma sent since the last `sql.reset()`. */
  sql: { statements: string[]; reset(): void };
  /** Pooled-connection checkouts since the app opened (any SQL at all, Prisma's or plain). */
  checkouts(): number;
  /** Sends one GraphQL request through Yoga's fetch (no port). */
  execute<T = any>(query: string, variables?: Record<string, unknown>, options?: { token?: string; headers?: Record<string, string> }): Promise<GraphQLResponse<T>>;
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
  const statements: string[] = [];
  let checkouts = 0;
  const db = await openDatabase({ url: database.url, poolMax: 20, onQuery: (q) => statements.push(q), onCheckout: () => checkouts++ });
  const app = await createSlotwise({ config, db, logger: options.logger });

  const tokenFor = async (roles: Role[], email = `user${++users}-${Date.now()}@test.example`) => {
    const user = await app.db.prisma.user.upsert({ where: { email }, create: { email, roles }, update: { roles } });
    return (await app.services.auth.createApiToken(user.id, { name: 'test' })).token;
  };

  return {
    app,
    databaseUrl: database.url,
    sql: {
      statements,
      reset: () => {
        statements.length = 0;
      },
    },
    async execute(query, variables, opts = {}) {
      const headers: Record<string, string> = { 'content-type': 'application/json', ...opts.headers };
      if (opts.token) headers.authorization = `Bearer ${opts.token}`;
      const response = await app.yoga.fetch('http://slotwise.test/graphql', {
        method: 'POST',
        headers,
        body: JSON.stringify({ query, variables }),
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
