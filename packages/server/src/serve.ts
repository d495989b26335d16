import cluster from 'node:cluster';
import type { Logger } from 'pino';
import type { Config } from './config.js';
import { createSlotwise } from './app.js';
import { startServer } from './server.js';
import { appRoutes } from './routes.js';
import { seedDemoIfEmpty } from './demo/seed.js';
import { guardProcess } from './process-guards.js';

/** One server process: the only one, or one worker of WORKERS > 1. Stops gracefully on SIGTERM/SIGINT. */
export async function serve(config: Config, logger: Logger, started: number): Promise<void> {
  guardProcess(logger);
  const app = await createSlotwise({ config, logger });
  const seedDemo = config.SEED_DEMO === 'true' || (config.SEED_DEMO === 'auto' && !config.DATABASE_URL);
  if (seedDemo && (await seedDemoIfEmpty(app))) app.log.info('demo data created');
  const server = await startServer(app, { routes: appRoutes(app) });
  // GraphiQL is on by default only in embedded mode (GRAPHIQL): the line says what is there.
  const graphiql = config.GRAPHIQL ?? !config.DATABASE_URL;
  app.log.info({ startupMs: Math.round(performance.now() - started) }, `${graphiql ? 'GraphiQL' : 'GraphQL'}: ${server.url}/graphql`);

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
