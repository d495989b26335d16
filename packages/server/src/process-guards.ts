import type { Logger } from 'pino';
import { isConnectionError } from './db/retry.js';

// What a lost or refused connection (PostgreSQL, Redis, a client's socket) looks like when it
// escapes: the state of this process is intact, only that one connection is gone.
const IO_ERROR_NAMES = new Set(['MaxRetriesPerRequestError', 'AbortError']);
const IO_ERROR_MESSAGES = /Connection is closed|Command timed out|Stream isn't writeable|ECONNREFUSED|ECONNRESET|EPIPE|ETIMEDOUT|socket hang up/;

function isIoError(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  return isConnectionError(error) || IO_ERROR_NAMES.has(error.name) || IO_ERROR_MESSAGES.test(error.message);
}

/**
 * The last line of defence: an error nothing handled is one JSON log line, not a multi-line trace.
 * A rejected promise nobody awaited, or a lost connection, leaves the process consistent, so it
 * keeps serving. Any other uncaught exception may have left state half-changed: the process exits
 * (non-zero) for its supervisor to start a clean one.
 */
export function guardProcess(log: Logger): void {
  process.on('unhandledRejection', (reason) => {
    log.error({ err: reason }, 'unhandled promise rejection; still serving');
  });
  process.on('uncaughtException', (error) => {
    if (isIoError(error)) {
      log.error({ err: error }, 'uncaught connection error; still serving');
      return;
    }
    log.fatal({ err: error }, 'uncaught exception; exiting');
    process.exit(1);
  });
}
