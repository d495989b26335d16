import { afterAll, beforeAll, expect, it } from 'vitest';
import { createPubSub } from 'graphql-yoga';
import { createTestApp, type TestApp } from '../../test/kit/app.js';
import { fixtures } from '../../test/kit/fixtures.js';
import { SLOT_CHANGES_TOPIC, type SlotChangesMessage } from '../events/slot-events.js';
import { SlotAvailabilityService, type SlotAvailabilityEvent } from './slot-availability.service.js';

let t: TestApp;

beforeAll(async () => {
  t = await createTestApp();
});

afterAll(async () => {
  await t.close();
});

it('fails a subscriber that is between two events with LIVE_INTERRUPTED on its next pull, never as an unhandled rejection', async () => {
  const fx = fixtures(t.app.db.sql);
  const locationId = await fx.location();
  const resourceId = await fx.resource(locationId);
  const slotId = await fx.slot(locationId, resourceId, { startAt: new Date(Date.now() + 86_400_000), capacity: 5 });
  const pubsub = createPubSub<{ [SLOT_CHANGES_TOPIC]: [SlotChangesMessage] }>();
  const live = new SlotAvailabilityService(t.app.db.prisma, pubsub, { bufferSize: 10 });
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown) => unhandled.push(reason);
  process.on('unhandledRejection', onUnhandled);
  try {
    const events = live.subscribe({ resourceId }, {}, () => {});
    expect(((await events.next()).value as SlotAvailabilityEvent).kind).toBe('SNAPSHOT');
    await t.app.db.sql.query('UPDATE slots SET held = held + 1, version = version + 1 WHERE id = $1', [slotId]);
    const { version } = await fx.slotCounts(slotId);
    pubsub.publish(SLOT_CHANGES_TOPIC, { changes: [{ slotId, version, reason: 'HELD', locationId, resourceId }] });
    expect(((await events.next()).value as SlotAvailabilityEvent).kind).toBe('CHANGE');

    // The subscriber holds its CHANGE and has not pulled again: the resync comes now.
    pubsub.publish(SLOT_CHANGES_TOPIC, { resync: true });
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(unhandled).toEqual([]);
    await expect(events.next()).rejects.toMatchObject({ extensions: { code: 'LIVE_INTERRUPTED' } });
    expect(live.feed.size).toBe(0);
  } finally {
    process.off('unhandledRejection', onUnhandled);
  }
});
