import { processTreeCpuMs } from './processes.js';

/** Closed-loop load: each client sends its next request when the last one answered (plus an optional pause). */

/** The local PostgreSQL's postmaster: its process tree's CPU per request is reported beside the server's. */
let databasePid: number | undefined;
export function measureDatabaseCpu(pid: number | undefined) {
  databasePid = pid;
}

export type Outcome = 'ok' | 'conflict' | 'error';

export interface LoadOptions {
  clients: number;
  warmupMs: number;
  durationMs: number;
  /** Think time between a client's requests (paced clients); 0 for closed loop. */
  pauseMs?: number;
  /** One request; `client` and `seq` let scenarios spread their keys. */
  request: (client: number, seq: number) => Promise<Outcome>;
  /** The server process under load: its CPU time (workers included) is read over the measured window. */
  serverPid?: number;
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
  /** Server CPU time (user + system) per request completed in the window, when the server's pid was given. */
  cpuMsPerRequest?: number;
  /** PostgreSQL's CPU time (all its processes, so other work on the database too) per request completed in the window. */
  dbCpuMsPerRequest?: number;
  firstError?: string;
}

/** The raw figures of one run; several runs of one target merge into one LoadResult. */
export interface LoadSample {
  clients: number;
  durationMs: number;
  latencies: number[];
  completed: number;
  counts: Record<Outcome, number>;
  serverCpuMs?: number;
  databaseCpuMs?: number;
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
  // CPU is read at the window's edges, so warm-up work (JIT, caches) is not counted.
  const cpuAt = () => (options.serverPid ? processTreeCpuMs(options.serverPid) : 0);
  const dbCpuAt = () => (databasePid ? processTreeCpuMs(databasePid) : 0);
  let cpuStart = 0;
  let dbCpuStart = 0;
  const cpuTimer = setTimeout(() => {
    cpuStart = cpuAt();
    dbCpuStart = dbCpuAt();
  }, warmupMs);

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
  let serverCpuMs: number | undefined;
  let databaseCpuMs: number | undefined;
  const cpuEndTimer = setTimeout(() => {
    serverCpuMs = options.serverPid ? cpuAt() - cpuStart : undefined;
    databaseCpuMs = databasePid ? dbCpuAt() - dbCpuStart : undefined;
  }, warmupMs + durationMs);
  await Promise.all(Array.from({ length: clients }, (_, i) => client(i)));
  clearTimeout(cpuTimer);
  clearTimeout(cpuEndTimer);
  return { clients, durationMs, latencies, completed, counts, serverCpuMs, databaseCpuMs, firstError };
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
    cpuMsPerRequest: perRequest(samples, (s) => s.serverCpuMs),
    dbCpuMsPerRequest: perRequest(samples, (s) => s.databaseCpuMs),
    firstError: samples.find((s) => s.firstError)?.firstError,
  };
}

function perRequest(samples: LoadSample[], cpuMs: (s: LoadSample) => number | undefined): number | undefined {
  if (!samples.every((s) => cpuMs(s) !== undefined)) return undefined;
  const completed = samples.reduce((n, s) => n + s.completed, 0);
  return samples.reduce((n, s) => n + cpuMs(s)!, 0) / Math.max(1, completed);
}

export function percentile(sorted: number[], p: number): number {
  if (!sorted.length) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)]!;
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
