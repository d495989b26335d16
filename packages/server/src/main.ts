import cluster from 'node:cluster';
import { ConfigError, loadConfig } from './config.js';
import { createSlotwise } from './app.js';
import { startServer } from './server.js';
import { formPageRoute } from './forms/form-route.js';
import { manageRoute } from './calendar/manage-route.js';
import { newFormPageRoute } from './forms/text/new-form-route.js';
import { widgetRoutes } from './widget/widget-route.js';
import { proposalRoutes } from './proposals/proposal-route.js';
import { inboundMailRoutes } from './imip/inbound-route.js';
import { seedDemoIfEmpty } from './demo/seed.js';
import { MigrationError } from './db/migrate.js';
import { DataDirLockedError } from './db/data-dir-lock.js';
import { createLogger } from './logger.js';
import { guardProcess } from './process-guards.js';
import { runPrimary, workerCount } from './cluster.js';

async function main() {
  const started = performance.now();
  const config = loadConfig();
  const logger = createLogger(config.LOG_LEVEL);
  const workers = workerCount(config);
  if (config.WORKERS !== 1 && workers === 1 && cluster.isPrimary) {
    logger.warn({ WORKERS: config.WORKERS }, 'embedded mode runs one process (PGlite belongs to one process); WORKERS is ignored');
  }
  if (workers > 1 && cluster.isPrimary) return runPrimary(workers, logger);
  guardProcess(logger);
  const app = await createSlotwise({ config, logger });
  const seedDemo = config.SEED_DEMO === 'true' || (config.SEED_DEMO === 'auto' && !config.DATABASE_URL);
  if (seedDemo && (await seedDemoIfEmpty(app))) app.log.info('demo data created');
  const server = await startServer(app, { routes: [formPageRoute(app), manageRoute(app), widgetRoutes(app), newFormPageRoute(app), proposalRoutes(app), inboundMailRoutes(app)] });
  app.log.info({ startupMs: Math.round(performance.now() - started) }, `GraphiQL: ${server.url}/graphql`);

  let stopping = false;
  const shutdown = (signal: string) => {
    // Under WORKERS > 1 a Ctrl-C reaches the primary and every worker, and the primary forwards it too.
    if (stopping) return;
    stopping = true;
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
  // A worker whose primary is gone (killed outright) stops too, instead of serving on unsupervised.
  if (cluster.isWorker) process.once('disconnect', () => shutdown('primary gone'));
}

main().catch((err) => {
  // Configuration, migration and data dir problems are the caller's to fix: one clear line, no stack.
  if (err instanceof ConfigError || err instanceof MigrationError || err instanceof DataDirLockedError) console.error(err.message);
  else console.error(err);
  process.exit(1);
});
