import { loadConfig } from '../config.js';
import { createSlotwise } from '../app.js';
import { startServer } from '../server.js';

/**
 * A second Slotwise process for multi-instance tests: configured from the environment like
 * main.ts, listening on a free port, which it prints as one JSON line on stdout.
 */
const app = await createSlotwise({ config: loadConfig(process.env) });
const server = await startServer(app, { port: 0, host: '127.0.0.1' });
process.stdout.write(`${JSON.stringify({ url: server.url })}\n`);
process.once('SIGTERM', () => {
  void server.stop().then(() => process.exit(0));
});
