import { Temporal } from 'temporal-polyfill';

const DAY_MS = 86_400_000;

/**
 * A VTIMEZONE for `timeZone` from the runtime's own tz database (Temporal), valid for
 * [from, to]: the observance in force at `from` and one per transition up to `to`, each with
 * its exact onset (no RRULE guessing). Packaged VTIMEZONE files carry the rules of the year they
 * were built (@touch4it/ical-timezones: 2018g, so Brazil still has DST there), which would put
 * invites an hour off; the tz data Node ships is the one every other time in Slotwise comes from.
 */
export function vtimezone(timeZone: string, from: Date, to: Date): string {
  const start = Temporal.Instant.fromEpochMilliseconds(from.getTime() - DAY_MS).toZonedDateTimeISO(timeZone);
  const end = to.getTime() + DAY_MS;
  const onsets: Temporal.ZonedDateTime[] = [];
  const first = start.getTimeZoneTransition('previous');
  if (first) onsets.push(first);
  for (let next = start.getTimeZoneTransition('next'); next && next.epochMilliseconds <= end; next = next.getTimeZoneTransition('next')) {
    onsets.push(next);
  }
  const observances = onsets.length
    ? onsets.map((onset) => observance(timeZone, onset.epochMilliseconds))
    : // A zone without transitions (UTC, or none in reach): one standard observance since 1970.
      [component('STANDARD', start.offsetNanoseconds, start.offsetNanoseconds, '19700101T000000', zoneName(timeZone, start.epochMilliseconds))];
  return ['BEGIN:VTIMEZONE', `TZID:${timeZone}`, ...observances, 'END:VTIMEZONE'].join('\r\n');
}

function observance(timeZone: string, onsetMs: number): string {
  const before = offsetAt(timeZone, onsetMs - 1);
  const after = offsetAt(timeZone, onsetMs);
  // DTSTART is the local time the change happens at, read on the clock before it (RFC 5545 3.6.5).
  const local = Temporal.Instant.fromEpochMilliseconds(onsetMs + before / 1_000_000).toZonedDateTimeISO('UTC').toPlainDateTime();
  const kind = after > standardOffset(timeZone, onsetMs) ? 'DAYLIGHT' : 'STANDARD';
  return component(kind, before, after, basic(local), zoneName(timeZone, onsetMs));
}

function component(kind: 'STANDARD' | 'DAYLIGHT', fromNs: number, toNs: number, dtstart: string, name: string): string {
  return [`BEGIN:${kind}`, `TZOFFSETFROM:${utcOffset(fromNs)}`, `TZOFFSETTO:${utcOffset(toNs)}`, `TZNAME:${name}`, `DTSTART:${dtstart}`, `END:${kind}`].join(
    '\r\n',
  );
}

function offsetAt(timeZone: string, ms: number): number {
  return Temporal.Instant.fromEpochMilliseconds(ms).toZonedDateTimeISO(timeZone).offsetNanoseconds;
}

/** The smaller of the year's January and July offsets: daylight saving time is anything above it. */
function standardOffset(timeZone: string, ms: number): number {
  const year = new Date(ms).getUTCFullYear();
  return Math.min(offsetAt(timeZone, Date.UTC(year, 0, 1)), offsetAt(timeZone, Date.UTC(year, 6, 1)));
}

function zoneName(timeZone: string, ms: number): string {
  const part = new Intl.DateTimeFormat('en-US', { timeZone, timeZoneName: 'short' }).formatToParts(ms).find((p) => p.type === 'timeZoneName');
  return part?.value ?? timeZone;
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
