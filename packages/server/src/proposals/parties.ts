import { eventTitle } from '../calendar/booking-mail-content.js';
import type { SqlQuery } from '../db/database.js';
import type { MagicLinkRole } from '../links/magic-links.js';
import { NotFoundError } from '../shared/errors.js';
import { pii } from '../shared/pii.js';
import { selectParties, type PartiesRow } from './proposal.store.js';

export interface Party {
  role: MagicLinkRole;
  name: string;
  email: string;
  /** The zone this party reads times in. */
  timeZone: string;
}

/** A booking as proposals and calendar replies see it: its time, its parties and the zone to show times in. */
export interface BookingParties {
  id: string;
  kind: 'SLOT' | 'RANGE';
  status: string;
  slotId: string | null;
  resourceId: string | null;
  locationId: string | null;
  startAt: Date;
  endAt: Date;
  icsUid: string;
  icsSequence: number;
  userId: string | null;
  customerEmailHash: string;
  /** What the booking is for: the host's or the resource's name. */
  title: string;
  timeZone: string;
  guest: Party;
  /** The host: a person resource with an email; null for rooms and facilities (staff decide for them). */
  host: Party | null;
}

/** Reads a booking with its parties; `lock` takes the booking row lock first (every booking change does). */
export async function loadParties(
  sql: SqlQuery,
  where: { id: string } | { icsUid: string },
  options: { lock?: boolean } = {},
): Promise<BookingParties | null> {
  const row = await selectParties(sql, where, options);
  return row ? toParties(row) : null;
}

export async function requireParties(sql: SqlQuery, bookingId: string, options: { lock?: boolean } = {}): Promise<BookingParties> {
  const parties = await loadParties(sql, { id: bookingId }, options);
  if (!parties) throw new NotFoundError('Booking', bookingId);
  return parties;
}

function toParties(row: PartiesRow): BookingParties {
  return {
    id: row.id,
    kind: row.kind,
    status: row.status,
    slotId: row.slot_id,
    resourceId: row.resource_id,
    locationId: row.location_id,
    startAt: new Date(row.start_at),
    endAt: new Date(row.end_at),
    icsUid: row.ics_uid,
    icsSequence: row.ics_sequence,
    userId: row.user_id,
    customerEmailHash: row.customer_email_hash,
    title: row.resource_name ?? 'your booking',
    timeZone: row.time_zone,
    // The zone the customer gave when booking, else the location's (as the invitations read).
    guest: {
      role: 'guest',
      name: pii().readText(row.customer_name),
      email: pii().decrypt(row.customer_email),
      timeZone: row.customer_time_zone ?? row.time_zone,
    },
    host: row.resource_email ? { role: 'host', name: row.resource_name ?? 'the host', email: row.resource_email, timeZone: row.time_zone } : null,
  };
}

export const otherRole = (role: MagicLinkRole): MagicLinkRole => (role === 'guest' ? 'host' : 'guest');

/** The party of a role; a booking without a host email is decided for by staff at the organizer mailbox. */
export function partyOf(b: BookingParties, role: MagicLinkRole, organizerEmail: string): Party {
  if (role === 'guest') return b.guest;
  return b.host ?? { role: 'host', name: 'the organizer', email: organizerEmail, timeZone: b.timeZone };
}

/** Which party an email address is, if either. */
export function roleOfEmail(b: BookingParties, email: string): MagicLinkRole | null {
  const hash = pii().emailHash(email);
  if (hash === b.customerEmailHash) return 'guest';
  if (b.host && b.host.email.trim().toLowerCase() === email.trim().toLowerCase()) return 'host';
  return null;
}

/** The booking as a party's invitation names it (eventTitle): "Session with Ada" for a session, else the resource. */
export function titleFor(b: BookingParties, reader: MagicLinkRole): string {
  const session = b.host ? { hostName: b.host.name, guestName: b.guest.name } : null;
  return eventTitle({ title: null, what: b.title, session }, reader);
}
