import cluster, { type Worker } from 'node:cluster';
import { availableParallelism } from 'node:os';
import type { Logger } from 'pino';
import type { Config } from './config.js';

/**
 * How many server processes to run. Embedded mode is always one: PGlite lives inside one process
 * (and holds DATA_DIR's lock), so a second one could not open the database.
 */
export function workerCount(config: Pick<Config, 'WORKERS' | 'DATABASE_URL'>): number {
  if (!config.DATABASE_URL) return 1;
  return config.WORKERS === 'auto' ? availableParallelism() : config.WORKERS;
}

/** This process's worker number under WORKERS > 1 (shown in `X-Slotwise-Worker`), else undefined. */
export function workerId(): number | undefined {
  return cluster.isWorker ? cluster.worker!.id : undefined;
}

/** A worker that dies this soon after its start is failing, not crashing once: wait before the next. */
const RESTART_DELAY_MS = 1_000;

/**
 * The primary of WORKERS > 1: serves nothing itself. Node's cluster module shares the one listening
 * socket (the primary accepts and hands connections to workers in turn). The first worker starts
 * alone and migrates; the others start once it listens, so a failing start (a bad migration, an
 * unreachable database) stops everything with that worker's one line rather than N of them.
 * A worker that dies later is replaced. SIGTERM/SIGINT stop every worker gracefully, then the primary.
 */
export function runPrimary(count: number, log: Logger): void {
  let stopping = false;
  let failedStop = false;
  let started = 0;
  const alive = new Set<Worker>();

  const fork = () => {
    const worker = cluster.fork();
    const forkedAt = Date.now();
    let listening = false;
    alive.add(worker);
    worker.once('listening', () => {
      listening = true;
      started++;
      if (started === 1) for (let i = 1; i < count; i++) fork();
      if (started === count) log.info({ workers: count }, 'all workers listening');
    });
    worker.once('exit', (code, signal) => {
      alive.delete(worker);
      if (stopping) {
        if (code) failedStop = true;
        if (!alive.size) process.exit(failedStop ? 1 : 0);
        return;
      }
      if (!listening && started === 0) {
        // The first worker could not start: its own output said why.
        stopping = true;
        for (const other of alive) other.process.kill('SIGTERM');
        process.exit(code || 1);
      }
      log.error({ worker: worker.id, code, signal }, 'worker exited; starting a new one');
      setTimeout(fork, Date.now() - forkedAt < 5_000 ? RESTART_DELAY_MS : 0).unref();
    });
  };

  const shutdown = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal, workers: alive.size }, 'shutting down all workers');
    if (!alive.size) process.exit(0);
    // Each worker drains its own requests within SHUTDOWN_TIMEOUT_MS (src/server.ts) and exits.
    for (const worker of alive) worker.process.kill('SIGTERM');
  };
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  process.once('SIGINT', () => shutdown('SIGINT'));
  fork();
}
