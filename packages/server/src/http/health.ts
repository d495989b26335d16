import type { Database } from '../db/database.js';
import { pendingMigrations } from '../db/migrate.js';
import { ping } from '../db/probe.js';

export interface ReadinessDeps {
  db: Database;
  pingRedis?: () => Promise<unknown>;
  isShuttingDown: () => boolean;
}

export interface Readiness {
  ok: boolean;
  checks: Record<string, string>;
}

/** Checks that do not make the instance unready: it serves without them, only slower or per instance. */
const DEGRADABLE = new Set(['redis']);

/**
 * Ready when the database answers and every migration is applied. Redis (when configured) is
 * reported, but an instance without it still serves (limits, caches and live events in-process),
 * so it stays ready and says `redis: degraded`.
 */
export async function checkReadiness(deps: ReadinessDeps): Promise<Readiness> {
  const checks: Record<string, string> = {};
  if (deps.isShuttingDown()) checks.server = 'shutting down';
  try {
    await ping(deps.db.sql);
    checks.database = 'ok';
    const pending = await pendingMigrations(deps.db.sql);
    checks.migrations = pending.length ? `pending: ${pending.join(', ')}` : 'ok';
  } catch (err) {
    checks.database ??= `error: ${(err as Error).message}`;
    checks.migrations ??= `error: ${(err as Error).message}`;
  }
  if (deps.pingRedis) {
    try {
      await deps.pingRedis();
      checks.redis = 'ok';
    } catch {
      // Why is in the log (one line per outage); the body stays the same during it.
      checks.redis = 'degraded';
    }
  }
  const ok = Object.entries(checks).every(([name, value]) => value === 'ok' || DEGRADABLE.has(name));
  return { ok, checks };
}
