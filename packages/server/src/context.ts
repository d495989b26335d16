import type { Logger } from 'pino';
import type { Config } from './config.js';
import type { Database } from './db/database.js';
import type { Actor } from './shared/actor.js';
import type { Services } from './services.js';

export interface Context {
  actor: Actor | null;
  requestId: string;
  log: Logger;
  config: Config;
  db: Database;
  services: Services;
  /** Request headers the API reads (Idempotency-Key, X-Exposure-Variant, X-Session-Id). */
  headers: Headers;
}
