import WebSocket from 'ws';
import { createClient, SlotAvailabilityDocument, type SlotFieldsFragment } from '@slotwise/sdk';

/** Keeps `slots` current: a snapshot first, then every committed change; older versions are dropped. */
export async function followSlots(url: string, resourceId: string, onChange: (slots: Map<string, SlotFieldsFragment>) => void, signal: AbortSignal) {
  // Browsers have WebSocket; Node 20 takes `ws` (or leave it out and get SSE).
  const client = createClient({ url, webSocketImpl: WebSocket });
  const slots = new Map<string, SlotFieldsFragment>();
  const events = client.subscribe(SlotAvailabilityDocument, { resourceId });
  signal.addEventListener('abort', () => void events.return());
  for await (const { slotAvailability: event } of events) {
    if (event.__typename !== 'SlotAvailabilityEvent') throw new Error(event.message);
    if (event.kind === 'SNAPSHOT') slots.clear();
    for (const slot of event.slots) {
      if ((slots.get(slot.id)?.version ?? -1) < slot.version) slots.set(slot.id, slot);
    }
    onChange(slots);
  }
  await client.dispose();
}
