import { Temporal } from 'temporal-polyfill';

export function isValidTimeZone(zone: string): boolean {
  try {
    Temporal.Now.zonedDateTimeISO(zone);
    return true;
  } catch {
    return false;
  }
}

export type DayPart = 'MORNING' | 'AFTERNOON' | 'EVENING' | 'NIGHT';

/** Seed 003's buckets: morning 06-12, afternoon 12-17, evening 17-22 local time; the rest is night. */
export function dayPartOf(localHour: number): DayPart {
  if (localHour >= 6 && localHour < 12) return 'MORNING';
  if (localHour >= 12 && localHour < 17) return 'AFTERNOON';
  if (localHour >= 17 && localHour < 22) return 'EVENING';
  return 'NIGHT';
}

export interface LocalView {
  /** YYYY-MM-DD in the zone */
  date: string;
  /** HH:MM in the zone */
  time: string;
  /** ISO 8601 with the zone's offset at that instant, e.g. 2026-03-08T03:00:00-04:00 */
  iso: string;
  hour: number;
}

/** How an instant reads on a wall clock in the given zone. */
export function toLocal(instant: Date, timeZone: string): LocalView {
  const zdt = Temporal.Instant.fromEpochMilliseconds(instant.getTime()).toZonedDateTimeISO(timeZone);
  const date = zdt.toPlainDate().toString();
  const time = zdt.toPlainTime().toString({ smallestUnit: 'minute' });
  return { date, time, iso: zdt.toString({ timeZoneName: 'never', smallestUnit: 'second' }), hour: zdt.hour };
}
