import { randomBytes } from '../shared/random.js';
import type { Booking } from '../generated/prisma/client.js';
import type { TimeRange } from './errors.js';

/** A UUIDv7 made here, so the booking and its audit row can be written in one statement. */
export function newBookingId(now = Date.now()): string {
  const b = randomBytes(16);
  b.writeUIntBE(now, 0, 6);
  b[6] = (b[6]! & 0x0f) | 0x70;
  b[8] = (b[8]! & 0x3f) | 0x80;
  const hex = b.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

type Details = 'title' | 'notes' | 'internalNotes' | 'partySize';
export type NewBooking = Omit<Booking, Details | 'icsSequence' | 'cancelledAt' | 'updatedAt' | 'legacyDuplicate'> & Partial<Pick<Booking, Details>>;

/** The full row as the database will hold it (defaults filled in), for the caller to return. */
export function asBooking(b: NewBooking): Booking {
  return {
    title: null,
    notes: null,
    internalNotes: null,
    partySize: 1,
    ...b,
    icsSequence: 0,
    cancelledAt: null,
    updatedAt: b.createdAt,
    legacyDuplicate: false,
  };
}

/**
 * Found inside the transaction: a new or moved booking would overlap a live one on its exclusive
 * resource. Carries what the transaction already read, so the conflict is answered without reading again.
 */
export class OverlapError extends Error {
  constructor(
    readonly resourceId: string,
    readonly range: TimeRange,
  ) {
    super('overlaps a live booking on an exclusive resource');
  }
}
