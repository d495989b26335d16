import { randomUUID } from 'node:crypto';

const ACCEPTABLE = /^[\w.:-]{1,128}$/;

/** Keeps a caller's X-Request-Id when it is sane, otherwise makes one. */
export function requestIdFrom(header: string | null | undefined): string {
  return header && ACCEPTABLE.test(header) ? header : randomUUID();
}
