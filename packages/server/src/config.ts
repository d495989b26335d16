import { z } from 'zod';
import { timeZoneSchema } from './shared/validation.js';
import { KEY_ID } from './shared/pii.js';

const HEX_KEY = /^[0-9a-fA-F]{64}$/;

/** Every environment variable the server reads. README's configuration table lists the same names. */
export const configSchema = z.object({
  PORT: z.coerce.number().int().min(0).max(65535).default(4000),
  HOST: z.string().min(1).default('0.0.0.0'),
  PUBLIC_URL: z.url().optional(),
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// or postgresql:// URL')
    .optional(),
  DATABASE_POOL_MAX: z.coerce.number().int().min(1).max(200).default(10),
  /** Optional replica for public availability reads; the primary (DATABASE_URL) serves everything else. */
  DATABASE_READ_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// or postgresql:// URL')
    .optional(),
  /** The replica serves only while it is at most this far behind the primary; otherwise the primary does. */
  DATABASE_READ_MAX_LAG_MS: z.coerce.number().int().min(100).max(600_000).default(2_000),
  /** Server processes on one port: `auto` = one per core, or a number (embedded mode: always 1). */
  WORKERS: z
    .string()
    .regex(/^(auto|\d+)$/, 'must be auto or a number of processes (1-256)')
    .transform((v) => (v === 'auto' ? ('auto' as const) : Number(v)))
    .refine((v) => v === 'auto' || (v >= 1 && v <= 256), 'must be auto or a number of processes (1-256)')
    .default(1),
  /** Per connection: no statement, and no transaction left idle, holds a connection longer (0 = no limit). */
  DATABASE_STATEMENT_TIMEOUT_MS: z.coerce.number().int().min(0).default(30_000),
  DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_MS: z.coerce.number().int().min(0).default(60_000),
  DATA_DIR: z.string().min(1).default('./.slotwise'),
  REDIS_URL: z
    .string()
    .regex(/^rediss?:\/\//, 'must be a redis:// or rediss:// URL')
    .optional(),
  /**
   * Put before every Redis key and pub/sub channel this deployment uses, so deployments sharing one
   * Redis (staging and production, two tenants) keep their rate budgets, caches and live events apart.
   */
  REDIS_KEY_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9_.:-]{1,64}$/, 'must be 1-64 letters, digits or _ . : -')
    .optional(),
  /** A Redis command that has not answered by then fails, and the caller falls back to in-process. */
  REDIS_COMMAND_TIMEOUT_MS: z.coerce.number().int().min(50).max(60_000).default(1_000),
  /** Anonymous availability answers kept until a slot of their scope changes (on by default). */
  RESPONSE_CACHE: z.enum(['on', 'off']).default('on'),
  /** Longest a kept answer lives: what only time changes (slots starting, notice windows) shows after this. */
  RESPONSE_CACHE_TTL_MS: z.coerce.number().int().min(100).max(600_000).default(5_000),
  SMTP_URL: z
    .string()
    .regex(/^smtps?:\/\//, 'must be an smtp:// or smtps:// URL')
    .optional(),
  /** Sender and ORGANIZER of every mail; its domain is the right-hand side of every Message-ID. */
  NOTIFICATIONS_FROM_EMAIL: z.email().default('slotwise@example.com'),
  /** Off: mails are still queued (PENDING) but nothing is sent until it is turned on again. */
  NOTIFICATIONS_ENABLED: z
    .enum(['true', 'false'])
    .default('true')
    .transform((v) => v === 'true'),
  /** Every mail goes to this address instead (staging); the intended recipient is named at the top. */
  NOTIFICATIONS_REDIRECT_TO: z.email().optional(),
  /** Delivery attempts per mail before it is marked FAILED. */
  MAIL_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(50).default(8),
  JWT_SECRET: z.string().min(32, 'must be at least 32 characters').optional(),
  JWT_JWKS_URL: z.url().optional(),
  JWT_ISSUER: z.string().optional(),
  JWT_AUDIENCE: z.string().optional(),
  ENCRYPTION_KEY: z.string().regex(HEX_KEY, 'must be 64 hex characters (32 bytes)').optional(),
  /** Id written into every value ENCRYPTION_KEY encrypts, so a later key can tell them apart (default k1). */
  ENCRYPTION_KEY_ID: z.string().regex(KEY_ID, 'must be 1-32 letters, digits, _ or -').optional(),
  /** Earlier keys, still read until `slotwise keys rotate` has re-encrypted everything: `kid:hex,kid:hex`. */
  ENCRYPTION_OLD_KEYS: z
    .string()
    .transform((s) =>
      s
        .split(',')
        .map((e) => e.trim())
        .filter(Boolean),
    )
    .refine(
      (list) => list.every((e) => /^[A-Za-z0-9_-]{1,32}:[0-9a-fA-F]{64}$/.test(e)),
      'must be a comma-separated list of kid:hex (a key id, a colon, 64 hex characters)',
    )
    .transform((list) => list.map((e) => ({ id: e.slice(0, e.indexOf(':')), keyHex: e.slice(e.indexOf(':') + 1) })))
    .refine((keys) => new Set(keys.map((k) => k.id)).size === keys.length, 'must not name a key id twice')
    .default([]),
  /** Secret of the email/phone lookup hashes, which never rotate; default ENCRYPTION_KEY. */
  ENCRYPTION_LOOKUP_KEY: z.string().regex(HEX_KEY, 'must be 64 hex characters (32 bytes)').optional(),
  HOLD_TTL_MINUTES: z.coerce.number().int().min(1).max(120).default(10),
  WAITLIST_OFFER_MINUTES: z.coerce
    .number()
    .int()
    .min(5)
    .max(7 * 24 * 60)
    .default(60),
  SLOT_HORIZON_DAYS: z.coerce.number().int().min(0).max(366).default(28),
  MAX_SLOTS_PER_GENERATION: z.coerce.number().int().min(1).default(20_000),
  MAX_SUBSCRIPTIONS_PER_CONNECTION: z.coerce.number().int().min(1).max(1000).default(20),
  LIVE_SUBSCRIBER_BUFFER: z.coerce.number().int().min(1).max(100_000).default(500),
  /** Live subscriptions (WebSocket and SSE together) one client address may hold. */
  MAX_SUBSCRIPTIONS_PER_IP: z.coerce.number().int().min(1).max(100_000).default(100),
  MAX_WS_CONNECTIONS_PER_IP: z.coerce.number().int().min(1).max(100_000).default(50),
  WS_MAX_PAYLOAD_BYTES: z.coerce
    .number()
    .int()
    .min(1024)
    .max(100 * 1024 * 1024)
    .default(1024 * 1024),
  HTTP_HEADERS_TIMEOUT_MS: z.coerce.number().int().min(1_000).max(600_000).default(20_000),
  HTTP_REQUEST_TIMEOUT_MS: z.coerce.number().int().min(1_000).max(3_600_000).default(60_000),
  /**
   * How long an idle keep-alive connection stays open. Longer than a load balancer's idle timeout
   * (AWS ALB, nginx: 60 s), so the balancer, not the server, closes it: otherwise it may send a request
   * on a connection the server is closing at that moment, and the client gets a 502.
   */
  HTTP_KEEP_ALIVE_TIMEOUT_MS: z.coerce.number().int().min(1_000).max(3_600_000).default(65_000),
  LIVE_KEEPALIVE_MS: z.coerce.number().int().min(100).max(300_000).default(12_000),
  SEED_DEMO: z.enum(['auto', 'true', 'false']).default('auto'),
  DEFAULT_TIME_ZONE: timeZoneSchema.default('UTC'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  SHUTDOWN_TIMEOUT_MS: z.coerce.number().int().min(0).default(10_000),
  /** Cost units (src/ratelimit/cost.ts) per client and minute for everything but booking mutations. */
  RATE_LIMIT_READS_PER_MINUTE: z.coerce.number().int().min(0).default(1200),
  RATE_LIMIT_BOOKINGS_PER_MINUTE: z.coerce.number().int().min(0).default(10),
  RATE_LIMIT_BOOKING_MUTATIONS: z
    .string()
    .regex(/^\s*\w+\s*(,\s*\w+\s*)*$/, 'must be a comma-separated list of mutation names')
    .transform((s) => s.split(',').map((name) => name.trim()))
    .default(['hold', 'book', 'register', 'confirm']),
  // Reschedule proposals and inbound calendar mail (issue 13).
  /** Shared secret of POST /inbound/mail and /inbound/mail-status; unset, both answer 404. */
  INBOUND_MAIL_TOKEN: z.string().min(16, 'must be at least 16 characters').optional(),
  /** REPLY DECLINED: strict cancels the booking (guest) or the session (host); soft only records it and tells staff. */
  DECLINE_POLICY: z.enum(['strict', 'soft']).default('strict'),
  /** How long a link to the proposal page stays valid. */
  PROPOSE_LINK_TTL_HOURS: z.coerce
    .number()
    .int()
    .min(1)
    .max(24 * 90)
    .default(24 * 14),
  /** How long a proposal (and its Approve / Decline links) waits for a decision. */
  DECISION_LINK_TTL_HOURS: z.coerce
    .number()
    .int()
    .min(1)
    .max(24 * 30)
    .default(72),
  /** Optional IMAP mailbox polled for calendar replies, e.g. imaps://user:pass@mail.example.com */
  IMAP_URL: z
    .string()
    .regex(/^imaps?:\/\//, 'must be an imap:// or imaps:// URL')
    .optional(),
  IMAP_FOLDER: z.string().min(1).default('INBOX'),
  IMAP_PROCESSED_FOLDER: z.string().min(1).default('Processed'),
  IMAP_POLL_SECONDS: z.coerce.number().int().min(5).max(3600).default(60),
  /** Calendar invites: times in UTC (`utc`), or as local wall times with TZID and a VTIMEZONE (`local`). */
  ICS_TIME_ZONES: z.enum(['utc', 'local']).default('utc'),
  /** Minutes before a booking's start at which reminder mails go out, e.g. `1440,60`; unset = none. */
  REMINDER_MINUTES_BEFORE: z
    .string()
    .regex(/^\s*\d+\s*(,\s*\d+\s*)*$/, 'must be a comma-separated list of minutes, e.g. 1440,60')
    .transform((s) => [...new Set(s.split(',').map(Number))].sort((a, b) => b - a))
    .refine((list) => list.every((m) => m >= 1 && m <= 43_200), 'each must be from 1 to 43200 (30 days)')
    .default([]),
  /** Operations by hash from the SDK's manifest: `off`, `allow` (hashes or text), `only` (non-staff callers: manifest operations only). */
  PERSISTED_OPERATIONS: z.enum(['off', 'allow', 'only']).default('allow'),
  /** 'true' = one proxy; a number = that many proxies appending to X-Forwarded-For. */
  TRUST_PROXY: z
    .string()
    .regex(/^(true|false|\d)$/, 'must be true, false or a number of proxies (0-9)')
    .transform((v) => (v === 'true' ? 1 : v === 'false' ? 0 : Number(v)))
    .default(0),
  // Abuse resistance (issue #14).
  /** A JWT must carry `exp`, at most this far after its `iat` (or after now, without `iat`). */
  JWT_MAX_LIFETIME_SECONDS: z.coerce
    .number()
    .int()
    .min(60)
    .default(24 * 60 * 60),
  /** Tolerance for `exp`, `nbf` and `iat` against this server's clock. */
  JWT_CLOCK_SKEW_SECONDS: z.coerce.number().int().min(0).max(600).default(30),
  /** API tokens created by a JWT-authenticated user expire at most this many days later. */
  JWT_API_TOKEN_MAX_DAYS: z.coerce.number().int().min(1).max(3650).default(90),
  /** `*`: any origin, without credentials (the widget embeds anywhere; auth is by bearer token). A list restricts. */
  CORS_ORIGINS: z
    .string()
    .default('*')
    .transform((v) =>
      v.trim() === '*'
        ? ('*' as const)
        : v
            .split(',')
            .map((o) => o.trim())
            .filter(Boolean),
    ),
  /** GraphiQL at GET /graphql; unset: on in embedded mode, off with DATABASE_URL. */
  GRAPHIQL: z
    .enum(['true', 'false'])
    .optional()
    .transform((v) => (v === undefined ? undefined : v === 'true')),
  /** `__schema` / `__type` queries; unset: on in embedded mode, off with DATABASE_URL. */
  INTROSPECTION: z
    .enum(['true', 'false'])
    .optional()
    .transform((v) => (v === undefined ? undefined : v === 'true')),
  /** Largest static cost of one operation or subscription; dearer ones are refused before they run. */
  MAX_OPERATION_COST: z.coerce.number().int().min(1).default(1000),
  /** Most availability-like root fields (availability, availabilityByDay, availableDates, exposedSlots, searchAvailability, slotAvailability) in one operation. */
  MAX_AVAILABILITY_FIELDS: z.coerce.number().int().min(1).max(1000).default(5),
  /** Largest HTTP request body at /graphql; a larger one is answered 413 without being read. */
  MAX_BODY_BYTES: z.coerce
    .number()
    .int()
    .min(1024)
    .max(100 * 1024 * 1024)
    .default(1024 * 1024),
  /** When set, GET /metrics needs `Authorization: Bearer <METRICS_TOKEN>`. */
  METRICS_TOKEN: z.string().min(16, 'must be at least 16 characters').optional(),
  /** Optional OpenAI-compatible chat endpoint (base URL up to /v1) for createFormFromText and formInsights; unset = offline only. */
  LLM_BASE_URL: z.url().optional(),
  LLM_MODEL: z.string().min(1).default('gpt-4o-mini'),
  /** Sent as Bearer token to LLM_BASE_URL; never logged. */
  LLM_API_KEY: z.string().optional(),
  LLM_TIMEOUT_MS: z.coerce.number().int().min(100).max(120_000).default(10_000),
  /** formInsights sends registrants' names to the LLM only when this is true. */
  LLM_SHARE_PERSONAL_DATA: z
    .enum(['true', 'false'])
    .default('false')
    .transform((v) => v === 'true'),
  // Passwordless sign-in and strict idempotency (issue #20).
  /** How access tokens from sign-in are signed; unset: HS256 with JWT_SECRET, or ES256 without one. */
  JWT_SIGNING_ALG: z.enum(['HS256', 'ES256', 'RS256', 'EdDSA']).optional(),
  /** PKCS#8 PEM private key for JWT_SIGNING_ALG (ES256, RS256, EdDSA); unset: a generated key pair kept in the database. */
  JWT_PRIVATE_KEY: z
    .string()
    .regex(/-----BEGIN PRIVATE KEY-----/, 'must be a PKCS#8 PEM private key')
    .optional(),
  ACCESS_TOKEN_TTL_SECONDS: z.coerce.number().int().min(60).max(86_400).default(900),
  REFRESH_TOKEN_TTL_DAYS: z.coerce.number().int().min(1).max(365).default(30),
  SIGN_IN_CODE_TTL_MINUTES: z.coerce.number().int().min(1).max(60).default(15),
  /** Sign-in requests per email address and per client address, each per hour (0: no limit). */
  SIGN_IN_REQUESTS_PER_EMAIL_PER_HOUR: z.coerce.number().int().min(0).default(5),
  SIGN_IN_REQUESTS_PER_IP_PER_HOUR: z.coerce.number().int().min(0).default(30),
  /** The page a sign-in mail's link opens, with `?t=<token>`; unset: <PUBLIC_URL>/sign-in. */
  SIGN_IN_LINK_URL: z.url().optional(),
  /** true: the public booking mutations refuse a request without an Idempotency-Key header. */
  REQUIRE_IDEMPOTENCY_KEY: z
    .enum(['true', 'false'])
    .default('false')
    .transform((v) => v === 'true'),
  // Webhooks (issue 19).
  /** Webhook URLs may resolve to loopback, private, link-local and unique-local addresses (tests, on-premises). */
  WEBHOOK_ALLOW_PRIVATE_NETWORKS: z
    .enum(['true', 'false'])
    .default('false')
    .transform((v) => v === 'true'),
  /** Attempts per delivery (backoff from 30 s doubling to 2 h) before it is marked FAILED. */
  WEBHOOK_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(50).default(10),
  /** One attempt, connect to last byte; longer counts as a failure. */
  WEBHOOK_TIMEOUT_MS: z.coerce.number().int().min(100).max(60_000).default(10_000),
  /** An endpoint with no successful delivery this long after a failure is disabled. */
  WEBHOOK_DISABLE_AFTER_HOURS: z.coerce
    .number()
    .int()
    .min(1)
    .max(24 * 30)
    .default(24),
  // Event bus (issue 20).
  /** Relay every domain event to NATS JetStream (nats://) or RabbitMQ (amqp:// or amqps://); unset = no relay. */
  EVENT_BUS_URL: z
    .string()
    .regex(/^(nats|amqps?):\/\//, 'must be a nats://, amqp:// or amqps:// URL')
    .optional(),
  /** NATS: subjects `<topic>.<event type>` in a stream named after it; RabbitMQ: the topic exchange's name. */
  EVENT_BUS_TOPIC: z
    .string()
    .regex(/^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/, 'must be dot-separated words (letters, digits, _ and -)')
    .default('slotwise.events'),
});

export type Config = z.infer<typeof configSchema>;

export class ConfigError extends Error {}

/** Parses the environment; a bad value throws one line naming the variable. */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const input = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const result = configSchema.safeParse(input);
  if (!result.success) {
    const issue = result.error.issues[0]!;
    throw new ConfigError(`Invalid configuration: ${issue.path.join('.')} ${issue.message}`);
  }
  const config = result.data;
  // Some key for bearer JWTs: a secret, an identity provider's keys, or the server's own key pair.
  const asymmetric = config.JWT_SIGNING_ALG !== undefined && config.JWT_SIGNING_ALG !== 'HS256';
  if (config.DATABASE_URL && !config.JWT_SECRET && !config.JWT_JWKS_URL && !asymmetric) {
    throw new ConfigError(
      'Invalid configuration: JWT_SECRET or JWT_JWKS_URL (or JWT_SIGNING_ALG ES256, RS256 or EdDSA) is required when DATABASE_URL is set',
    );
  }
  if (config.HTTP_HEADERS_TIMEOUT_MS > config.HTTP_REQUEST_TIMEOUT_MS) {
    throw new ConfigError('Invalid configuration: HTTP_HEADERS_TIMEOUT_MS must not exceed HTTP_REQUEST_TIMEOUT_MS');
  }
  if (config.JWT_PRIVATE_KEY && (config.JWT_SIGNING_ALG ?? 'HS256') === 'HS256') {
    throw new ConfigError('Invalid configuration: JWT_PRIVATE_KEY needs JWT_SIGNING_ALG ES256, RS256 or EdDSA');
  }
  if (config.JWT_SIGNING_ALG === 'HS256' && config.DATABASE_URL && !config.JWT_SECRET) {
    throw new ConfigError('Invalid configuration: JWT_SIGNING_ALG HS256 needs JWT_SECRET');
  }
  // A prefix without Redis would be silently unused: the deployment believes its keys are apart.
  if (config.REDIS_KEY_PREFIX && !config.REDIS_URL) {
    throw new ConfigError('Invalid configuration: REDIS_KEY_PREFIX needs REDIS_URL (the prefix applies to Redis keys and channels)');
  }
  if (config.DATABASE_READ_URL && !config.DATABASE_URL) {
    throw new ConfigError('Invalid configuration: DATABASE_READ_URL needs DATABASE_URL (the primary)');
  }
  if (config.DATABASE_URL && !config.ENCRYPTION_KEY) {
    throw new ConfigError('Invalid configuration: ENCRYPTION_KEY is required when DATABASE_URL is set');
  }
  const keyId = config.ENCRYPTION_KEY_ID ?? 'k1';
  if (config.ENCRYPTION_OLD_KEYS.some((k) => k.id === keyId)) {
    throw new ConfigError(`Invalid configuration: ENCRYPTION_OLD_KEYS must not name the current key id ${keyId} (ENCRYPTION_KEY_ID)`);
  }
  // Once the key has been changed, the lookup hashes' secret must be named: they never rotate.
  if ((config.ENCRYPTION_KEY_ID !== undefined || config.ENCRYPTION_OLD_KEYS.length > 0) && !config.ENCRYPTION_LOOKUP_KEY) {
    throw new ConfigError(
      'Invalid configuration: ENCRYPTION_LOOKUP_KEY is required with ENCRYPTION_KEY_ID or ENCRYPTION_OLD_KEYS (the key the lookup hashes were made with, normally the first ENCRYPTION_KEY)',
    );
  }
  return config;
}
