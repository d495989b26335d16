import type { Slot } from '../generated/prisma/client.js';
import type { SqlQuery, SqlRunner } from '../db/database.js';
import type { ReadRouter } from '../db/read-replica.js';
import { ValidationError } from '../shared/errors.js';
import { bookableUnderPolicies } from '../policies/visibility.js';
import type { Viewer } from '../shared/viewer.js';
import { nextLocalDate, startOfLocalDate } from '../shared/time.js';
import { checkDateWindow, checkWindow, loadScope, loadScopeWith, oneScope, type Scope, type ScopeIds } from './availability-window.js';

const SCOPE_COLUMN = { resource: 'resource_id', location: 'location_id', form: 'form_id' } as const;

/** The scope's slots as SQL ($1 = the scope id); see loadScope for why form slots stay in their form. */
function scopeFilter(kind: keyof typeof SCOPE_COLUMN): string {
  return kind === 'form' ? 'form_id = $1::uuid' : `${SCOPE_COLUMN[kind]} = $1::uuid AND form_id IS NULL`;
}

/** What a Slot in an answer shows: the GraphQL Slot type reads no other column. */
export type SlotView = Omit<Slot, 'formId' | 'ruleId' | 'createdAt' | 'updatedAt'>;

/** The SlotView columns, named as Prisma's Slot type names them; `zone` (a parameter) overrides the slot's zone. */
const slotViewColumns = (zone: string) => `id, location_id AS "locationId", resource_id AS "resourceId", coalesce(${zone}::text, time_zone) AS "timeZone",
  start_at AS "startAt", end_at AS "endAt", capacity, booked, held, status, version`;

/** Slots of resources with every required skill ($n: text[] or null for no requirement). */
export const skillFilter = (param: string) => `(${param}::text[] IS NULL OR resource_id IN (SELECT id FROM resources WHERE skills @> ${param}::text[]))`;

/** More slots than this in one answer means the window should be narrower. */
export const MAX_AVAILABILITY_SLOTS = 5000;

export interface AvailabilityResult {
  timeZone: string;
  from: Date;
  to: Date;
  slots: SlotView[];
}

/** The compact form's limit: its slots cost a few bytes each, so a location's quarter fits. */
export const MAX_COMPACT_SLOTS = 50_000;

/** One resource's bookable slots starting on one local date, as parallel lists (availabilityByDay). */
export interface AvailabilityDay {
  date: string;
  resourceId: string | null;
  slotIds: string[];
  /** Start on the local wall clock, in minutes after midnight. */
  starts: number[];
  durations: number[];
  remaining: number[];
}

export interface AvailabilityDays {
  timeZone: string;
  from: Date;
  to: Date;
  slotCount: number;
  days: AvailabilityDay[];
}

export interface AvailableDate {
  date: string;
  slotCount: number;
  remaining: number;
}

/**
 * Public availability reads, straight from the slots table. Anonymous answers are cached above this
 * (response-cache.plugin.ts), invalidated by every committed slot change of their scope.
 */
export class AvailabilityService {
  constructor(
    private readonly sql: SqlRunner,
    private readonly now: () => Date = () => new Date(),
    /** With DATABASE_READ_URL: these reads may run on the replica (src/db/read-replica.ts). */
    private readonly reads?: ReadRouter,
  ) {}

  /**
   * Whether slots of the scope must be judged against booking policies. The scope read says so in
   * the same statement; read on a replica it may not show a policy just added, so then the primary
   * decides, slot by slot, as always.
   */
  private mayHavePolicies(scope: Scope): boolean {
    return scope.hasPolicies || Boolean(this.reads?.enabled);
  }

  /** The replica when it may answer this caller, else the primary. */
  private reader(viewer?: Viewer): SqlQuery {
    return this.reads?.enabled ? this.reads.forRead(viewer?.readAfter) : this.sql;
  }

