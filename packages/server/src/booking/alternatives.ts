import type { SqlQuery } from '../db/database.js';
import { localDateSpan, rangesOfDuration, subtractIntervals, workingHours, type HoursRule, type Interval } from '../scheduling/search.js';
import { NotFoundError } from '../shared/errors.js';
import { toDateColumn } from '../shared/time.js';
import type { TimeRange } from './errors.js';
import { busyRanges, hoursRuleRows, loadResource, type HoursRuleRow } from './booking.store.js';

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
  sql: SqlQuery,
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
  const resource = typeof resourceOrId === 'string' ? await conflictResource(sql, resourceOrId) : resourceOrId;
  const resourceId = resource.id;
  const [rules, busy] = await Promise.all([
    hoursRuleRows(sql, resourceId, resource.locationId),
    busyRanges(sql, resourceId, { startAt: new Date(window.start), endAt: new Date(window.end) }, ignoreBookingId),
  ]);

  const wanted = { start: requested.startAt.getTime(), end: requested.endAt.getTime() };
  const taken = busy.find((b) => b.startAt.getTime() < wanted.end && b.endAt.getTime() > wanted.start);

  // A resource without rules of its own works its location's hours; with none at all, any time.
  const own = rules.filter((r) => r.resource_id === resourceId);
  const applying = (own.length ? own : rules).map(hoursRule);
  const timeZone = resource.timeZone;
  const span = localDateSpan(window, timeZone);
  const open = applying.length ? workingHours(applying, timeZone, span.fromDate, span.toDate) : [window];
  const free = subtractIntervals(
    open,
    busy.map((b) => ({ start: b.startAt.getTime(), end: b.endAt.getTime() })),
  );
  const candidates = rangesOfDuration(free, duration, window);
  const distance = (i: Interval) => Math.abs(i.start - wanted.start);
  candidates.sort((a, b) => distance(a) - distance(b) || b.start - a.start);

  return {
    conflict: taken ? { startAt: taken.startAt, endAt: taken.endAt } : requested,
    alternatives: candidates.slice(0, MAX_ALTERNATIVES).map((i) => ({ startAt: new Date(i.start), endAt: new Date(i.end) })),
  };
}

async function conflictResource(sql: SqlQuery, id: string): Promise<ConflictResource> {
  const resource = await loadResource(sql, id);
  if (!resource) throw new NotFoundError('Resource', id);
  return resource;
}

function hoursRule(r: HoursRuleRow): HoursRule {
  return {
    kind: r.kind,
    daysOfWeek: r.days_of_week,
    startMinute: r.start_minute,
    endMinute: r.end_minute,
    validFrom: r.valid_from ? toDateColumn(r.valid_from) : null,
    validTo: r.valid_to ? toDateColumn(r.valid_to) : null,
    isClosed: r.is_closed,
  };
}
