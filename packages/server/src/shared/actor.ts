import type { Role } from '../generated/prisma/enums.js';

/** Who is calling. Anonymous callers (the public) have no actor. */
export interface Actor {
  userId: string;
  email: string;
  roles: Role[];
  via: 'jwt' | 'api-token';
}

export const STAFF_ROLES: Role[] = ['admin', 'manager', 'scheduler', 'frontdesk'];

/** admin may do everything; other roles only what they are named for. */
export function hasAnyRole(actor: Actor | null, roles: readonly Role[]): boolean {
  if (!actor) return false;
  return actor.roles.includes('admin') || actor.roles.some((r) => roles.includes(r));
}

/** A stable label for audit rows and idempotency keys. */
export function actorLabel(actor: Actor | null): string {
  return actor ? `user:${actor.userId}` : 'public';
}
