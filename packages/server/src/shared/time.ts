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

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatterFor(timeZone: string): Intl.DateTimeFormat {
  let formatter = formatters.get(timeZone);
  if (!formatter) {
    formatter = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    });
    formatters.set(timeZone, formatter);
  }
  return formatter;
}

const pad = (n: number, width = 2) => String(Math.abs(n)).padStart(width, '0');

/** The zone's UTC offset at an instant, in minutes, read from the IANA data through Intl. */
function offsetAt(ms: number, timeZone: string): number {
  const parts: Record<string, number> = {};
  for (const part of formatterFor(timeZone).formatToParts(ms)) {
    if (part.type !== 'literal') parts[part.type] = Number(part.value);
  }
  const wallAsUtc = Date.UTC(parts.year!, parts.month! - 1, parts.day!, parts.hour!, parts.minute!, parts.second!);
  return Math.round((wallAsUtc - Math.floor(ms / 1000) * 1000) / 60_000);
}

const BUCKET_MS = 15 * 60_000;
const offsets = new Map<string, number>();

/**
 * Offsets change only at transitions, which fall on quarter hours: one Intl lookup per zone and
 * quarter hour serves every slot in it. A bucket whose two ends differ is read exactly.
 */
function cachedOffset(ms: number, timeZone: string): number {
  const bucket = Math.floor(ms / BUCKET_MS);
  const key = `${timeZone}|${bucket}`;
  let offset = offsets.get(key);
  if (offset === undefined) {
    const first = offsetAt(bucket * BUCKET_MS, timeZone);
    if (first !== offsetAt((bucket + 1) * BUCKET_MS - 1, timeZone)) return offsetAt(ms, timeZone);
    if (offsets.size > 200_000) offsets.clear();
    offsets.set(key, (offset = first));
  }
  return offset;
}

/** How an instant reads on a wall clock in the given zone (hot path: every slot shown). */
export function toLocal(instant: Date, timeZone: string): LocalView {
  const ms = instant.getTime();
  const offsetMinutes = cachedOffset(ms, timeZone);
  const wall = new Date(ms + offsetMinutes * 60_000);
  const hour = wall.getUTCHours();
  const date = `${pad(wall.getUTCFullYear(), 4)}-${pad(wall.getUTCMonth() + 1)}-${pad(wall.getUTCDate())}`;
  const time = `${pad(hour)}:${pad(wall.getUTCMinutes())}`;
  const offset = `${offsetMinutes < 0 ? '-' : '+'}${pad(Math.trunc(Math.abs(offsetMinutes) / 60))}:${pad(Math.abs(offsetMinutes) % 60)}`;
  return { date, time, iso: `${date}T${time}:${pad(wall.getUTCSeconds())}${offset}`, hour };
}
