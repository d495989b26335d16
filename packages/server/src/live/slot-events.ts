import type { PubSubHandle } from './pubsub.js';

/** Why a slot changed; live subscribers receive it with the slot. */
export type SlotChangeReason = 'HELD' | 'CONFIRMED' | 'CANCELLED' | 'EXPIRED' | 'GENERATED' | 'BLOCKED' | 'RESCHEDULED' | 'UPDATED';

/** What is published: ids and the version after the change; subscribers re-read the slot. */
export interface SlotChange {
  slotId: string;
  version: number;
  reason: SlotChangeReason;
  locationId: string;
  resourceId: string | null;
  formId?: string | null;
}

export const SLOT_CHANGES_TOPIC = 'slot-changes';

/**
 * Call only after the transaction that made the changes has committed,
 * so nothing is pushed for work that rolled back.
 */
export class SlotEvents {
  constructor(private readonly pubsub: PubSubHandle['pubsub']) {}

  publish(changes: SlotChange[]): void {
    for (const change of changes) this.pubsub.publish(SLOT_CHANGES_TOPIC, change);
  }

  subscribe() {
    return this.pubsub.subscribe(SLOT_CHANGES_TOPIC) as AsyncIterable<SlotChange>;
  }
}
