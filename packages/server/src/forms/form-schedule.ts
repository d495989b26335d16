import { z } from 'zod';
import { expandSchedule, type ScheduledSlot } from '../scheduling/schedule.js';
import { addDays, parseWallTime, todayIn } from '../shared/time.js';
import { dateWindowIssue, isLocalDate, localDateSchema, wallTimeSchema, windowEndTimeSchema } from '../shared/validation.js';
import { FormSlotLimitError, MAX_SLOTS_PER_FORM } from './forms.errors.js';

/** Seed 000's schedule spec: a weekly window cut into equal slots over a date range or a number of weeks. */
export const formScheduleInput = z
  .object({
    daysOfWeek: z
      .array(z.number().int().min(1, 'days are 1 (Monday) to 7 (Sunday)').max(7, 'days are 1 (Monday) to 7 (Sunday)'))
      .min(1, 'choose at least one day'),
    startTime: wallTimeSchema,
    endTime: windowEndTimeSchema,
    slotMinutes: z
      .number()
      .int()
      .min(5, 'must be at least 5 minutes')
      .max(24 * 60, 'must be at most 1440 minutes'),
    capacityPerSlot: z
      .number()
      .int()
      .min(1, 'must be at least 1')
      .max(10_000)
      .nullish()
      .transform((v) => v ?? 1),
    startDate: localDateSchema.nullish(),
    endDate: localDateSchema.nullish(),
    weeks: z.number().int().min(1, 'must be at least 1').max(52, 'must be at most 52').nullish(),
  })
  .superRefine((s, ctx) => {
    // zod runs this even when a field above failed: only compare what parsed.
    const times = wallTimeSchema.safeParse(s.startTime).success && windowEndTimeSchema.safeParse(s.endTime).success;
    if (times && parseWallTime(s.endTime) <= parseWallTime(s.startTime))
      ctx.addIssue({ code: 'custom', path: ['endTime'], message: 'must be after startTime' });
    if ((s.endDate == null) === (s.weeks == null)) ctx.addIssue({ code: 'custom', path: ['endDate'], message: 'give either endDate or weeks' });
    const window = isLocalDate(s.startDate) && isLocalDate(s.endDate) ? dateWindowIssue(s.startDate, s.endDate, 'formSchedule', 'startDate') : null;
    if (window) ctx.addIssue({ code: 'custom', path: ['endDate'], message: window });
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
  const fromDate = spec.startDate ?? todayIn(timeZone, now);
  const toDate = spec.endDate ?? addDays(fromDate, spec.weeks! * 7 - 1);
  const slots = expandSchedule(
    {
      timeZone,
      daysOfWeek: spec.daysOfWeek,
      startTime: spec.startTime,
      endTime: spec.endTime,
      slotMinutes: spec.slotMinutes,
      fromDate,
      toDate,
    },
    { notBefore: now },
  );
  if (existing + slots.length > MAX_SLOTS_PER_FORM) throw new FormSlotLimitError(existing + slots.length);
  return slots.map((s) => ({ ...s, capacity: spec.capacityPerSlot }));
}
