import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { isIP } from 'node:net';
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import type { SqlQuery } from '../db/database.js';
import { eventEnvelope, type AggregateType } from '../events/domain-events.js';
import { pii } from '../shared/pii.js';
import { guardedLookup, hostOf, isPrivateAddress, PrivateAddressError } from './address-guard.js';
import { webhookHeaders } from './signing.js';
import {
  claimDeliveries,
  giveUpAbandoned,
  logAttempt,
  markFailed,
  markSucceeded,
  pendingDeliveries,
  releaseDeliveries,
  type ClaimedDelivery,
} from './webhooks.store.js';
import { jitteredBackoffMs } from '../shared/backoff.js';

export interface WebhookDeliveryOptions {
  db: SqlQuery;
  log: Logger;
  /** WEBHOOK_ALLOW_PRIVATE_NETWORKS */
  allowPrivateNetworks: boolean;
  /** WEBHOOK_MAX_ATTEMPTS: the attempt with this number is the last one. */
  maxAttempts: number;
  /** WEBHOOK_TIMEOUT_MS: the whole request, connect to last byte. */
  timeoutMs: number;
  /** WEBHOOK_DISABLE_AFTER_HOURS: an endpoint failing this long without a success is disabled. */
  disableAfterMs: number;
  now?: () => Date;
  random?: () => number;
  batchSize?: number;
  leaseMs?: number;
  retryBaseMs?: number;
  retryMaxMs?: number;
}

export const WEBHOOK_DEFAULTS = { batchSize: 20, leaseMs: 2 * 60_000, retryBaseMs: 30_000, retryMaxMs: 2 * 60 * 60_000 };
/** How often each instance looks for due deliveries (besides the wake-up at each commit that recorded events). */
export const WEBHOOK_POLL_INTERVAL_MS = 1_000;
/** Woken at commit by this process's change of an endpoint or a delivery (another instance's is seen at its next poll). */
export const WEBHOOK_CHANGES_CHANNEL = 'slotwise_webhook_changes';
const MAX_BATCHES_PER_RUN = 10;
/** What a receiver answered is read up to this size, then dropped (only the status code is kept). */
const MAX_RESPONSE_BYTES = 64 * 1024;

export interface WebhookRun {
  claimed: number;
  succeeded: number;
  retried: number;
  failed: number;
  released: number;
}

interface AttemptResult {
  statusCode: number | null;
  error: string | null;
}

/**
 * Delivers due webhook deliveries; one runs on every instance, like the mail worker
 * (src/mail/delivery.ts): a claim counts the attempt and leases the row (FOR UPDATE SKIP LOCKED),
 * the POST happens outside any transaction, then the row is marked SUCCEEDED, due again after a
 * backoff, or FAILED after the last attempt. At-least-once: a crash between the receiver's 2xx and
 * the mark sends it again after the lease, with the same webhook-id.
 */
export class WebhookDelivery {
  private readonly options: Required<WebhookDeliveryOptions>;
  /** Whether an endpoint was enabled when a run last looked; until then, and after a change here, assumed. */
  private endpointsEnabled = true;
  /** Endpoint changes seen so far: a run that started before one does not overwrite what it said. */
  private changes = 0;

  constructor(options: WebhookDeliveryOptions) {
    this.options = { ...WEBHOOK_DEFAULTS, now: () => new Date(), random: Math.random, ...options };
  }

  /**
   * Whether a commit that recorded events is worth a run now. With no endpoint enabled no delivery
   * was written, so a booking costs no webhook statement; an endpoint enabled on another instance
   * meanwhile is seen at the next poll, which delivers what its events fanned out.
   */
  wantsEvents(): boolean {
    return this.endpointsEnabled;
  }

  /** An endpoint or delivery changed in this process (WEBHOOK_CHANGES_CHANNEL): the next commit's events are worth a run. */
  changed(): void {
    this.changes++;
    this.endpointsEnabled = true;
  }

  async runOnce(): Promise<WebhookRun> {
    const total: WebhookRun = { claimed: 0, succeeded: 0, retried: 0, failed: 0, released: 0 };
    const { db, batchSize, leaseMs, now } = this.options;
    const changesBefore = this.changes;
    for (let batch = 0; batch < MAX_BATCHES_PER_RUN; batch++) {
      const { endpointsEnabled } = await giveUpAbandoned(db, now(), this.options.maxAttempts);
      if (this.changes === changesBefore) this.endpointsEnabled = endpointsEnabled;
      if (!endpointsEnabled) break;
      const claimedAt = now();
      const rows = await claimDeliveries(db, claimedAt, batchSize, new Date(claimedAt.getTime() + leaseMs));
      total.claimed += rows.length;
      // No two rows of a batch share an endpoint and aggregate (see claimDeliveries): they go out together.
      const outcomes = await Promise.all(rows.map((row) => this.deliver(row)));
      for (const outcome of outcomes) total[outcome]++;
      if (rows.length < batchSize) break;
    }
    return total;
  }

  /** PENDING deliveries: the webhook backlog. */
  depth(): Promise<number> {
    return pendingDeliveries(this.options.db);
  }

