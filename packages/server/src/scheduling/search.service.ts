import type { PrismaClient, Resource } from '../generated/prisma/client.js';
import { NotFoundError, ValidationError } from '../shared/errors.js';
import type { Viewer } from '../shared/viewer.js';
import { WINDOW_CAP_DAYS } from '../shared/validation.js';
import { checkWindow, oneScope, type ScopeIds } from './availability-window.js';
import { sqlIn } from '../db/database.js';
import { loadPolicies } from '../policies/policies.store.js';
import { CONTEXT_PAD_MS, policyVerdict } from '../policies/policy.js';
import { localDateSpan, rangesOfDuration, subtractIntervals, workingHours, type Interval } from './search.js';

const DAY_MS = 86_400_000;

export interface TimeRange {
  startAt: Date;
  endAt: Date;
  /** The zone its local fields read in: the viewer's, else the resource's location's. */
  timeZone: string;
}

export interface ResourceAvailability {
  resource: Resource;
  ranges: TimeRange[];
  /** The first free range after the window, only when the window has none. */
  nextAvailable: TimeRange | null;
}

const toRange = (i: Interval, timeZone: string): TimeRange => ({ startAt: new Date(i.start), endAt: new Date(i.end), timeZone });

/** Free ranges of a duration on exclusive resources (seed 002's availability search). */
export class SearchService {
  constructor(
    private readonly prisma: PrismaClient,
    private readonly now: () => Date = () => new Date(),
  ) {}

  async searchAvailability(
    ids: Pick<ScopeIds, 'resourceId' | 'locationId'>,
    from: Date,
    to: Date,
    durationMinutes: number,
    viewer: Viewer = {},
  ): Promise<ResourceAvailability[]> {
    const { kind, id } = oneScope(ids, ['resource', 'location']);
    if (!Number.isInteger(durationMinutes) || durationMinutes % 15 !== 0 || durationMinutes < 15 || durationMinutes > 480) {
      throw ValidationError.field(['durationMinutes'], 'must be a multiple of 15 from 15 to 480');
    }
    const now = this.now();
    checkWindow(from, to, now, 'search');
    const resources = (await this.exclusiveResources(kind, id)).filter((r) => hasSkills(r.skills, viewer.skills));
    if (!resources.length) return [];

    // nextAvailable looks as far past the window as a window may be long.
    const horizon = to.getTime() + WINDOW_CAP_DAYS.search * DAY_MS;
    const resourceIds = resources.map((r) => r.id);
    const locationIds = [...new Set(resources.map((r) => r.locationId))];
    const [rules, bookings, policies] = await Promise.all([
      this.prisma.availabilityRule.findMany({
        where: { OR: [{ resourceId: { in: resourceIds } }, { resourceId: null, isClosed: true, locationId: { in: locationIds } }] },
      }),
      this.prisma.booking.findMany({
        where: {
          resourceId: { in: resourceIds },
          startAt: { lt: new Date(horizon) },
          // Earlier bookings too: buffers and per-day limits count them.
          endAt: { gt: new Date(from.getTime() - CONTEXT_PAD_MS) },
          OR: [{ status: 'CONFIRMED' }, { status: 'HELD', holdExpiresAt: { gt: now } }],
        },
        select: { id: true, slotId: true, resourceId: true, startAt: true, endAt: true },
      }),
      loadPolicies(sqlIn(this.prisma), resourceIds, []),
    ]);

    const durationMs = durationMinutes * 60_000;
    const window = { start: Math.max(from.getTime(), now.getTime()), end: to.getTime() };
    return resources.map((resource) => {
      // As slot generation reads them: the resource's own rules, plus closures of its whole location.
      const applying = rules.filter(
        (r) => r.resourceId === resource.id || (r.resourceId === null && r.isClosed && r.locationId === resource.locationId),
      );
      const { fromDate, toDate } = localDateSpan({ start: window.start, end: horizon }, resource.location.timeZone);
      const busy = bookings.filter((b) => b.resourceId === resource.id).map((b) => ({ start: b.startAt.getTime(), end: b.endAt.getTime() }));
      const free = subtractIntervals(workingHours(applying, resource.location.timeZone, fromDate, toDate), busy);
      // The booking policies, by the rule the booking transaction applies to a range.
      const subject = policies.get(resource.id);
      const live = bookings
        .filter((b) => b.resourceId === resource.id)
        .map((b) => ({ id: b.id, slotId: b.slotId, start: b.startAt.getTime(), end: b.endAt.getTime(), sameCustomer: false }));
      const allowed = (i: Interval) =>
        !subject ||
        policyVerdict({ slotId: null, ...i }, { policy: subject.policy, now: now.getTime(), timeZone: subject.timeZone, bookings: live }) === null;
      const ranges = rangesOfDuration(free, durationMs, window).filter(allowed);
      const later = { start: Math.max(to.getTime(), now.getTime()), end: horizon };
      const next = ranges.length ? undefined : rangesOfDuration(free, durationMs, later, subject ? Infinity : 1).find(allowed);
      const { location: _location, ...row } = resource;
      const zone = viewer.timeZone ?? resource.location.timeZone;
      return { resource: row, ranges: ranges.map((r) => toRange(r, zone)), nextAvailable: next ? toRange(next, zone) : null };
    });
  }

  private async exclusiveResources(kind: 'resource' | 'location' | 'form', id: string) {
    const include = { location: { select: { timeZone: true } } };
    if (kind === 'resource') {
      const resource = await this.prisma.resource.findUnique({ where: { id }, include });
      if (!resource) throw new NotFoundError('Resource', id);
      if (!resource.exclusive) throw ValidationError.field(['resourceId'], 'is not an exclusive resource; use availability for its slots');
      return [resource];
    }
    const resources = await this.prisma.resource.findMany({
      where: { locationId: id, exclusive: true, active: true },
      include,
      orderBy: { name: 'asc' },
    });
    if (!resources.length && !(await this.prisma.location.findUnique({ where: { id }, select: { id: true } }))) {
      throw new NotFoundError('Location', id);
    }
    return resources;
  }
}

/** Every required skill (none required: any resource). */
function hasSkills(skills: string[], required: string[] | null | undefined): boolean {
  return !required || required.every((s) => skills.includes(s));
}
