import { Temporal } from 'temporal-polyfill';
import { StableOffsets, parseWallTime, wallTimeToInstant, windowEdgeToInstant } from '../shared/time.js';

/**
 * A weekly wall-clock schedule in one IANA zone (seed 000's schedule spec; availability rules
 * become one of these per rule).
 */
export interface WeeklySchedule {
  timeZone: string; // IANA
  daysOfWeek: number[]; // ISO: 1 = Monday ... 7 = Sunday
  startTime: string; // 'HH:MM' local, window start
  endTime: string; // 'HH:MM' local, window end ('24:00' allowed)
  slotMinutes: number; // real elapsed minutes per slot
  stepMinutes?: number; // minutes between slot starts; default slotMinutes
  fromDate: string; // 'YYYY-MM-DD' local, inclusive
  toDate: string; // 'YYYY-MM-DD' local, inclusive
}

export interface ScheduledSlot {
  startAt: Date;
  endAt: Date;
}

/**
 * A wall-clock window of one local date as instants (opening hours, closures): both edges as
 * windowEdgeToInstant reads them (a start in a gap moves forward by the gap, 24:00 is the next
 * local midnight).
 */
export function localWindow(date: string, startMinutes: number, endMinutes: number, timeZone: string): { start: Date; end: Date } {
  return { start: windowEdgeToInstant(date, startMinutes, timeZone), end: windowEdgeToInstant(date, endMinutes, timeZone) };
}

/**
 * Expands a weekly schedule into slot instants. Slot starts are wall-clock times
 * (start, start + step, ...) on each matching local date; a start that does not exist yields no
 * slot, a repeated one yields one slot at its first occurrence (wallTimeToInstant); endAt = startAt
 * + slotMinutes of real time; a slot is kept only if endAt is not after the day's window end
 * (windowEdgeToInstant).
 * Pure: the process time zone plays no part.
 */
export function expandSchedule(schedule: WeeklySchedule, options: { notBefore?: Date } = {}): ScheduledSlot[] {
  return expandScheduleByDate(schedule, options).map(({ startAt, endAt }) => ({ startAt, endAt }));
}

/** expandSchedule, each slot with the local date it was generated for ('YYYY-MM-DD'). */
export function expandScheduleByDate(schedule: WeeklySchedule, options: { notBefore?: Date } = {}): (ScheduledSlot & { localDate: string })[] {
  const { timeZone, slotMinutes } = schedule;
  const step = schedule.stepMinutes ?? slotMinutes;
  if (!(Number.isInteger(slotMinutes) && slotMinutes > 0)) throw new RangeError('slotMinutes must be a positive integer');
  if (!(Number.isInteger(step) && step > 0)) throw new RangeError('stepMinutes must be a positive integer');
  const startMinutes = parseWallTime(schedule.startTime);
  const endMinutes = parseWallTime(schedule.endTime);
  if (startMinutes >= endMinutes) throw new RangeError('endTime must be after startTime');
  const days = new Set(schedule.daysOfWeek);
  const notBefore = options.notBefore?.getTime() ?? Number.NEGATIVE_INFINITY;
  const slotMs = slotMinutes * 60_000;

  const offsets = new StableOffsets(timeZone);
  const slots: (ScheduledSlot & { localDate: string })[] = [];
  const last = Temporal.PlainDate.from(schedule.toDate);
  for (let date = Temporal.PlainDate.from(schedule.fromDate); Temporal.PlainDate.compare(date, last) <= 0; date = date.add({ days: 1 })) {
    if (!days.has(date.dayOfWeek)) continue;
    const localDate = date.toString();
    const offset = offsets.of(date);
    // Fast path: a plain offset day is wall time minus the offset; DST days go through Temporal.
    const midnight = offset === null ? 0 : Date.UTC(date.year, date.month - 1, date.day) - offset;
    const endMs = offset === null ? windowEdgeToInstant(localDate, endMinutes, timeZone).getTime() : midnight + endMinutes * 60_000;
    for (let minutes = startMinutes; minutes < endMinutes; minutes += step) {
      const startMs = offset === null ? wallTimeToInstant(localDate, minutes, timeZone)?.getTime() : midnight + minutes * 60_000;
      if (startMs === undefined) continue;
      if (startMs + slotMs > endMs) continue;
      if (startMs < notBefore) continue;
      slots.push({ startAt: new Date(startMs), endAt: new Date(startMs + slotMs), localDate });
    }
  }
  return slots.sort((a, b) => a.startAt.getTime() - b.startAt.getTime());
}
