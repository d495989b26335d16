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

/** Values per zone and number (an instant or a bucket of them); past `limit` entries it starts over. */
class ZoneMemo<V> {
  private readonly zones = new Map<string, Map<number, V>>();
  private entries = 0;

  constructor(private readonly limit: number) {}

  get(timeZone: string, key: number): V | undefined {
    return this.zones.get(timeZone)?.get(key);
  }

  set(timeZone: string, key: number, value: V): V {
    if (++this.entries > this.limit) {
      this.zones.clear();
      this.entries = 1;
    }
    let zone = this.zones.get(timeZone);
    if (!zone) this.zones.set(timeZone, (zone = new Map()));
    zone.set(key, value);
    return value;
  }
}

/** Offset in minutes per zone and quarter-hour bucket. */
const offsets = new ZoneMemo<number>(200_000);

/**
 * Offsets change only at transitions, which fall on quarter hours: one Intl lookup per zone and
 * quarter hour serves every slot in it. A bucket whose two ends differ is read exactly.
 */
function cachedOffset(ms: number, timeZone: string): number {
  const bucket = Math.floor(ms / BUCKET_MS);
  const known = offsets.get(timeZone, bucket);
  if (known !== undefined) return known;
  const first = offsetAt(bucket * BUCKET_MS, timeZone);
  if (first !== offsetAt((bucket + 1) * BUCKET_MS - 1, timeZone)) return offsetAt(ms, timeZone);
  return offsets.set(timeZone, bucket, first);
}

// Every slot shown needs its local times: the 1,440 clock strings are made once and shared.
const CLOCK = Array.from({ length: 24 * 60 }, (_, m) => `${pad(Math.floor(m / 60))}:${pad(m % 60)}`);

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
    const d = new Date(day * DAY_MS);
    this.date = `${pad(d.getUTCFullYear(), 4)}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}`;
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

/** Wall-clock readings per zone and instant (epoch ms): slots share a grid of instants. */
const views = new ZoneMemo<LocalView>(100_000);

/** How an instant reads on a wall clock in the given zone (hot path: every slot shown, several fields each). */
export function toLocal(instant: Date, timeZone: string): LocalView {
  const ms = instant.getTime();
  const known = views.get(timeZone, ms);
  if (known) return known;
  const offsetMinutes = cachedOffset(ms, timeZone);
  return views.set(timeZone, ms, new LocalInstant(ms + offsetMinutes * MINUTE_MS, offsetMinutes));
}
