import { addDays, fromDateColumn, localDateOf, localDatesBetween, type DatedDay } from '../shared/time.js';
import { localWindow } from './schedule.js';

/**
 * Free-range search on exclusive resources, as pure functions over epoch-millisecond intervals:
 * working hours from availability rules, minus live bookings, cut into ranges on 15-minute steps.
 */

export const STEP_MS = 15 * 60_000;

export interface Interval {
  start: number;
  end: number;
}

/** The rule fields working hours depend on. */
export interface HoursRule {
  kind: 'WEEKLY' | 'DATE_RANGE' | 'EXCEPTION';
  daysOfWeek: number[];
  startMinute: number;
  endMinute: number;
  validFrom: Date | null;
  validTo: Date | null;
  isClosed: boolean;
}

/** Sorted, non-overlapping, adjacent intervals joined. */
export function mergeIntervals(intervals: Interval[]): Interval[] {
  const sorted = intervals.filter((i) => i.end > i.start).sort((a, b) => a.start - b.start);
  const out: Interval[] = [];
  for (const i of sorted) {
    const last = out[out.length - 1];
    if (last && i.start <= last.end) last.end = Math.max(last.end, i.end);
    else out.push({ ...i });
  }
  return out;
}

/** `from` with every part covered by `remove` cut out. */
export function subtractIntervals(from: Interval[], remove: Interval[]): Interval[] {
  const cuts = mergeIntervals(remove);
  const out: Interval[] = [];
  for (const base of mergeIntervals(from)) {
    let start = base.start;
    for (const cut of cuts) {
      if (cut.end <= start || cut.start >= base.end) continue;
      if (cut.start > start) out.push({ start, end: cut.start });
      start = Math.max(start, cut.end);
    }
    if (start < base.end) out.push({ start, end: base.end });
  }
  return out;
}

function appliesOn(rule: HoursRule, day: DatedDay): boolean {
  const from = rule.validFrom ? fromDateColumn(rule.validFrom) : null;
  const to = rule.validTo ? fromDateColumn(rule.validTo) : null;
  if ((from && day.date < from) || (to && day.date > to)) return false;
  // An empty day list means every day.
  return rule.daysOfWeek.length === 0 || rule.daysOfWeek.includes(day.dayOfWeek);
}

const TIER: Record<HoursRule['kind'], number> = { WEEKLY: 0, DATE_RANGE: 1, EXCEPTION: 2 };

// The same rules are read for the same dates over and over (every conflict answer looks two weeks
// around it): each zone, date and wall-clock window is turned into instants once.
const dayWindows = new Map<string, Interval>();

/** A rule's hours on one local date as real instants, the way slot generation reads them (localWindow). */
function dayWindow(date: string, rule: HoursRule, timeZone: string): Interval {
  const key = `${timeZone}|${date}|${rule.startMinute}|${rule.endMinute}`;
  let window = dayWindows.get(key);
  if (!window) {
    const { start, end } = localWindow(date, rule.startMinute, rule.endMinute, timeZone);
    window = { start: start.getTime(), end: end.getTime() };
    if (dayWindows.size >= 50_000) dayWindows.clear();
    dayWindows.set(key, window);
  }
  return { ...window };
}

/**
 * Working hours between two local dates (inclusive), with slot generation's precedence: on each
 * date only the open rules of the highest kind covering it count (EXCEPTION over DATE_RANGE over
 * WEEKLY); then every closed rule covering the date cuts its hours out. Hours are real instants,
 * so a 00:00-04:00 window is three hours on a spring-forward night and five on a fall-back one.
 */
export function workingHours(rules: HoursRule[], timeZone: string, fromDate: string, toDate: string): Interval[] {
  const hours: Interval[] = [];
  const closed: Interval[] = [];
  for (const day of localDatesBetween(fromDate, toDate)) {
    const today = rules.filter((r) => appliesOn(r, day));
    const open = today.filter((r) => !r.isClosed);
    const top = Math.max(...open.map((r) => TIER[r.kind]));
    hours.push(...open.filter((r) => TIER[r.kind] === top).map((r) => dayWindow(day.date, r, timeZone)));
    closed.push(...today.filter((r) => r.isClosed).map((r) => dayWindow(day.date, r, timeZone)));
  }
  return subtractIntervals(hours, closed);
}

/** Every [start, start + duration] inside a free interval and inside [from, to], starts on 15-minute steps. */
export function rangesOfDuration(free: Interval[], durationMs: number, window: Interval, limit = Infinity): Interval[] {
  const out: Interval[] = [];
  for (const interval of free) {
    const lo = Math.max(interval.start, window.start);
    const hi = Math.min(interval.end, window.end);
    for (let start = Math.ceil(lo / STEP_MS) * STEP_MS; start + durationMs <= hi; start += STEP_MS) {
      out.push({ start, end: start + durationMs });
      if (out.length >= limit) return out;
    }
  }
  return out;
}

/** The local dates an instant window touches in a zone, padded a day each side for rules that cross midnight. */
export function localDateSpan(window: Interval, timeZone: string): { fromDate: string; toDate: string } {
  return {
    fromDate: addDays(localDateOf(window.start, timeZone), -1),
    toDate: addDays(localDateOf(window.end, timeZone), 1),
  };
}
