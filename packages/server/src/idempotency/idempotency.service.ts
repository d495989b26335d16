import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { SqlRunner } from '../db/database.js';
import { isSealed, type Pii } from '../shared/pii.js';
import { claimRecord, completeRecord, deleteExpiredBatch, findRecord, releaseClaim } from './idempotency.store.js';

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

export type BeginOutcome = { kind: 'claimed' } | { kind: 'replay'; response: StoredResponse } | { kind: 'reused' } | { kind: 'in-progress' };

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
 * number of instances) runs the mutation. Plain SQL on the pool rather than Prisma (idempotency.store.ts):
 * two statements run on every mutation that carries a key, and Prisma's per-query overhead showed in the bench.
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
    await completeRecord(this.sql, scope, this.seal(response));
  }

  /** Drops a claim whose request failed unexpectedly, so a retry with the same key can run. */
  async release(scope: IdempotencyScope): Promise<void> {
    await releaseClaim(this.sql, scope);
  }

  /** Deletes expired records in batches; SKIP LOCKED lets many instances run it at once. */
  async deleteExpired(): Promise<number> {
    let total = 0;
    for (;;) {
      const deleted = await deleteExpiredBatch(this.sql, CLEANUP_BATCH);
      total += deleted;
      if (deleted < CLEANUP_BATCH) return total;
    }
  }

  private seal(response: StoredResponse): StoredColumn {
    return this.pii ? this.pii.seal(response) : response;
  }

  private open(column: StoredColumn): StoredResponse {
    return isSealed(column) ? this.pii!.unseal<StoredResponse>(column) : (column as StoredResponse);
  }

  private claim(scope: IdempotencyScope): Promise<boolean> {
    return claimRecord(this.sql, scope, this.options.ttlSeconds, this.options.abandonedAfterSeconds);
  }

  private find(key: string, actor: string) {
    return findRecord<StoredColumn>(this.sql, key, actor);
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
