import type { SqlQuery } from '../db/database.js';
import { lockKeysInTransaction } from '../db/advisory-locks.js';
import { wakeAtCommit } from '../db/listen.js';
import type { Booking } from '../generated/prisma/client.js';
import { slotChangeOf, type SlotChange, type SlotChangeReason, type SlotChangeRow } from '../events/slot-events.js';
import type { HoursRule } from '../scheduling/search.js';
import { SUBJECT_POLICY_COLUMNS, withSubjectPolicy, type SubjectPolicy } from '../policies/policies.store.js';
import { insertEventsSql } from '../events/events.store.js';
import { insertMailIntentsSql } from '../calendar/calendar.store.js';
import { auditView, type AuditActor, type BookingAuditEntry } from './audit.js';
import type { TimeRange } from './errors.js';

/**
 * Every SQL statement of the booking domain. The services and the transaction steps decide what
 * to run and in which order (locks first, in id order); the statements here only read and write.
 * `tx` is the caller's transaction, `sql` any connection.
 */

/** A booking row with the names the Prisma model gives its fields. */
const BOOKING = `id, kind, slot_id AS "slotId", resource_id AS "resourceId", location_id AS "locationId", exclusive,
  start_at AS "startAt", end_at AS "endAt", status, hold_expires_at AS "holdExpiresAt", user_id AS "userId",
  customer_name AS "customerName", customer_email AS "customerEmail", customer_email_hash AS "customerEmailHash",
  customer_phone AS "customerPhone", customer_phone_hash AS "customerPhoneHash", customer_time_zone AS "customerTimeZone",
  notes, legacy_duplicate AS "legacyDuplicate", title, internal_notes AS "internalNotes", party_size AS "partySize",
  manage_token_hash AS "manageTokenHash", ics_uid AS "icsUid", ics_sequence AS "icsSequence", confirmed_at AS "confirmedAt",
  cancelled_at AS "cancelledAt", created_at AS "createdAt", updated_at AS "updatedAt"`;

/** What a booking list shows at a glance (status, times, slot) and what deciding who may see a booking reads. */
const BOOKING_SUMMARY = `id, status, start_at AS "startAt", end_at AS "endAt", slot_id AS "slotId", user_id AS "userId", customer_email_hash AS "customerEmailHash"`;
export type BookingSummary = Pick<Booking, 'id' | 'status' | 'startAt' | 'endAt' | 'slotId' | 'userId' | 'customerEmailHash'>;

/**
 * A user's bookings overlapping [from, to), by start: linked to the account or made with its email
 * (two index lookups). Whole rows, or only their summaries: a quarter of the columns and none of the
 * sealed ones, for about a quarter less server CPU per list read.
 */
export function selectMyBookings(
  sql: SqlQuery,
  userId: string,
  emailHash: string,
  from: Date,
  to: Date,
  summaries: boolean,
): Promise<BookingSummary[]> {
  return sql.query<BookingSummary>(
    `SELECT ${summaries ? BOOKING_SUMMARY : BOOKING} FROM bookings
      WHERE (user_id = $1::uuid OR customer_email_hash = $2) AND start_at < $4 AND end_at > $3
      ORDER BY start_at, id`,
    [userId, emailHash, from, to],
  );
}

/** A slot row as the booking steps lock and check it. */
export interface SlotRow {
  id: string;
  capacity: number;
  booked: number;
  held: number;
  status: string;
  start_at: Date;
  end_at: Date;
  location_id: string | null;
  resource_id: string | null;
  form_id: string | null;
}

/** A slot locked for new bookings, with what its check needs read in the same statement. */
export interface LockedSlot extends SlotRow {
  exclusive: boolean | null;
  has_expired: boolean;
  /** This customer already has a live booking of the slot, matched by 'email' or 'phone'. */
  duplicate: 'email' | 'phone' | null;
  /** The booking policy of the slot's subject (its resource, or its location for a location-wide slot); null when none. */
  policy: SubjectPolicy | null;
}

// ---- bookings ----

