import { afterAll, beforeAll, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../../test/harness.js';
import { SLOT_CHANGES_TOPIC, changesOf } from '../events/slot-events.js';
import { startServer, type RunningServer } from '../server.js';
import { bookingFixtures } from './test-fixtures.js';
import { HOLD, call, customer, gid } from './test-api.js';

let t: TestApp;
let server: RunningServer | undefined;

beforeAll(async () => {
  t = await createTestApp({ config: { SHUTDOWN_TIMEOUT_MS: '200' } });
});
afterAll(async () => {
  await server?.stop();
  await t?.close();
});

it('the server runs the hold-expiry job: an expired hold is released and the change published', async () => {
  const f = bookingFixtures(t.app.db.sql);
  const locationId = await f.location();
  const slot = await f.slot(locationId, await f.resource(locationId), { capacity: 1 });
  await call(t, HOLD, { slotId: gid('Slot', slot), customer: customer() });
  await t.app.db.sql.query(`UPDATE bookings SET hold_expires_at = now() - interval '1 second' WHERE slot_id = $1`, [slot]);

  const events = t.app.pubsub.subscribe(SLOT_CHANGES_TOPIC)[Symbol.asyncIterator]();
  const published = events.next();
  // The job's first run starts as the server starts.
  server = await startServer(t.app, { port: 0, host: '127.0.0.1' });
  const { value } = await published;
  await events.return?.();
  const counts = await f.slotCounts(slot);
  expect(changesOf(value)).toEqual([expect.objectContaining({ slotId: slot, reason: 'EXPIRED', version: counts.version })]);
  expect(counts).toMatchObject({ held: 0, status: 'OPEN' });
  expect(await f.bookingCounts(slot)).toEqual({ EXPIRED: 1 });
});
