import type { SqlQuery } from '../db/database.js';
import { recordEvents } from '../events/domain-events.js';
import type { MagicLinkRole } from '../links/magic-links.js';
import { pii } from '../shared/pii.js';
import { FREE_PLACES } from '../scheduling/scheduling.store.js';
import type { ProposalFailure, ProposalStatus } from './proposal-errors.js';

export type ProposalSource = 'link' | 'account' | 'imip';

export interface Proposal {
  id: string;
  bookingId: string;
  status: ProposalStatus;
  proposedBy: MagicLinkRole;
  source: ProposalSource;
  startAt: Date;
  endAt: Date;
  targetSlotId: string | null;
  bookingSequence: number;
  note: string | null;
  expiresAt: Date;
  decidedAt: Date | null;
  decidedBy: string | null;
  failureReason: ProposalFailure | null;
  createdAt: Date;
}

const COLUMNS = `id, booking_id, status, proposed_by, source, proposed_start_at, proposed_end_at, target_slot_id, booking_sequence, note,
  expires_at, decided_at, decided_by, failure_reason, created_at`;

interface Row {
  id: string;
  booking_id: string;
  status: ProposalStatus;
  proposed_by: MagicLinkRole;
  source: ProposalSource;
  proposed_start_at: Date;
  proposed_end_at: Date;
  target_slot_id: string | null;
  booking_sequence: number;
  note: string | null;
  expires_at: Date;
  decided_at: Date | null;
  decided_by: string | null;
  failure_reason: ProposalFailure | null;
  created_at: Date;
}

const date = (d: Date | string) => new Date(d);

function toProposal(r: Row): Proposal {
  return {
    id: r.id,
    bookingId: r.booking_id,
    status: r.status,
    proposedBy: r.proposed_by,
    source: r.source,
    startAt: date(r.proposed_start_at),
    endAt: date(r.proposed_end_at),
    targetSlotId: r.target_slot_id,
    bookingSequence: r.booking_sequence,
    note: r.note ? pii().decrypt(r.note) : null,
    expiresAt: date(r.expires_at),
    decidedAt: r.decided_at ? date(r.decided_at) : null,
    decidedBy: r.decided_by,
    failureReason: r.failure_reason,
    createdAt: date(r.created_at),
  };
}

export async function findProposal(sql: SqlQuery, id: string, options: { lock?: boolean } = {}): Promise<Proposal | null> {
  const [row] = await sql.query<Row>(`SELECT ${COLUMNS} FROM proposals WHERE id = $1::uuid ${options.lock ? 'FOR UPDATE' : ''}`, [id]);
  return row ? toProposal(row) : null;
}

export async function pendingProposal(sql: SqlQuery, bookingId: string): Promise<Proposal | null> {
  const [row] = await sql.query<Row>(`SELECT ${COLUMNS} FROM proposals WHERE booking_id = $1::uuid AND status = 'PENDING'`, [bookingId]);
  return row ? toProposal(row) : null;
}

/** Marks the booking's pending proposal SUPERSEDED; returns its id (if there was one). */
export async function supersedePending(sql: SqlQuery, bookingId: string, now: Date, by: string): Promise<string | null> {
  const rows = await sql.query<Row>(
    `UPDATE proposals SET status = 'SUPERSEDED', decided_at = $2::timestamptz, decided_by = $3, updated_at = $2::timestamptz
     WHERE booking_id = $1::uuid AND status = 'PENDING' RETURNING ${COLUMNS}`,
    [bookingId, now.toISOString(), by],
  );
  if (!rows[0]) return null;
  await proposalChanged(sql, toProposal(rows[0]), 'PENDING', now);
  return rows[0].id;
}

export async function insertProposal(
  sql: SqlQuery,
  p: Omit<Proposal, 'id' | 'status' | 'decidedAt' | 'decidedBy' | 'failureReason' | 'createdAt'> & {
    status?: 'PENDING' | 'FAILED';
    failureReason?: ProposalFailure | null;
    now: Date;
  },
): Promise<Proposal> {
  const failed = p.status === 'FAILED';
  const [row] = await sql.query<Row>(
    `INSERT INTO proposals (booking_id, status, proposed_by, source, proposed_start_at, proposed_end_at, target_slot_id, booking_sequence, note,
       expires_at, decided_at, decided_by, failure_reason, created_at, updated_at)
     VALUES ($1::uuid, $2::proposal_status, $3::magic_link_role, $4, $5::timestamptz, $6::timestamptz, $7::uuid, $8::int, $9, $10::timestamptz,
       $11::timestamptz, $12, $13, $14::timestamptz, $14::timestamptz)
     RETURNING ${COLUMNS}`,
    [
      p.bookingId,
      p.status ?? 'PENDING',
      p.proposedBy,
      p.source,
      p.startAt.toISOString(),
      p.endAt.toISOString(),
      p.targetSlotId,
      p.bookingSequence,
      p.note ? pii().encrypt(p.note) : null,
      p.expiresAt.toISOString(),
      failed ? p.now.toISOString() : null,
      failed ? 'system' : null,
      failed ? p.failureReason : null,
      p.now.toISOString(),
    ],
  );
  const proposal = toProposal(row!);
  await proposalChanged(sql, proposal, null, p.now);
  return proposal;
}