/** Locks one booking row and reads it; undefined when there is none. */
export async function lockBookingRow(tx: SqlQuery, bookingId: string): Promise<Booking | undefined> {
  const [row] = await tx.query<Booking>(`SELECT ${BOOKING} FROM bookings WHERE id = $1::uuid FOR UPDATE`, [bookingId]);
  return row;
}

/** HELD -> CONFIRMED. */
export async function markConfirmed(tx: SqlQuery, bookingId: string, now: Date): Promise<Booking> {
  return updated(
    tx,
    `UPDATE bookings SET status = 'CONFIRMED', confirmed_at = $2::timestamptz, hold_expires_at = NULL, updated_at = now()
    WHERE id = $1::uuid RETURNING ${BOOKING}`,
    [bookingId, now],
  );
}

/** HELD -> EXPIRED (a hold confirmed too late). */
export async function markExpired(tx: SqlQuery, bookingId: string): Promise<Booking> {
  return updated(tx, `UPDATE bookings SET status = 'EXPIRED', updated_at = now() WHERE id = $1::uuid RETURNING ${BOOKING}`, [bookingId]);
}

/** -> CANCELLED; SEQUENCE + 1, so the calendar CANCEL outranks the invitation it withdraws. */
export async function markCancelled(tx: SqlQuery, bookingId: string, now: Date): Promise<Booking> {
  return updated(
    tx,
    `UPDATE bookings SET status = 'CANCELLED', cancelled_at = $2::timestamptz, hold_expires_at = NULL,
      ics_sequence = ics_sequence + 1, updated_at = now()
    WHERE id = $1::uuid RETURNING ${BOOKING}`,
    [bookingId, now],
  );
}

/**
 * A booking's new time (and slot, for a slot booking); SEQUENCE + 1. A moved booking follows the
 * one-live-booking rule even if it was a legacy duplicate. The exclusion constraint checks the new
 * range against every other live booking (23P01).
 */
export async function moveBooking(tx: SqlQuery, bookingId: string, to: TimeRange & { slotId: string | null }): Promise<Booking> {
  return updated(
    tx,
    `UPDATE bookings SET slot_id = COALESCE($2::uuid, slot_id), start_at = $3::timestamptz, end_at = $4::timestamptz,
      legacy_duplicate = legacy_duplicate AND $2::uuid IS NULL, ics_sequence = ics_sequence + 1, updated_at = now()
    WHERE id = $1::uuid RETURNING ${BOOKING}`,
    [bookingId, to.slotId, to.startAt, to.endAt],
  );
}

/** The detail columns present in `columns` (stored form: notes sealed), and SEQUENCE + 1 when the parties see the change. */
export async function updateBookingDetails(
  tx: SqlQuery,
  bookingId: string,
  columns: { title?: string | null; notes?: string | null; internalNotes?: string | null; partySize?: number },
  bumpSequence: boolean,
): Promise<Booking> {
  return updated(
    tx,
    `UPDATE bookings SET
      title = CASE WHEN $2::boolean THEN $3::text ELSE title END,
      notes = CASE WHEN $4::boolean THEN $5::text ELSE notes END,
      internal_notes = CASE WHEN $6::boolean THEN $7::text ELSE internal_notes END,
      party_size = COALESCE($8::int, party_size),
      ics_sequence = ics_sequence + $9::int,
      updated_at = now()
    WHERE id = $1::uuid RETURNING ${BOOKING}`,
    [
      bookingId,
      'title' in columns,
      columns.title ?? null,
      'notes' in columns,
      columns.notes ?? null,
      'internalNotes' in columns,
      columns.internalNotes ?? null,
      columns.partySize ?? null,
      bumpSequence ? 1 : 0,
    ],
  );
}

async function updated(tx: SqlQuery, text: string, params: unknown[]): Promise<Booking> {
  const [row] = await tx.query<Booking>(text, params);
  return row!;
}

