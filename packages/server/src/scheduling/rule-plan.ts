import { formatWallTime, localDatesBetween } from '../shared/time.js';
import { expandScheduleByDate, localWindow } from './schedule.js';

export type RuleKind = 'WEEKLY' | 'DATE_RANGE' | 'EXCEPTION';

/** What planning needs of an availability rule; dates are local 'YYYY-MM-DD'. */
export interface PlanRule {
  id: string;
  kind: RuleKind;
  daysOfWeek: number[]; // empty = every day (DATE_RANGE / EXCEPTION only)
  startMinute: number;
  endMinute: number;
  slotDurationMinutes: number;
  capacity: number;
  validFrom: string | null;
  validTo: string | null;
  isClosed: boolean;
}

export interface PlannedSlot {
  startAt: Date;
  endAt: Date;
  capacity: number;
  ruleId: string;
}

const EVERY_DAY = [1, 2, 3, 4, 5, 6, 7];
const TIER: Record<RuleKind, number> = { WEEKLY: 0, DATE_RANGE: 1, EXCEPTION: 2 };

/** The local dates a rule covers inside [fromDate, toDate], or none. */
function coveredDates(rule: PlanRule, fromDate: string, toDate: string): string[] {
  const from = rule.validFrom && rule.validFrom > fromDate ? rule.validFrom : fromDate;
  const to = rule.validTo && rule.validTo < toDate ? rule.validTo : toDate;
  const days = new Set(rule.daysOfWeek.length ? rule.daysOfWeek : EVERY_DAY);
  return localDatesBetween(from, to)
    .filter((d) => days.has(d.dayOfWeek))
    .map((d) => d.date);
}

/**
 * The slots a set of rules produces in a zone over local dates [fromDate, toDate].
 * Precedence: on each date only the open rules of the highest kind that covers it count
 * (EXCEPTION over DATE_RANGE over WEEKLY); then every closed rule covering the date removes the
 * slots that overlap its hours. Slots are laid back to back (step = slot duration) from each
 * rule's start; granularity is the grid of range search, not a step between overlapping slots.
 */
export function planSlots(input: {
  timeZone: string;
  fromDate: string;
  toDate: string;
  rules: PlanRule[];
  notBefore?: Date;
  capacityOverride?: number;
}): PlannedSlot[] {
  const { timeZone, fromDate, toDate } = input;
  const open = input.rules.filter((r) => !r.isClosed);
  const topTier = new Map<string, number>();
  for (const rule of open) {
    for (const date of coveredDates(rule, fromDate, toDate)) {
      topTier.set(date, Math.max(topTier.get(date) ?? 0, TIER[rule.kind]));
    }
  }
  const closedRanges: { start: number; end: number }[] = [];
  for (const rule of input.rules.filter((r) => r.isClosed)) {
    for (const date of coveredDates(rule, fromDate, toDate)) {
      const { start, end } = localWindow(date, rule.startMinute, rule.endMinute, timeZone);
      closedRanges.push({ start: start.getTime(), end: end.getTime() });
    }
  }

  const byStart = new Map<number, PlannedSlot>();
  for (const rule of open) {
    const from = rule.validFrom && rule.validFrom > fromDate ? rule.validFrom : fromDate;
    const to = rule.validTo && rule.validTo < toDate ? rule.validTo : toDate;
    if (from > to) continue;
    const expanded = expandScheduleByDate(
      {
        timeZone,
        daysOfWeek: rule.daysOfWeek.length ? rule.daysOfWeek : EVERY_DAY,
        startTime: formatWallTime(rule.startMinute),
        endTime: formatWallTime(rule.endMinute),
        slotMinutes: rule.slotDurationMinutes,
        fromDate: from,
        toDate: to,
      },
      { notBefore: input.notBefore },
    );
    for (const { startAt, endAt, localDate } of expanded) {
      if (topTier.get(localDate) !== TIER[rule.kind]) continue;
      const s = startAt.getTime();
      const e = endAt.getTime();
      if (closedRanges.some((c) => s < c.end && c.start < e)) continue;
      if (!byStart.has(s)) byStart.set(s, { startAt, endAt, capacity: input.capacityOverride ?? rule.capacity, ruleId: rule.id });
    }
  }
  return [...byStart.values()].sort((a, b) => a.startAt.getTime() - b.startAt.getTime());
}
