import { AppError } from '../shared/errors.js';
import { ConnectionWaitTimeout } from './database.js';

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
  return state !== undefined && TRANSIENT.has(state);
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
      if ((error as { code?: unknown } | null)?.code === 'P2028' || error instanceof ConnectionWaitTimeout) throw new TryAgainError();
      if (!isTransientDbError(error)) throw error;
      if (attempt >= attempts) throw new TryAgainError();
      const cap = Math.min(maxDelayMs, baseDelayMs * 2 ** (attempt - 1));
      await new Promise((resolve) => setTimeout(resolve, Math.random() * cap));
    }
  }
}