/**
 * Writes new bookings, their audit rows and (optionally) the slot counts they take in ONE
 * statement: fewer round trips while the slot rows are locked. Each slot booking takes its
 * party_size places of `column`; the slots CHECK (booked + held <= capacity) refuses an overbooking
 * whatever got past the caller's check. A booking on an exclusive resource that overlaps a
 * committed live booking is not inserted (a NOT EXISTS guard, no error and no wait); the
 * exclusion constraint stays the guarantee for anything the guard cannot see (23P01).
 * `records` (the change's events and mail intents) are written by the same statement.
 * Returns the ids inserted and the slots' new versions.
 */
export async function insertBookings(
  tx: SqlQuery,
  bookings: Booking[],
  actor: AuditActor,
  slotCounts?: { column: 'held' | 'booked' },
  records?: ChangeRecords,
): Promise<{ inserted: Set<string>; versions: Map<string, number> }> {
  const rows = bookings.map((b) => ({
    id: b.id,
    kind: b.kind,
    slot_id: b.slotId,
    resource_id: b.resourceId,
    location_id: b.locationId,
    exclusive: b.exclusive,
    start_at: b.startAt,
    end_at: b.endAt,
    status: b.status,
    hold_expires_at: b.holdExpiresAt,
    user_id: b.userId,
    customer_name: b.customerName,
    customer_email: b.customerEmail,
    customer_email_hash: b.customerEmailHash,
    customer_phone: b.customerPhone,
    customer_phone_hash: b.customerPhoneHash,
    customer_time_zone: b.customerTimeZone,
    title: b.title,
    notes: b.notes,
    internal_notes: b.internalNotes,
    party_size: b.partySize,
    manage_token_hash: b.manageTokenHash,
    ics_uid: b.icsUid,
    confirmed_at: b.confirmedAt,
    created_at: b.createdAt,
  }));
  const audit = bookings.map((b) => ({
    entity_id: b.id,
    action: b.status,
    actor_id: actor.actorId ?? null,
    actor_label: actor.actorLabel,
    request_id: actor.requestId ?? null,
    new_values: auditView(b),
  }));
  // No slotCounts: the counts step matches no slot (an empty list).
  const column = slotCounts?.column === 'booked' ? 'booked' : 'held';
  const places = slotCounts ? bookings.filter((b) => b.slotId).map((b) => ({ id: b.slotId, n: b.partySize })) : [];
  const params: unknown[] = [JSON.stringify(places), JSON.stringify(rows), JSON.stringify(audit)];
  // The change's records go in the same statement, for the bookings inserted (one left out is the
  // caller's conflict: it throws, and the transaction rolls back).
  const more = records ? changeRecordParts(tx, records, params, 'SELECT id FROM booking') : { ctes: [], notifies: [] };
  const [row] = await tx.query<{ inserted: string[] | null; slot_ids: string[] | null; versions: number[] | null }>(
    `WITH counts AS (
      UPDATE slots s SET ${column} = s.${column} + d.n
      FROM jsonb_to_recordset($1::jsonb) AS d(id uuid, n int)
      WHERE s.id = d.id RETURNING s.id, s.version),
    booking AS (
      INSERT INTO bookings (id, kind, slot_id, resource_id, location_id, exclusive, start_at, end_at, status, hold_expires_at,
        user_id, customer_name, customer_email, customer_email_hash, customer_phone, customer_phone_hash, customer_time_zone,
        title, notes, internal_notes, party_size, manage_token_hash, ics_uid, confirmed_at, created_at, updated_at)
      SELECT id, kind, slot_id, resource_id, location_id, exclusive, start_at, end_at, status, hold_expires_at,
        user_id, customer_name, customer_email, customer_email_hash, customer_phone, customer_phone_hash, customer_time_zone,
        title, notes, internal_notes, party_size, manage_token_hash, ics_uid, confirmed_at, created_at, created_at
      FROM jsonb_to_recordset($2::jsonb) AS x(id uuid, kind booking_kind, slot_id uuid, resource_id uuid,
        location_id uuid, exclusive boolean, start_at timestamptz, end_at timestamptz, status booking_status,
        hold_expires_at timestamptz, user_id uuid, customer_name text, customer_email text, customer_email_hash text,
        customer_phone text, customer_phone_hash text, customer_time_zone text, title text, notes text, internal_notes text,
        party_size int, manage_token_hash text, ics_uid text, confirmed_at timestamptz,
        created_at timestamptz)
      WHERE NOT x.exclusive OR NOT EXISTS (
        SELECT 1 FROM bookings o
        WHERE o.resource_id = x.resource_id AND o.exclusive AND o.status IN ('HELD', 'CONFIRMED')
          AND tstzrange(o.start_at, o.end_at) && tstzrange(x.start_at, x.end_at))
      RETURNING id),
    audit AS (
      INSERT INTO audit_events (entity_type, entity_id, action, actor_id, actor_label, request_id, new_values)
      SELECT 'Booking', x.entity_id, x.action, x.actor_id, x.actor_label, x.request_id, x.new_values
      FROM jsonb_to_recordset($3::jsonb) AS x(entity_id uuid, action text, actor_id uuid,
        actor_label text, request_id text, new_values jsonb)
      JOIN booking ON booking.id = x.entity_id)${more.ctes.map((c) => `, ${c}`).join('')}
    SELECT (SELECT array_agg(id::text) FROM booking) AS inserted,
      (SELECT array_agg(id::text ORDER BY id) FROM counts) AS slot_ids,
      (SELECT array_agg(version ORDER BY id) FROM counts) AS versions
    ${more.notifies.length ? `FROM ${more.notifies.join(', ')}` : ''}`,
    params,
  );
  return {
    inserted: new Set(row!.inserted ?? []),
    versions: new Map((row!.slot_ids ?? []).map((id, i) => [id, row!.versions![i]!])),
  };
}

