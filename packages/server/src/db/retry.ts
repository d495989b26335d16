import { AppError } from '../shared/errors.js';
import { CommitOutcomeUnknownError, ConnectionWaitTimeout } from './database.js';

/** The database was too busy to finish this change; sending the same request again is safe. */
export class TryAgainError extends AppError {
  readonly code = 'TRY_AGAIN';
  constructor() {
    super('The system is busy; please try again');
  }
}

/** deadlock_detected, serialization_failure, lock_not_available: a retry may well succeed. */
const TRANSIENT = new Set(['40P01', '40001', '55P03']);

/**
 * The PostgreSQL SQLSTATE behind an error, however it arrived: through Prisma's driver adapter
 * (`meta.driverAdapterError.cause.originalCode`), a bare DriverAdapterError (`cause.originalCode`)
 * or node-postgres (`code`).
 */
export function sqlStateOf(error: unknown): string | undefined {
  const e = error as {
    code?: unknown;
    meta?: { driverAdapterError?: { cause?: { originalCode?: unknown } } };
    cause?: { originalCode?: unknown };
  } | null;
  if (!e || typeof e !== 'object') return undefined;
  const candidates = [e.meta?.driverAdapterError?.cause?.originalCode, e.cause?.originalCode, e.code];
  return candidates.find((c): c is string => typeof c === 'string' && /^[0-9A-Z]{5}$/.test(c));
}

export function isTransientDbError(error: unknown): boolean {
  const state = sqlStateOf(error);
  return (state !== undefined && TRANSIENT.has(state)) || isConnectionError(error);
}

// Class 08 (connection exception); admin_shutdown (pg_terminate_backend), crash_shutdown,
// cannot_connect_now, idle_session_timeout; idle_in_transaction_session_timeout.
const CONNECTION_STATES = /^(08...|57P0[1235]|25P03)$/;
const CONNECTION_MESSAGES =
  /Connection terminated|connection error and is not queryable|Client was closed|ECONNRESET|ECONNREFUSED|EPIPE|server closed the connection|Can't reach database server/i;
const CONNECTION_PRISMA_CODES = new Set(['P1001', 'P1002', 'P1017']);

const POOL_WAIT_MESSAGES = /timeout exceeded when trying to connect|timed out waiting for a database connection/i;

/**
 * No pooled connection came free in time (ConnectionWaitTimeout, or pg-pool's own timeout under
 * Prisma): the server is overloaded, nothing ran. Not retried here (that would add load); the
 * caller is told to try again.
 */
export function isPoolWaitTimeout(error: unknown): boolean {
  for (
    let e = error as { message?: unknown; cause?: unknown } | null | undefined, depth = 0;
    e && typeof e === 'object' && depth < 5;
    e = e.cause as typeof e, depth++
  ) {
    if (e instanceof ConnectionWaitTimeout || (typeof e.message === 'string' && POOL_WAIT_MESSAGES.test(e.message))) return true;
  }
  return false;
}

/**
 * The connection to PostgreSQL was lost or refused (rather than the statement being wrong):
 * the server rolled back whatever was open on it, and a new connection may well succeed.
 */
export function isConnectionError(error: unknown): boolean {
  for (
    let e = error as { code?: unknown; message?: unknown; cause?: unknown } | null | undefined, depth = 0;
    e && depth < 5;
    e = e.cause as typeof e, depth++
  ) {
    if (typeof e !== 'object') return false;
    const state = sqlStateOf(e);
    if (state && CONNECTION_STATES.test(state)) return true;
    if (typeof e.code === 'string' && CONNECTION_PRISMA_CODES.has(e.code)) return true;
    if (typeof e.message === 'string' && CONNECTION_MESSAGES.test(e.message)) return true;
  }
  return false;
}

/** The name of the constraint an integrity error names (PostgreSQL puts it in the message). */
export function violatedConstraint(error: unknown): string | undefined {
  const e = error as { meta?: { driverAdapterError?: { cause?: { originalMessage?: unknown } } }; message?: unknown } | null;
  const message = e?.meta?.driverAdapterError?.cause?.originalMessage ?? e?.message;
  return typeof message === 'string' ? /constraint "([^"]+)"/.exec(message)?.[1] : undefined;
}

export interface RetryOptions {
  /** Tries in all, the first included. */
  attempts?: number;
  baseDelayMs?: number;
  maxDelayMs?: number;
}

/**
 * Runs fn (a whole transaction) again when PostgreSQL aborted it for a transient reason,
 * with "full jitter" exponential backoff so colliding retries spread out; after the last try
 * the caller gets TryAgainError, never the database's message.
 */
export async function withRetry<T>(fn: () => Promise<T>, options: RetryOptions = {}): Promise<T> {
  const { attempts = 4, baseDelayMs = 15, maxDelayMs = 250 } = options;
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (error) {
      // P2028 / ConnectionWaitTimeout: the transaction could not start in time or ran past its
      // timeout (pool or database overloaded); another immediate try would only add load.
      // CommitOutcomeUnknownError: running it again might do it twice.
      if (
        (error as { code?: unknown } | null)?.code === 'P2028' ||
        error instanceof ConnectionWaitTimeout ||
        error instanceof CommitOutcomeUnknownError
      ) {
        throw new TryAgainError();
      }
      if (!isTransientDbError(error)) throw error;
      if (attempt >= attempts) throw new TryAgainError();
      const cap = Math.min(maxDelayMs, baseDelayMs * 2 ** (attempt - 1));
      await new Promise((resolve) => setTimeout(resolve, Math.random() * cap));
    }
  }
}
