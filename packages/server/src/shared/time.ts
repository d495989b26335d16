import { Temporal } from 'temporal-polyfill';

/**
 * Every zone operation lives here: local dates, wall times and the instants they stand for.
 * Local dates are 'YYYY-MM-DD' strings (a zone's wall calendar), wall times 'HH:MM' or minutes
 * after local midnight. DESIGN.md "Time" is the policy: a wall time that does not exist (spring
 * forward) is no instant, one that occurs twice (fall back) is its first occurrence.
 */

const MINUTE_MS = 60_000;
const HOUR_MS = 60 * MINUTE_MS;
const DAY_MS = 24 * HOUR_MS;

/** A calendar date, 'YYYY-MM-DD', read in some zone. */
export type LocalDate = string;

export function isValidTimeZone(zone: string): boolean {
  let valid = knownZones.get(zone);
  if (valid === undefined) {
    try {
      Temporal.Now.zonedDateTimeISO(zone);
      // Intl too, which takes IANA names only: Temporal also takes "+05:00" and ISO strings such as
      // "2027-01-01T00:00Z[Europe/Berlin]", and every label of the zone is written through Intl.
      new Intl.DateTimeFormat('en-US', { timeZone: zone });
      valid = true;
    } catch {
      valid = false;
    }
    if (knownZones.size >= MAX_KNOWN_ZONES) knownZones.clear();
    knownZones.set(zone, valid);
  }
  return valid;
}

// Asked on every read that names a viewer zone: each answer is made once.
const knownZones = new Map<string, boolean>();
const MAX_KNOWN_ZONES = 1000;

/** The local date an instant falls on in a zone. */
export function localDateOf(instant: Date | number, timeZone: string): LocalDate {
  const ms = typeof instant === 'number' ? instant : instant.getTime();
  return Temporal.Instant.fromEpochMilliseconds(ms).toZonedDateTimeISO(timeZone).toPlainDate().toString();
}

/** Today's local date in a zone. */
export function todayIn(timeZone: string, now: Date): LocalDate {
  return localDateOf(now, timeZone);
}

/** The instant a local date begins in a zone: midnight, or the first instant after a gap at midnight. */
export function startOfLocalDate(date: LocalDate, timeZone: string): Date {
  return new Date(Temporal.PlainDate.from(date).toZonedDateTime({ timeZone }).epochMilliseconds);
}

/** Calendar arithmetic (no zone involved): the local date `days` later (earlier when negative). */
export function addDays(date: LocalDate, days: number): LocalDate {
  return Temporal.PlainDate.from(date).add({ days }).toString();
}

export function nextLocalDate(date: LocalDate): LocalDate {
  return addDays(date, 1);
}

