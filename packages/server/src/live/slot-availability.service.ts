import type { PrismaClient, Slot } from '../generated/prisma/client.js';
import { sqlIn } from '../db/database.js';
import { NotFoundError, ValidationError } from '../shared/errors.js';
import type { Viewer } from '../shared/viewer.js';
import { DEFAULT_WINDOW_DAYS, checkWindow, loadScope, oneScope, type ScopeIds } from '../scheduling/availability-window.js';
import type { PubSubHandle } from './pubsub.js';
import { SLOT_CHANGES_TOPIC, type SlotChangeReason } from '../events/slot-events.js';
import { SlotFeed, scopeKey } from './slot-feed.js';
import { SubscriberQueue, type ChangeEvent } from './subscriber-queue.js';
import { markShareable } from './shareable.js';
import { judgeSlots, type SlotJudgement } from '../policies/visibility.js';
import type { SqlQuery } from '../db/database.js';

const DAY_MS = 86_400_000;
/** Longest single wait for the next minimum-notice removal (setTimeout's range is ~24.8 days). */
const MAX_TIMER_MS = 3_600_000;
/** More slots than this in one snapshot means the window should be narrower (as for `availability`). */
export const MAX_SNAPSHOT_SLOTS = 5000;

export interface SlotAvailabilityEvent {
  kind: 'SNAPSHOT' | 'CHANGE' | 'REMOVED';
  /** null for SNAPSHOT, and for REMOVED when time alone (minimum notice) took the slots out. */
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
    viewer: Viewer = {},
  ): AsyncIterableIterator<SlotAvailabilityMessage> {
    let queue: SubscriberQueue | null = null;
    let remove = () => {};
    const stop = () => {
      queue?.close();
      remove();
    };
    const { prisma, feed, options } = this;
    const sql = sqlIn(prisma);
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
        const scope = await loadScope(sql, kind, id, viewer);
        const rows = await prisma.slot.findMany({
          where: { ...scope.where, startAt: { gte: from, lt: to }, status: { not: 'CANCELLED' } },
          orderBy: [{ startAt: 'asc' }, { id: 'asc' }],
          take: MAX_SNAPSHOT_SLOTS + 1,
        });
        if (rows.length > MAX_SNAPSHOT_SLOTS) {
          throw ValidationError.field(['to'], `more than ${MAX_SNAPSHOT_SLOTS} slots in this window; subscribe to a shorter one`);
        }
        if (queue.ended) return;
        for (const slot of rows) queue.sent.set(slot.id, slot.version);
        const frame = { timeZone: viewer.timeZone ?? scope.timeZone, from, to };
        // Booking policies: what they refuse is left out, as in `availability`; slots under a
        // minimum notice are removed (REMOVED) when the notice window reaches them.
        const notice = new NoticeClock();
        const judged = await judgeSlots(sql, rows, now());
        notice.track(rows, judged);
        yield {
          kind: 'SNAPSHOT',
          reason: null,
          slots: inZone(
            rows.filter((s) => !judged.blocked.has(s.id)),
            viewer.timeZone,
          ),
          ...frame,
        };
        let pending = waitForChanges(queue);
        for (;;) {
          const woke = await notice.race(pending, now);
          if (woke === 'due') {
            const due = notice.takeDue(now());
            if (due.length) yield { kind: 'REMOVED', reason: null, slots: inZone(due, viewer.timeZone), ...frame };
            continue;
          }
          if (!woke) return;
          pending = waitForChanges(queue);
          for (const event of woke) {
            const verdict = await sharedJudgement(sql, event.slots, now());
            notice.track(event.slots, verdict);
            const shown = event.slots.filter((s) => !verdict.blocked.has(s.id));
            const gone = event.slots.filter((s) => verdict.blocked.has(s.id));
            if (shown.length)
              yield changeEvent(
                shown.length === event.slots.length ? event : { reason: event.reason, slots: shown },
                frame,
                'CHANGE',
                viewer.timeZone,
              );
            if (gone.length) yield changeEvent({ reason: event.reason, slots: gone }, frame, 'REMOVED', viewer.timeZone);
          }
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

/** The slots as a viewer in another zone reads them (their local fields follow `timeZone`). */
/**
 * The queue's next events. The wait runs on while the subscription is suspended at a yield; a
 * failure then (LIVE_INTERRUPTED) surfaces at the next await, not as an unhandled rejection.
 */
function waitForChanges(queue: SubscriberQueue): Promise<ChangeEvent[] | null> {
  const next = queue.next();
  next.catch(() => {});
  return next;
}

function inZone(slots: Slot[], timeZone: string | null | undefined): Slot[] {
  return timeZone ? slots.map((s) => ({ ...s, timeZone })) : slots;
}

/** Per changed slot row (one object per feed read, shared by every local subscriber), the events built from it. */
const interned = new WeakMap<Slot, Map<string, SlotAvailabilityEvent>>();

/**
 * Subscribers that get the same change for the same window get the same event object, so its
 * GraphQL result is computed once for all of them (shared-execution.ts).
 */
function changeEvent(
  event: ChangeEvent,
  frame: { timeZone: string; from: Date; to: Date },
  kind: 'CHANGE' | 'REMOVED',
  viewerZone?: string | null,
): SlotAvailabilityEvent {
  const key = `${kind}|${frame.from.getTime()}|${frame.to.getTime()}|${frame.timeZone}|${event.reason}|${event.slots.map((s) => `${s.id}@${s.version}`).join(',')}`;
  const anchor = event.slots[0]!;
  let byKey = interned.get(anchor);
  if (!byKey) interned.set(anchor, (byKey = new Map()));
  let shared = byKey.get(key);
  if (!shared) byKey.set(key, (shared = markShareable<SlotAvailabilityEvent>({ kind, ...event, slots: inZone(event.slots, viewerZone), ...frame })));
  return shared;
}

/** Per changed slot row (shared by every local subscriber), the policy judgement: one read per feed read, not per subscriber. */
const judgements = new WeakMap<Slot, Map<string, { at: number; judgement: Promise<SlotJudgement> }>>();

function sharedJudgement(sql: SqlQuery, slots: Slot[], now: Date): Promise<SlotJudgement> {
  const anchor = slots[0]!;
  const key = slots.map((s) => s.id).join(',');
  let byKey = judgements.get(anchor);
  if (!byKey) judgements.set(anchor, (byKey = new Map()));
  const known = byKey.get(key);
  // Judged at most a second ago for the same rows: the same answer (time moves the notice window only).
  if (known && Math.abs(known.at - now.getTime()) < 1000) return known.judgement;
  const judgement = judgeSlots(sql, slots, now);
  byKey.set(key, { at: now.getTime(), judgement });
  return judgement;
}

/** The shown slots under a minimum notice, by the instant the notice window reaches them. */
class NoticeClock {
  private readonly due = new Map<string, { at: number; slot: Slot }>();

  track(slots: Slot[], judged: SlotJudgement): void {
    for (const slot of slots) {
      const at = judged.blocked.has(slot.id) ? undefined : judged.noticeAt.get(slot.id);
      if (at === undefined) this.due.delete(slot.id);
      else this.due.set(slot.id, { at, slot });
    }
  }

  /** The slots whose notice window has begun, no longer tracked. */
  takeDue(now: Date): Slot[] {
    const out: Slot[] = [];
    for (const [id, d] of this.due) {
      if (d.at > now.getTime()) continue;
      this.due.delete(id);
      out.push(d.slot);
    }
    return out;
  }

  /** The queue's next events, or 'due' when a tracked slot enters its notice window first. */
  async race<T>(pending: Promise<T>, now: () => Date): Promise<T | 'due'> {
    let next = Infinity;
    for (const d of this.due.values()) next = Math.min(next, d.at);
    if (next === Infinity) return pending;
    let timer: NodeJS.Timeout | undefined;
    const wait = new Promise<'due'>((resolve) => {
      timer = setTimeout(() => resolve('due'), Math.min(MAX_TIMER_MS, Math.max(0, next - now().getTime())));
    });
    try {
      return await Promise.race([pending, wait]);
    } finally {
      clearTimeout(timer);
    }
  }
}
