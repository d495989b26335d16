import type { SqlQuery, SqlRunner } from '../db/database.js';
import type { ReadRouter } from '../db/read-replica.js';
import { ValidationError } from '../shared/errors.js';
import { bookableUnderPolicies } from '../policies/visibility.js';
import { scopeHasPolicies } from '../policies/policies.store.js';
import { countBookableByDate, selectBookableSlots, selectScopeSlots, type ScopeKind, type SlotView } from './scheduling.store.js';
import type { Viewer } from '../shared/viewer.js';
import { nextLocalDate, startOfLocalDate } from '../shared/time.js';
import { checkDateWindow, checkWindow, loadScope, oneScope, type ScopeIds } from './availability-window.js';

/** More slots than this in one answer means the window should be narrower. */
export const MAX_AVAILABILITY_SLOTS = 5000;

export interface AvailabilityResult {
  timeZone: string;
  from: Date;
  to: Date;
  slots: SlotView[];
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
    return this.reads?.enabled ? this.reads.forRead(viewer?.readAfter) : this.sql;
  }

  /**
   * Slots starting in [from, to), cancelled ones left out, in start order; their local times in
   * the viewer's zone when one is given.
   */
  async availability(ids: ScopeIds, from: Date, to: Date, viewer: Viewer = {}): Promise<AvailabilityResult> {
    const { kind, id } = oneScope(ids, ['resource', 'location', 'form']);
    checkWindow(from, to, this.now());
    const sql = this.reader(viewer);
    const scope = await loadScope(sql, kind, id, viewer);
    // The hottest public read: plain SQL in the Slot row shape, without the ORM's per-row cost
    // (the bench measured it at a third of the time of this query through Prisma).
    const rows = await selectScopeSlots(sql, kind, id, {
      from,
      to,
      limit: MAX_AVAILABILITY_SLOTS + 1,
      timeZone: viewer.timeZone ?? null,
      skills: viewer.skills ?? null,
    });
    if (rows.length > MAX_AVAILABILITY_SLOTS) {
      throw ValidationError.field(['to'], `more than ${MAX_AVAILABILITY_SLOTS} slots in this window; ask for a shorter one`);
    }
    // What a booking policy would refuse now is left out: what is shown is what can be booked.
    const slots = await bookableUnderPolicies(this.sql, rows, this.now());
    return { timeZone: viewer.timeZone ?? scope.timeZone, from, to, slots };
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
    if (await scopeHasPolicies(this.sql, kind, id)) return { timeZone: zone, dates: await this.datesUnderPolicies(kind, id, zone, start, end, now) };
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
