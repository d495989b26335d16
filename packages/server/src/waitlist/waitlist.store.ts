import type { SqlQuery } from '../db/database.js';
import { FREE_PLACES } from '../scheduling/scheduling.store.js';

export type WaitlistStatus = 'WAITING' | 'OFFERED' | 'BOOKED' | 'LAPSED' | 'LEFT';

export interface WaitlistRow {
  id: string;
  position: string;
  slot_id: string | null;
  resource_id: string | null;
  window_start: Date | null;
  window_end: Date | null;
  customer_name: string;
  customer_email: string;
  customer_phone: string | null;
  customer_time_zone: string | null;
  status: WaitlistStatus;
  offered_booking_id: string | null;
  offered_at: Date | null;
  created_at: Date;
}

// position is read as text (a bigint); ORDER BY names the table's column (w.position), not this text alias.
const COLUMNS = `id, position::text AS position, slot_id, resource_id, window_start, window_end, customer_name, customer_email,
  customer_phone, customer_time_zone, status, offered_booking_id, offered_at, created_at`;

export interface NewEntry {
  slotId: string | null;
  resourceId: string | null;
  windowStart: Date | null;
  windowEnd: Date | null;
  customerName: string;
  customerEmail: string;
  customerEmailHash: string;
  customerPhone: string | null;
  customerPhoneHash: string | null;
  customerTimeZone: string | null;
  leaveTokenHash: string;
}

/** null: this customer already waits for that slot. */
export async function insertEntry(tx: SqlQuery, e: NewEntry): Promise<WaitlistRow | null> {
  const [row] = await tx.query<WaitlistRow>(
    `INSERT INTO waitlist_entries (slot_id, resource_id, window_start, window_end, customer_name, customer_email, customer_email_hash,
       customer_phone, customer_phone_hash, customer_time_zone, leave_token_hash)
     VALUES ($1::uuid, $2::uuid, $3, $4, $5, $6, $7, $8, $9, $10, $11)
     ON CONFLICT (slot_id, customer_email_hash) WHERE slot_id IS NOT NULL AND status IN ('WAITING', 'OFFERED') DO NOTHING
     RETURNING ${COLUMNS}`,
    [
      e.slotId,
      e.resourceId,
      e.windowStart,
      e.windowEnd,
      e.customerName,
      e.customerEmail,
      e.customerEmailHash,
      e.customerPhone,
      e.customerPhoneHash,
      e.customerTimeZone,
      e.leaveTokenHash,
    ],
  );
  return row ?? null;
}

