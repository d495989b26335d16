import type { Logger } from 'pino';
import type { Config } from '../config.js';
import type { SqlQuery } from '../db/database.js';
import { noMailMetrics, type MailMetrics } from './mail-metrics.js';
import { pii } from '../shared/pii.js';
import { claimDue, countPending, failAbandoned, markAttemptFailed, markSent, releaseClaims, type AttemptRow, type ClaimedRow } from './mail.store.js';
import { composeMessage, MailContentError } from './mime.js';
import { readMailContent } from './outbox.js';
import { createMailTransport, MailDeliveryError, type MailTransport } from './transports.js';
import { jitteredBackoffMs } from '../shared/backoff.js';

export interface MailDeliveryOptions {
  db: SqlQuery;
  transport: MailTransport;
  log: Logger;
  /** NOTIFICATIONS_FROM_EMAIL */
  from: string;
  /** NOTIFICATIONS_ENABLED: off leaves every row PENDING and sends nothing. */
  enabled: boolean;
  /** NOTIFICATIONS_REDIRECT_TO */
  redirectTo?: string;
  /** MAIL_MAX_ATTEMPTS: the attempt with this number is the last one. */
  maxAttempts: number;
  metrics?: MailMetrics;
  /** The clock (tests move it); every timestamp the worker writes comes from it. */
  now?: () => Date;
  /** Jitter source in [0, 1). */
  random?: () => number;
  batchSize?: number;
  /** How long a claimed row stays invisible to other workers; an attempt ends well within it. */
  leaseMs?: number;
  retryBaseMs?: number;
  retryMaxMs?: number;
}

export const DELIVERY_DEFAULTS = { batchSize: 10, leaseMs: 2 * 60_000, retryBaseMs: 60_000, retryMaxMs: 60 * 60_000 };
/** How often each instance looks for due mail: a committed mail leaves within about this long. */
export const MAIL_POLL_INTERVAL_MS = 1_000;
/** Batches one run may take before yielding to the next tick (bounded work per tick). */
const MAX_BATCHES_PER_RUN = 10;

/** What one run did. */
export interface DeliveryRun {
  claimed: number;
  sent: number;
  retried: number;
  failed: number;
  /** Claimed but given back unattempted, because the batch ran long. */
  released: number;
}

/**
 * Delivers due outbox rows; one runs on every instance. A claim is one statement: it locks due
 * PENDING rows with FOR UPDATE SKIP LOCKED (so concurrent workers take different rows), counts
 * the attempt and moves due_at forward by the lease. The send happens outside any transaction;
 * then the row is marked SENT, FAILED, or due again after a backoff. A worker that dies after
 * the claim leaves the row PENDING with due_at = the lease's end, when another worker takes it.
 *
 * Guarantee: at-least-once, with the row's Message-ID on every copy. A crash (or a failed mark)
 * between the SMTP 250 and the mark sends the message once more after the lease.
 */
export class MailDelivery {
  readonly transport: MailTransport;
  private readonly options: Required<Omit<MailDeliveryOptions, 'redirectTo'>> & { redirectTo?: string };

  constructor(options: MailDeliveryOptions) {
    this.options = {
      ...DELIVERY_DEFAULTS,
      metrics: noMailMetrics,
      now: () => new Date(),
      random: Math.random,
      ...options,
    };
    this.transport = options.transport;
  }

  /** Claims and delivers due rows until none are left (or a bounded number of batches). */
  async runOnce(): Promise<DeliveryRun> {
    const total: DeliveryRun = { claimed: 0, sent: 0, retried: 0, failed: 0, released: 0 };
    if (!this.options.enabled) return total;
    for (let batch = 0; batch < MAX_BATCHES_PER_RUN; batch++) {
      await this.giveUpAbandoned();
      const claimedAt = this.options.now().getTime();
      const rows = await this.claim();
      total.claimed += rows.length;
      for (const [i, row] of rows.entries()) {
        // A slow server must not let the lease of rows still waiting in this batch run out (another
        // worker would send them too): past a quarter of the lease, the rest are given back.
        if (this.options.now().getTime() - claimedAt > this.options.leaseMs / 4) {
          total.released += await this.release(rows.slice(i));
          return total;
        }
        total[await this.deliver(row)]++;
      }
      if (rows.length < this.options.batchSize) break;
    }
    return total;
  }

  /** PENDING rows: the outbox depth. */
  depth(): Promise<number> {
    return countPending(this.options.db);
  }