/** Ends a pending proposal; the caller holds its row lock. */
export async function closeProposal(
  sql: SqlQuery,
  id: string,
  status: Exclude<ProposalStatus, 'PENDING'>,
  now: Date,
  decidedBy: string,
  failureReason: ProposalFailure | null = null,
): Promise<Proposal> {
  const [row] = await sql.query<Row>(
    `UPDATE proposals SET status = $2::proposal_status, decided_at = $3::timestamptz, decided_by = $4, failure_reason = $5, updated_at = $3::timestamptz
     WHERE id = $1::uuid AND status = 'PENDING' RETURNING ${COLUMNS}`,
    [id, status, now.toISOString(), decidedBy, failureReason],
  );
  const proposal = toProposal(row!);
  await proposalChanged(sql, proposal, 'PENDING', now);
  return proposal;
}

/**
 * Every proposal status change goes through here, in its transaction: `proposal.created` for a new
 * pending one, else `proposal.<new status>` (approved, declined, superseded, failed, expired).
 * The note is left out (free text from a party may hold contact data).
 */
async function proposalChanged(sql: SqlQuery, p: Proposal, previousStatus: ProposalStatus | null, now: Date): Promise<void> {
  await recordEvents(sql, [
    {
      type: p.status === 'PENDING' ? 'proposal.created' : `proposal.${p.status.toLowerCase()}`,
      aggregateType: 'proposal',
      aggregateId: p.id,
      occurredAt: now,
      payload: {
        proposalId: p.id,
        bookingId: p.bookingId,
        status: p.status,
        previousStatus,
        proposedBy: p.proposedBy,
        startAt: p.startAt.toISOString(),
        endAt: p.endAt.toISOString(),
        expiresAt: p.expiresAt.toISOString(),
        failureReason: p.failureReason,
      },
    },
  ]);
}

/** The proposal's decision links are spent once it is decided, whichever of them was used. */
export async function spendDecisionLinks(sql: SqlQuery, proposalId: string, now: Date): Promise<void> {
  await sql.query(`UPDATE magic_links SET used_at = $2::timestamptz WHERE proposal_id = $1::uuid AND used_at IS NULL`, [
    proposalId,
    now.toISOString(),
  ]);
}

/** Audit rows for proposals and link uses; written in the transaction that made the change. */
export async function writeAudit(
  sql: SqlQuery,
  entry: {
    entityType: 'Proposal' | 'MagicLink' | 'ImipMessage';
    entityId: string;
    action: string;
    actorId?: string | null;
    actorLabel: string;
    requestId?: string | null;
    newValues: Record<string, unknown>;
  },
): Promise<void> {
  await sql.query(
    `INSERT INTO audit_events (entity_type, entity_id, action, actor_id, actor_label, request_id, new_values)
     VALUES ($1, $2::uuid, $3, $4::uuid, $5, $6, $7::jsonb)`,
    [
      entry.entityType,
      entry.entityId,
      entry.action,
      entry.actorId ?? null,
      entry.actorLabel,
      entry.requestId ?? null,
      JSON.stringify(entry.newValues),
    ],
  );
}

// ---- the booking and the calendar as proposals see them ----------------------------------------

export interface PartiesRow {
  id: string;
  kind: 'SLOT' | 'RANGE';
  status: string;
  slot_id: string | null;
  resource_id: string | null;
  location_id: string | null;
  start_at: Date;
  end_at: Date;
  ics_uid: string;
  ics_sequence: number;
  user_id: string | null;
  customer_name: string;
  customer_email: string;
  customer_email_hash: string;
  resource_name: string | null;
  resource_email: string | null;
  time_zone: string;
  customer_time_zone: string | null;
}