  /**
   * Slots starting in [from, to), cancelled ones left out, in start order; their local times in
   * the viewer's zone when one is given.
   */
  async availability(ids: ScopeIds, from: Date, to: Date, viewer: Viewer = {}): Promise<AvailabilityResult> {
    const { kind, id } = oneScope(ids, ['resource', 'location', 'form']);
    checkWindow(from, to, this.now());
    // The hottest public read: plain SQL in the Slot row shape, without the ORM's per-row cost
    // (the bench measured it at a third of the time of this query through Prisma), in the same
    // statement as the scope's own read.
    const { scope, rows } = await loadScopeWith<SlotView>(
      this.reader(viewer),
      kind,
      id,
      viewer,
      `SELECT ${slotViewColumns('$5')} FROM slots
        WHERE ${scopeFilter(kind)} AND start_at >= $2 AND start_at < $3 AND status <> 'CANCELLED' AND ${skillFilter('$6')}
        ORDER BY start_at, id LIMIT $4`,
      [from, to, MAX_AVAILABILITY_SLOTS + 1, viewer.timeZone ?? null, viewer.skills ?? null],
    );
    if (rows.length > MAX_AVAILABILITY_SLOTS) {
      throw ValidationError.field(['to'], `more than ${MAX_AVAILABILITY_SLOTS} slots in this window; ask for a shorter one`);
    }
    // What a booking policy would refuse now is left out: what is shown is what can be booked.
    const slots = this.mayHavePolicies(scope) ? await bookableUnderPolicies(this.sql, rows, this.now()) : rows;
    return { timeZone: viewer.timeZone ?? scope.timeZone, from, to, slots };
  }

  /**
   * The bookable slots (places left, no policy refusing them) starting in [from, to), grouped per
   * local date (in the viewer's zone, else the scope's) and resource: the compact form for big
   * windows. Local dates and wall-clock minutes come from PostgreSQL, so nothing per slot is
   * formatted here.
   */
  async availabilityByDay(ids: ScopeIds, from: Date, to: Date, viewer: Viewer = {}): Promise<AvailabilityDays> {
    const { kind, id } = oneScope(ids, ['resource', 'location', 'form']);
    const now = this.now();
    checkWindow(from, to, now);
    const sql = this.reader(viewer);
    const scope = await loadScope(sql, kind, id, viewer);
    const zone = viewer.timeZone ?? scope.timeZone;
    const bookable = `SELECT id, resource_id, location_id, start_at, end_at, capacity - booked - held AS places,
        to_char(start_at AT TIME ZONE $5, 'YYYY-MM-DD') AS date,
        (extract(hour FROM start_at AT TIME ZONE $5) * 60 + extract(minute FROM start_at AT TIME ZONE $5))::int AS start
      FROM slots
      WHERE ${scopeFilter(kind)} AND start_at >= $2 AND start_at < $3 AND start_at > $7
        AND status IN ('OPEN', 'PARTIAL') AND capacity > booked + held AND ${skillFilter('$6')}
      ORDER BY start_at, id LIMIT $4`;
    const params = [id, from, to, MAX_COMPACT_SLOTS + 1, zone, viewer.skills ?? null, now];
    const tooMany = () => ValidationError.field(['to'], `more than ${MAX_COMPACT_SLOTS} slots in this window; ask for a shorter one`);
    if (!this.mayHavePolicies(scope)) {
      // Nothing to judge slot by slot: PostgreSQL groups them, a row per date and resource.
      const days = await sql.query<AvailabilityDay>(
        `SELECT date, resource_id AS "resourceId", array_agg(id::text ORDER BY start_at, id) AS "slotIds",
                array_agg(start ORDER BY start_at, id) AS starts,
                array_agg((extract(epoch FROM end_at - start_at) / 60)::int ORDER BY start_at, id) AS durations,
                array_agg(places ORDER BY start_at, id) AS remaining
           FROM (${bookable}) s GROUP BY date, resource_id ORDER BY date, resource_id`,
        params,
      );
      const slotCount = days.reduce((n, d) => n + d.slotIds.length, 0);
      if (slotCount > MAX_COMPACT_SLOTS) throw tooMany();
      return { timeZone: zone, from, to, slotCount, days };
    }
    const rows = await sql.query<{ id: string; resourceId: string | null; locationId: string | null; startAt: Date; endAt: Date; date: string; start: number; places: number }>(
      `SELECT id, resource_id AS "resourceId", location_id AS "locationId", start_at AS "startAt", end_at AS "endAt", date, start, places
         FROM (${bookable}) s ORDER BY start_at, id`,
      params,
    );
    if (rows.length > MAX_COMPACT_SLOTS) throw tooMany();
    const groups = new Map<string, AvailabilityDay>();
    for (const slot of await bookableUnderPolicies(this.sql, rows, now)) {
      const key = `${slot.date}|${slot.resourceId ?? ''}`;
      let day = groups.get(key);
      if (!day) groups.set(key, (day = { date: slot.date, resourceId: slot.resourceId, slotIds: [], starts: [], durations: [], remaining: [] }));
      day.slotIds.push(slot.id);
      day.starts.push(slot.start);
      day.durations.push(Math.round((slot.endAt.getTime() - slot.startAt.getTime()) / 60_000));
      day.remaining.push(slot.places);
    }
    // The grouped query's order: by date, then resource (uuids compare as their lowercase text), no resource last.
    const days = [...groups.values()].sort((a, b) => (a.date !== b.date ? (a.date < b.date ? -1 : 1) : a.resourceId === b.resourceId ? 0 : a.resourceId === null ? 1 : b.resourceId === null || a.resourceId < b.resourceId ? -1 : 1));
    return { timeZone: zone, from, to, slotCount: days.reduce((n, d) => n + d.slotIds.length, 0), days };
  }

