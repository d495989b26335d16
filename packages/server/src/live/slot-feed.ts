import { GraphQLError } from 'graphql';
import type { Slot } from '../generated/prisma/client.js';
import type { SlotChange, SlotChangeBatch, SlotChangesMessage } from '../events/slot-events.js';

/** A published change and the slot as re-read after it (null when the slot is gone). */
export interface FeedEntry {
  change: SlotChange;
  slot: Slot | null;
}

/** A local subscriber: the scope key it listens on, and where its entries go. */
export interface FeedListener {
  key: string;
  push(entries: FeedEntry[]): void;
  /** The feed could not read the slots of a change: the listener must resubscribe. */
  fail(error: Error): void;
  /** The form this listener follows is no longer open. */
  formClosed?(): void;
}

export type ScopeKind = 'resource' | 'location' | 'form';

export const scopeKey = (kind: ScopeKind, id: string) => `${kind}:${id}`;

function keysOf(change: SlotChange): string[] {
  const keys: string[] = [];
  // A form's slots are live in their form's scope only (see loadScope).
  if (change.formId) return [scopeKey('form', change.formId)];
  if (change.resourceId) keys.push(scopeKey('resource', change.resourceId));
  if (change.locationId) keys.push(scopeKey('location', change.locationId));
  return keys;
}

/**
 * The one pub/sub listener of this process, fanning out to its local subscribers by scope.
 * One listener per process (not per subscriber) keeps Yoga's event target under its listener
 * warning however many subscribe, and re-reads each changed slot once per process, not once per
 * subscriber. Batches are handled one at a time, so local delivery keeps publish order.
 */
export class SlotFeed {
  private readonly byKey = new Map<string, Set<FeedListener>>();
  private readonly source: AsyncIterator<SlotChangesMessage>;

  constructor(
    source: AsyncIterable<SlotChangesMessage>,
    private readonly loadSlots: (ids: string[]) => Promise<Slot[]>,
  ) {
    this.source = source[Symbol.asyncIterator]();
    void this.run();
  }

  /** Local subscribers right now. */
  get size(): number {
    let n = 0;
    for (const set of this.byKey.values()) n += set.size;
    return n;
  }

  add(listener: FeedListener): () => void {
    let set = this.byKey.get(listener.key);
    if (!set) this.byKey.set(listener.key, (set = new Set()));
    set.add(listener);
    return () => {
      set.delete(listener);
      if (!set.size && this.byKey.get(listener.key) === set) this.byKey.delete(listener.key);
    };
  }

  private async run(): Promise<void> {
    for (;;) {
      const next = await this.source.next();
      if (next.done) return;
      // Messages from other instances arrive as parsed JSON: anything but an object is ignored.
      const message: SlotChangesMessage | null = next.value;
      if (!message || typeof message !== 'object') continue;
      if ('resync' in message) this.failAll();
      else if ('formClosed' in message) {
        for (const listener of this.byKey.get(scopeKey('form', message.formClosed)) ?? []) listener.formClosed?.();
      } else await this.dispatch(message);
    }
  }

  /** Messages may have been lost (Redis reconnected): every local subscriber starts over. */
  private failAll(): void {
    const error = liveInterrupted();
    for (const set of this.byKey.values()) for (const listener of set) listener.fail(error);
  }

  private async dispatch(batch: SlotChangeBatch): Promise<void> {
    const changes = (batch?.changes ?? []).filter((c) => keysOf(c).some((k) => this.byKey.has(k)));
    if (!changes.length) return;
    const listeners = new Map<FeedListener, FeedEntry[]>();
    const targets = (change: SlotChange) => keysOf(change).flatMap((k) => [...(this.byKey.get(k) ?? [])]);
    let slots: Map<string, Slot>;
    try {
      slots = new Map((await this.loadSlots([...new Set(changes.map((c) => c.slotId))])).map((s) => [s.id, s]));
    } catch {
      // Without the new state a subscriber could silently miss a change; a fresh snapshot is the cure.
      const failure = liveInterrupted();
      for (const change of changes) for (const l of targets(change)) l.fail(failure);
      return;
    }
    for (const change of changes) {
      const entry = { change, slot: slots.get(change.slotId) ?? null };
      for (const listener of targets(change)) {
        const list = listeners.get(listener);
        if (list) list.push(entry);
        else listeners.set(listener, [entry]);
      }
    }
    for (const [listener, entries] of listeners) listener.push(entries);
  }
}

/** A live stream that ended before its client asked: the client subscribes again (another instance may answer). */
export function liveInterrupted(what = 'live availability was interrupted'): GraphQLError {
  return new GraphQLError(`${what}; subscribe again for a fresh snapshot`, { extensions: { code: 'LIVE_INTERRUPTED' } });
}