/** The booking columns the expiry steps read of each hold they expire. */
export interface ExpiredHold {
  id: string;
  slot_id: string | null;
  resource_id: string | null;
  location_id: string | null;
  start_at: Date;
  end_at: Date;
  ics_sequence: number;
  hold_expires_at: Date;
  party_size: number;
  exclusive: boolean;
}

/**
 * Marks up to `limit` HELD bookings past hold_expires_at (on `slotIds` only, when given) EXPIRED.
 * Holds whose row another transaction has locked are skipped (SKIP LOCKED), never waited for.
 */
export async function expireHolds(tx: SqlQuery, options: { now: Date; limit: number; slotIds?: string[] }): Promise<ExpiredHold[]> {
  return tx.query<ExpiredHold>(
    // MATERIALIZED: claimed once. As an IN (...) subquery the planner may run the claim again for
    // each outer row, and with SKIP LOCKED every run finds other rows: far more than the limit.
    `WITH due AS MATERIALIZED (
      SELECT id FROM bookings
      WHERE status = 'HELD' AND hold_expires_at <= $1 ${options.slotIds ? 'AND slot_id = ANY($3::uuid[])' : ''}
      ORDER BY hold_expires_at
      LIMIT $2::int
      FOR UPDATE SKIP LOCKED)
    UPDATE bookings b SET status = 'EXPIRED', updated_at = now()
    FROM due WHERE b.id = due.id AND b.status = 'HELD'
    RETURNING b.id, b.slot_id, b.resource_id, b.location_id, b.start_at, b.end_at, b.ics_sequence, b.hold_expires_at, b.party_size, b.exclusive`,
    [options.now, options.limit, ...(options.slotIds ? [options.slotIds] : [])],
  );
}

/** The customer (by email or phone hash) already has another live booking of this slot (other than `exceptBookingId`): which detail matched. */
export async function customerHoldsSlot(
  tx: SqlQuery,
  slotId: string,
  exceptBookingId: string | null,
  customer: { emailHash: string; phoneHash: string | null },
): Promise<'email' | 'phone' | undefined> {
  const [own] = await tx.query<{ field: 'email' | 'phone' }>(
    `SELECT CASE WHEN bool_or(customer_email_hash = $3) THEN 'email' ELSE 'phone' END AS field FROM bookings
     WHERE slot_id = $1::uuid AND id IS DISTINCT FROM $2::uuid AND NOT legacy_duplicate AND status IN ('HELD', 'CONFIRMED')
       AND (customer_email_hash = $3 OR customer_phone_hash = $4)
     HAVING count(*) > 0`,
    [slotId, exceptBookingId, customer.emailHash, customer.phoneHash],
  );
  return own?.field;
}

