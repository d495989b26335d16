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
}

export async function closedLoop(options: LoadOptions): Promise<LoadResult> {
  const { clients, warmupMs, durationMs, pauseMs = 0 } = options;
  const measureFrom = performance.now() + warmupMs;
  const endAt = measureFrom + durationMs;
  const latencies: number[] = [];
  const counts = { ok: 0, conflict: 0, error: 0 };
  let firstError: string | undefined;
  let completed = 0;

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

  latencies.sort((a, b) => a - b);
  return {
    clients,
    rps: completed / (durationMs / 1000),
    ok: counts.ok,
    conflicts: counts.conflict,
    errors: counts.error,
    p50: percentile(latencies, 0.5),
    p95: percentile(latencies, 0.95),
    p99: percentile(latencies, 0.99),
    firstError,
  };
}

export function percentile(sorted: number[], p: number): number {
  if (!sorted.length) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)]!;
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
