import { loadConfig } from '../../src/config.js';
import { createSlotwise } from '../../src/app.js';
import { startServer } from '../../src/server.js';
import { createLogger } from '../../src/logger.js';
import { guardProcess } from '../../src/process-guards.js';
import { appRoutes } from '../../src/routes.js';

/**
 * A second Slotwise process for multi-instance tests: configured from the environment like
 * main.ts (the same routes), listening on a free port, which it prints as one JSON line on stdout.
 */
const config = loadConfig(process.env);
const logger = createLogger(config.LOG_LEVEL);
// As in main.ts: fault tests run this process and expect it to survive what main.ts survives.
guardProcess(logger);
const app = await createSlotwise({ config, logger });
const server = await startServer(app, { port: 0, host: '127.0.0.1', routes: appRoutes(app) });
process.stdout.write(`${JSON.stringify({ url: server.url })}\n`);
process.once('SIGTERM', () => {
  void server.stop().then(() => process.exit(0));
});
