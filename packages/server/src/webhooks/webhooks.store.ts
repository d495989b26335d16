import type { SqlQuery } from '../db/database.js';

/** SQL of webhook endpoints and deliveries (src/webhooks); the fan-out itself is a trigger (migrations/0009_webhooks.sql). */

export interface EndpointRow {
  id: string;
  url: string;
  secret: string;
  enabled: boolean;
}

export interface ClaimedDelivery {
  id: string;
  endpoint_id: string;
  attempts: number;
  url: string;
  secret: string;
  event_id: string;
  type: string;
  version: number;
  aggregate_type: string;
  aggregate_id: string;
  aggregate_seq: number;
  occurred_at: Date;
  payload: Record<string, unknown>;
}

export async function insertEndpoint(
  sql: SqlQuery,
  e: { url: string; description: string | null; eventTypes: string[]; secret: string; now: Date },
): Promise<string> {
  const [row] = await sql.query<{ id: string }>(
    `INSERT INTO webhook_endpoints (url, description, event_types, secret, created_at, updated_at)
     VALUES ($1, $2, $3::text[], $4, $5::timestamptz, $5::timestamptz) RETURNING id`,
    [e.url, e.description, e.eventTypes, e.secret, e.now.toISOString()],
  );
  return row!.id;
}

/** Changes the given fields; enabling clears the disabled state and the failure streak. False: no such endpoint. */
export async function updateEndpoint(
  sql: SqlQuery,
  id: string,
  change: { url?: string; description?: string | null; eventTypes?: string[]; enabled?: boolean },
  now: Date,
): Promise<boolean> {
  const rows = await sql.query(
    `UPDATE webhook_endpoints SET
       url = coalesce($2, url),
       description = CASE WHEN $3::boolean THEN $4 ELSE description END,
       event_types = coalesce($5::text[], event_types),
       enabled = coalesce($6::boolean, enabled),
       disabled_reason = CASE WHEN $6::boolean IS NULL THEN disabled_reason WHEN $6::boolean THEN NULL ELSE 'disabled by an admin' END,
       disabled_at = CASE WHEN $6::boolean IS NULL THEN disabled_at WHEN $6::boolean THEN NULL ELSE $7::timestamptz END,
       failing_since = CASE WHEN $6::boolean THEN NULL ELSE failing_since END,
       updated_at = $7::timestamptz
     WHERE id = $1::uuid RETURNING id`,
    [
      id,
      change.url ?? null,
      change.description !== undefined,
      change.description ?? null,
      change.eventTypes ?? null,
      change.enabled ?? null,
      now.toISOString(),
    ],
  );
  return rows.length > 0;
}

export async function setEndpointSecret(sql: SqlQuery, id: string, secret: string, now: Date): Promise<boolean> {
  const rows = await sql.query(`UPDATE webhook_endpoints SET secret = $2, updated_at = $3::timestamptz WHERE id = $1::uuid RETURNING id`, [
    id,
    secret,
    now.toISOString(),
  ]);
  return rows.length > 0;
}

/** Deletes the endpoint with its deliveries and their log. */
export async function deleteEndpoint(sql: SqlQuery, id: string): Promise<boolean> {
  const rows = await sql.query(`DELETE FROM webhook_endpoints WHERE id = $1::uuid RETURNING id`, [id]);
  return rows.length > 0;
}

/** Sends a delivery again: due now, attempts from 0, same webhook-id. False: no such delivery. */
export async function requeueDelivery(sql: SqlQuery, id: string, now: Date): Promise<boolean> {
  const rows = await sql.query(
    `UPDATE webhook_deliveries SET status = 'PENDING', attempts = 0, due_at = $2::timestamptz, updated_at = $2::timestamptz
     WHERE id = $1::uuid RETURNING id`,
    [id, now.toISOString()],
  );
  return rows.length > 0;
}

/**
 * Claims due deliveries of enabled endpoints: counts the attempt and hides them for the lease.
 * A delivery waits while an earlier event of the same aggregate to the same endpoint is still
 * PENDING (waiting, in flight or between retries), so each aggregate's events arrive in order;
 * hence no two claimed rows share an endpoint and aggregate, and a batch can go out at once.
 */
export async function claimDeliveries(sql: SqlQuery, now: Date, limit: number, leaseUntil: Date): Promise<ClaimedDelivery[]> {
  return sql.query<ClaimedDelivery>(
    `WITH due AS (
       SELECT d.id FROM webhook_deliveries d
       JOIN webhook_endpoints w ON w.id = d.endpoint_id AND w.enabled
       WHERE d.status = 'PENDING' AND d.due_at <= $1::timestamptz
         AND NOT EXISTS (
           SELECT 1 FROM webhook_deliveries p
           WHERE p.endpoint_id = d.endpoint_id AND p.aggregate_type = d.aggregate_type AND p.aggregate_id = d.aggregate_id
             AND p.aggregate_seq < d.aggregate_seq AND p.status = 'PENDING')
       ORDER BY d.due_at, d.aggregate_seq LIMIT $2 FOR UPDATE OF d SKIP LOCKED),
     claimed AS (
       UPDATE webhook_deliveries d SET attempts = d.attempts + 1, due_at = $3::timestamptz, updated_at = $1::timestamptz
       FROM due WHERE d.id = due.id
       RETURNING d.id, d.endpoint_id, d.event_id, d.attempts)
     SELECT c.id, c.endpoint_id, c.attempts, w.url, w.secret, e.id AS event_id, e.type, e.version, e.aggregate_type,
       e.aggregate_id, e.aggregate_seq, e.occurred_at, e.payload
     FROM claimed c JOIN webhook_endpoints w ON w.id = c.endpoint_id JOIN domain_events e ON e.id = c.event_id`,
    [now.toISOString(), limit, leaseUntil.toISOString()],
  );
}

