import { createHash } from 'node:crypto';
import ICAL from 'ical.js';
import { simpleParser, type Attachment } from 'mailparser';
import { Temporal } from 'temporal-polyfill';
import { findIana } from 'windows-iana';
import { isValidTimeZone } from '../shared/time.js';

/** What the ingestor needs from one inbound mail. */
export interface InboundMail {
  /** The Message-ID header, or one derived from the bytes when a client left it out. */
  messageId: string;
  from: string | null;
  calendar: CalendarReply | null;
}

/** The calendar part of an iMIP message: one VEVENT answered by one attendee. */
export interface CalendarReply {
  method: string;
  uid: string;
  sequence: number;
  attendee: string | null;
  partstat: string | null;
  /** COUNTER: the proposed time (Google sends only these two). */
  startAt: Date | null;
  endAt: Date | null;
  comment: string | null;
}

/** Not a mail at all, or a calendar part that does not parse: the endpoint answers 400. */
export class UnparseableMailError extends Error {
  /** The message's Message-ID when its header could be read. */
  messageId: string | null = null;
}

/** The id a message without a Message-ID is stored under: derived from its bytes, so a resend dedupes. */
export const derivedMessageId = (raw: Buffer) => `<${createHash('sha256').update(raw).digest('hex')}@inbound.slotwise>`;

const CALENDAR_TYPES = new Set(['text/calendar', 'application/ics', 'text/x-vcalendar']);

/**
 * MIME by mailparser (base64 / quoted-printable, inline or attached calendar parts), iCalendar by ical.js
 * (folded lines, any-case `mailto:`), Windows zone names in TZID mapped to IANA by windows-iana.
 */
export async function parseInboundMail(raw: Buffer): Promise<InboundMail> {
  if (
    !/^[\x21-\x39\x3b-\x7e]+:/m.test(
      raw
        .subarray(0, 4096)
        .toString('latin1')
        .split(/\r?\n\r?\n/)[0] ?? '',
    )
  ) {
    throw new UnparseableMailError('no RFC 5322 header');
  }
  const mail = await simpleParser(raw, { skipHtmlToText: true, skipTextToHtml: true, skipTextLinks: true, skipImageLinks: true });
  if (!mail.headers.size || (!mail.from && !mail.messageId && !mail.date)) throw new UnparseableMailError('no From, Message-ID or Date header');
  const messageId = mail.messageId?.trim() || derivedMessageId(raw);
  const from = mail.from?.value[0]?.address?.toLowerCase() ?? null;
  const part = mail.attachments.find(isCalendarPart);
  try {
    return { messageId, from, calendar: part ? parseCalendar(part.content.toString('utf8')) : null };
  } catch (error) {
    if (error instanceof UnparseableMailError) error.messageId = messageId;
    throw error;
  }
}

function isCalendarPart(a: Attachment): boolean {
  return CALENDAR_TYPES.has(a.contentType.toLowerCase()) || /\.ics$/i.test(a.filename ?? '');
}

export function parseCalendar(text: string): CalendarReply {
  let root: ICAL.Component;
  try {
    const parsed = ICAL.parse(text);
    root = new ICAL.Component((Array.isArray(parsed[0]) ? parsed[0] : parsed) as unknown[]);
  } catch (error) {
    throw new UnparseableMailError(`calendar part does not parse: ${(error as Error).message}`);
  }
  const event = root.getFirstSubcomponent('vevent');
  const uid = event?.getFirstPropertyValue('uid');
  if (!event || typeof uid !== 'string' || !uid.trim()) throw new UnparseableMailError('calendar part has no VEVENT with a UID');
  const method = String(root.getFirstPropertyValue('method') ?? '').toUpperCase();
  const sequence = Number(event.getFirstPropertyValue('sequence') ?? 0);
  const attendees = event.getAllProperties('attendee');
  // A REPLY names the one attendee who answers; prefer one that actually answered.
  const attendee = attendees.find((a) => a.getParameter('partstat') && a.getParameter('partstat') !== 'NEEDS-ACTION') ?? attendees[0];
  const zones = new Map(root.getAllSubcomponents('vtimezone').map((z) => [String(z.getFirstPropertyValue('tzid')), z]));
  const startAt = instantOf(event.getFirstProperty('dtstart'), zones);
  let endAt = instantOf(event.getFirstProperty('dtend'), zones);
  const duration = event.getFirstPropertyValue('duration');
  if (!endAt && startAt && duration instanceof ICAL.Duration) endAt = new Date(startAt.getTime() + duration.toSeconds() * 1000);
  if (method === 'COUNTER' && (!startAt || !endAt)) throw new UnparseableMailError('COUNTER without a new DTSTART / DTEND');
  return {
    method,
    uid: uid.trim(),
    sequence: Number.isFinite(sequence) ? sequence : 0,
    attendee: attendee ? emailOf(String(attendee.getFirstValue())) : null,
    partstat: attendee ? String(attendee.getParameter('partstat') ?? 'NEEDS-ACTION').toUpperCase() : null,
    startAt,
    endAt,
    comment: (event.getFirstPropertyValue('comment') as string | null)?.trim() || null,
  };
}

/** `mailto:` in any case, and no angle brackets. */
function emailOf(value: string): string {
  return value
    .replace(/^mailto:/i, '')
    .replace(/[<>]/g, '')
    .trim()
    .toLowerCase();
}

/**
 * The instant of a DTSTART / DTEND: UTC as is; a TZID read as an IANA zone, a Windows zone name
 * ("W. Europe Standard Time") mapped to IANA, or else the message's own VTIMEZONE; floating as UTC.
 */
function instantOf(property: ICAL.Property | null, zones: Map<string, ICAL.Component>): Date | null {
  const time = property?.getFirstValue();
  if (!(time instanceof ICAL.Time)) return null;
  const tzid = property!.getParameter('tzid') as string | undefined;
  // No TZID: UTC ("Z") or floating, both read as UTC wall time (never this process's zone).
  if (!tzid) return wall(time, 'UTC');
  const iana = ianaZone(tzid);
  if (iana) return wall(time, iana);
  const vtimezone = zones.get(tzid);
  if (vtimezone) {
    const zone = new ICAL.Timezone(vtimezone);
    const local = new ICAL.Time(
      { year: time.year, month: time.month, day: time.day, hour: time.hour, minute: time.minute, second: time.second },
      zone,
    );
    return local.toJSDate();
  }
  return wall(time, 'UTC');
}

export function ianaZone(tzid: string): string | null {
  const name = tzid.replace(/^\/+/, '').replace(/^"|"$/g, '').trim();
  if (isValidTimeZone(name) && name.includes('/')) return name;
  const mapped = findIana(name)[0];
  if (mapped) return mapped;
  return isValidTimeZone(name) ? name : null;
}

function wall(time: ICAL.Time, timeZone: string): Date {
  const zoned = Temporal.ZonedDateTime.from({
    timeZone,
    year: time.year,
    month: time.month,
    day: time.day,
    hour: time.isDate ? 0 : time.hour,
    minute: time.isDate ? 0 : time.minute,
    second: time.isDate ? 0 : Math.min(time.second, 59),
  });
  return new Date(zoned.epochMilliseconds);
}
