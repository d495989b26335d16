import { GraphQLError, NoSchemaIntrospectionCustomRule } from 'graphql';
import { createYoga, type Plugin, type YogaInitialContext } from 'graphql-yoga';
import { EnvelopArmorPlugin } from '@escape.tech/graphql-armor';
import type { Logger } from 'pino';
import type { Config } from './config.js';
import type { Context } from './context.js';
import { openDatabase, type Database } from './db/database.js';
import { migrate } from './db/migrate.js';
import { createLogger } from './logger.js';
import { createPubSubHandle } from './live/pubsub.js';
import { useSharedLiveExecution } from './live/shared-execution.js';
import { createMetrics } from './http/metrics.js';
import { useCompression } from './http/compression.js';
import { useRequestErrorStatus } from './http/request-error-status.js';
import { GRAPHIQL_OPTIONS, renderGraphiQL } from './http/graphiql.js';
import { loadManifest, usePersistedOperations } from './http/persisted-operations.js';
import { requestIdFrom } from './http/request-id.js';
import { schema } from './schema.js';
import { createServices } from './services.js';
import { withEmbeddedSecrets } from './secrets.js';
import { AuthenticationError } from './auth/auth.service.js';
import { useResponseCache } from './scheduling/response-cache.plugin.js';
import { useIdempotency } from './idempotency/idempotency.plugin.js';
import { RateLimiter } from './ratelimit/limiter.js';
import { useRateLimit } from './ratelimit/ratelimit.plugin.js';
import { FallbackRateLimitStore, MemoryRateLimitStore, RedisRateLimitStore } from './ratelimit/store.js';
import { createRedisClient, readyOrTimeout } from './redis/redis-client.js';
import { RedisFallback } from './redis/redis-fallback.js';
import { isConnectionError } from './db/retry.js';
import { useClientErrorLog } from './http/client-errors.js';

export interface SlotwiseOptions {
  config: Config;
  /** An already open database (tests); otherwise one is opened from the config. */
  db?: Database;
  logger?: Logger;
}

