import type { SqlQuery } from '../db/database.js';
import { localDateSpan, rangesOfDuration, subtractIntervals, workingHours, type HoursRule, type Interval } from '../scheduling/search.js';
import { NotFoundError } from '../shared/errors.js';
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
    // Dates as text: a `date` read by pg would be local midnight of this process's zone.
    sql.query<RuleRow>(
      `SELECT resource_id, kind, days_of_week, start_minute, end_minute, valid_from::text AS valid_from, valid_to::text AS valid_to, is_closed
         FROM availability_rules WHERE resource_id = $1::uuid OR (resource_id IS NULL AND location_id = $2::uuid)`,
      [resourceId, resource.locationId],
    ),
    sql.query<{ startAt: Date; endAt: Date }>(
      `SELECT start_at AS "startAt", end_at AS "endAt" FROM bookings
        WHERE resource_id = $1::uuid AND exclusive AND status IN ('HELD', 'CONFIRMED') AND start_at < $2 AND end_at > $3
          AND ($4::uuid IS NULL OR id <> $4::uuid)
        ORDER BY start_at`,
      [resourceId, new Date(window.end), new Date(window.start), ignoreBookingId ?? null],
    ),
  ]);

  const wanted = { start: requested.startAt.getTime(), end: requested.endAt.getTime() };
  const taken = busy.find((b) => b.startAt.getTime() < wanted.end && b.endAt.getTime() > wanted.start);

  // A resource without rules of its own works its location's hours; with none at all, any time.
  const own = rules.filter((r) => r.resource_id === resourceId);
  const applying = (own.length ? own : rules).map(hoursRule);
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

/** A resource with its location's zone, and whether it takes range bookings; undefined when unknown. */
export async function loadResource(sql: SqlQuery, id: string): Promise<(ConflictResource & { exclusive: boolean; active: boolean }) | undefined> {
  const [row] = await sql.query<{ location_id: string; time_zone: string; exclusive: boolean; active: boolean }>(
    `SELECT r.location_id, l.time_zone, r.exclusive, r.active FROM resources r JOIN locations l ON l.id = r.location_id WHERE r.id = $1::uuid`,
    [id],
  );
  return row && { id, locationId: row.location_id, timeZone: row.time_zone, exclusive: row.exclusive, active: row.active };
}

async function conflictResource(sql: SqlQuery, id: string): Promise<ConflictResource> {
  const resource = await loadResource(sql, id);
  if (!resource) throw new NotFoundError('Resource', id);
  return resource;
}

interface RuleRow {
  resource_id: string | null;
  kind: HoursRule['kind'];
  days_of_week: number[];
  start_minute: number;
  end_minute: number;
  valid_from: string | null;
  valid_to: string | null;
  is_closed: boolean;
}

const utcDate = (date: string | null) => (date ? new Date(`${date}T00:00:00Z`) : null);

function hoursRule(r: RuleRow): HoursRule {
  return {
    kind: r.kind,
    daysOfWeek: r.days_of_week,
    startMinute: r.start_minute,
    endMinute: r.end_minute,
    validFrom: utcDate(r.valid_from),
    validTo: utcDate(r.valid_to),
    isClosed: r.is_closed,
  };
}
