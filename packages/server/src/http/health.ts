import type { Database } from '../db/database.js';
import { pendingMigrations } from '../db/migrate.js';

export interface ReadinessDeps {
  db: Database;
  pingRedis?: () => Promise<unknown>;
  isShuttingDown: () => boolean;
}

export interface Readiness {
  ok: boolean;
  checks: Record<string, string>;
}

/** Ready when the database answers, every migration is applied, and Redis (when configured) answers. */
export async function checkReadiness(deps: ReadinessDeps): Promise<Readiness> {
  const checks: Record<string, string> = {};
  if (deps.isShuttingDown()) checks.server = 'shutting down';
  try {
    await deps.db.sql.query('SELECT 1');
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
    } catch (err) {
      checks.redis = `error: ${(err as Error).message}`;
    }
  }
  return { ok: Object.values(checks).every((v) => v === 'ok'), checks };
}