  /** The wait before attempt `attempt + 1` (jitteredBackoffMs). */
  backoffMs(attempt: number): number {
    return jitteredBackoffMs(attempt, this.options.retryBaseMs, this.options.retryMaxMs, this.options.random);
  }

  /** Un-claims rows not yet attempted: due now, their attempt not counted. */
  private release(rows: ClaimedRow[]): Promise<number> {
    return releaseClaims(this.options.db, rows, this.options.now());
  }

  private claim(): Promise<ClaimedRow[]> {
    const now = this.options.now();
    return claimDue(this.options.db, now, this.options.batchSize, new Date(now.getTime() + this.options.leaseMs));
  }

  /** Rows whose last allowed attempt was claimed and never finished (the worker died): FAILED, not tried again. */
  private async giveUpAbandoned(): Promise<void> {
    const rows = await failAbandoned(this.options.db, this.options.now(), this.options.maxAttempts);
    for (const row of rows) this.record(row, 'failed', { error: 'last attempt did not finish' });
  }

  private async deliver(row: ClaimedRow): Promise<'sent' | 'retried' | 'failed'> {
    const { db, transport } = this.options;
    try {
      const message = await composeMessage({
        messageId: row.message_id,
        from: this.options.from,
        to: pii().decrypt(row.recipient),
        content: readMailContent(row.content),
        redirectTo: this.options.redirectTo,
        date: this.options.now(),
      });
      await transport.send(row.id, message);
    } catch (error) {
      return this.failed(row, error);
    }
    // Sent. Whoever else holds the row now (our lease ran out) finds it SENT and leaves it.
    await markSent(db, row.id, this.options.now());
    this.record(row, 'sent');
    return 'sent';
  }

  private async failed(row: ClaimedRow, error: unknown): Promise<'retried' | 'failed'> {
    const permanent = error instanceof MailContentError || (error instanceof MailDeliveryError && error.permanent);
    const text = withoutAddresses(error instanceof Error ? error.message : String(error));
    const giveUp = permanent || row.attempts >= this.options.maxAttempts;
    const now = this.options.now();
    const delayMs = giveUp ? 0 : this.backoffMs(row.attempts);
    // Only while the claim is still ours (attempts unchanged): a worker that took over after the lease decides.
    await markAttemptFailed(this.options.db, {
      id: row.id,
      attempts: row.attempts,
      status: giveUp ? 'FAILED' : 'PENDING',
      dueAt: new Date(now.getTime() + delayMs),
      error: text,
      now,
    });
    const outcome = giveUp ? 'failed' : 'retried';
    this.record(row, outcome, { error: text, permanent, ...(giveUp ? {} : { retryInMs: delayMs }) });
    return outcome;
  }

  /** One log line per attempt, without the recipient (PII); and the counters. */
  private record(row: AttemptRow, outcome: 'sent' | 'retried' | 'failed', extra: object = {}) {
    const method = row.ics_method ?? 'none';
    this.options.metrics.recordMail(outcome, { kind: row.kind, method });
    const fields = {
      outboxId: row.id,
      kind: row.kind,
      uid: row.ics_uid,
      sequence: row.ics_sequence,
      method,
      attempt: row.attempts,
      outcome,
      transport: this.options.transport.kind,
      ...extra,
    };
    if (outcome === 'sent') this.options.log.info(fields, 'mail delivered');
    else this.options.log.warn(fields, outcome === 'failed' ? 'mail delivery failed for good' : 'mail delivery will be retried');
  }
}

/** SMTP replies often quote the address ("550 <a@b>: no such user"); logs and last_error keep no addresses. */
export function withoutAddresses(text: string): string {
  return text.replace(/[^\s<>"'(),;:]+@[^\s<>"'(),;:]+/g, '[address]');
}

/** The worker as the configuration describes it (SMTP_URL, DATA_DIR, NOTIFICATIONS_*, MAIL_MAX_ATTEMPTS). */
export function mailDeliveryFromConfig(
  deps: { config: Config; db: { sql: SqlQuery }; log: Logger; metrics?: MailMetrics },
  overrides: Partial<MailDeliveryOptions> = {},
): MailDelivery {
  const { config } = deps;
  return new MailDelivery({
    db: deps.db.sql,
    transport: createMailTransport(config),
    log: deps.log.child({ component: 'mail' }),
    from: config.NOTIFICATIONS_FROM_EMAIL,
    enabled: config.NOTIFICATIONS_ENABLED,
    redirectTo: config.NOTIFICATIONS_REDIRECT_TO,
    maxAttempts: config.MAIL_MAX_ATTEMPTS,
    metrics: deps.metrics,
    ...overrides,
  });
}
