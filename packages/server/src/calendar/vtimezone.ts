import { Temporal } from 'temporal-polyfill';
import { zoneName } from './wording.js';

const DAY_MS = 86_400_000;

/**
 * A VTIMEZONE for `timeZone` from the runtime's own tz database (Temporal), valid for the
 * calendar years of [from, to]: the observance in force at the start and one per transition, each with
 * its exact onset (no RRULE guessing). Packaged VTIMEZONE files carry the rules of the year they
 * were built (@touch4it/ical-timezones: 2018g, so Brazil still has DST there), which would put
 * invites an hour off; the tz data Node ships is the one every other time in Slotwise comes from.
 */
export function vtimezone(timeZone: string, from: Date, to: Date): string {
  // Whole calendar years: the same few components serve every invite of those years (memoized).
  const firstYear = from.getUTCFullYear();
  const lastYear = to.getUTCFullYear();
  const key = `${timeZone}|${firstYear}|${lastYear}`;
  let text = built.get(key);
  if (text === undefined) {
    if (built.size >= MAX_BUILT) built.clear();
    built.set(key, (text = build(timeZone, Date.UTC(firstYear, 0, 1), Date.UTC(lastYear + 1, 0, 1))));
  }
  return text;
}

const built = new Map<string, string>();
const MAX_BUILT = 1_000;

function build(timeZone: string, fromMs: number, toMs: number): string {
  const start = Temporal.Instant.fromEpochMilliseconds(fromMs - DAY_MS).toZonedDateTimeISO(timeZone);
  const end = toMs + DAY_MS;
  const onsets: Temporal.ZonedDateTime[] = [];
  const first = start.getTimeZoneTransition('previous');
  if (first) onsets.push(first);
  for (let next = start.getTimeZoneTransition('next'); next && next.epochMilliseconds <= end; next = next.getTimeZoneTransition('next')) {
    onsets.push(next);
  }
  const observances = onsets.length
    ? onsets.map((onset) => observance(timeZone, onset.epochMilliseconds))
    : // A zone without transitions (UTC, or none in reach): one standard observance since 1970.
      [component('STANDARD', start.offsetNanoseconds, start.offsetNanoseconds, '19700101T000000', zoneName(start.epochMilliseconds, timeZone))];
  return ['BEGIN:VTIMEZONE', `TZID:${timeZone}`, ...observances, 'END:VTIMEZONE'].join('\r\n');
}

function observance(timeZone: string, onsetMs: number): string {
  const before = offsetAt(timeZone, onsetMs - 1);
  const after = offsetAt(timeZone, onsetMs);
  // DTSTART is the local time the change happens at, read on the clock before it (RFC 5545 3.6.5).
  const local = Temporal.Instant.fromEpochMilliseconds(onsetMs + before / 1_000_000)
    .toZonedDateTimeISO('UTC')
    .toPlainDateTime();
  const kind = after > standardOffset(timeZone, onsetMs) ? 'DAYLIGHT' : 'STANDARD';
  return component(kind, before, after, basic(local), zoneName(onsetMs, timeZone));
}

function component(kind: 'STANDARD' | 'DAYLIGHT', fromNs: number, toNs: number, dtstart: string, name: string): string {
  return [
    `BEGIN:${kind}`,
    `TZOFFSETFROM:${utcOffset(fromNs)}`,
    `TZOFFSETTO:${utcOffset(toNs)}`,
    `TZNAME:${name}`,
    `DTSTART:${dtstart}`,
    `END:${kind}`,
  ].join('\r\n');
}

function offsetAt(timeZone: string, ms: number): number {
  return Temporal.Instant.fromEpochMilliseconds(ms).toZonedDateTimeISO(timeZone).offsetNanoseconds;
}

/** The smaller of the year's January and July offsets: daylight saving time is anything above it. */
function standardOffset(timeZone: string, ms: number): number {
  const year = new Date(ms).getUTCFullYear();
  return Math.min(offsetAt(timeZone, Date.UTC(year, 0, 1)), offsetAt(timeZone, Date.UTC(year, 6, 1)));
}

const pad = (n: number, width = 2) => String(n).padStart(width, '0');

/** +HHMM / -HHMM */
function utcOffset(ns: number): string {
  const minutes = Math.round(ns / 60_000_000_000);
  const abs = Math.abs(minutes);
  return `${minutes < 0 ? '-' : '+'}${pad(Math.floor(abs / 60))}${pad(abs % 60)}`;
}

/** YYYYMMDDTHHMMSS */
function basic(t: Temporal.PlainDateTime): string {
  return `${pad(t.year, 4)}${pad(t.month)}${pad(t.day)}T${pad(t.hour)}${pad(t.minute)}${pad(t.second)}`;
}