/** Live bookings on an exclusive resource overlapping a window (optionally but one), earliest first. */
export async function busyRanges(sql: SqlQuery, resourceId: string, window: TimeRange, exceptBookingId?: string): Promise<TimeRange[]> {
  return sql.query<TimeRange>(
    `SELECT start_at AS "startAt", end_at AS "endAt" FROM bookings
      WHERE resource_id = $1::uuid AND exclusive AND status IN ('HELD', 'CONFIRMED') AND start_at < $2 AND end_at > $3
        AND ($4::uuid IS NULL OR id <> $4::uuid)
      ORDER BY start_at`,
    [resourceId, window.endAt, window.startAt, exceptBookingId ?? null],
  );
}

/** Written inside the transaction that made the change, so audit and data never disagree. */
export async function writeBookingAudit(tx: SqlQuery, actor: AuditActor, entries: BookingAuditEntry[]): Promise<void> {
  if (!entries.length) return;
  await tx.query(
    `INSERT INTO audit_events (entity_type, entity_id, action, actor_id, actor_label, request_id, old_values, new_values)
     SELECT 'Booking', x.entity_id, x.action, $1::uuid, $2::text, $3::text, x.old_values, x.new_values
     FROM jsonb_to_recordset($4::jsonb) AS x(entity_id uuid, action text, old_values jsonb, new_values jsonb)`,
    [
      actor.actorId ?? null,
      actor.actorLabel,
      actor.requestId ?? null,
      JSON.stringify(entries.map((e) => ({ entity_id: e.bookingId, action: e.action, old_values: e.oldValues, new_values: e.newValues }))),
    ],
  );
}

/** What a booking change records besides the bookings: its lifecycle events and mail intents (JSON rows), each waking its channel at commit (wakeAtCommit). */
export interface ChangeRecords {
  events: { json: string; channel: string } | null;
  intents: { json: string; channel: string } | null;
  now: Date;
}

/**
 * The CTEs that write `records` and the NOTIFYs (FROM items) that wake their channels (wakeAtCommit:
 * none in this process's own transactions), with parameters numbered after the `params` given;
 * `onlyBookingsIn` (SQL giving ids) keeps the records of those bookings only.
 */
function changeRecordParts(tx: SqlQuery, records: ChangeRecords, params: unknown[], onlyBookingsIn?: string): { ctes: string[]; notifies: string[] } {
  const ctes: string[] = [];
  const notifies: string[] = [];
  const param = (value: unknown) => {
    params.push(value);
    return `$${params.length}`;
  };
  const wake = (channel: string, name: string) => {
    const notify = wakeAtCommit(tx, channel, param);
    if (notify) notifies.push(`${notify} AS ${name}`);
  };
  if (records.events) {
    ctes.push(`events AS (${insertEventsSql(param(records.events.json), onlyBookingsIn)})`);
    wake(records.events.channel, 'events_notified');
  }
  if (records.intents) {
    ctes.push(`intents AS (${insertMailIntentsSql(param(records.intents.json), param(records.now.toISOString()), onlyBookingsIn)})`);
    wake(records.intents.channel, 'intents_notified');
  }
  return { ctes, notifies };
}

/** A booking change's records (either part may be empty) in ONE statement: one round trip while the locks are held. */
export async function insertChangeRecords(tx: SqlQuery, records: ChangeRecords): Promise<void> {
  const params: unknown[] = [];
  const { ctes, notifies } = changeRecordParts(tx, records, params);
  if (!ctes.length) return;
  // In FROM, not the select list: a void column is more than Prisma's raw queries can read (the waitlist runs inside Prisma transactions).
  await tx.query(`WITH ${ctes.join(', ')} SELECT true AS notified ${notifies.length ? `FROM ${notifies.join(', ')}` : ''}`, params);
}

