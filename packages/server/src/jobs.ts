import type { Logger } from 'pino';

/** A scheduled job; `nudge` runs it now instead of at its next tick (again right after, if it is running). */
export interface Job {
  nudge(): void;
}

/**
 * Periodic background work. Every job must be safe when many instances run it at once
 * (claim rows with FOR UPDATE SKIP LOCKED); the runner only schedules and stops them.
 */
export class JobRunner {
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly running = new Set<Promise<unknown>>();
  private stopped = false;

  constructor(private readonly log: Logger) {}

  every(name: string, intervalMs: number, job: () => Promise<unknown>): Job {
    let timer: NodeJS.Timeout | undefined;
    let busy = false;
    let nudged = false;
    const schedule = (delayMs: number) => {
      if (timer) {
        clearTimeout(timer);
        this.timers.delete(timer);
      }
      timer = setTimeout(tick, delayMs).unref();
      this.timers.add(timer);
    };
    const tick = () => {
      if (timer) this.timers.delete(timer);
      timer = undefined;
      if (this.stopped) return;
      busy = true;
      const run = job()
        .catch((err) => this.log.error({ err, job: name }, 'background job failed'))
        .finally(() => {
          busy = false;
          this.running.delete(run);
          if (!this.stopped) schedule(nudged ? 0 : intervalMs);
          nudged = false;
        });
      this.running.add(run);
    };
    schedule(0);
    return {
      nudge: () => {
        if (this.stopped) return;
        if (busy) nudged = true;
        else schedule(0);
      },
    };
  }

  /** Stops scheduling and waits for runs in progress. */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const t of this.timers) clearTimeout(t);
    await Promise.allSettled([...this.running]);
  }
}
