import type { PrismaClient } from '../generated/prisma/client.js';
import { localDateSpan, rangesOfDuration, subtractIntervals, workingHours, type Interval } from '../scheduling/search.js';
import type { TimeRange } from './errors.js';

const DAY_MS = 86_400_000;
/** How far either side of the requested start alternatives are looked for. */
const SEARCH_DAYS = 7;
export const MAX_ALTERNATIVES = 5;

/**
 * What stands in the way of a range on an exclusive resource, and free ranges of the same
 * length nearby: nearest to the requested start first (later before earlier on a tie), on
 * 15-minute steps, inside the resource's working hours when it (or its location) has rules,
 * never in the past. Busy means what the exclusion constraint counts: HELD or CONFIRMED.
 */
export interface ConflictResource {
  id: string;
  locationId: string;
  timeZone: string;
}

export async function findConflict(
  prisma: PrismaClient,
  resourceOrId: ConflictResource | string,
  requested: TimeRange,
  now: Date,
  ignoreBookingId?: string,
): Promise<{ conflict: TimeRange; alternatives: TimeRange[] }> {
  const duration = requested.endAt.getTime() - requested.startAt.getTime();
  const window: Interval = {
    start: Math.max(now.getTime(), requested.startAt.getTime() - SEARCH_DAYS * DAY_MS),
    end: requested.endAt.getTime() + SEARCH_DAYS * DAY_MS,
  };
  const resource = typeof resourceOrId === 'string' ? await conflictResource(prisma, resourceOrId) : resourceOrId;
  const resourceId = resource.id;
  const [rules, busy] = await Promise.all([
    prisma.availabilityRule.findMany({
      where: { OR: [{ resourceId }, { resourceId: null, locationId: resource.locationId }] },
    }),
    prisma.booking.findMany({
      where: {
        resourceId,
        exclusive: true,
        status: { in: ['HELD', 'CONFIRMED'] },
        startAt: { lt: new Date(window.end) },
        endAt: { gt: new Date(window.start) },
        ...(ignoreBookingId ? { id: { not: ignoreBookingId } } : {}),
      },
      select: { startAt: true, endAt: true },
      orderBy: { startAt: 'asc' },
    }),
  ]);

  const wanted = { start: requested.startAt.getTime(), end: requested.endAt.getTime() };
  const taken = busy.find((b) => b.startAt.getTime() < wanted.end && b.endAt.getTime() > wanted.start);

  // A resource without rules of its own works its location's hours; with none at all, any time.
  const own = rules.filter((r) => r.resourceId === resourceId);
  const applying = own.length ? own : rules;
  const timeZone = resource.timeZone;
  const span = localDateSpan(window, timeZone);
  const open = applying.length ? workingHours(applying, timeZone, span.fromDate, span.toDate) : [window];
  const free = subtractIntervals(open, busy.map((b) => ({ start: b.startAt.getTime(), end: b.endAt.getTime() })));
  const candidates = rangesOfDuration(free, duration, window);
  const distance = (i: Interval) => Math.abs(i.start - wanted.start);
  candidates.sort((a, b) => distance(a) - distance(b) || b.start - a.start);

  return {
    conflict: taken ? { startAt: taken.startAt, endAt: taken.endAt } : requested,
    alternatives: candidates.slice(0, MAX_ALTERNATIVES).map((i) => ({ startAt: new Date(i.start), endAt: new Date(i.end) })),
  };
}

export async function conflictResource(prisma: PrismaClient, id: string): Promise<ConflictResource> {
  const r = await prisma.resource.findUniqueOrThrow({ where: { id }, select: { locationId: true, location: { select: { timeZone: true } } } });
  return { id, locationId: r.locationId, timeZone: r.location.timeZone };
}
