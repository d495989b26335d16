/** Closed-loop load: each client sends its next request when the last one answered (plus an optional pause). */

export type Outcome = 'ok' | 'conflict' | 'error';

export interface LoadOptions {
  clients: number;
  warmupMs: number;
  durationMs: number;
  /** Think time between a client's requests (paced clients); 0 for closed loop. */
  pauseMs?: number;
  /** One request; `client` and `seq` let scenarios spread their keys. */
  request: (client: number, seq: number) => Promise<Outcome>;
}

export interface LoadResult {
  clients: number;
  /** Requests per second completed in the measured window (all outcomes). */
  rps: number;
  ok: number;
  conflicts: number;
  errors: number;
  p50: number;
  p95: number;
  p99: number;
  firstError?: string;
  /** Server CPU time (user + system, ms) per request handled, warm-up included, when the caller measured it. */
  cpuMsPerRequest?: number;
}

/** The raw figures of one run; several runs of one target merge into one LoadResult. */
export interface LoadSample {
  clients: number;
  durationMs: number;
  latencies: number[];
  completed: number;
  counts: Record<Outcome, number>;
  /** Every request that finished, warm-up included (what the server's CPU time was spent on). */
  handled: number;
  /** The server's CPU time over the whole run (set by callers that read it). */
  cpuMs?: number;
  firstError?: string;
}

export async function closedLoop(options: LoadOptions): Promise<LoadSample> {
  const { clients, warmupMs, durationMs, pauseMs = 0 } = options;
  const measureFrom = performance.now() + warmupMs;
  const endAt = measureFrom + durationMs;
  const latencies: number[] = [];
  const counts: Record<Outcome, number> = { ok: 0, conflict: 0, error: 0 };
  let firstError: string | undefined;
  let completed = 0;
  let handled = 0;

  const client = async (index: number) => {
    // Paced clients start spread over one pause, so they do not all fire together.
    if (pauseMs) await sleep(Math.random() * pauseMs);
    for (let seq = 0; performance.now() < endAt; seq++) {
      const started = performance.now();
      let outcome: Outcome;
      try {
        outcome = await options.request(index, seq);
      } catch (err) {
        outcome = 'error';
        firstError ??= err instanceof Error ? err.message : String(err);
      }
      const finished = performance.now();
      handled++;
      // Latency of every request started in the window (a slow server's tail shows);
      // throughput counts only those that also finished in it.
      if (started >= measureFrom) {
        latencies.push(finished - started);
        counts[outcome]++;
        if (finished <= endAt) completed++;
      }
      if (pauseMs && finished < endAt) await sleep(pauseMs);
    }
  };
  await Promise.all(Array.from({ length: clients }, (_, i) => client(i)));
  return { clients, durationMs, latencies, completed, counts, handled, firstError };
}

export function summarize(samples: LoadSample[]): LoadResult {
  const latencies = samples.flatMap((s) => s.latencies).sort((a, b) => a - b);
  const sum = (f: (s: LoadSample) => number) => samples.reduce((n, s) => n + f(s), 0);
  return {
    clients: samples[0]!.clients,
    rps: sum((s) => s.completed) / (sum((s) => s.durationMs) / 1000),
    ok: sum((s) => s.counts.ok),
    conflicts: sum((s) => s.counts.conflict),
    errors: sum((s) => s.counts.error),
    p50: percentile(latencies, 0.5),
    p95: percentile(latencies, 0.95),
    p99: percentile(latencies, 0.99),
    firstError: samples.find((s) => s.firstError)?.firstError,
    ...(samples.every((s) => s.cpuMs !== undefined) ? { cpuMsPerRequest: sum((s) => s.cpuMs!) / Math.max(1, sum((s) => s.handled)) } : {}),
  };
}

export function percentile(sorted: number[], p: number): number {
  if (!sorted.length) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)]!;
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