  /** The wait before attempt `attempt + 1` (jitteredBackoffMs). */
  backoffMs(attempt: number): number {
    return jitteredBackoffMs(attempt, this.options.retryBaseMs, this.options.retryMaxMs, this.options.random);
  }

  private async deliver(row: ClaimedDelivery): Promise<'succeeded' | 'retried' | 'failed' | 'released'> {
    const { db, now, log } = this.options;
    const started = now();
    const body = eventEnvelope({
      id: row.event_id,
      type: row.type,
      version: row.version,
      occurredAt: row.occurred_at,
      aggregateType: row.aggregate_type as AggregateType,
      aggregateId: row.aggregate_id,
      aggregateSeq: row.aggregate_seq,
      payload: row.payload,
    });
    let secret: string;
    try {
      secret = pii().decrypt(row.secret);
    } catch {
      // A changed ENCRYPTION_KEY: nothing can be signed; the row waits for the key to come back.
      await releaseDeliveries(db, [row], new Date(started.getTime() + this.options.leaseMs));
      log.error({ deliveryId: row.id, endpointId: row.endpoint_id }, 'webhook secret cannot be decrypted (ENCRYPTION_KEY changed?)');
      return 'released';
    }
    const result = await this.post(row.url, body, webhookHeaders(secret, row.id, started, body));
    const at = now();
    await logAttempt(db, { deliveryId: row.id, attempt: row.attempts, ...result, durationMs: at.getTime() - started.getTime(), at: started });
    const fields = {
      deliveryId: row.id,
      endpointId: row.endpoint_id,
      eventId: row.event_id,
      type: row.type,
      attempt: row.attempts,
      statusCode: result.statusCode,
    };
    if (result.statusCode !== null && result.statusCode >= 200 && result.statusCode < 300) {
      await markSucceeded(db, { id: row.id, endpointId: row.endpoint_id, attempts: row.attempts, statusCode: result.statusCode }, at);
      log.info(fields, 'webhook delivered');
      return 'succeeded';
    }
    const giveUp = row.attempts >= this.options.maxAttempts;
    const retryAt = giveUp ? null : new Date(at.getTime() + this.backoffMs(row.attempts));
    const error = result.error ?? `HTTP ${result.statusCode}`;
    const { disabled } = await markFailed(
      db,
      { id: row.id, endpointId: row.endpoint_id, attempts: row.attempts, statusCode: result.statusCode, error },
      at,
      retryAt,
      new Date(at.getTime() - this.options.disableAfterMs),
    );
    log.warn({ ...fields, error, retryAt }, giveUp ? 'webhook delivery failed for good' : 'webhook delivery will be retried');
    if (disabled) log.warn({ endpointId: row.endpoint_id }, 'webhook endpoint disabled after persistent failure');
    return giveUp ? 'failed' : 'retried';
  }

  /** One POST: no redirects followed, private addresses refused at connect time, bounded in time and size. */
  private post(url: string, body: string, headers: Record<string, string>): Promise<AttemptResult> {
    const { allowPrivateNetworks, timeoutMs } = this.options;
    return new Promise((resolve) => {
      let target: URL;
      try {
        target = new URL(url);
      } catch {
        return resolve({ statusCode: null, error: 'invalid URL' });
      }
      const host = hostOf(target);
      // An IP literal is connected to without a lookup: checked here.
      if (isIP(host) && !allowPrivateNetworks && isPrivateAddress(host))
        return resolve({ statusCode: null, error: new PrivateAddressError(host, host).message });
      const send = target.protocol === 'https:' ? httpsRequest : httpRequest;
      const req = send(
        target,
        {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'user-agent': 'Slotwise-Webhooks/1', 'content-length': Buffer.byteLength(body), ...headers },
          lookup: guardedLookup(allowPrivateNetworks),
          signal: AbortSignal.timeout(timeoutMs),
        },
        (res) => {
          let size = 0;
          res.on('data', (chunk: Buffer) => {
            size += chunk.length;
            if (size > MAX_RESPONSE_BYTES) res.destroy();
          });
          const done = () => resolve({ statusCode: res.statusCode ?? null, error: null });
          res.on('end', done);
          res.on('close', done);
          res.on('error', done);
        },
      );
      req.on('error', (err: NodeJS.ErrnoException) =>
        resolve({
          statusCode: null,
          error: err.name === 'AbortError' || err.name === 'TimeoutError' ? `timed out after ${timeoutMs} ms` : err.message,
        }),
      );
      req.end(body);
    });
  }
}

/** The worker as configured (WEBHOOK_*). */
export function webhookDeliveryFromConfig(
  deps: { config: Config; db: { sql: SqlQuery }; log: Logger },
  overrides: Partial<WebhookDeliveryOptions> = {},
): WebhookDelivery {
  const { config } = deps;
  return new WebhookDelivery({
    db: deps.db.sql,
    log: deps.log.child({ component: 'webhooks' }),
    allowPrivateNetworks: config.WEBHOOK_ALLOW_PRIVATE_NETWORKS,
    maxAttempts: config.WEBHOOK_MAX_ATTEMPTS,
    timeoutMs: config.WEBHOOK_TIMEOUT_MS,
    disableAfterMs: config.WEBHOOK_DISABLE_AFTER_HOURS * 3_600_000,
    ...overrides,
  });
}
