import { afterAll, beforeAll, expect, it } from 'vitest';
import pino from 'pino';
import { createTestDatabase } from '../../test/databases.js';
import { recordStatements } from '../../test/statement-plans.js';
import { waitFor } from '../../test/kit/wait.js';
import { SLOT_CHANGES_TOPIC, type SlotChangeBatch, type SlotChangesMessage } from '../events/slot-events.js';
import { createPgPubSubHandle } from './pg-pubsub.js';

let database: Awaited<ReturnType<typeof createTestDatabase>>;

beforeAll(async () => {
  database = await createTestDatabase({ empty: true });
});

afterAll(async () => {
  await database.drop();
});

const batch = (n: number, changes = 1): SlotChangeBatch => ({
  changes: Array.from({ length: changes }, (_, i) => ({
    slotId: `00000000-0000-4000-8000-${String(n).padStart(8, '0')}${String(i).padStart(4, '0')}`,
    version: n,
    reason: 'HELD' as const,
    locationId: null,
    resourceId: 'r',
  })),
});

it('delivers a burst of messages to another process in publish order, in fewer NOTIFY statements than messages', async () => {
  const log = pino({ level: 'silent' });
  const publisher = createPgPubSubHandle({ url: database.url, log });
  const subscriber = createPgPubSubHandle({ url: database.url, log });
  try {
    await Promise.all([publisher.ready, subscriber.ready]);
    const received: SlotChangesMessage[] = [];
    const source = subscriber.pubsub.subscribe(SLOT_CHANGES_TOPIC)[Symbol.asyncIterator]();
    const reading = (async () => {
      for (;;) {
        const next = await source.next();
        if (next.done) return;
        received.push(next.value);
      }
    })();
    // One of them too long for one NOTIFY: it arrives split between its changes, still in order.
    const sent = Array.from({ length: 200 }, (_, n) => batch(n + 1, n === 100 ? 120 : 1));
    const { statements } = await recordStatements(async () => {
      for (const message of sent) publisher.pubsub.publish(SLOT_CHANGES_TOPIC, message);
      await waitFor(() => received.flatMap((m) => ('changes' in m ? m.changes : [])).length === 319, 'every change received', 5000);
    });
    const changes = received.flatMap((m) => ('changes' in m ? m.changes : []));
    expect(changes.map((c) => c.slotId)).toEqual(sent.flatMap((m) => m.changes.map((c) => c.slotId)));
    const notifies = statements.filter((s) => s.text.includes('pg_notify'));
    expect(notifies.length).toBeGreaterThanOrEqual(1);
    expect(notifies.length).toBeLessThan(20);
    await source.return?.();
    await reading;
  } finally {
    await publisher.close();
    await subscriber.close();
  }
});
