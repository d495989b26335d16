import { z } from 'zod';
import { pii } from '../shared/pii.js';

/** Most places one party may take; a slot's capacity limits it further. */
export const MAX_PARTY_SIZE = 1000;

/** Text that may be cleared: an empty (or blank) string or null clears it. */
const clearable = (max: number) =>
  z
    .string()
    .trim()
    .max(max, `must be at most ${max} characters`)
    .nullish()
    .transform((v) => (v === undefined ? undefined : v || null));

/**
 * A booking's own details (seed 002): a title, the customer's notes (they and staff see them),
 * staff-only internal notes, and the party size (places of the slot it takes). Left out: unchanged
 * on update, the default on a new booking.
 */
export const bookingDetailsSchema = z.object({
  title: clearable(200),
  notes: clearable(2000),
  internalNotes: clearable(5000),
  partySize: z
    .number()
    .int('must be a whole number')
    .min(1, 'must be at least 1')
    .max(MAX_PARTY_SIZE, `must be at most ${MAX_PARTY_SIZE}`)
    .nullish()
    .transform((v) => v ?? undefined),
});

export type BookingDetails = Partial<z.infer<typeof bookingDetailsSchema>>;

/** The columns details are stored in: notes encrypted at rest like the customer's contact data. */
export function detailColumns(d: BookingDetails) {
  const p = pii();
  const seal = (v: string | null | undefined) => (v === undefined ? undefined : v === null ? null : p.encrypt(v));
  return {
    ...(d.title !== undefined ? { title: d.title } : {}),
    ...(d.notes !== undefined ? { notes: seal(d.notes) } : {}),
    ...(d.internalNotes !== undefined ? { internalNotes: seal(d.internalNotes) } : {}),
    ...(d.partySize !== undefined ? { partySize: d.partySize } : {}),
  };
}

/** Notes as written; rows from before migration 0006 hold plaintext notes, read as they are (see Pii.readText). */
export function openNotes(stored: string | null): string | null {
  return pii().readNullable(stored);
}
