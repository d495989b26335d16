import type { PrismaClient, Slot } from '../generated/prisma/client.js';
import { sqlIn } from '../db/database.js';
import { NotFoundError, ValidationError } from '../shared/errors.js';
import { checkWindow, loadScope, oneScope, type ScopeIds } from '../scheduling/availability-window.js';
import type { PubSubHandle } from './pubsub.js';
import { SLOT_CHANGES_TOPIC, type SlotChangeReason } from './slot-events.js';
import { SlotFeed, scopeKey } from './slot-feed.js';
import { SubscriberQueue, type ChangeEvent } from './subscriber-queue.js';
import { markShareable } from './shared-execution.js';

const DAY_MS = 86_400_000;
export const DEFAULT_WINDOW_DAYS = 14;
/** More slots than this in one snapshot means the window should be narrower (as for `availability`). */
export const MAX_SNAPSHOT_SLOTS = 5000;

export interface SlotAvailabilityEvent {
  kind: 'SNAPSHOT' | 'CHANGE';
  reason: SlotChangeReason | null;
  slots: Slot[];
  timeZone: string;
  from: Date;
  to: Date;
}

export type SlotAvailabilityMessage = SlotAvailabilityEvent | ValidationError | NotFoundError;

export interface LiveOptions {
  /** Slot changes one subscription may have waiting before it is cut off as too slow. */
  bufferSize: number;
  now?: () => Date;
}

/** `slotAvailability`: a snapshot of the window, then every committed change in it. */
export class SlotAvailabilityService {
  readonly feed: SlotFeed;

  constructor(
    private readonly prisma: PrismaClient,
    pubsub: PubSubHandle['pubsub'],
    private readonly options: LiveOptions,
  ) {
    this.feed = new SlotFeed(pubsub.subscribe(SLOT_CHANGES_TOPIC), (ids) => prisma.slot.findMany({ where: { id: { in: ids } } }));
  }

  /**
   * The event stream of one subscription. Bad arguments yield one ValidationError or NotFoundError
   * and end. `onOverflow` is told when the subscriber fell too far behind, to cut its connection.
   */
  subscribe(
    ids: ScopeIds,
    window: { from?: Date | null; to?: Date | null },
    onOverflow: (error: Error) => void,
    viewer: { staff: boolean } = { staff: false },
  ): AsyncIterableIterator<SlotAvailabilityMessage> {
    let queue: SubscriberQueue | null = null;
    let remove = () => {};
    const stop = () => {
      queue?.close();
      remove();
    };
    const { prisma, feed, options } = this;
    const now = options.now ?? (() => new Date());

    async function* stream(): AsyncGenerator<SlotAvailabilityMessage> {
      try {
        const { kind, id } = oneScope(ids, ['resource', 'location', 'form']);
        // The current minute, not the millisecond: widgets subscribing in the same minute share one
        // window, so their change events are the same objects and execute once (changeEvent below).
        const from = window.from ?? new Date(Math.floor(now().getTime() / 60_000) * 60_000);
        const to = window.to ?? new Date(from.getTime() + DEFAULT_WINDOW_DAYS * DAY_MS);
        checkWindow(from, to, now());
        // Too slow: leave the feed at once, then cut the connection (its close may take a while).
        queue = new SubscriberQueue(
          scopeKey(kind, id),
          { from, to },
          options.bufferSize,
          (error) => {
            remove();
            onOverflow(error);
          },
          viewer.staff,
        );
        // Listen before reading the scope and the snapshot: a form closed after the scope check, or a
        // change committed after the read, is then seen (a change the read already shows is dropped by its version).
        remove = feed.add(queue);
        const scope = await loadScope(sqlIn(prisma), kind, id, viewer);
        const slots = await prisma.slot.findMany({
          where: { ...scope.where, startAt: { gte: from, lt: to }, status: { not: 'CANCELLED' } },
          orderBy: [{ startAt: 'asc' }, { id: 'asc' }],
          take: MAX_SNAPSHOT_SLOTS + 1,
        });
        if (slots.length > MAX_SNAPSHOT_SLOTS) {
          throw ValidationError.field(['to'], `more than ${MAX_SNAPSHOT_SLOTS} slots in this window; subscribe to a shorter one`);
        }
        if (queue.ended) return;
        for (const slot of slots) queue.sent.set(slot.id, slot.version);
        const frame = { timeZone: scope.timeZone, from, to };
        yield { kind: 'SNAPSHOT', reason: null, slots, ...frame };
        for (;;) {
          const events = await queue.next();
          if (!events) return;
          for (const event of events) yield changeEvent(event, frame);
        }
      } catch (err) {
        if (err instanceof ValidationError || err instanceof NotFoundError) yield err;
        else throw err;
      } finally {
        stop();
      }
    }

    const events = stream();
    // An async generator waiting inside queue.next() would only see return() at its next yield;
    // closing the queue first ends the wait, so unsubscribing frees the subscriber at once.
    return {
      next: () => events.next(),
      return: (value?: unknown) => {
        stop();
        return events.return(value as never);
      },
      throw: (error?: unknown) => {
        stop();
        return events.throw(error);
      },
      [Symbol.asyncIterator]() {
        return this;
      },
    };
  }
}

/** Per changed slot row (one object per feed read, shared by every local subscriber), the events built from it. */
const interned = new WeakMap<Slot, Map<string, SlotAvailabilityEvent>>();

/**
 * Subscribers that get the same change for the same window get the same event object, so its
 * GraphQL result is computed once for all of them (shared-execution.ts).
 */
function changeEvent(event: ChangeEvent, frame: { timeZone: string; from: Date; to: Date }): SlotAvailabilityEvent {
  const key = `${frame.from.getTime()}|${frame.to.getTime()}|${frame.timeZone}|${event.reason}|${event.slots.map((s) => `${s.id}@${s.version}`).join(',')}`;
  const anchor = event.slots[0]!;
  let byKey = interned.get(anchor);
  if (!byKey) interned.set(anchor, (byKey = new Map()));
  let shared = byKey.get(key);
  if (!shared) byKey.set(key, (shared = markShareable<SlotAvailabilityEvent>({ kind: 'CHANGE', ...event, ...frame })));
  return shared;
}
