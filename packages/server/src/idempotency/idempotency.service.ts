import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { SqlRunner } from '../db/database.js';
import { isSealed, type Pii } from '../shared/pii.js';

/** A stored GraphQL response: what the first request with a key answered. */
export interface StoredResponse {
  data?: unknown;
  errors?: { message: string; path?: (string | number)[]; extensions?: Record<string, unknown> }[];
}

export interface IdempotencyScope {
  key: string;
  actor: string;
  /** Root mutation fields, for people reading the table. */
  operation: string;
  payloadHash: string;
}

export type BeginOutcome =
  | { kind: 'claimed' }
  | { kind: 'replay'; response: StoredResponse }
  | { kind: 'reused' }
  | { kind: 'in-progress' };

export interface IdempotencyOptions {
  ttlSeconds: number;
  /** How long a repeat waits for the first request with its key to finish before answering 409. */
  waitMs: number;
  /** A claim older than this whose response never arrived (crashed process) may be taken over. */
  abandonedAfterSeconds: number;
  /** Stored responses (customer details, manage tokens) are sealed at rest with this key ring. */
  pii?: Pii;
}

/** What the response column holds: a sealed response, or (without a key) the response itself. */
type StoredColumn = StoredResponse | { sealed: string };

const DEFAULTS: IdempotencyOptions = { ttlSeconds: 24 * 60 * 60, waitMs: 1_500, abandonedAfterSeconds: 60 };
const CLEANUP_BATCH = 1_000;

/**
 * Idempotency records: (key, actor) -> payload hash and stored response, 24 hours.
 * A row whose response is JSON `null` is a claim: the first request with that key is still running.
 * Claims go through INSERT ... ON CONFLICT, so exactly one of many concurrent requests (on any
 * number of instances) runs the mutation. Plain SQL on the pool rather than Prisma: two of these
 * statements run on every mutation that carries a key, and Prisma's per-query overhead showed in the bench.
 */
export class IdempotencyService {
  private readonly options: IdempotencyOptions;
  private readonly pii: Pii | null;

  constructor(
    private readonly sql: SqlRunner,
    options: Partial<IdempotencyOptions> = {},
  ) {
    this.options = { ...DEFAULTS, ...options };
    this.pii = options.pii ?? null;
  }

  /** Claims the key, or tells what a repeat gets: the stored response, a reuse refusal, or 409. */
  async begin(scope: IdempotencyScope): Promise<BeginOutcome> {
    const deadline = Date.now() + this.options.waitMs;
    for (let delay = 20; ; delay = Math.min(delay * 2, 200)) {
      if (await this.claim(scope)) return { kind: 'claimed' };
      const existing = await this.find(scope.key, scope.actor);
      if (existing?.payloadHash !== undefined && existing.payloadHash !== scope.payloadHash) return { kind: 'reused' };
      if (existing && existing.response !== null) return { kind: 'replay', response: this.open(existing.response) };
      if (Date.now() + delay > deadline) return { kind: 'in-progress' };
      // Still running; or gone between our claim and read (the first request released it): try again.
      if (existing) await sleep(delay);
    }
  }

  /** Stores the response of a claimed key. */
  async complete(scope: IdempotencyScope, response: StoredResponse): Promise<void> {
    await this.sql.query(
      `UPDATE idempotency_records SET response = $4::jsonb
        WHERE key = $1 AND actor = $2 AND payload_hash = $3 AND response = 'null'::jsonb`,
      [scope.key, scope.actor, scope.payloadHash, JSON.stringify(this.seal(response))],
    );
  }

  /** Drops a claim whose request failed unexpectedly, so a retry with the same key can run. */
  async release(scope: IdempotencyScope): Promise<void> {
    await this.sql.query(
      `DELETE FROM idempotency_records WHERE key = $1 AND actor = $2 AND payload_hash = $3 AND response = 'null'::jsonb`,
      [scope.key, scope.actor, scope.payloadHash],
    );
  }

  /** Deletes expired records in batches; SKIP LOCKED lets many instances run it at once. */
  async deleteExpired(): Promise<number> {
    let total = 0;
    for (;;) {
      const [row] = await this.sql.query<{ deleted: number }>(
        `WITH doomed AS (
           SELECT key, actor FROM idempotency_records WHERE expires_at <= now()
           LIMIT $1 FOR UPDATE SKIP LOCKED
         ), gone AS (
           DELETE FROM idempotency_records r USING doomed WHERE r.key = doomed.key AND r.actor = doomed.actor RETURNING 1
         )
         SELECT count(*)::int AS deleted FROM gone`,
        [CLEANUP_BATCH],
      );
      total += row!.deleted;
      if (row!.deleted < CLEANUP_BATCH) return total;
    }
  }

  private seal(response: StoredResponse): StoredColumn {
    return this.pii ? this.pii.seal(response) : response;
  }

  private open(column: StoredColumn): StoredResponse {
    return isSealed(column) ? this.pii!.unseal<StoredResponse>(column) : (column as StoredResponse);
  }

  private async claim(scope: IdempotencyScope): Promise<boolean> {
    const { ttlSeconds, abandonedAfterSeconds } = this.options;
    // An expired record, or an abandoned claim, is overwritten as if it were not there.
    const claimed = await this.sql.query(
      `INSERT INTO idempotency_records (key, actor, operation, payload_hash, response, expires_at)
       VALUES ($1, $2, $3, $4, 'null'::jsonb, now() + $5::int * interval '1 second')
       ON CONFLICT (key, actor) DO UPDATE
         SET operation = EXCLUDED.operation, payload_hash = EXCLUDED.payload_hash, response = EXCLUDED.response,
             created_at = now(), expires_at = EXCLUDED.expires_at
         WHERE idempotency_records.expires_at <= now()
            OR (idempotency_records.response = 'null'::jsonb
                AND idempotency_records.created_at < now() - $6::int * interval '1 second')
       RETURNING 1`,
      [scope.key, scope.actor, scope.operation, scope.payloadHash, ttlSeconds, abandonedAfterSeconds],
    );
    return claimed.length === 1;
  }

  private async find(key: string, actor: string) {
    const rows = await this.sql.query<{ payloadHash: string; response: StoredColumn | null }>(
      `SELECT payload_hash AS "payloadHash", response FROM idempotency_records WHERE key = $1 AND actor = $2 AND expires_at > now()`,
      [key, actor],
    );
    return rows[0];
  }
}

/** sha256 over the operation text, its name and its variables as canonical JSON (sorted keys). */
export function payloadHash(params: { query?: string; operationName?: string | null; variables?: unknown }): string {
  const payload = canonicalJson({ query: params.query ?? '', operationName: params.operationName ?? null, variables: params.variables ?? {} });
  return createHash('sha256').update(payload).digest('hex');
}

export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
}
