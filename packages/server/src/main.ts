import cluster from 'node:cluster';
import { ConfigError, loadConfig } from './config.js';
import { MigrationError } from './db/migrate.js';
import { DataDirLockedError } from './db/data-dir-lock.js';
import { createLogger } from './logger.js';
import { runPrimary, workerCount } from './cluster.js';

async function main() {
  const started = performance.now();
  const config = loadConfig();
  const logger = createLogger(config.LOG_LEVEL);
  const workers = workerCount(config);
  if (cluster.isPrimary && config.WORKERS !== 1 && workers === 1) {
    logger.warn({ WORKERS: config.WORKERS }, 'embedded mode runs one process (PGlite belongs to one process); WORKERS is ignored');
  }
  // The primary of WORKERS > 1 serves nothing, so it does not load the server's modules either.
  if (cluster.isPrimary && workers > 1) return runPrimary(workers, logger);
  const { serve } = await import('./serve.js');
  await serve(config, logger, started);
}

main().catch((err) => {
  // Configuration, migration, data dir and port problems are the caller's to fix: one clear line, no stack.
  // A port problem by name: the server's modules are not loaded in a WORKERS primary.
  if (err instanceof ConfigError || err instanceof MigrationError || err instanceof DataDirLockedError || err?.name === 'ListenError')
    console.error(err.message);
  else console.error(err);
  process.exit(1);
});
