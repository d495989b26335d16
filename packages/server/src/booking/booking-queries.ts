import { z } from 'zod';
import type { SqlQuery } from '../db/database.js';
import type { Prisma, PrismaClient } from '../generated/prisma/client.js';
import type { BookingStatus } from '../generated/prisma/enums.js';
import type { Actor } from '../shared/actor.js';
import { NotFoundError, parseInput } from '../shared/errors.js';
import { pii } from '../shared/pii.js';
import { instantWindowSchema } from '../shared/validation.js';
import { canSeeBooking, grantBookingAccess, tokenMatches } from './access.js';
import { selectMyBookings, type BookingSummary } from './booking.store.js';

const DAY_MS = 86_400_000;
const window = instantWindowSchema('bookingList');

export interface BookingFilters {
  resourceId?: string | null;
  locationId?: string | null;
  status?: BookingStatus[] | null;
  from?: Date | null;
  to?: Date | null;
  customerEmail?: string | null;
}

const filters = z.object({ customerEmail: z.email('must be an email address').nullish() });

/** Bookings overlapping [from, to): a booking that started before `from` and is still going counts. */
function overlapping(from: Date | null | undefined, to: Date | null | undefined): Prisma.BookingWhereInput {
  return { ...(to ? { startAt: { lt: to } } : {}), ...(from ? { endAt: { gt: from } } : {}) };
}

/** Staff's booking list: every filter optional; the customer's email is matched by its lookup hash. */
export function staffBookingsWhere(input: BookingFilters): Prisma.BookingWhereInput {
  parseInput(window, { from: input.from, to: input.to }, []);
  const { customerEmail } = parseInput(filters, { customerEmail: input.customerEmail }, []);
  return {
    ...(input.resourceId ? { resourceId: input.resourceId } : {}),
    ...(input.locationId ? { locationId: input.locationId } : {}),
    ...(input.status?.length ? { status: { in: input.status } } : {}),
    ...(customerEmail ? { customerEmailHash: pii().emailHash(customerEmail) } : {}),
    ...overlapping(input.from, input.to),
  };
}

/**
 * The signed-in user's bookings overlapping a window (default: from now, 90 days), by start: those
 * linked to the account, and those made with its email while signed out. Plain SQL (two index
 * lookups, by user and by email hash): through the ORM this read cost more than the rest of the request.
 * Whole rows, or (`summaries`) only what BookingSummary holds.
 */
export async function myBookings(
  sql: SqlQuery,
  actor: Actor,
  from: Date | null | undefined,
  to: Date | null | undefined,
  now: Date,
  summaries: boolean,
): Promise<BookingSummary[]> {
  const start = from ?? now;
  const end = to ?? new Date(start.getTime() + 90 * DAY_MS);
  parseInput(window, { from: start, to: end }, []);
  return selectMyBookings(sql, actor.userId, pii().emailHash(actor.email), start, end, summaries);
}

/**
 * One booking, for staff, its own customer, or whoever shows its manage token (who may then see
 * it in this response). Anyone else gets NotFound, the same as for an id that does not exist.
 */
export async function findVisibleBooking<Q extends object>(
  prisma: PrismaClient,
  query: Q,
  id: string,
  manageToken: string | null | undefined,
  requestKey: object,
  actor: Actor | null,
) {
  const booking = await prisma.booking.findUnique({ ...query, where: { id } });
  if (!booking) throw new NotFoundError('Booking', id);
  if (tokenMatches(booking, manageToken)) grantBookingAccess(requestKey, booking.id);
  if (!canSeeBooking(requestKey, actor, booking)) throw new NotFoundError('Booking', id);
  return booking;
}