/** Whole calendar days from `from` to `to`: 0 for the same date, negative when `to` is earlier. */
export function daysBetween(from: LocalDate, to: LocalDate): number {
  return Math.round((Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / DAY_MS);
}

/** The ISO day of week of a local date: 1 = Monday ... 7 = Sunday. */
export function dayOfWeek(date: LocalDate): number {
  return new Date(`${date}T00:00:00Z`).getUTCDay() || 7;
}

/** The Monday of the ISO week a local date is in. */
export function mondayOf(date: LocalDate): LocalDate {
  return addDays(date, 1 - dayOfWeek(date));
}

/**
 * The instant `days` calendar days after an instant in a zone, at the same wall time: 23 or 25
 * hours a day across DST (a wall time that lands in a gap moves forward by the gap).
 */
export function addDaysInZone(instant: number, days: number, timeZone: string): number {
  return Temporal.Instant.fromEpochMilliseconds(instant).toZonedDateTimeISO(timeZone).add({ days }).epochMilliseconds;
}

/** A local date with its ISO day of week (1 = Monday ... 7 = Sunday). */
export interface DatedDay {
  date: LocalDate;
  dayOfWeek: number;
}

/** Every local date from `from` to `to`, both inclusive, with its day of week (no zone involved). */
export function localDatesBetween(from: LocalDate, to: LocalDate): DatedDay[] {
  const days: DatedDay[] = [];
  const last = Date.parse(`${to}T00:00:00Z`);
  for (let ms = Date.parse(`${from}T00:00:00Z`); ms <= last; ms += DAY_MS) {
    const day = new Date(ms);
    days.push({ date: day.toISOString().slice(0, 10), dayOfWeek: day.getUTCDay() || 7 });
  }
  return days;
}

/** A PostgreSQL `date` column as read back (UTC midnight) -> its local date. */
export function fromDateColumn(value: Date): LocalDate {
  return value.toISOString().slice(0, 10);
}

/** A local date -> the value a PostgreSQL `date` column stores it as (UTC midnight). */
export function toDateColumn(date: LocalDate): Date {
  return new Date(`${date}T00:00:00Z`);
}

const WALL_TIME = /^(\d{2}):(\d{2})$/;

/** 'HH:MM' -> minutes after local midnight; '24:00' is allowed (end of day) and gives 1440. */
export function parseWallTime(value: string): number {
  const match = WALL_TIME.exec(value);
  if (!match) throw new RangeError(`invalid wall time '${value}', expected HH:MM`);
  const minutes = Number(match[1]) * 60 + Number(match[2]);
  if (Number(match[2]) > 59 || minutes > 24 * 60) throw new RangeError(`invalid wall time '${value}'`);
  return minutes;
}

/** minutes after local midnight -> 'HH:MM' (1440 -> '24:00'). */
export function formatWallTime(minutes: number): string {
  return `${String(Math.floor(minutes / 60)).padStart(2, '0')}:${String(minutes % 60).padStart(2, '0')}`;
}

function wallDateTime(date: LocalDate, minutes: number): Temporal.PlainDateTime {
  const day = Temporal.PlainDate.from(date).add({ days: Math.floor(minutes / (24 * 60)) });
  const m = minutes % (24 * 60);
  return day.toPlainDateTime({ hour: Math.floor(m / 60), minute: m % 60 });
}

/**
 * The instant a wall time of a local date stands for, by the DESIGN.md policy: null when it does
 * not exist (spring-forward gap), its first occurrence when it is repeated (fall back).
 * `time` is 'HH:MM' or minutes after midnight; 24:00 is the next local midnight.
 */
export function wallTimeToInstant(date: LocalDate, time: string | number, timeZone: string): Date | null {
  const wall = wallDateTime(date, typeof time === 'number' ? time : parseWallTime(time));
  const zoned = wall.toZonedDateTime(timeZone, { disambiguation: 'earlier' });
  // In a gap 'earlier' moves the clock back by the gap: the wall time read back differs.
  return Temporal.PlainDateTime.compare(zoned.toPlainDateTime(), wall) === 0 ? new Date(zoned.epochMilliseconds) : null;
}

/**
 * The instant an edge of a wall-clock window (opening hours, closures) stands for. Unlike a slot
 * start it always exists: in a spring-forward gap it moves forward by the gap (02:30 in a
 * 02:00->03:00 gap reads 03:30 new time, the same elapsed distance from the hours before it); a
 * repeated wall time is its first occurrence; minutes 1440 (24:00) is the next local midnight.
 */
export function windowEdgeToInstant(date: LocalDate, minutes: number, timeZone: string): Date {
  return new Date(wallDateTime(date, minutes).toZonedDateTime(timeZone, { disambiguation: 'compatible' }).epochMilliseconds);
}

/**
 * The zone's UTC offset when it is the same all through a local date (no transition within 36 h
 * of its noon), else null. Remembers the transitions around the last answer, so a run of days
 * costs one Temporal lookup per DST period instead of one per slot.
 */
export class StableOffsets {
  private offsetMs = 0;
  private from = Number.POSITIVE_INFINITY;
  private to = Number.NEGATIVE_INFINITY;

  constructor(private readonly timeZone: string) {}

  of(date: Temporal.PlainDate): number | null {
    const noonWall = Date.UTC(date.year, date.month - 1, date.day, 12);
    if (this.covers(noonWall)) return this.offsetMs;
    const noon = date.toPlainDateTime({ hour: 12 }).toZonedDateTime(this.timeZone);
    this.offsetMs = noon.offsetNanoseconds / 1e6;
    this.from = noon.getTimeZoneTransition('previous')?.epochMilliseconds ?? Number.NEGATIVE_INFINITY;
    this.to = noon.getTimeZoneTransition('next')?.epochMilliseconds ?? Number.POSITIVE_INFINITY;
    return this.covers(noonWall) ? this.offsetMs : null;
  }

  private covers(noonWall: number): boolean {
    const noon = noonWall - this.offsetMs;
    return noon - 36 * HOUR_MS >= this.from && noon + 36 * HOUR_MS < this.to;
  }
}

/** True when the instant's wall time in the zone also names another instant (the repeated hour at fall back). */
export function isRepeatedWallTime(instant: Date, timeZone: string): boolean {
  const wall = Temporal.Instant.fromEpochMilliseconds(instant.getTime()).toZonedDateTimeISO(timeZone).toPlainDateTime();
  const earlier = wall.toZonedDateTime(timeZone, { disambiguation: 'earlier' }).epochMilliseconds;
  return earlier !== wall.toZonedDateTime(timeZone, { disambiguation: 'later' }).epochMilliseconds;
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

const BUCKET_MS = 15 * MINUTE_MS;

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
  // Every mail shows its time in UTC too: no lookup for the one zone whose offset is always 0.
  if (timeZone === 'UTC') return 0;
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
