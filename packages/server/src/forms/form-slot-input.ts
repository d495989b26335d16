import { z } from 'zod';
import { ValidationError } from '../shared/errors.js';
import { nextLocalDate, wallTimeToInstant } from '../shared/time.js';
import { localDateSchema, wallTimeSchema } from '../shared/validation.js';

/** One slot: either two instants, or a local date with wall times read in the form's zone. */
export const localSlotInput = z
  .object({
    startAt: z.date().nullish(),
    endAt: z.date().nullish(),
    date: localDateSchema.nullish(),
    startTime: wallTimeSchema.nullish(),
    endTime: wallTimeSchema.nullish(),
    capacity: z.number().int().min(1, 'must be at least 1').max(10_000).nullish(),
  })
  .superRefine((v, ctx) => {
    const instants = v.startAt != null || v.endAt != null;
    const local = v.date != null || v.startTime != null || v.endTime != null;
    if (instants === local) {
      ctx.addIssue({ code: 'custom', path: ['startAt'], message: 'give either startAt and endAt, or date, startTime and endTime' });
      return;
    }
    const required = instants ? (['startAt', 'endAt'] as const) : (['date', 'startTime', 'endTime'] as const);
    for (const key of required) if (v[key] == null) ctx.addIssue({ code: 'custom', path: [key], message: 'is required' });
  });

export type LocalSlotInput = z.output<typeof localSlotInput>;

/**
 * The slot's instants. A local start that does not exist (spring-forward gap) is refused rather than
 * moved; a repeated one (fall back) means its first occurrence; a local end at or before the start
 * means the next day (e.g. 23:00-00:30).
 */
export function resolveLocalSlot(input: LocalSlotInput, timeZone: string, now: Date): { startAt: Date; endAt: Date; capacity: number } {
  let startAt: Date;
  let endAt: Date;
  if (input.startAt && input.endAt) {
    startAt = input.startAt;
    endAt = input.endAt;
  } else {
    const date = input.date!;
    startAt = wallInstant(date, input.startTime!, timeZone, 'startTime');
    endAt = wallInstant(input.endTime! <= input.startTime! ? nextLocalDate(date) : date, input.endTime!, timeZone, 'endTime');
  }
  if (endAt <= startAt) throw ValidationError.field(['input', 'endAt'], 'must be after startAt');
  if (endAt.getTime() - startAt.getTime() > 24 * 3_600_000) throw ValidationError.field(['input', 'endAt'], 'a slot lasts at most 24 hours');
  if (startAt <= now) throw ValidationError.field(['input', input.startAt ? 'startAt' : 'date'], 'must be in the future');
  return { startAt, endAt, capacity: input.capacity ?? 1 };
}

function wallInstant(date: string, time: string, timeZone: string, field: string): Date {
  const instant = wallTimeToInstant(date, time, timeZone);
  if (!instant) throw ValidationError.field(['input', field], `${time} does not exist on ${date} in ${timeZone} (clocks move forward)`);
  return instant;
}
