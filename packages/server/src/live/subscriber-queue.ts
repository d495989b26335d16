import { GraphQLError } from 'graphql';
import type { Slot } from '../generated/prisma/client.js';
import type { SlotChangeReason } from '../events/slot-events.js';
import type { FeedEntry, FeedListener } from './slot-feed.js';

export class SubscriberTooSlowError extends GraphQLError {
  constructor(limit: number) {
    super(`subscriber too slow: more than ${limit} committed changes waiting to be sent`, { extensions: { code: 'SUBSCRIBER_TOO_SLOW' } });
  }
}

export interface ChangeEvent {
  reason: SlotChangeReason;
  slots: Slot[];
}

/**
 * One subscription's bounded buffer between the process-wide feed and its transport. The feed
 * pushes without waiting; when the transport stops pulling and `limit` committed changes (one
 * push each, however many slots) are waiting, the subscription fails with SubscriberTooSlowError
 * and `onOverflow` cuts its connection, so a stuck client holds bounded memory and never delays
 * anyone else.
 */
export class SubscriberQueue implements FeedListener {
  /** Per slot, the version last sent: older or equal states are never sent again. */
  readonly sent = new Map<string, number>();
  private pending: FeedEntry[][] = [];
  private wake: (() => void) | null = null;
  private failure: Error | null = null;
  private closed = false;

  constructor(
    readonly key: string,
    private readonly window: { from: Date; to: Date },
    private readonly limit: number,
    private readonly onOverflow: (error: Error) => void,
    /** Staff keep following a closed form; the public's subscription ends with it. */
    private readonly staff = false,
  ) {}

  /** Closed: nothing more is to be sent. */
  get ended(): boolean {
    return this.closed;
  }

  formClosed(): void {
    if (!this.staff) this.close();
  }

  push(entries: FeedEntry[]): void {
    if (this.closed || this.failure) return;
    // A slot already shown is followed even when it moves out of the window, so the client can drop it.
    const wanted = entries.filter(
      ({ slot }) => slot && (this.sent.has(slot.id) || (slot.startAt >= this.window.from && slot.startAt < this.window.to)),
    );
    if (!wanted.length) return;
    if (this.pending.length >= this.limit) {
      const error = new SubscriberTooSlowError(this.limit);
      this.fail(error);
      this.onOverflow(error);
      return;
    }
    this.pending.push(wanted);
    this.signal();
  }

  fail(error: Error): void {
    this.failure ??= error;
    this.pending = [];
    this.signal();
  }

  close(): void {
    this.closed = true;
    this.pending = [];
    this.signal();
  }

  /**
   * Waits for changes and turns them into events: per slot only the newest state not sent yet
   * (a re-read older than its change is skipped), grouped by reason in commit order.
   * Resolves null once closed; throws when the subscription failed.
   */
  async next(): Promise<ChangeEvent[] | null> {
    for (;;) {
      if (this.failure) throw this.failure;
      if (this.closed) return null;
      if (this.pending.length) {
        const events = this.toEvents(this.pending.splice(0).flat());
        if (events.length) return events;
        continue;
      }
      await new Promise<void>((resolve) => (this.wake = resolve));
    }
  }

  private toEvents(entries: FeedEntry[]): ChangeEvent[] {
    const latest = new Map<string, FeedEntry>();
    for (const entry of entries) {
      const seen = latest.get(entry.change.slotId);
      if (!seen || entry.change.version >= seen.change.version) latest.set(entry.change.slotId, entry);
    }
    const events: ChangeEvent[] = [];
    for (const { change, slot } of entries.filter((e) => latest.get(e.change.slotId) === e)) {
      if (!slot || slot.version < change.version || slot.version <= (this.sent.get(slot.id) ?? 0)) continue;
      this.sent.set(slot.id, slot.version);
      const last = events.at(-1);
      if (last?.reason === change.reason) last.slots.push(slot);
      else events.push({ reason: change.reason, slots: [slot] });
    }
    return events;
  }

  private signal(): void {
    const wake = this.wake;
    this.wake = null;
    wake?.();
  }
}