// ---- slots ----

/** A live booking's time on an exclusive resource, and its own slot (which it does not cover). */
export interface CoverSpan {
  resourceId: string;
  startAt: Date;
  endAt: Date;
  slotId: string | null;
}

/** Locks the resource's slots overlapping the range, in id order (the order every booking path locks slots in). */
export async function lockSlotsDuring(tx: SqlQuery, resourceId: string, range: TimeRange): Promise<void> {
  await tx.query(`SELECT id FROM slots WHERE resource_id = $1::uuid AND tstzrange(start_at, end_at) && tstzrange($2, $3) ORDER BY id FOR UPDATE`, [
    resourceId,
    range.startAt,
    range.endAt,
  ]);
}

/**
 * The other slots of the resources these spans overlap, as they are now in this transaction: the
 * slots whose `covered` count the database changed with the bookings (migration 0016), each with
 * whether it now takes bookings (nothing covers it and it has a place).
 */
export async function selectCoveredSlots(tx: SqlQuery, spans: CoverSpan[]): Promise<{ change: SlotChange; open: boolean }[]> {
  const rows = await tx.query<SlotChangeRow & { open: boolean }>(
    `SELECT DISTINCT s.id, s.version, s.location_id, s.resource_id, s.form_id, s.status IN ('OPEN', 'PARTIAL') AS open
       FROM jsonb_to_recordset($1::jsonb) AS x(resource_id uuid, start_at timestamptz, end_at timestamptz, slot_id uuid)
       JOIN slots s ON s.resource_id = x.resource_id AND tstzrange(s.start_at, s.end_at) && tstzrange(x.start_at, x.end_at)
        AND s.id IS DISTINCT FROM x.slot_id
      ORDER BY s.id`,
    [JSON.stringify(spans.map((s) => ({ resource_id: s.resourceId, start_at: s.startAt, end_at: s.endAt, slot_id: s.slotId })))],
  );
  return rows.map((r) => ({ change: slotChangeOf(r, 'UPDATED'), open: r.open }));
}

/**
 * Locks slots for new bookings in id order and reads, under those locks, whether each has expired
 * holds and whether this customer already has a live booking of it (every writer of a slot's
 * bookings takes the slot lock first, so the answer cannot change before the caller commits).
 */
export async function lockSlotsToBook(
  tx: SqlQuery,
  slotIds: string[],
  now: Date,
  customer: { emailHash: string; phoneHash: string | null },
): Promise<LockedSlot[]> {
  // One slot (a hold, a book) by equality: PostgreSQL then keeps one cached plan for the statement.
  // Through ANY($1) it costs its generic plan for ten ids, finds a plan for each call's values
  // cheaper, and planned every booking again: 0.6 ms of its CPU each time.
  const [onlySlot] = slotIds.length === 1 ? slotIds : [];
  const rows = await tx.query<Omit<LockedSlot, 'policy'>>(
    `SELECT s.id, s.capacity, s.booked, s.held, s.status, s.start_at, s.end_at, s.location_id, s.resource_id, s.form_id,
      r.exclusive, ${SUBJECT_POLICY_COLUMNS},
      EXISTS (SELECT 1 FROM bookings b WHERE b.slot_id = s.id AND b.status = 'HELD' AND b.hold_expires_at <= $2) AS has_expired,
      (SELECT CASE WHEN bool_or(b.customer_email_hash = $3) THEN 'email' ELSE 'phone' END FROM bookings b
        WHERE b.slot_id = s.id AND NOT b.legacy_duplicate
          AND (b.status = 'CONFIRMED' OR (b.status = 'HELD' AND b.hold_expires_at > $2))
          AND (b.customer_email_hash = $3 OR b.customer_phone_hash = $4)
        HAVING count(*) > 0) AS duplicate
    FROM slots s
    LEFT JOIN resources r ON r.id = s.resource_id
    LEFT JOIN locations l ON l.id = COALESCE(r.location_id, s.location_id)
    WHERE ${onlySlot ? 's.id = $1::uuid' : 's.id = ANY($1::uuid[])'}
    ORDER BY s.id
    FOR UPDATE OF s`,
    [onlySlot ?? slotIds, now, customer.emailHash, customer.phoneHash],
  );
  return rows.map(withSubjectPolicy);
}

