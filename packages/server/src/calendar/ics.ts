import ical, { ICalAttendeeRole, ICalAttendeeStatus, ICalCalendarMethod, ICalEventStatus, type ICalDateTimeValue } from 'ical-generator';
import { Temporal } from 'temporal-polyfill';
import { isRepeatedWallTime } from '../shared/time.js';
import { vtimezone } from './vtimezone.js';

export type InviteMethod = 'REQUEST' | 'CANCEL';

export interface IcsEvent {
  /** The booking's ics_uid: the same for its whole life. */
  uid: string;
  sequence: number;
  startAt: Date;
  endAt: Date;
  summary: string;
  description: string;
  location?: { title: string; address?: string | null } | null;
  url?: string | null;
}

export interface IcsInput {
  method: InviteMethod;
  /** NOTIFICATIONS_FROM_EMAIL: the central organizer of every event. */
  organizer: string;
  /** The one attendee of this message: its recipient (seed 004: never the other party). */
  attendee: { email: string; name: string };
  events: IcsEvent[];
  /** null: times in UTC; a zone: local wall times with TZID and a VTIMEZONE (ICS_TIME_ZONES=local). */
  timeZone: string | null;
  now: Date;
}

/** One iCalendar object (iTIP REQUEST or CANCEL), one VEVENT per event, built with ical-generator. */
export function renderIcs(input: IcsInput): string {
  const { timeZone } = input;
  const instants = input.events.flatMap((e) => [e.startAt.getTime(), e.endAt.getTime()]);
  const calendar = ical({
    prodId: { company: 'Slotwise', product: 'Slotwise', language: 'EN' },
    method: input.method === 'CANCEL' ? ICalCalendarMethod.CANCEL : ICalCalendarMethod.REQUEST,
    // No calendar-wide zone name: DTSTAMP stays UTC; each event names its zone, the generator adds its VTIMEZONE.
    ...(timeZone
      ? { timezone: { name: null, generator: (zone: string) => vtimezone(zone, new Date(Math.min(...instants)), new Date(Math.max(...instants))) } }
      : {}),
  });
  for (const event of input.events) {
    // A wall time that occurs twice (the hour a fall-back repeats) cannot name its instant with
    // TZID: such an event is written in UTC, which every reader takes as the same instant.
    const zone = timeZone && !isRepeatedWallTime(event.startAt, timeZone) && !isRepeatedWallTime(event.endAt, timeZone) ? timeZone : null;
    calendar.createEvent({
      id: event.uid,
      sequence: event.sequence,
      stamp: input.now,
      // Native Dates would be read on the process's own clock; a ZonedDateTime carries its zone.
      start: at(event.startAt, zone),
      end: at(event.endAt, zone),
      ...(zone ? { timezone: zone } : {}),
      summary: event.summary,
      description: event.description,
      location: event.location ? { title: event.location.title, ...(event.location.address ? { address: event.location.address } : {}) } : null,
      url: event.url ?? null,
      organizer: { name: 'Slotwise', email: input.organizer },
      attendees: [
        {
          email: input.attendee.email,
          name: paramText(input.attendee.name),
          role: ICalAttendeeRole.REQ,
          rsvp: true,
          status: ICalAttendeeStatus.NEEDSACTION,
        },
      ],
      status: input.method === 'CANCEL' ? ICalEventStatus.CANCELLED : ICalEventStatus.CONFIRMED,
    });
  }
  return calendar.toString();
}

function at(instant: Date, timeZone: string | null): ICalDateTimeValue {
  if (!timeZone) return instant;
  return Temporal.Instant.fromEpochMilliseconds(instant.getTime()).toZonedDateTimeISO(timeZone) as unknown as ICalDateTimeValue;
}

/** A name as a quoted parameter value (CN), which may not hold double quotes or control characters. */
function paramText(name: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what this removes.
  return name.replace(/"/g, "'").replace(/[\u0000-\u001f\u007f]/g, ' ');
}
