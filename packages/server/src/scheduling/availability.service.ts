import type { SqlQuery, SqlRunner } from '../db/database.js';
import type { ReadRouter } from '../db/read-replica.js';
import { ValidationError } from '../shared/errors.js';
import { bookableUnderPolicies } from '../policies/visibility.js';
import { scopeHasPolicies } from '../policies/policies.store.js';
import {
  countBookableByDate,
  selectBookableSlots,
  selectScopeCompactSlots,
  selectScopeSlots,
  type ScopeKind,
  type SlotView,
} from './scheduling.store.js';
import type { Viewer } from '../shared/viewer.js';
import { nextLocalDate, startOfLocalDate } from '../shared/time.js';
import { checkDateWindow, checkScope, checkWindow, loadScope, oneScope, type Scope, type ScopeIds } from './availability-window.js';

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

  /** The replica when it may answer this caller, else the primary. */
  private reader(viewer?: Viewer): SqlQuery {
    return this.reads?.enabled ? this.reads.forRead(viewer?.readAfter, viewer?.primary) : this.sql;
  }

  /**
   * Whether the scope's slots must be judged against booking policies. The scope read says so in the
   * same statement; on a replica it may miss a policy just set, so then the primary says.
   */
  private async mayHavePolicies(scope: Scope): Promise<boolean> {
    return this.reads?.enabled ? scopeHasPolicies(this.sql, scope.kind, scope.id) : scope.hasPolicies;
  }

  /**
   * Slots starting in [from, to), cancelled ones left out, in start order; their local times in
   * the viewer's zone when one is given. Without booking policies: one statement.
   */
  async availability(ids: ScopeIds, from: Date, to: Date, viewer: Viewer = {}): Promise<AvailabilityResult> {
    const { kind, id } = oneScope(ids, ['resource', 'location', 'form']);
    const now = this.now();
    checkWindow(from, to, now);
    // The hottest public read: plain SQL in the Slot row shape, without the ORM's per-row cost
    // (the bench measured it at a third of the time of this query through Prisma), with the scope's own read.
    const read = await selectScopeSlots(this.reader(viewer), kind, id, {
      from,
      to,
      limit: MAX_AVAILABILITY_SLOTS + 1,
      timeZone: viewer.timeZone ?? null,
      skills: viewer.skills ?? null,
    });
    const scope = checkScope(read.scope, kind, id, viewer);
    const rows = read.rows;
    if (rows.length > MAX_AVAILABILITY_SLOTS) {
      throw ValidationError.field(['to'], `more than ${MAX_AVAILABILITY_SLOTS} slots in this window; ask for a shorter one`);
    }
    // What a booking policy would refuse now is left out: what is shown is what can be booked.
    const slots = (await this.mayHavePolicies(scope)) ? await bookableUnderPolicies(this.sql, rows, now) : rows;
    return { timeZone: viewer.timeZone ?? scope.timeZone, from, to, slots };
  }

  /**
   * The bookable slots (places left, no policy refusing them, not yet started) starting in [from, to),
   * grouped per local date (in the viewer's zone, else the scope's) and resource: the compact form for
   * big windows. Local dates and wall-clock minutes come from PostgreSQL: nothing is formatted per slot.
   */
  async availabilityByDay(ids: ScopeIds, from: Date, to: Date, viewer: Viewer = {}): Promise<AvailabilityDays> {
    const { kind, id } = oneScope(ids, ['resource', 'location', 'form']);
    const now = this.now();
    checkWindow(from, to, now);
    const read = await selectScopeCompactSlots(this.reader(viewer), kind, id, {
      from,
      to,
      now,
      zone: viewer.timeZone ?? null,
      limit: MAX_COMPACT_SLOTS + 1,
      skills: viewer.skills ?? null,
    });
    const scope = checkScope(read.scope, kind, id, viewer);
    const zone = viewer.timeZone ?? scope.timeZone;
    const rows = read.rows;
    if (rows.length > MAX_COMPACT_SLOTS) {
      throw ValidationError.field(['to'], `more than ${MAX_COMPACT_SLOTS} slots in this window; ask for a shorter one`);
    }
    const bookable = (await this.mayHavePolicies(scope)) ? await bookableUnderPolicies(this.sql, rows, now) : rows;
    const groups = new Map<string, AvailabilityDay>();
    for (const slot of bookable) {
      const key = `${slot.date}|${slot.resourceId ?? ''}`;
      let day = groups.get(key);
      if (!day) groups.set(key, (day = { date: slot.date, resourceId: slot.resourceId, slotIds: [], starts: [], durations: [], remaining: [] }));
      day.slotIds.push(slot.id);
      day.starts.push(slot.start);
      day.durations.push(Math.round((slot.endAt.getTime() - slot.startAt.getTime()) / 60_000));
      day.remaining.push(slot.places);
    }
    // By date, then resource (uuids compare as their lowercase text), no resource last.
    const days = [...groups.values()].sort((a, b) =>
      a.date !== b.date
        ? a.date < b.date
          ? -1
          : 1
        : a.resourceId === b.resourceId
          ? 0
          : a.resourceId === null
            ? 1
            : b.resourceId === null || a.resourceId < b.resourceId
              ? -1
              : 1,
    );
    return { timeZone: zone, from, to, slotCount: bookable.length, days };
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
    if (await this.mayHavePolicies(scope)) return { timeZone: zone, dates: await this.datesUnderPolicies(kind, id, zone, start, end, now) };
    // Grouped in SQL so a busy location does not ship every slot row; the window edges come from Temporal.
    const rows = await countBookableByDate(sql, kind, id, { zone, start, end, now, skills: viewer.skills ?? null });
    return { timeZone: zone, dates: rows.map((r) => ({ date: r.date, slotCount: r.slot_count, remaining: r.remaining })) };
  }

  /** availableDates when policies apply: the bookable slots judged one by one (policyVerdict), then counted per local date. */
  private async datesUnderPolicies(kind: ScopeKind, id: string, timeZone: string, start: Date, end: Date, now: Date): Promise<AvailableDate[]> {
    const rows = await selectBookableSlots(this.sql, kind, id, { zone: timeZone, start, end, now });
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
