import { timingSafeEqual } from 'node:crypto';
import type { Role } from '../generated/prisma/enums.js';
import { hasAnyRole, STAFF_ROLES, type Actor } from '../shared/actor.js';
import { pii } from '../shared/pii.js';
import { hashManageToken } from './customer.js';

/** Staff who may change anyone's booking (schedulers may read them, not change them). */
export const BOOKING_MANAGER_ROLES: Role[] = ['admin', 'manager', 'frontdesk'];

type Owned = { userId: string | null; customerEmailHash: string };

/** The signed-in customer: by user id, or by the email their account is verified for. */
export function isOwner(actor: Actor | null, booking: Owned): boolean {
  if (!actor) return false;
  return booking.userId === actor.userId || booking.customerEmailHash === pii().emailHash(actor.email);
}

export function tokenMatches(booking: { manageTokenHash: string | null }, token: string | null | undefined): boolean {
  if (!token || !booking.manageTokenHash) return false;
  const given = Buffer.from(hashManageToken(token), 'hex');
  const stored = Buffer.from(booking.manageTokenHash, 'hex');
  return given.length === stored.length && timingSafeEqual(given, stored);
}

export function canManage(actor: Actor | null, booking: Owned & { manageTokenHash: string | null }, token?: string | null): boolean {
  return hasAnyRole(actor, BOOKING_MANAGER_ROLES) || isOwner(actor, booking) || tokenMatches(booking, token);
}

/**
 * Bookings a request has proven it may see (it created them, or showed their manage token).
 * Keyed by the request's context object, so the grant ends with the request.
 */
const grants = new WeakMap<object, Set<string>>();

export function grantBookingAccess(requestKey: object, bookingId: string): void {
  const set = grants.get(requestKey) ?? new Set<string>();
  set.add(bookingId);
  grants.set(requestKey, set);
}

/** Staff, the booking's own customer, or a request granted access above. */
export function canSeeBooking(requestKey: object, actor: Actor | null, booking: Owned & { id: string }): boolean {
  return hasAnyRole(actor, STAFF_ROLES) || isOwner(actor, booking) || (grants.get(requestKey)?.has(booking.id) ?? false);
}
