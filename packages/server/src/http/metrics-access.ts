import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

/** Without METRICS_TOKEN /metrics is open (a private network's scraper); with it, only its bearer may read. */
export function metricsAllowed(req: IncomingMessage, token: string | undefined): boolean {
  if (!token) return true;
  const given = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '')?.[1] ?? '';
  // Compared as digests: equal lengths for timingSafeEqual, and no early exit on the first difference.
  const digest = (value: string) => createHash('sha256').update(value).digest();
  return timingSafeEqual(digest(given), digest(token));
}