/** Locks slots in id order and reads them. */
export async function lockSlots(tx: SqlQuery, slotIds: string[]): Promise<SlotRow[]> {
  return tx.query<SlotRow>(
    `SELECT id, capacity, booked, held, status, start_at, end_at, resource_id, location_id, form_id
    FROM slots WHERE id = ANY($1::uuid[]) ORDER BY id FOR UPDATE`,
    [[...slotIds].sort()],
  );
}

/** The form a slot belongs to, if any (undefined: no such slot). */
export async function slotFormId(tx: SqlQuery, slotId: string): Promise<{ form_id: string | null } | undefined> {
  const [row] = await tx.query<{ form_id: string | null }>(`SELECT form_id FROM slots WHERE id = $1::uuid`, [slotId]);
  return row;
}

/** Moves a slot's counts and returns the change to publish (with the version after it). */
export async function adjustSlot(
  tx: SqlQuery,
  slotId: string,
  delta: { held?: number; booked?: number },
  reason: SlotChangeReason,
): Promise<SlotChange> {
  const [row] = await tx.query<{ version: number; location_id: string | null; resource_id: string | null; form_id: string | null }>(
    `UPDATE slots SET held = held + $2::int, booked = booked + $3::int
    WHERE id = $1::uuid
    RETURNING version, location_id, resource_id, form_id`,
    [slotId, delta.held ?? 0, delta.booked ?? 0],
  );
  return { slotId, version: row!.version, reason, locationId: row!.location_id, resourceId: row!.resource_id, formId: row!.form_id };
}

/** The slot's live bookings (held or confirmed), locked in id order. */
export async function lockLiveBookingsOfSlot(tx: SqlQuery, slotId: string): Promise<string[]> {
  const rows = await tx.query<{ id: string }>(
    `SELECT id FROM bookings WHERE slot_id = $1::uuid AND status IN ('HELD', 'CONFIRMED') ORDER BY id FOR UPDATE`,
    [slotId],
  );
  return rows.map((r) => r.id);
}

/** The slot takes no more bookings (BLOCKED: slot generation leaves such a slot as it is). */
export async function blockSlot(tx: SqlQuery, slotId: string): Promise<SlotChange> {
  const [row] = await tx.query<{ version: number; location_id: string | null; resource_id: string | null; form_id: string | null }>(
    `UPDATE slots SET status = 'BLOCKED' WHERE id = $1::uuid RETURNING version, location_id, resource_id, form_id`,
    [slotId],
  );
  return { slotId, version: row!.version, reason: 'BLOCKED', locationId: row!.location_id, resourceId: row!.resource_id, formId: row!.form_id };
}

/** held -= n per slot; the slots are locked in id order first, the order every booking path uses. */
export async function giveBackHeldPlaces(tx: SqlQuery, freed: Map<string, number>): Promise<SlotChange[]> {
  if (!freed.size) return [];
  const ids = [...freed.keys()].sort();
  const counts = ids.map((id) => freed.get(id)!);
  await tx.query(`SELECT id FROM slots WHERE id = ANY($1::uuid[]) ORDER BY id FOR UPDATE`, [ids]);
  const rows = await tx.query<SlotChangeRow>(
    `UPDATE slots s SET held = s.held - d.n
    FROM unnest($1::uuid[], $2::int[]) AS d(id, n)
    WHERE s.id = d.id
    RETURNING s.id, s.version, s.location_id, s.resource_id, s.form_id`,
    [ids, counts],
  );
  return rows.map((r) => slotChangeOf(r, 'EXPIRED'));
}

