import type { Logger } from 'pino';

/**
 * Periodic background work. Every job must be safe when many instances run it at once
 * (claim rows with FOR UPDATE SKIP LOCKED); the runner only schedules and stops them.
 */
export class JobRunner {
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly running = new Set<Promise<unknown>>();
  private stopped = false;

  constructor(private readonly log: Logger) {}

  every(name: string, intervalMs: number, job: () => Promise<unknown>): void {
    const tick = () => {
      if (this.stopped) return;
      const run = job()
        .catch((err) => this.log.error({ err, job: name }, 'background job failed'))
        .finally(() => {
          this.running.delete(run);
          if (!this.stopped) this.timers.add(setTimeout(tick, intervalMs).unref());
        });
      this.running.add(run);
    };
    this.timers.add(setTimeout(tick, 0).unref());
  }

  /** Stops scheduling and waits for runs in progress. */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const t of this.timers) clearTimeout(t);
    await Promise.allSettled([...this.running]);
  }
}
