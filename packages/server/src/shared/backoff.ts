/** The wait before attempt `attempt + 1`: base * 2^(attempt-1), capped, then between half and all of it (jitter). */
export function jitteredBackoffMs(attempt: number, baseMs: number, maxMs: number, random: () => number): number {
  const full = Math.min(maxMs, baseMs * 2 ** (attempt - 1));
  return Math.round(full / 2 + (full / 2) * random());
}
