export const SLOT_CHANGE_REASONS = ['HELD', 'CONFIRMED', 'CANCELLED', 'EXPIRED', 'GENERATED', 'BLOCKED', 'RESCHEDULED', 'UPDATED'] as const;

/** Why a slot changed; live subscribers receive it with the slot. */
export type SlotChangeReason = (typeof SLOT_CHANGE_REASONS)[number];

/** What is published: ids and the version after the change; subscribers re-read the slot. */
export interface SlotChange {
  slotId: string;
  version: number;
  reason: SlotChangeReason;
  locationId: string | null;
  resourceId: string | null;
  formId?: string | null;
}

/** One pub/sub message: the changes of one committed transaction, in commit order. */
export interface SlotChangeBatch {
  changes: SlotChange[];
}

/** A form stopped taking registrations: its public live subscriptions end (staff ones go on). */
export interface FormClosedMessage {
  formClosed: string;
}

/** Delivered locally when messages may have been missed (pub/sub reconnected): subscribers start over. */
export interface ResyncMessage {
  resync: true;
}

export const SLOT_CHANGES_TOPIC = 'slot-changes';

/** Everything published on SLOT_CHANGES_TOPIC. */
export type SlotChangesMessage = SlotChangeBatch | FormClosedMessage | ResyncMessage;

/** The slot changes a message carries (none for the other kinds). */
export function changesOf(message: SlotChangesMessage): SlotChange[] {
  return 'changes' in message ? message.changes : [];
}

/** What SlotEvents needs of the pub/sub (live/pubsub.ts): publishing on the slot-changes topic. */
export interface SlotChangesPublisher {
  publish(topic: typeof SLOT_CHANGES_TOPIC, message: SlotChangeBatch | FormClosedMessage): void;
}

/**
 * Call only after the transaction that made the changes has committed,
 * so nothing is pushed for work that rolled back (`runAndPublish` in live/after-commit.ts does both).
 */
export class SlotEvents {
  constructor(
    private readonly pubsub: SlotChangesPublisher,
    /** Drops cached answers of these scopes (the response cache); never rejects. */
    private readonly invalidate: (scopes: Scope[]) => Promise<void> = async () => {},
  ) {}

  /**
   * Resolves once cached answers showing the old state are gone on every instance: await it before
   * answering the request that made the changes, so its caller never reads past its own commit.
   */
  publish(changes: SlotChange[]): Promise<void> {
    if (!changes.length) return Promise.resolve();
    // One message per transaction: one Redis round trip and one slot read per instance, however many slots.
    this.pubsub.publish(SLOT_CHANGES_TOPIC, { changes } satisfies SlotChangeBatch);
    return this.invalidate(scopesOf(changes));
  }

  /** A scope changed without a slot changing (a form closed, a zone changed): its cached answers go. */
  scopeChanged(kind: 'resource' | 'location' | 'form', id: string): Promise<void> {
    return this.invalidate([`${kind}:${id}`]);
  }

  /** After the form's status change committed. */
  formClosed(formId: string): void {
    this.pubsub.publish(SLOT_CHANGES_TOPIC, { formClosed: formId } satisfies FormClosedMessage);
  }
}

/** `resource:<uuid>`, `location:<uuid>` or `form:<uuid>`: what an availability answer depends on. */
export type Scope = string;

/** The scopes a slot change can alter: a location read shows that location's resource slots too. */
export function scopesOf(changes: SlotChange[]): Scope[] {
  const scopes = new Set<Scope>();
  for (const c of changes) {
    if (c.resourceId) scopes.add(`resource:${c.resourceId}`);
    if (c.locationId) scopes.add(`location:${c.locationId}`);
    if (c.formId) scopes.add(`form:${c.formId}`);
  }
  return [...scopes];
}

/** A changed slot's row as the writes return it (`RETURNING id, version, location_id, resource_id, form_id`). */
export interface SlotChangeRow {
  id: string;
  version: number;
  location_id: string | null;
  resource_id: string | null;
  form_id: string | null;
}

/** The change to publish for a slot row written in this transaction. */
export function slotChangeOf(row: SlotChangeRow, reason: SlotChangeReason): SlotChange {
  return { slotId: row.id, version: row.version, reason, locationId: row.location_id, resourceId: row.resource_id, formId: row.form_id };
}