/** Of these slots, those whose time a live booking on their exclusive resource already (partly) takes. */
export async function slotsTakenOnExclusiveResources(tx: SqlQuery, slotIds: string[]): Promise<Set<string>> {
  const rows = await tx.query<{ id: string }>(
    `SELECT s.id FROM slots s
    WHERE s.id = ANY($1::uuid[]) AND EXISTS (
      SELECT 1 FROM bookings o
      WHERE o.resource_id = s.resource_id AND o.exclusive AND o.status IN ('HELD', 'CONFIRMED')
        AND tstzrange(o.start_at, o.end_at) && tstzrange(s.start_at, s.end_at))`,
    [slotIds],
  );
  return new Set(rows.map((r) => r.id));
}

// Advisory-lock namespace of "bookings on this exclusive resource".
const EXCLUSIVE_LOCK_CLASS = 0x5357_0001;

/**
 * Serializes writers of one exclusive resource. Without it, two transactions inserting overlapping
 * ranges at once each wait on the other's uncommitted row in the exclusion check and deadlock
 * (PostgreSQL needs deadlock_timeout, 1 s, to break that). Taken after any slot locks, in id order.
 */
export function lockExclusiveResources(tx: SqlQuery, resourceIds: string[]): Promise<void> {
  return lockKeysInTransaction(tx, EXCLUSIVE_LOCK_CLASS, resourceIds);
}

// ---- what bookings read of resources, forms, rules and users ----

/** A resource with its location's zone; undefined when unknown. */
export async function loadResource(
  sql: SqlQuery,
  id: string,
): Promise<{ id: string; locationId: string; timeZone: string; exclusive: boolean; active: boolean } | undefined> {
  const [row] = await sql.query<{ location_id: string; time_zone: string; exclusive: boolean; active: boolean }>(
    `SELECT r.location_id, l.time_zone, r.exclusive, r.active FROM resources r JOIN locations l ON l.id = r.location_id WHERE r.id = $1::uuid`,
    [id],
  );
  return row && { id, locationId: row.location_id, timeZone: row.time_zone, exclusive: row.exclusive, active: row.active };
}

/** The email of the person a PERSON resource is (the booking's host); null for other resources. */
export async function hostEmail(sql: SqlQuery, resourceId: string): Promise<string | null> {
  const [row] = await sql.query<{ email: string | null }>(`SELECT email FROM resources WHERE id = $1::uuid AND kind = 'PERSON'`, [resourceId]);
  return row?.email ?? null;
}

/** The availability rules of a resource and of its location (dates as text: a `date` read by pg would be local midnight). */
export async function hoursRuleRows(sql: SqlQuery, resourceId: string, locationId: string): Promise<HoursRuleRow[]> {
  return sql.query<HoursRuleRow>(
    `SELECT resource_id, kind, days_of_week, start_minute, end_minute, valid_from::text AS valid_from, valid_to::text AS valid_to, is_closed
       FROM availability_rules WHERE resource_id = $1::uuid OR (resource_id IS NULL AND location_id = $2::uuid)`,
    [resourceId, locationId],
  );
}

export interface HoursRuleRow {
  resource_id: string | null;
  kind: HoursRule['kind'];
  days_of_week: number[];
  start_minute: number;
  end_minute: number;
  valid_from: string | null;
  valid_to: string | null;
  is_closed: boolean;
}

/** What a booking checks of a form its slots belong to. */
export interface FormGate {
  id: string;
  status: 'DRAFT' | 'PUBLISHED' | 'CLOSED';
  max_slots_per_registration: number | null;
}

/**
 * Locks the forms of slots being booked FOR SHARE (after the slot locks): a concurrent closeForm
 * waits for the booking or is seen by it.
 */
export async function lockForms(tx: SqlQuery, formIds: string[]): Promise<FormGate[]> {
  return tx.query<FormGate>(`SELECT id, status, max_slots_per_registration FROM forms WHERE id = ANY($1::uuid[]) ORDER BY id FOR SHARE`, [formIds]);
}

/** A user's display name, undefined when there is no such user. */
export async function userName(sql: SqlQuery, userId: string): Promise<string | undefined> {
  const [row] = await sql.query<{ name: string }>(`SELECT name FROM users WHERE id = $1::uuid`, [userId]);
  return row?.name;
}