/** One line of the delivery log. */
export async function logAttempt(
  sql: SqlQuery,
  a: { deliveryId: string; attempt: number; statusCode: number | null; error: string | null; durationMs: number; at: Date },
): Promise<void> {
  await sql.query(
    `INSERT INTO webhook_attempts (delivery_id, attempt, status_code, error, duration_ms, attempted_at) VALUES ($1::uuid, $2, $3, $4, $5, $6::timestamptz)`,
    [a.deliveryId, a.attempt, a.statusCode, a.error, a.durationMs, a.at.toISOString()],
  );
}

/** Delivered; the endpoint is healthy again. Only while the claim is still ours (attempts unchanged). */
export async function markSucceeded(
  sql: SqlQuery,
  d: { id: string; endpointId: string; attempts: number; statusCode: number },
  now: Date,
): Promise<void> {
  await sql.query(
    `WITH done AS (
       UPDATE webhook_deliveries SET status = 'SUCCEEDED', delivered_at = $4::timestamptz, last_status_code = $3, last_error = NULL, updated_at = $4::timestamptz
       WHERE id = $1::uuid AND status = 'PENDING' AND attempts = $2 RETURNING endpoint_id)
     UPDATE webhook_endpoints SET failing_since = NULL WHERE id = $5::uuid AND failing_since IS NOT NULL`,
    [d.id, d.attempts, d.statusCode, now.toISOString(), d.endpointId],
  );
}

/**
 * A failed attempt: due again at `retryAt`, or FAILED when `retryAt` is null (given up). The
 * endpoint's failure streak starts (if it had none); an endpoint failing since before
 * `disableBefore` is disabled. Returns whether this disabled it.
 */
export async function markFailed(
  sql: SqlQuery,
  d: { id: string; endpointId: string; attempts: number; statusCode: number | null; error: string },
  now: Date,
  retryAt: Date | null,
  disableBefore: Date,
): Promise<{ disabled: boolean }> {
  await sql.query(
    `UPDATE webhook_deliveries SET status = $3::webhook_delivery_status, due_at = coalesce($4::timestamptz, due_at),
       last_status_code = $5, last_error = $6, updated_at = $7::timestamptz
     WHERE id = $1::uuid AND status = 'PENDING' AND attempts = $2`,
    [d.id, d.attempts, retryAt ? 'PENDING' : 'FAILED', retryAt?.toISOString() ?? null, d.statusCode, d.error, now.toISOString()],
  );
  const [endpoint] = await sql.query<{ disabled: boolean }>(
    `UPDATE webhook_endpoints w SET failing_since = coalesce(w.failing_since, $2::timestamptz),
       enabled = false, disabled_at = $2::timestamptz,
       disabled_reason = 'every delivery failed since ' || to_char(w.failing_since AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')
     WHERE w.id = $1::uuid AND w.enabled AND w.failing_since IS NOT NULL AND w.failing_since <= $3::timestamptz
     RETURNING true AS disabled`,
    [d.endpointId, now.toISOString(), disableBefore.toISOString()],
  );
  if (!endpoint)
    await sql.query(`UPDATE webhook_endpoints SET failing_since = $2::timestamptz WHERE id = $1::uuid AND failing_since IS NULL`, [
      d.endpointId,
      now.toISOString(),
    ]);
  return { disabled: Boolean(endpoint) };
}

/** Claimed rows not attempted (the batch ran long): due now, their attempt not counted. */
export async function releaseDeliveries(sql: SqlQuery, rows: { id: string; attempts: number }[], now: Date): Promise<void> {
  await sql.query(
    `UPDATE webhook_deliveries d SET attempts = d.attempts - 1, due_at = $3::timestamptz
     FROM unnest($1::uuid[], $2::int[]) AS r(id, attempts)
     WHERE d.id = r.id AND d.attempts = r.attempts AND d.status = 'PENDING'`,
    [rows.map((r) => r.id), rows.map((r) => r.attempts), now.toISOString()],
  );
}

/** Deliveries whose last allowed attempt was claimed and never finished (the worker died): FAILED. */
/**
 * Gives up leased deliveries whose last attempt never finished, and says whether any endpoint is
 * enabled (none: no delivery can be claimed), in one statement.
 */
export async function giveUpAbandoned(sql: SqlQuery, now: Date, maxAttempts: number): Promise<{ endpointsEnabled: boolean }> {
  const [row] = await sql.query<{ endpoints_enabled: boolean }>(
    `WITH gave_up AS (
       UPDATE webhook_deliveries SET status = 'FAILED', updated_at = $1::timestamptz,
         last_error = coalesce(last_error || ' / ', '') || 'gave up: attempt ' || attempts || ' did not finish'
       WHERE status = 'PENDING' AND due_at <= $1::timestamptz AND attempts >= $2)
     SELECT EXISTS (SELECT 1 FROM webhook_endpoints WHERE enabled) AS endpoints_enabled`,
    [now.toISOString(), maxAttempts],
  );
  return { endpointsEnabled: row!.endpoints_enabled };
}

export async function pendingDeliveries(sql: SqlQuery): Promise<number> {
  const [row] = await sql.query<{ n: number }>(`SELECT count(*)::int AS n FROM webhook_deliveries WHERE status = 'PENDING'`);
  return row?.n ?? 0;
}