/** Everything one server process runs, without listening: tests call `yoga.fetch`. */
export async function createSlotwise(options: SlotwiseOptions) {
  const config = withEmbeddedSecrets(options.config);
  // Embedded mode (no DATABASE_URL) is a developer's machine: GraphiQL and introspection default on.
  const embedded = !config.DATABASE_URL;
  const log = options.logger ?? createLogger(config.LOG_LEVEL);
  const db =
    options.db ??
    (await openDatabase({
      url: config.DATABASE_URL,
      dataDir: config.DATA_DIR,
      poolMax: config.DATABASE_POOL_MAX,
      statementTimeoutMs: config.DATABASE_STATEMENT_TIMEOUT_MS,
      idleInTransactionTimeoutMs: config.DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_MS,
      onConnectionError: (err) => log.warn({ reason: err.message, code: (err as { code?: string }).code }, 'database connection lost; the pool replaces it'),
    }));
  const applied = await migrate(db.sql);
  if (applied.length) log.info({ applied }, 'migrations applied');

  const metrics = createMetrics();
  // Redis is an accelerator: the server starts and serves without it (see RedisFallback).
  const redis = config.REDIS_URL
    ? createRedisClient(config.REDIS_URL, { name: `slotwise-cmd-${process.pid}`, commandTimeoutMs: config.REDIS_COMMAND_TIMEOUT_MS, log })
    : undefined;
  const redisFallback = redis && new RedisFallback(redis, log, (component) => metrics.redisFallbacks.inc({ component }));
  const pubsubHandle = createPubSubHandle(
    config.REDIS_URL && redisFallback ? { url: config.REDIS_URL, commandTimeoutMs: config.REDIS_COMMAND_TIMEOUT_MS, log, fallback: redisFallback } : undefined,
  );
  if (redis) {
    const connected = await Promise.all([redis, ...pubsubHandle.clients].map((client) => readyOrTimeout(client, config.REDIS_COMMAND_TIMEOUT_MS)));
    if (!connected.every(Boolean)) log.warn('redis unavailable at start; serving in degraded mode until it is reachable');
  }
  const services = createServices({
    config,
    db,
    pubsub: pubsubHandle.pubsub,
    redis: redis && redisFallback ? { client: redis, fallback: redisFallback } : undefined,
    metrics,
  });
  const rateLimiter = new RateLimiter({
    readsPerMinute: config.RATE_LIMIT_READS_PER_MINUTE,
    bookingsPerMinute: config.RATE_LIMIT_BOOKINGS_PER_MINUTE,
    trustedProxies: config.TRUST_PROXY,
    store:
      redis && redisFallback ? new FallbackRateLimitStore(new RedisRateLimitStore(redis), new MemoryRateLimitStore(), redisFallback) : new MemoryRateLimitStore(),
    onLimited: (kind) => metrics.rateLimited.inc({ kind }),
  });
  const requestIds = new WeakMap<Request, string>();
  let closing: Promise<void> | undefined;

  const requestIdPlugin: Plugin = {
    onRequest({ request }) {
      requestIds.set(request, requestIdFrom(request.headers.get('x-request-id')));
    },
    onResponse({ request, response }) {
      const requestId = requestIds.get(request);
      if (requestId) response.headers.set('x-request-id', requestId);
    },
  };

  const yoga = createYoga<Record<string, unknown>, Context>({
    schema,
    graphqlEndpoint: '/graphql',
    landingPage: false,
    graphiql: (config.GRAPHIQL ?? embedded) && GRAPHIQL_OPTIONS,
    renderGraphiQL,
    cors: { origin: config.CORS_ORIGINS, credentials: false },
    logging: false,
    maskedErrors: {
      maskError(error, message) {
        const original = (error as GraphQLError).originalError ?? error;
        // By name, not instanceof: graphql can be loaded twice (ESM and CJS) by dependencies.
        // The wrapping error when both are GraphQL errors: it has the path, and the variable name of a coercion failure.
        if (isGraphQLError(error) && isGraphQLError(original)) return error;
        if (isGraphQLError(original)) return original;
        // The database connection went away under this request (nothing was committed by it):
        // the client may simply retry. Expected during a failover, so no stack trace.
        if (isConnectionError(original)) {
          log.warn({ reason: (original as Error).message }, 'database connection lost during a request');
          return new GraphQLError('The system is busy; please try again', { extensions: { code: 'TRY_AGAIN' } });
        }
        log.error({ err: original }, 'unexpected error');
        return new GraphQLError(message, { extensions: { code: 'INTERNAL_SERVER_ERROR' } });
      },
    },
    context: async (initial: YogaInitialContext & { connectionParams?: Record<string, unknown> }): Promise<Context> => {
      const { request } = initial;
      const requestId = requestIds.get(request) ?? requestIdFrom(request.headers.get('x-request-id'));
      const authorization =
        request.headers.get('authorization') ??
        (typeof initial.connectionParams?.authorization === 'string' ? initial.connectionParams.authorization : null);
      try {
        const actor = await services.auth.authenticate(authorization);
        return { actor, requestId, log: log.child({ requestId }), config, db, services, headers: request.headers };
      } catch (err) {
        if (err instanceof AuthenticationError) {
          throw new GraphQLError(err.message, { extensions: { code: err.code, http: { status: 401 } } });
        }
        throw err;
      }
    },
    plugins: [
      requestIdPlugin,
      ...((config.INTROSPECTION ?? embedded) ? [] : [noIntrospection]),
      useCompression(),
      useRequestErrorStatus(),
      usePersistedOperations(config.PERSISTED_OPERATIONS, config.PERSISTED_OPERATIONS === 'off' ? {} : loadManifest()),
      useClientErrorLog(log, (request) => requestIds.get(request)),
      EnvelopArmorPlugin({
        maxDepth: { n: 12, ignoreIntrospection: true },
        maxAliases: { n: 30 },
        maxDirectives: { n: 20 },
        maxTokens: { n: 3000 },
        costLimit: { maxCost: 10_000, ignoreIntrospection: true },
        blockFieldSuggestion: { enabled: false },
      }),
      {
        onExecute({ args }) {
          const started = performance.now();
          const operation = args.operationName ?? 'anonymous';
          return {
            onExecuteDone({ result }) {
              const failed = 'errors' in result && Array.isArray(result.errors) && result.errors.length > 0;
              metrics.graphqlDuration.observe({ operation, outcome: failed ? 'error' : 'ok' }, (performance.now() - started) / 1000);
            },
          };
        },
      } satisfies Plugin,
      // Before idempotency: a refused request must not claim its Idempotency-Key.
      useRateLimit(rateLimiter, { bookingMutations: config.RATE_LIMIT_BOOKING_MUTATIONS }),
      useIdempotency(services.idempotency, { trustedProxies: config.TRUST_PROXY }),
      // After the rate limit: a cached answer still counts against the caller's reads.
      ...(services.responseCache ? [useResponseCache(services.responseCache, (outcome) => metrics.responseCache.inc({ outcome }))] : []),
      useSharedLiveExecution(),
    ],
  });

  return {
    config,
    log,
    db,
    services,
    metrics,
    rateLimiter,
    yoga,
    pubsub: pubsubHandle.pubsub,
    redis,
    redisFallback,
    /**
     * For /readyz: Redis answers and this instance's pub/sub connections are up too (until they
     * are, events from other instances do not reach it). Undefined without REDIS_URL.
     */
    pingRedis: redis
      ? async () => {
          await redis.ping();
          const down = pubsubHandle.clients.filter((client) => client.status !== 'ready');
          if (down.length) throw new Error(`pub/sub connection ${down.map((c) => c.status).join(', ')}`);
        }
      : undefined,
    /** Safe to call twice (a stopped server has already closed its app). */
    close() {
      closing ??= (async () => {
        await pubsubHandle.close();
        redis?.disconnect();
        await db.close();
      })();
      return closing;
    },
  };
}

/** INTROSPECTION=false: `__schema` and `__type` fail validation (`__typename` stays). */
const noIntrospection: Plugin = {
  onValidate({ addValidationRule }) {
    addValidationRule(NoSchemaIntrospectionCustomRule);
  },
};

function isGraphQLError(error: unknown): error is GraphQLError {
  return error instanceof Error && error.name === 'GraphQLError';
}

export type Slotwise = Awaited<ReturnType<typeof createSlotwise>>;
