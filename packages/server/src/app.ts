import { GraphQLError, getOperationAST, NoSchemaIntrospectionCustomRule } from 'graphql';
import { createYoga, type Plugin, type YogaInitialContext } from 'graphql-yoga';
import { EnvelopArmorPlugin } from '@escape.tech/graphql-armor';
import type { Logger } from 'pino';
import type { Config } from './config.js';
import type { Context } from './context.js';
import { openDatabase, openPgPool, type Database } from './db/database.js';
import { migrate } from './db/migrate.js';
import { createLogger } from './logger.js';
import { createPubSubHandle } from './live/pubsub.js';
import { createPgPubSubHandle } from './live/pg-pubsub.js';
import { useEndOnShutdown } from './live/end-on-shutdown.js';
import { useSharedLiveExecution } from './live/shared-execution.js';
import { createMetrics } from './http/metrics.js';
import { useCompression } from './http/compression.js';
import { useBodyLimit } from './http/body-limit.js';
import { useRequestErrorStatus } from './http/request-error-status.js';
import { GRAPHIQL_OPTIONS, renderGraphiQL } from './http/graphiql.js';
import { loadManifest, usePersistedOperations } from './http/persisted-operations.js';
import { requestIdFrom } from './http/request-id.js';
import { schema } from './schema.js';
import { createServices } from './services.js';
import { withEmbeddedSecrets } from './secrets.js';
import { AuthenticationError } from './auth/auth.service.js';
import { AppError, ValidationError } from './shared/errors.js';
import { useResponseCache } from './scheduling/response-cache.plugin.js';
import { useIdempotency } from './idempotency/idempotency.plugin.js';
import { RateLimiter } from './ratelimit/limiter.js';
import { useRateLimit } from './ratelimit/ratelimit.plugin.js';
import { useSubscriptionCap } from './live/subscription-cap.js';
import { FallbackRateLimitStore, MemoryRateLimitStore, PgRateLimitStore, RedisRateLimitStore } from './ratelimit/store.js';
import { createRedisClient, readyOrTimeout } from './redis/redis-client.js';
import { RedisFallback } from './redis/redis-fallback.js';
import { isConnectionError, isPoolWaitTimeout } from './db/retry.js';
import { READ_AFTER_HEADER, ReadRouter } from './db/read-replica.js';
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
      onConnectionError: (err) =>
        log.warn({ reason: err.message, code: (err as { code?: string }).code }, 'database connection lost; the pool replaces it'),
    }));
  const applied = await migrate(db.sql);
  if (applied.length) log.info({ applied }, 'migrations applied');

  const metrics = createMetrics();
  // Optional read replica: public availability reads only, while it keeps up (src/db/read-replica.ts).
  const replica =
    config.DATABASE_READ_URL && db.kind === 'postgres'
      ? openPgPool(config.DATABASE_READ_URL, {
          poolMax: config.DATABASE_POOL_MAX,
          connectionWaitMs: 2_000,
          statementTimeoutMs: config.DATABASE_STATEMENT_TIMEOUT_MS,
          applicationName: 'slotwise-read',
          onConnectionError: (err) => log.warn({ reason: err.message }, 'read replica connection lost; the pool replaces it'),
        })
      : undefined;
  const reads = new ReadRouter(db.sql, replica?.sql, {
    maxLagMs: config.DATABASE_READ_MAX_LAG_MS,
    log,
    onRead: (target) => metrics.databaseReads.inc({ target }),
  });
  await reads.start();
  // Redis is an accelerator: the server starts and serves without it (see RedisFallback).
  const redis = config.REDIS_URL
    ? createRedisClient(config.REDIS_URL, {
        name: `slotwise-cmd-${process.pid}`,
        commandTimeoutMs: config.REDIS_COMMAND_TIMEOUT_MS,
        keyPrefix: config.REDIS_KEY_PREFIX,
        log,
      })
    : undefined;
  const redisFallback = redis && new RedisFallback(redis, log, (component) => metrics.redisFallbacks.inc({ component }));
  // Live events reach every worker and instance through Redis when there is one, else through
  // PostgreSQL's LISTEN/NOTIFY; only embedded mode (one process) keeps them in-process.
  const pgPubSub = !config.REDIS_URL && config.DATABASE_URL ? createPgPubSubHandle({ url: config.DATABASE_URL, log }) : undefined;
  const pubsubHandle =
    pgPubSub ??
    createPubSubHandle(
      config.REDIS_URL && redisFallback
        ? {
            url: config.REDIS_URL,
            commandTimeoutMs: config.REDIS_COMMAND_TIMEOUT_MS,
            channelPrefix: config.REDIS_KEY_PREFIX ?? '',
            log,
            fallback: redisFallback,
          }
        : undefined,
    );
  await pgPubSub?.ready;
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
    reads,
  });
  await services.signingKeys.init(db.sql);
  const rateLimiter = new RateLimiter({
    readsPerMinute: config.RATE_LIMIT_READS_PER_MINUTE,
    bookingsPerMinute: config.RATE_LIMIT_BOOKINGS_PER_MINUTE,
    trustedProxies: config.TRUST_PROXY,
    // Shared by all workers and instances: in Redis, else in PostgreSQL; in-process only in embedded mode.
    store:
      redis && redisFallback
        ? new FallbackRateLimitStore(new RedisRateLimitStore(redis), new MemoryRateLimitStore(), redisFallback)
        : db.kind === 'postgres'
          ? new PgRateLimitStore(db.sql)
          : new MemoryRateLimitStore(),
    onLimited: (kind) => metrics.rateLimited.inc({ kind }),
  });
  const subscriptionCap = useSubscriptionCap(config.MAX_SUBSCRIPTIONS_PER_IP, config.TRUST_PROXY);
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

  const subscriptionsEnd = new AbortController();
  const yoga = createYoga<Record<string, unknown>, Context>({
    schema,
    graphqlEndpoint: '/graphql',
    landingPage: false,
    graphiql: (config.GRAPHIQL ?? embedded) && GRAPHIQL_OPTIONS,
    renderGraphiQL,
    // A browser client may read the read-your-writes token (and the request id) of an answer.
    cors: { origin: config.CORS_ORIGINS, credentials: false, exposedHeaders: ['x-request-id', READ_AFTER_HEADER] },
    // Content-Length over the limit: 413 before reading; a chunked body is cut off at the limit (useBodyLimit).
    maxRequestBodySize: false,
    logging: false,
    maskedErrors: {
      maskError(error, message) {
        const original = (error as GraphQLError).originalError ?? error;
        // By name, not instanceof: graphql can be loaded twice (ESM and CJS) by dependencies.
        // The wrapping error when both are GraphQL errors: it has the path, and the variable name of a coercion failure.
        if (isGraphQLError(error) && isGraphQLError(original)) return withVariableErrorCode(error as GraphQLError);
        if (isGraphQLError(original)) return original;
        // A typed failure thrown where the field has no error union (a list field's bad argument):
        // its message and code are meant for the caller, so it is not masked.
        if (original instanceof AppError) {
          const fieldErrors = original instanceof ValidationError ? { fieldErrors: original.fieldErrors } : {};
          return new GraphQLError(original.message, { path: (error as GraphQLError).path, extensions: { code: original.code, ...fieldErrors } });
        }
        // The database connection went away under this request (nothing was committed by it):
        // the client may simply retry. Expected during a failover, so no stack trace.
        if (isConnectionError(original) || isPoolWaitTimeout(original)) {
          log.warn({ reason: (original as Error).message }, 'database connection lost or busy during a request');
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
      useBodyLimit(config.MAX_BODY_BYTES),
      ...((config.INTROSPECTION ?? embedded) ? [] : [noIntrospection]),
      useCompression(),
      useRequestErrorStatus(),
      usePersistedOperations(config.PERSISTED_OPERATIONS, config.PERSISTED_OPERATIONS === 'off' ? {} : loadManifest()),
      useClientErrorLog(log, (request) => requestIds.get(request)),
      EnvelopArmorPlugin({
        maxDepth: { n: 12, ignoreIntrospection: true },
        // __typename too (armor lets its aliases through by default: 1,000 of them fit in the token limit).
        maxAliases: { n: 30, allowList: [] },
        maxDirectives: { n: 20 },
        maxTokens: { n: 3000 },
        // The cost limit is ours (src/ratelimit/cost.ts): it weighs windows and page sizes.
        costLimit: { enabled: false },
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
      useRateLimit(rateLimiter, {
        bookingMutations: config.RATE_LIMIT_BOOKING_MUTATIONS,
        maxCost: config.MAX_OPERATION_COST,
        maxAvailabilityFields: config.MAX_AVAILABILITY_FIELDS,
        log,
      }),
      subscriptionCap,
      useIdempotency(services.idempotency, { trustedProxies: config.TRUST_PROXY, requireKey: config.REQUIRE_IDEMPOTENCY_KEY }),
      // After the rate limit: a cached answer still counts against the caller's reads.
      ...(services.responseCache ? [useResponseCache(services.responseCache, (outcome) => metrics.responseCache.inc({ outcome }))] : []),
      useSharedLiveExecution(),
      ...(reads.enabled ? [useReadAfterToken(reads)] : []),
      useEndOnShutdown(subscriptionsEnd.signal),
    ],
  });

  return {
    config,
    log,
    db,
    services,
    metrics,
    rateLimiter,
    /** Open live subscriptions per client address (WebSocket and SSE). */
    subscriptionsOf: (address: string) => subscriptionCap.open(address),
    yoga,
    pubsub: pubsubHandle.pubsub,
    reads,
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
    /** Ends every open live subscription as a finished stream (a stopping server, before it waits for its connections). */
    endSubscriptions: () => subscriptionsEnd.abort(),
    /** Safe to call twice (a stopped server has already closed its app). */
    close() {
      closing ??= (async () => {
        await pubsubHandle.close();
        redis?.disconnect();
        await reads.stop();
        await replica?.close();
        await db.close();
      })();
      return closing;
    },
  };
}

/**
 * With a read replica: a mutation's answer carries `Slotwise-Read-After`, the primary's WAL position
 * once it has run, so the client's next reads (which send it back) see what it wrote.
 */
function useReadAfterToken(reads: ReadRouter): Plugin {
  const tokens = new WeakMap<Request, string>();
  const mutations = new WeakSet<Request>();
  return {
    onExecute({ args }) {
      const request = (args.contextValue as { request?: Request }).request;
      if (request && getOperationAST(args.document, args.operationName)?.operation === 'mutation') mutations.add(request);
    },
    async onResultProcess({ request }) {
      if (!mutations.has(request)) return;
      const token = await reads.writeToken().catch(() => undefined);
      if (token) tokens.set(request, token);
    },
    onResponse({ request, response }) {
      const token = tokens.get(request);
      if (token) response.headers.set(READ_AFTER_HEADER, token);
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

/**
 * graphql's own variable errors (a required one left out, a built-in scalar of the wrong type) carry
 * no code; a bad value of our scalars already says BAD_USER_INPUT. Both are the caller's input.
 */
function withVariableErrorCode(error: GraphQLError): GraphQLError {
  if (error.extensions?.code || error.path || !error.message.startsWith('Variable "$')) return error;
  return new GraphQLError(error.message, { nodes: error.nodes, extensions: { ...error.extensions, code: 'BAD_USER_INPUT' } });
}

export type Slotwise = Awaited<ReturnType<typeof createSlotwise>>;
