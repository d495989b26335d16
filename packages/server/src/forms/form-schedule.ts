import { z } from 'zod';
import { Temporal } from 'temporal-polyfill';
import { expandSchedule, parseWallTime, type ScheduledSlot } from '../scheduling/schedule.js';
import { FormSlotLimitError, MAX_SLOTS_PER_FORM } from './forms.errors.js';

const wallTime = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$|^24:00$/, 'must be HH:MM (24-hour)');
const localDate = z.iso.date('must be a date, YYYY-MM-DD');

/** Seed 000's schedule spec: a weekly window cut into equal slots over a date range or a number of weeks. */
export const formScheduleInput = z
  .object({
    daysOfWeek: z
      .array(z.number().int().min(1, 'days are 1 (Monday) to 7 (Sunday)').max(7, 'days are 1 (Monday) to 7 (Sunday)'))
      .min(1, 'choose at least one day'),
    startTime: wallTime,
    endTime: wallTime,
    slotMinutes: z.number().int().min(5, 'must be at least 5 minutes').max(24 * 60, 'must be at most 1440 minutes'),
    capacityPerSlot: z.number().int().min(1, 'must be at least 1').max(10_000).nullish().transform((v) => v ?? 1),
    startDate: localDate.nullish(),
    endDate: localDate.nullish(),
    weeks: z.number().int().min(1, 'must be at least 1').max(52, 'must be at most 52').nullish(),
  })
  .superRefine((s, ctx) => {
    if (parseWallTime(s.endTime) <= parseWallTime(s.startTime)) ctx.addIssue({ code: 'custom', path: ['endTime'], message: 'must be after startTime' });
    if ((s.endDate == null) === (s.weeks == null)) ctx.addIssue({ code: 'custom', path: ['endDate'], message: 'give either endDate or weeks' });
    if (s.startDate && s.endDate && s.endDate < s.startDate) ctx.addIssue({ code: 'custom', path: ['endDate'], message: 'must not be before startDate' });
    if (s.startDate && s.endDate && Temporal.PlainDate.from(s.startDate).until(s.endDate).days > 366) {
      ctx.addIssue({ code: 'custom', path: ['endDate'], message: 'a schedule spans at most 366 days' });
    }
  });

export type FormScheduleInput = z.output<typeof formScheduleInput>;

export interface GeneratedSlot extends ScheduledSlot {
  capacity: number;
}

/**
 * The slots a schedule gives in the form's zone, from its start date (default: today there) over
 * its range; windows already begun at `now` are skipped. More than the per-form limit is refused
 * before anything is written.
 */
export function slotsForSchedule(spec: FormScheduleInput, timeZone: string, now: Date, existing = 0): GeneratedSlot[] {
  const today = Temporal.Instant.fromEpochMilliseconds(now.getTime()).toZonedDateTimeISO(timeZone).toPlainDate();
  const fromDate = spec.startDate ? Temporal.PlainDate.from(spec.startDate) : today;
  const toDate = spec.endDate ? Temporal.PlainDate.from(spec.endDate) : fromDate.add({ days: spec.weeks! * 7 - 1 });
  const slots = expandSchedule(
    {
      timeZone,
      daysOfWeek: spec.daysOfWeek,
      startTime: spec.startTime,
      endTime: spec.endTime,
      slotMinutes: spec.slotMinutes,
      fromDate: fromDate.toString(),
      toDate: toDate.toString(),
    },
    { notBefore: now },
  );
  if (existing + slots.length > MAX_SLOTS_PER_FORM) throw new FormSlotLimitError(existing + slots.length);
  return slots.map((s) => ({ ...s, capacity: spec.capacityPerSlot }));
}