const PARTIES = `SELECT b.id, b.kind, b.status, b.slot_id, b.resource_id, b.location_id, b.start_at, b.end_at, b.ics_uid, b.ics_sequence,
    b.user_id, b.customer_name, b.customer_email, b.customer_email_hash, b.customer_time_zone, r.name AS resource_name, r.email AS resource_email,
    coalesce(l.time_zone, s.time_zone, 'UTC') AS time_zone
  FROM bookings b
  LEFT JOIN resources r ON r.id = b.resource_id
  LEFT JOIN locations l ON l.id = b.location_id
  LEFT JOIN slots s ON s.id = b.slot_id`;

/** A booking with its resource and zone, by id or iCalendar UID; `lock` takes the booking row lock first. */
export async function selectParties(
  sql: SqlQuery,
  where: { id: string } | { icsUid: string },
  options: { lock?: boolean } = {},
): Promise<PartiesRow | undefined> {
  const [column, value] = 'id' in where ? ['b.id = $1::uuid', where.id] : ['b.ics_uid = $1', where.icsUid];
  if (options.lock) await sql.query(`SELECT id FROM bookings b WHERE ${column} FOR UPDATE`, [value]);
  const [row] = await sql.query<PartiesRow>(`${PARTIES} WHERE ${column}`, [value]);
  return row;
}

export interface TargetSlotRow {
  id: string;
  resource_id: string | null;
  location_id: string | null;
  form_id: string | null;
  start_at: Date;
  end_at: Date;
  status: string;
  free: number;
  /** The moving booking's party size. */
  party: number;
}

export async function selectTargetSlot(sql: SqlQuery, slotId: string, bookingId: string): Promise<TargetSlotRow | undefined> {
  const [slot] = await sql.query<TargetSlotRow>(
    `SELECT id, resource_id, location_id, form_id, start_at, end_at, status, ${FREE_PLACES} AS free,
       (SELECT party_size FROM bookings WHERE id = $2::uuid) AS party
     FROM slots WHERE id = $1::uuid`,
    [slotId, bookingId],
  );
  return slot;
}

/** Where a slot belongs: its resource, else its location and form. */
export async function selectSlotHome(
  sql: SqlQuery,
  slotId: string | null,
): Promise<{ resource_id: string | null; location_id: string | null; form_id: string | null } | undefined> {
  const [home] = await sql.query<{ resource_id: string | null; location_id: string | null; form_id: string | null }>(
    `SELECT resource_id, location_id, form_id FROM slots WHERE id = $1::uuid`,
    [slotId],
  );
  return home;
}

/** Whether another live exclusive booking of the resource overlaps [startAt, endAt). */
export async function exclusiveClash(
  sql: SqlQuery,
  c: { resourceId: string | null; bookingId: string; startAt: Date; endAt: Date; now: Date },
): Promise<boolean> {
  const [clash] = await sql.query(
    `SELECT 1 FROM bookings WHERE resource_id = $1::uuid AND id <> $2::uuid AND exclusive
       AND (status = 'CONFIRMED' OR (status = 'HELD' AND hold_expires_at > $5::timestamptz))
       AND tstzrange(start_at, end_at) && tstzrange($3::timestamptz, $4::timestamptz) LIMIT 1`,
    [c.resourceId, c.bookingId, c.startAt.toISOString(), c.endAt.toISOString(), c.now.toISOString()],
  );
  return Boolean(clash);
}

/**
 * Free slots starting in (from, to) in the same home as slot `slotId` (its resource; else its
 * location and form), in start order, at most `limit`.
 */
export function selectFreeSlotsBeside(
  sql: SqlQuery,
  slotId: string | null,
  from: Date,
  to: Date,
  limit: number,
): Promise<{ id: string; start_at: Date; end_at: Date }[]> {
  return sql.query<{ id: string; start_at: Date; end_at: Date }>(
    `SELECT s.id, s.start_at, s.end_at FROM slots s JOIN slots cur ON cur.id = $1::uuid
      WHERE s.id <> cur.id AND s.start_at > $2::timestamptz AND s.start_at < $3::timestamptz
        AND s.status IN ('OPEN', 'PARTIAL') AND s.capacity > s.booked + s.held
        AND (s.resource_id = cur.resource_id OR (cur.resource_id IS NULL AND s.resource_id IS NULL
             AND s.location_id IS NOT DISTINCT FROM cur.location_id AND s.form_id IS NOT DISTINCT FROM cur.form_id))
      ORDER BY s.start_at, s.id LIMIT $4`,
    [slotId, from.toISOString(), to.toISOString(), limit],
  );
}
