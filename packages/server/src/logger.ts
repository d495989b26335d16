import { AsyncLocalStorage } from 'node:async_hooks';
import { pino, type Logger } from 'pino';

/** The request being served; every log line written while serving it carries its id. */
export const requestScope = new AsyncLocalStorage<{ requestId: string }>();

export function createLogger(level: string): Logger {
  return pino({
    level,
    base: { service: 'slotwise' },
    mixin: () => {
      const scope = requestScope.getStore();
      return scope ? { requestId: scope.requestId } : {};
    },
    redact: {
      paths: ['*.email', '*.phone', '*.customerEmail', '*.customerPhone', '*.authorization', '*.token', 'req.headers.authorization'],
      censor: '[redacted]',
    },
  });
}
