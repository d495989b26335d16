import type { BenchContext } from './context.js';
import { settled } from './processes.js';
import { JsonClient } from './http-client.js';
import { closedLoop, summarize, type LoadResult, type LoadSample, type Outcome } from './load.js';

export type Target = 'floor' | 'bare' | 'slotwise';
export const TARGETS: Target[] = ['floor', 'bare', 'slotwise'];
export const TARGET_NAMES: Record<Target, string> = { floor: 'stack floor (yoga+pg)', bare: 'bare node:http+pg', slotwise: 'slotwise' };

/** How many alternating segments each target's load is cut into. */
const SEGMENTS = 2;

/**
 * Loads each target with the same closed-loop clients. The load window is cut into segments that
 * alternate between the targets (A B C, then C B A), so a burst of other work on this shared
 * machine lands on every target rather than on one.
 */
export async function sideBySide(
  ctx: BenchContext,
  clients: number,
  requestFor: (target: Target, client: JsonClient) => (client: number, seq: number) => Promise<Outcome>,
  options: { pauseMs?: number; targets?: Target[]; warmupMs?: number } = {},
): Promise<Record<Target, LoadResult>> {
  const targets = options.targets ?? TARGETS;
  // Background work the previous scenario left (PostgreSQL's autovacuum after thousands of inserts)
  // must not land in this one.
  await settled();
  const http = new Map(targets.map((t) => [t, new JsonClient(ctx[t].url, clients)]));
  const requests = new Map(targets.map((t) => [t, requestFor(t, http.get(t)!)]));
  const samples = new Map<Target, LoadSample[]>(targets.map((t) => [t, []]));
  for (let segment = 0; segment < SEGMENTS; segment++) {
    const order = segment % 2 ? [...targets].reverse() : targets;
    for (const t of order) {
      samples.get(t)!.push(
        await closedLoop({
          clients,
          warmupMs: segment ? Math.min(ctx.warmupMs, 500) : (options.warmupMs ?? ctx.warmupMs),
          durationMs: ctx.durationMs / SEGMENTS,
          pauseMs: options.pauseMs,
          request: requests.get(t)!,
          serverPid: ctx[t].pid,
        }),
      );
    }
  }
  for (const c of http.values()) c.close();
  return Object.fromEntries(targets.map((t) => [t, summarize(samples.get(t)!)])) as Record<Target, LoadResult>;
}
