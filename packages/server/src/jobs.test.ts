import { describe, expect, it } from 'vitest';
import { JobRunner } from './jobs.js';
import { createLogger } from './logger.js';

describe('JobRunner', () => {
  it('runs a job at once, and again when nudged instead of waiting its interval; a nudge while running runs it once more after', async () => {
    const runner = new JobRunner(createLogger('silent'));
    let runs = 0;
    let release: () => void = () => {};
    const ran: (() => void)[] = [];
    const job = runner.every('test', 60 * 60_000, async () => {
      runs++;
      ran.splice(0).forEach((r) => r());
      await new Promise<void>((resolve) => (release = resolve));
    });
    const nextRun = () => new Promise<void>((resolve) => ran.push(resolve));

    await nextRun();
    expect(runs).toBe(1);
    job.nudge(); // while running: remembered
    const second = nextRun();
    release();
    await second;
    expect(runs).toBe(2);
    const third = nextRun();
    release();
    await Promise.resolve();
    job.nudge(); // idle: runs now, not in an hour
    await third;
    expect(runs).toBe(3);
    release();
    await runner.stop();
    job.nudge();
    expect(runs).toBe(3);
  });
});