/** How many wait before this entry for the same thing (0: next in line). */
export async function placeInLine(db: SqlQuery, entry: WaitlistRow): Promise<number> {
  const [row] = await db.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM waitlist_entries w
     WHERE w.status = 'WAITING' AND w.position < $1::bigint
       AND ((w.slot_id IS NOT NULL AND w.slot_id = $2::uuid)
         OR (w.slot_id IS NULL AND w.resource_id = $3::uuid AND w.window_start < $5 AND w.window_end > $4))`,
    [entry.position, entry.slot_id, entry.resource_id, entry.window_start, entry.window_end],
  );
  return row!.n;
}

export interface FreeSlot {
  id: string;
  resource_id: string | null;
  start_at: Date;
  end_at: Date;
  free: number;
}

/** Locks the slots (in id order, as every booking path does) and answers how many places each has free now. */
export async function lockFreeSlots(tx: SqlQuery, slotIds: string[], now: Date): Promise<FreeSlot[]> {
  return tx.query<FreeSlot>(
    `SELECT id, resource_id, start_at, end_at, ${FREE_PLACES}::int AS free
     FROM slots WHERE id = ANY($1::uuid[]) AND status NOT IN ('BLOCKED', 'CANCELLED') AND form_id IS NULL AND start_at > $2
     ORDER BY id FOR UPDATE`,
    [slotIds, now],
  );
}

/**
 * The first `limit` customers waiting for this slot, first come first served: those waiting for it
 * and those waiting for its resource in a window that contains it. An entry another transaction is
 * offering a place right now is skipped, not waited for.
 */
export async function firstWaiting(tx: SqlQuery, slot: FreeSlot, limit: number): Promise<WaitlistRow[]> {
  return tx.query<WaitlistRow>(
    `SELECT ${COLUMNS} FROM waitlist_entries w
     WHERE status = 'WAITING'
       AND (slot_id = $1::uuid OR (slot_id IS NULL AND resource_id = $2::uuid AND window_start <= $3 AND window_end >= $4))
     ORDER BY w.position LIMIT $5::int
     FOR UPDATE SKIP LOCKED`,
    [slot.id, slot.resource_id, slot.start_at, slot.end_at, limit],
  );
}

export async function markOffered(tx: SqlQuery, entryId: string, bookingId: string, now: Date): Promise<void> {
  await tx.query(
    `UPDATE waitlist_entries SET status = 'OFFERED', offered_booking_id = $2::uuid, offered_at = $3, updated_at = now() WHERE id = $1::uuid`,
    [entryId, bookingId, now],
  );
}

/** Offers whose hold these changes ended: each moves to the given status. Returns the entries moved. */
export async function closeOffers(tx: SqlQuery, moves: { bookingId: string; status: WaitlistStatus }[]): Promise<WaitlistRow[]> {
  if (!moves.length) return [];
  return tx.query<WaitlistRow>(
    `UPDATE waitlist_entries w SET status = m.status::waitlist_status, updated_at = now()
     FROM jsonb_to_recordset($1::jsonb) AS m(booking_id uuid, status text)
     WHERE w.offered_booking_id = m.booking_id AND w.status = 'OFFERED'
     RETURNING w.id, w.position::text AS position, w.slot_id, w.resource_id, w.window_start, w.window_end, w.customer_name,
       w.customer_email, w.customer_phone, w.customer_time_zone, w.status, w.offered_booking_id, w.offered_at, w.created_at`,
    [JSON.stringify(moves.map((m) => ({ booking_id: m.bookingId, status: m.status })))],
  );
}

/** Leaves the list (WAITING only: an offered place is given up by cancelling its hold). */
export async function leave(tx: SqlQuery, where: { id?: string; leaveTokenHash?: string }): Promise<WaitlistRow | null> {
  const [row] = await tx.query<WaitlistRow>(
    `UPDATE waitlist_entries SET status = 'LEFT', updated_at = now()
     WHERE status = 'WAITING' AND ${where.id ? 'id = $1::uuid' : 'leave_token_hash = $1'}
     RETURNING ${COLUMNS}`,
    [where.id ?? where.leaveTokenHash],
  );
  return row ?? null;
}

export async function findByLeaveToken(db: SqlQuery, leaveTokenHash: string): Promise<WaitlistRow | null> {
  const [row] = await db.query<WaitlistRow>(`SELECT ${COLUMNS} FROM waitlist_entries WHERE leave_token_hash = $1`, [leaveTokenHash]);
  return row ?? null;
}

/** Staff view: a slot's or a resource's list, in order. The statuses go as text[]: PGlite cannot bind a JS array as an enum array. */
export async function listEntries(db: SqlQuery, scope: { slotId?: string; resourceId?: string }, statuses: WaitlistStatus[]): Promise<WaitlistRow[]> {
  return db.query<WaitlistRow>(
    `SELECT ${COLUMNS} FROM waitlist_entries w
     WHERE status = ANY($3::text[]::waitlist_status[])
       AND (($1::uuid IS NOT NULL AND slot_id = $1::uuid)
         OR ($2::uuid IS NOT NULL AND (resource_id = $2::uuid OR slot_id IN (SELECT id FROM slots WHERE resource_id = $2::uuid))))
     ORDER BY w.position`,
    [scope.slotId ?? null, scope.resourceId ?? null, statuses],
  );
}

export async function slotForWaitlist(db: SqlQuery, slotId: string) {
  const [row] = await db.query<{ id: string; resource_id: string | null; form_id: string | null; free: number; start_at: Date; status: string }>(
    `SELECT id, resource_id, form_id, ${FREE_PLACES}::int AS free, start_at, status FROM slots WHERE id = $1::uuid`,
    [slotId],
  );
  return row ?? null;
}

/** What an offer mail says: the slot's time in its zone, and where. */
export async function offerDetails(db: SqlQuery, slotId: string) {
  const [row] = await db.query<{ start_at: Date; end_at: Date; time_zone: string; resource_name: string | null; location_name: string }>(
    `SELECT s.start_at, s.end_at, l.time_zone, r.name AS resource_name, l.name AS location_name
     FROM slots s JOIN locations l ON l.id = s.location_id LEFT JOIN resources r ON r.id = s.resource_id WHERE s.id = $1::uuid`,
    [slotId],
  );
  return row!;
}

export async function isActiveResource(db: SqlQuery, resourceId: string): Promise<boolean> {
  const [resource] = await db.query(`SELECT 1 FROM resources WHERE id = $1::uuid AND active`, [resourceId]);
  return Boolean(resource);
}
