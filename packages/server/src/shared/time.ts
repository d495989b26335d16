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

/** How an instant reads on a wall clock in a zone. */
export interface LocalView {
  /** YYYY-MM-DD in the zone */
  readonly date: string;
  /** HH:MM in the zone */
  readonly time: string;
  /** ISO 8601 with the zone's offset at that instant, e.g. 2026-03-08T03:00:00-04:00 */
  readonly iso: string;
  readonly hour: number;
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

const MINUTE_MS = 60_000;
const BUCKET_MS = 15 * MINUTE_MS;
const DAY_MS = 24 * 60 * MINUTE_MS;
/** Per zone: quarter-hour bucket -> offset in minutes. */
const offsets = new Map<string, Map<number, number>>();
let cachedBuckets = 0;

/**
 * Offsets change only at transitions, which fall on quarter hours: one Intl lookup per zone and
 * quarter hour serves every slot in it. A bucket whose two ends differ is read exactly.
 */
function cachedOffset(ms: number, timeZone: string): number {
  const bucket = Math.floor(ms / BUCKET_MS);
  let zone = offsets.get(timeZone);
  if (!zone) offsets.set(timeZone, (zone = new Map()));
  let offset = zone.get(bucket);
  if (offset === undefined) {
    const first = offsetAt(bucket * BUCKET_MS, timeZone);
    if (first !== offsetAt((bucket + 1) * BUCKET_MS - 1, timeZone)) return offsetAt(ms, timeZone);
    if (++cachedBuckets > 200_000) {
      offsets.clear();
      cachedBuckets = 0;
      offsets.set(timeZone, (zone = new Map()));
    }
    zone.set(bucket, (offset = first));
  }
  return offset;
}

// Every slot shown needs its local date and times: strings made once and shared, not per call.
const CLOCK = Array.from({ length: 24 * 60 }, (_, m) => `${pad(Math.floor(m / 60))}:${pad(m % 60)}`);
const wallDates = new Map<number, string>();

function wallDate(day: number): string {
  let date = wallDates.get(day);
  if (date === undefined) {
    const d = new Date(day * DAY_MS);
    date = `${pad(d.getUTCFullYear(), 4)}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}`;
    if (wallDates.size > 100_000) wallDates.clear();
    wallDates.set(day, date);
  }
  return date;
}

class LocalInstant implements LocalView {
  readonly date: string;
  readonly time: string;
  readonly hour: number;

  constructor(
    private readonly wallMs: number,
    private readonly offsetMinutes: number,
  ) {
    const day = Math.floor(wallMs / DAY_MS);
    const minuteOfDay = Math.floor((wallMs - day * DAY_MS) / MINUTE_MS);
    this.date = wallDate(day);
    this.time = CLOCK[minuteOfDay]!;
    this.hour = Math.floor(minuteOfDay / 60);
  }

  get iso(): string {
    const seconds = Math.floor(this.wallMs / 1000) % 60;
    const m = this.offsetMinutes;
    const offset = `${m < 0 ? '-' : '+'}${pad(Math.trunc(Math.abs(m) / 60))}:${pad(Math.abs(m) % 60)}`;
    return `${this.date}T${this.time}:${pad((seconds + 60) % 60)}${offset}`;
  }
}

/** Per zone: instant (epoch ms) -> its wall-clock reading; slots share a grid of instants. */
const views = new Map<string, Map<number, LocalView>>();
let cachedViews = 0;

/** How an instant reads on a wall clock in the given zone (hot path: every slot shown, several fields each). */
export function toLocal(instant: Date, timeZone: string): LocalView {
  const ms = instant.getTime();
  let zone = views.get(timeZone);
  if (!zone) views.set(timeZone, (zone = new Map()));
  let view = zone.get(ms);
  if (view === undefined) {
    const offsetMinutes = cachedOffset(ms, timeZone);
    view = new LocalInstant(ms + offsetMinutes * MINUTE_MS, offsetMinutes);
    if (++cachedViews > 100_000) {
      views.clear();
      cachedViews = 0;
      views.set(timeZone, (zone = new Map()));
    }
    zone.set(ms, view);
  }
  return view;
}
