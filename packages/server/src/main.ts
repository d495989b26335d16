import { ConfigError, loadConfig } from './config.js';
import { createSlotwise } from './app.js';
import { startServer } from './server.js';
import { appRoutes } from './routes.js';
import { seedDemoIfEmpty } from './demo/seed.js';
import { MigrationError } from './db/migrate.js';
import { DataDirLockedError } from './db/data-dir-lock.js';
import { createLogger } from './logger.js';
import { guardProcess } from './process-guards.js';

async function main() {
  const started = performance.now();
  const config = loadConfig();
  const logger = createLogger(config.LOG_LEVEL);
  guardProcess(logger);
  const app = await createSlotwise({ config, logger });
  const seedDemo = config.SEED_DEMO === 'true' || (config.SEED_DEMO === 'auto' && !config.DATABASE_URL);
  if (seedDemo && (await seedDemoIfEmpty(app))) app.log.info('demo data created');
  const server = await startServer(app, { routes: appRoutes(app) });
  app.log.info({ startupMs: Math.round(performance.now() - started) }, `GraphiQL: ${server.url}/graphql`);

  const shutdown = (signal: string) => {
    app.log.info({ signal }, 'shutting down');
    server.stop().then(
      () => process.exit(0),
      (err) => {
        app.log.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  process.once('SIGINT', () => shutdown('SIGINT'));
}

main().catch((err) => {
  // Configuration, migration and data dir problems are the caller's to fix: one clear line, no stack.
  if (err instanceof ConfigError || err instanceof MigrationError || err instanceof DataDirLockedError) console.error(err.message);
  else console.error(err);
  process.exit(1);
});
