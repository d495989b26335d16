import type { Logger } from 'pino';
import { ConnectionWaitTimeout, type SqlQuery, type SqlRunner } from './database.js';
import { isConnectionError } from './retry.js';

/** A mutation's answer carries it; a client sends it back on its next reads (the SDK does). */
export const READ_AFTER_HEADER = 'slotwise-read-after';

/** Where one public read ran. */
export type ReadTarget = 'primary' | 'replica';

/** A WAL position as PostgreSQL prints it (`16/B374D848`), comparable as a number. */
export function parseLsn(text: string): bigint | null {
  const match = /^([0-9A-Fa-f]{1,8})\/([0-9A-Fa-f]{1,8})$/.exec(text.trim());
  return match ? (BigInt(`0x${match[1]}`) << 32n) + BigInt(`0x${match[2]}`) : null;
}

/**
 * How far the replica is behind, from samples of the primary's WAL position: the age of the oldest
 * sample the replica has not replayed yet (0 when it has replayed every one). Conservative: the
 * replica may have replayed more since it was asked.
 */
export function replicaLagMs(samples: { at: number; lsn: bigint }[], replayed: bigint, now: number): number {
  const behind = samples.find((s) => s.lsn > replayed);
  return behind ? now - behind.at : 0;
}

export interface ReadRouterOptions {
  /** The replica serves while it is at most this far behind (DATABASE_READ_MAX_LAG_MS). */
  maxLagMs: number;
  /** How often the primary's and the replica's positions are compared. */
  checkMs?: number;
  log: Logger;
  onRead?: (target: ReadTarget) => void;
}

/**
 * Sends public availability reads to a replica (DATABASE_READ_URL) while it keeps up, and
 * everything else, and every read it cannot serve, to the primary:
 * - staleness: every `checkMs` the primary's WAL position is sampled and the replica's replay
 *   position read; the replica serves only while it has replayed everything the primary had
 *   written `maxLagMs` ago, so a replica answer misses at most the last maxLagMs + checkMs of writes;
 * - a client's own writes: a mutation's answer carries the primary's WAL position after it
 *   (`Slotwise-Read-After`, which the SDK sends back); a read carrying one goes to the replica only
 *   once the replica has replayed that far, otherwise to the primary;
 * - a replica that fails (down, refusing, a query error) is left for the primary at once, for
 *   that read and until the next check finds it well.
 * A server that is not in recovery (the primary itself, or a copy in tests) counts as caught up.
 */
export class ReadRouter {
  private samples: { at: number; lsn: bigint }[] = [];
  private replayed: bigint | null = null;
  private healthy = false;
  private lagMs = Number.POSITIVE_INFINITY;
  private timer: NodeJS.Timeout | undefined;
  private checking: Promise<void> | undefined;
  private warned = false;
  private readonly checkMs: number;

  constructor(
    private readonly primary: SqlRunner,
    private readonly replica: SqlRunner | undefined,
    private readonly options: ReadRouterOptions,
  ) {
    this.checkMs = options.checkMs ?? Math.min(1_000, Math.max(100, Math.floor(options.maxLagMs / 2)));
  }

  get enabled(): boolean {
    return Boolean(this.replica);
  }

  /** For /metrics and tests: the replica's last known state. */
  status(): { healthy: boolean; lagMs: number } {
    return { healthy: this.healthy, lagMs: this.lagMs };
  }

  /** Starts the periodic check; resolves after the first one. */
  async start(): Promise<void> {
    if (!this.replica) return;
    await this.check();
    const tick = () => {
      this.timer = setTimeout(() => void this.check().finally(() => this.timer && tick()), this.checkMs).unref();
    };
    tick();
  }

  stop(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    return this.checking ?? Promise.resolve();
  }

  /** Runs one check now (tests call it rather than waiting for the next tick). */
  check(): Promise<void> {
    this.checking ??= this.runCheck().finally(() => (this.checking = undefined));
    return this.checking;
  }

  private async runCheck(): Promise<void> {
    const now = Date.now();
    try {
      // The primary first: a replica read after it can only be further along.
      const [p] = await this.primary.query<{ lsn: string }>('SELECT pg_current_wal_lsn()::text AS lsn');
      this.samples.push({ at: now, lsn: parseLsn(p!.lsn)! });
      const [r] = await this.replica!.query<{ lsn: string }>(
        'SELECT (CASE WHEN pg_is_in_recovery() THEN pg_last_wal_replay_lsn() ELSE pg_current_wal_lsn() END)::text AS lsn',
      );
      const replayed = r?.lsn ? parseLsn(r.lsn) : null;
      if (replayed === null) throw new Error('the replica reports no replay position');
      this.replayed = replayed;
      this.lagMs = replicaLagMs(this.samples, replayed, Date.now());
      // Keep what can still tell a lag above the bound from one below it.
      const keepFrom = Date.now() - 2 * this.options.maxLagMs - this.checkMs;
      while (this.samples.length > 1 && this.samples[0]!.at < keepFrom) this.samples.shift();
      this.healthy = true;
      if (this.warned) this.options.log.info('read replica back; public availability reads use it again');
      this.warned = false;
    } catch (err) {
      this.markDown(err);
    }
  }

  private markDown(err: unknown): void {
    this.healthy = false;
    if (this.warned) return;
    this.warned = true;
    this.options.log.warn({ reason: err instanceof Error ? err.message : String(err) }, 'read replica unavailable; public reads use the primary');
  }

  /** Whether the replica may answer a read that must see `readAfter` (a token from this client's last write). */
  private replicaServes(readAfter?: string | null): boolean {
    if (!this.replica || !this.healthy || this.lagMs > this.options.maxLagMs) return false;
    if (!readAfter) return true;
    const wanted = parseLsn(readAfter);
    // A token that does not parse is ignored rather than trusted: the primary answers.
    return wanted !== null && this.replayed !== null && this.replayed >= wanted;
  }

  /**
   * The runner for one public read; `onPrimary` when it must be the primary whatever the replica's
   * state (an answer the response cache keeps). Transactions and writes never come here.
   */
  forRead(readAfter?: string | null, onPrimary = false): SqlQuery {
    const { primary, replica, options } = this;
    if (onPrimary || !this.replicaServes(readAfter)) {
      return {
        query: <T>(text: string, params?: unknown[]) => {
          options.onRead?.('primary');
          return primary.query<T>(text, params);
        },
      };
    }
    return {
      query: async <T>(text: string, params?: unknown[]) => {
        try {
          const rows = await replica!.query<T>(text, params);
          options.onRead?.('replica');
          return rows;
        } catch (err) {
          if (isConnectionError(err) || err instanceof ConnectionWaitTimeout) this.markDown(err);
          else options.log.warn({ reason: (err as Error).message }, 'read failed on the replica; answered by the primary');
          options.onRead?.('primary');
          return primary.query<T>(text, params);
        }
      },
    };
  }

  /** After a write: the token a client sends back to read it (the primary's WAL position now). */
  async writeToken(): Promise<string | undefined> {
    if (!this.replica) return undefined;
    const [row] = await this.primary.query<{ lsn: string }>('SELECT pg_current_wal_lsn()::text AS lsn');
    return row?.lsn;
  }
}