  /**
   * Per local date (in the viewer's zone, else the scope's) from `from` to `to` inclusive: how many
   * bookable slots start that day and how many places they have left. Dates with nothing bookable
   * are left out.
   */
  async availableDates(ids: ScopeIds, from: string, to: string, viewer: Viewer = {}): Promise<{ timeZone: string; dates: AvailableDate[] }> {
    const { kind, id } = oneScope(ids, ['resource', 'location', 'form']);
    const sql = this.reader(viewer);
    const scope = await loadScope(sql, kind, id, viewer);
    const zone = viewer.timeZone ?? scope.timeZone;
    const now = this.now();
    checkDateWindow(from, to, zone, now);
    const start = startOfLocalDate(from, zone);
    const end = startOfLocalDate(nextLocalDate(to), zone);
    if (this.mayHavePolicies(scope)) return { timeZone: zone, dates: await this.datesUnderPolicies(kind, id, zone, start, end, now) };
    // Grouped in SQL so a busy location does not ship every slot row; the window edges come from Temporal.
    const rows = await sql.query<{ date: string; slot_count: number; remaining: number }>(
      `SELECT to_char(start_at AT TIME ZONE $2, 'YYYY-MM-DD') AS date,
              count(*)::int AS slot_count,
              sum(capacity - booked - held)::int AS remaining
         FROM slots
        WHERE ${scopeFilter(kind)}
          AND start_at >= $3 AND start_at < $4 AND start_at >= $5
          AND status IN ('OPEN', 'PARTIAL') AND capacity > booked + held AND ${skillFilter('$6')}
        GROUP BY 1 ORDER BY 1`,
      [id, zone, start, end, now, viewer.skills ?? null],
    );
    return { timeZone: zone, dates: rows.map((r) => ({ date: r.date, slotCount: r.slot_count, remaining: r.remaining })) };
  }

  /** availableDates when policies apply: the bookable slots judged one by one (policyVerdict), then counted per local date. */
  private async datesUnderPolicies(kind: keyof typeof SCOPE_COLUMN, id: string, timeZone: string, start: Date, end: Date, now: Date): Promise<AvailableDate[]> {
    const rows = await this.sql.query<{ id: string; resourceId: string | null; locationId: string | null; startAt: Date; endAt: Date; date: string; places_left: number }>(
      `SELECT id, resource_id AS "resourceId", location_id AS "locationId", start_at AS "startAt", end_at AS "endAt",
              to_char(start_at AT TIME ZONE $2, 'YYYY-MM-DD') AS date, capacity - booked - held AS places_left
         FROM slots
        WHERE ${scopeFilter(kind)}
          AND start_at >= $3 AND start_at < $4 AND start_at >= $5
          AND status IN ('OPEN', 'PARTIAL') AND capacity > booked + held
        ORDER BY start_at`,
      [id, timeZone, start, end, now],
    );
    const byDate = new Map<string, AvailableDate>();
    for (const slot of await bookableUnderPolicies(this.sql, rows, now)) {
      const day = byDate.get(slot.date) ?? { date: slot.date, slotCount: 0, remaining: 0 };
      day.slotCount++;
      day.remaining += slot.places_left;
      byDate.set(slot.date, day);
    }
    return [...byDate.values()];
  }
}
