import { z } from 'zod';
import { Temporal } from 'temporal-polyfill';
import { ValidationError } from '../shared/errors.js';

const wallTime = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'must be HH:MM (24-hour)');

/** One slot: either two instants, or a local date with wall times read in the form's zone. */
export const localSlotInput = z
  .object({
    startAt: z.date().nullish(),
    endAt: z.date().nullish(),
    date: z.iso.date('must be a date, YYYY-MM-DD').nullish(),
    startTime: wallTime.nullish(),
    endTime: wallTime.nullish(),
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
    const date = Temporal.PlainDate.from(input.date!);
    const start = wallInstant(date, input.startTime!, timeZone, 'startTime');
    const endDate = input.endTime! <= input.startTime! ? date.add({ days: 1 }) : date;
    const end = wallInstant(endDate, input.endTime!, timeZone, 'endTime');
    startAt = new Date(start);
    endAt = new Date(end);
  }
  if (endAt <= startAt) throw ValidationError.field(['input', 'endAt'], 'must be after startAt');
  if (endAt.getTime() - startAt.getTime() > 24 * 3_600_000) throw ValidationError.field(['input', 'endAt'], 'a slot lasts at most 24 hours');
  if (startAt <= now) throw ValidationError.field(['input', input.startAt ? 'startAt' : 'date'], 'must be in the future');
  return { startAt, endAt, capacity: input.capacity ?? 1 };
}

function wallInstant(date: Temporal.PlainDate, time: string, timeZone: string, field: string): number {
  const [hour, minute] = time.split(':').map(Number) as [number, number];
  const wall = date.toPlainDateTime({ hour, minute });
  const zoned = wall.toZonedDateTime(timeZone, { disambiguation: 'earlier' });
  if (Temporal.PlainDateTime.compare(zoned.toPlainDateTime(), wall) !== 0) {
    throw ValidationError.field(['input', field], `${time} does not exist on ${date} in ${timeZone} (clocks move forward)`);
  }
  return zoned.epochMilliseconds;
}
