import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient } from '../src/index.js';
import { HoldDocument, type SlotFieldsFragment } from '../src/documents.js';
import { bookingPage } from '../examples/booking-page.js';
import { followSlots } from '../examples/live-slots.js';
import { startLiveServer, type LiveServer } from './live-server.js';
import { setUpScenario, type Scenario } from './scenario.js';

let server: LiveServer;
let s: Scenario;
beforeAll(async () => {
  server = await startLiveServer();
  s = await setUpScenario(server, { capacity: 1 });
});
afterAll(() => server?.stop());

describe('the README examples', () => {
  it('"a booking page in 20 lines" books, then says the slot is full', async () => {
    const page = bookingPage(server.url, s.resourceId);
    const slot = s.slots[0]!;
    expect(await page.book(slot.id, { name: 'Ada', email: 'ada@example.com' })).toBe(`Booked: ${slot.localDate} ${slot.localStart}`);
    expect(await page.book(slot.id, { name: 'Bob', email: 'bob@example.com' })).toBe('That slot is full — please pick another');
  });

  it('following live slots sees the snapshot and then a hold', async () => {
    const slot = s.slots[1]!;
    const abort = new AbortController();
    const seen: SlotFieldsFragment[] = [];
    const done = followSlots(
      server.url,
      s.resourceId,
      (slots) => {
        seen.push(slots.get(slot.id)!);
        if (seen.length === 1)
          void createClient({ url: server.url }).request(HoldDocument, {
            input: { slotId: slot.id, customer: { name: 'C', email: 'c@example.com' } },
          });
        else abort.abort();
      },
      abort.signal,
    );
    await done;
    expect(seen.map((x) => x.remaining)).toEqual([1, 0]);
    expect(seen[1]!.version).toBeGreaterThan(seen[0]!.version);
  });
});
