import { useEffect, useState } from 'react';
import {
  AvailabilityDocument,
  SlotAvailabilityDocument,
  SlotwiseError,
  type AvailabilityQueryVariables,
  type SlotAvailabilityEventKind,
  type SlotChangeReason,
  type SlotFieldsFragment,
  type NotFoundErrorFieldsFragment,
  type ValidationErrorFieldsFragment,
} from '@slotwise/sdk';
import { useSlotwiseClient } from './provider.js';

/** Which slots to watch: one of `resourceId`, `locationId` or `formId`, and a window. */
export type AvailabilityVariables = Omit<AvailabilityQueryVariables, 'from' | 'to'> & { from: string | Date; to: string | Date };

/**
 * - `loading`: nothing yet
 * - `ready`: the query answered; the live subscription has not sent its snapshot yet
 * - `live`: the subscription's snapshot arrived; changes are applied as they happen
 * - `reconnecting`: the live stream dropped; it is being reopened (its snapshot replaces what is shown)
 * - `error`: a business error (`error` has it) or the query failed
 */
export type AvailabilityStatus = 'loading' | 'ready' | 'live' | 'reconnecting' | 'error';

export interface AvailabilityState {
  /** Slots in the window by start, cancelled ones left out; full ones stay (`remaining` 0, `status` FULL). */
  slots: SlotFieldsFragment[];
  /** The zone the local fields (`localDate`, `localStart`, …) are in. */
  timeZone?: string;
  status: AvailabilityStatus;
  error?:
    | (ValidationErrorFieldsFragment & { __typename: 'ValidationError' })
    | (NotFoundErrorFieldsFragment & { __typename: 'NotFoundError' })
    | SlotwiseError;
  /** What the last live event was (`SNAPSHOT` or `CHANGE`) and why. */
  lastEvent?: { kind: SlotAvailabilityEventKind; reason?: SlotChangeReason | null };
}

/** Longest wait between attempts to reopen a dropped live stream. */
const MAX_BACKOFF_MS = 15_000;

/**
 * Slots of a resource, location or form, kept current: the `availability` query for a first answer and the
 * `slotAvailability` subscription's snapshot and changes after it, each slot kept at its newest `version`.
 * A dropped stream is reopened (graphql-ws does that itself; an SSE stream is retried here with backoff),
 * and its fresh snapshot replaces the slots, so changes missed while offline show too.
 */
export function useAvailability(variables: AvailabilityVariables): AvailabilityState {
  const client = useSlotwiseClient();
  const vars = {
    resourceId: variables.resourceId,
    locationId: variables.locationId,
    formId: variables.formId,
    from: toIso(variables.from),
    to: toIso(variables.to),
  };
  const key = JSON.stringify(vars);
  const [state, setState] = useState<AvailabilityState>({ slots: [], status: 'loading' });

  // biome-ignore lint/correctness/useExhaustiveDependencies: keyed on the variables' JSON (`key`), not their object identity.
  useEffect(() => {
    let stopped = false;
    let snapshotSeen = false;
    const slots = new Map<string, SlotFieldsFragment>();
    let current: AvailabilityState = { slots: [], status: 'loading' };
    const publish = (patch: Partial<AvailabilityState>) => {
      if (stopped) return;
      current = { ...current, ...patch, slots: visible(slots) };
      setState(current);
    };
    const merge = (incoming: readonly SlotFieldsFragment[]) => {
      // Events can overtake each other (query vs stream, reconnects): the newest version of a slot wins.
      for (const slot of incoming) if ((slots.get(slot.id)?.version ?? -1) < slot.version) slots.set(slot.id, slot);
    };
    setState(current);
    const cleanups = new Set<() => void>();

    client.request(AvailabilityDocument, vars).then(
      ({ availability }) => {
        if (availability.__typename !== 'Availability') return publish({ status: 'error', error: availability });
        // After the live snapshot the query's answer is older news: merge keeps only newer versions.
        merge(availability.slots);
        publish({ timeZone: current.timeZone ?? availability.timeZone, status: snapshotSeen ? current.status : 'ready' });
      },
      (err: unknown) => {
        if (!snapshotSeen) publish({ status: 'error', error: asSlotwiseError(err) });
      },
    );

    void (async () => {
      for (let attempt = 0; !stopped; attempt++) {
        const events = client.subscribe(SlotAvailabilityDocument, vars);
        const stop = () => void events.return();
        cleanups.add(stop);
        try {
          for await (const { slotAvailability: event } of events) {
            if (stopped) return;
            if (event.__typename !== 'SlotAvailabilityEvent') return publish({ status: 'error', error: event });
            attempt = 0;
            if (event.kind === 'SNAPSHOT') {
              snapshotSeen = true;
              slots.clear();
            }
            merge(event.slots);
            publish({ timeZone: event.timeZone, status: 'live', error: undefined, lastEvent: { kind: event.kind, reason: event.reason } });
          }
        } catch {
          // A stream that failed is reopened below, like one the server ended.
        } finally {
          cleanups.delete(stop);
        }
        if (stopped) return;
        publish({ status: 'reconnecting' });
        await new Promise((r) => setTimeout(r, Math.min(MAX_BACKOFF_MS, 500 * 2 ** attempt) * (0.5 + Math.random() / 2)));
      }
    })();

    return () => {
      stopped = true;
      for (const stop of cleanups) stop();
    };
    // `key` stands for the variables.
  }, [client, key]);

  return state;
}

function visible(slots: Map<string, SlotFieldsFragment>): SlotFieldsFragment[] {
  return [...slots.values()].filter((s) => s.status !== 'CANCELLED').sort((a, b) => a.startAt.localeCompare(b.startAt) || a.id.localeCompare(b.id));
}

const toIso = (value: string | Date) => (typeof value === 'string' ? value : value.toISOString());

function asSlotwiseError(err: unknown): SlotwiseError {
  return err instanceof SlotwiseError ? err : new SlotwiseError(String((err as Error)?.message ?? err), 'CLIENT_ERROR');
}
