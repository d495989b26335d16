import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient, type SlotwiseClient, type Subscription } from '../src/index.js';
import { HoldDocument, ServerClockDocument, SlotAvailabilityDocument, type SlotAvailabilityEventKind } from '../src/documents.js';
import { startLiveServer, type LiveServer } from './live-server.js';
import { as, setUpScenario, type Scenario } from './scenario.js';

let server: LiveServer;
let s: Scenario;
beforeAll(async () => {
  server = await startLiveServer();
  s = await setUpScenario(server);
});
afterAll(() => server?.stop());

/** The next event; fails when the stream ended. */
async function nextValue<T>(events: Subscription<T>): Promise<T> {
  const r = await events.next();
  if (r.done) throw new Error('the subscription ended');
  return r.value;
}

const transports = {
  ws: () => createClient({ url: server.url, webSocketImpl: WebSocket, transport: 'ws' }),
  sse: () => createClient({ url: server.url, transport: 'sse' }),
};

describe.each(Object.keys(transports) as (keyof typeof transports)[])('subscriptions over %s', (transport) => {
  let client: SlotwiseClient;
  beforeAll(() => {
    client = transports[transport]();
  });
  afterAll(() => client.dispose());

  it('slotAvailability yields the snapshot, then the change a hold makes', async () => {
    const slot = s.slots[transport === 'ws' ? 3 : 4]!;
    const events = client.subscribe(SlotAvailabilityDocument, { resourceId: s.resourceId, from: slot.startAt, to: slot.endAt });
    const snapshot = as((await nextValue(events)).slotAvailability, 'SlotAvailabilityEvent');
    expect(snapshot.kind satisfies SlotAvailabilityEventKind).toBe('SNAPSHOT');
    expect(snapshot.slots.map((x) => [x.id, x.remaining])).toEqual([[slot.id, 2]]);

    const held = await client.request(HoldDocument, { input: { slotId: slot.id, customer: { name: 'Live', email: 'live@example.com' } } });
    expect(held.hold.__typename).toBe('BookingReceipt');
    const change = as((await nextValue(events)).slotAvailability, 'SlotAvailabilityEvent');
    expect(change).toMatchObject({ kind: 'CHANGE', reason: 'HELD' });
    expect(change.slots).toEqual([expect.objectContaining({ id: slot.id, remaining: 1, held: 1, status: 'PARTIAL' })]);
    expect(change.slots[0]!.version).toBeGreaterThan(snapshot.slots[0]!.version);
    await events.return();
  });

  it('bad arguments arrive as one typed error', async () => {
    const events = client.subscribe(SlotAvailabilityDocument, {});
    const first = (await nextValue(events)).slotAvailability;
    expect(first.__typename).toBe('ValidationError');
    expect((await events.next()).done).toBe(true);
  });

  it('serverTime ticks', async () => {
    const ticks = client.subscribe(ServerClockDocument, { intervalMs: 100 });
    const a = (await nextValue(ticks)).serverTime;
    const b = (await nextValue(ticks)).serverTime;
    expect(Date.parse(b)).toBeGreaterThan(Date.parse(a));
    await ticks.return();
  });

  it('return() while a next() waits ends it quietly (done), with no AbortError', async () => {
    const ticks = client.subscribe(ServerClockDocument, { intervalMs: 60_000 });
    await nextValue(ticks);
    const waiting = ticks.next();
    await ticks.return();
    await expect(waiting).resolves.toEqual({ done: true, value: undefined });
  });
});
