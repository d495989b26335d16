import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../../test/kit/app.js';
import { fixtures, customer, gid } from '../../test/kit/fixtures.js';
import { CANCEL, CONFIRM, HOLD, call } from '../../test/kit/documents.js';
import { publishedForm, REGISTER } from '../../test/kit/forms.js';
import { startServer, type RunningServer } from '../server.js';

const EXPOSED = `query ($resourceId: ID, $date: Date!) {
  exposedSlots(resourceId: $resourceId, date: $date, sessionId: "metrics") { __typename ... on ExposedSlots { slots { id } } } }`;

let t: TestApp;
let server: RunningServer;
let f: ReturnType<typeof fixtures>;
let locationId: string;

/** The value of one series in Prometheus text, 0 when absent. */
async function series(name: string): Promise<number> {
  const text = await (await fetch(`${server.url}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return line ? Number(line.slice(name.length + 1)) : 0;
}
const booked = (action: string) => series(`slotwise_bookings_total{action="${action}"}`);

beforeAll(async () => {
  t = await createTestApp({ config: { SHUTDOWN_TIMEOUT_MS: '200' } });
  server = await startServer(t.app, { port: 0, host: '127.0.0.1' });
  f = fixtures(t.app.db.sql);
  locationId = await f.location();
});
afterAll(async () => {
  await server?.stop();
  await t?.close();
});

describe('/metrics', () => {
  it('lists every booking action at 0 before the first booking, and the rate-limit and exposure series', async () => {
    for (const action of ['held', 'confirmed', 'cancelled', 'expired', 'conflict', 'full']) expect(await booked(action)).toBe(0);
    const text = await (await fetch(`${server.url}/metrics`)).text();
    for (const name of ['slotwise_hold_to_confirm_seconds', 'slotwise_exposed_slots_count', 'slotwise_rate_limited_total']) {
      expect(text).toContain(`# TYPE ${name} `);
    }
  });

  it('counts the booking funnel through the API: held, confirmed (with hold-to-confirm time), cancelled, full', async () => {
    const resourceId = await f.resource(locationId);
    const slotId = await f.slot(locationId, resourceId, { capacity: 1 });
    const receipt = await call(t, HOLD, { slotId: gid('Slot', slotId), customer: customer(1) });
    expect(await booked('held')).toBe(1);
    expect((await call(t, HOLD, { slotId: gid('Slot', slotId), customer: customer(2) })).__typename).toBe('SlotFullError');
    expect(await booked('full')).toBe(1);

    // The hold was placed 90 seconds ago (set-up), so the observed time is 90 s and a little.
    await t.app.db.sql.query(`UPDATE bookings SET created_at = now() - interval '90 seconds' WHERE id = $1`, [
      (await t.app.db.sql.query<{ id: string }>(`SELECT id FROM bookings WHERE slot_id = $1`, [slotId]))[0]!.id,
    ]);
    const input = { bookingId: receipt.booking.id, manageToken: receipt.manageToken };
    expect((await call(t, CONFIRM, input)).status).toBe('CONFIRMED');
    // Confirming again changes nothing and counts nothing.
    await call(t, CONFIRM, input);
    expect(await booked('confirmed')).toBe(1);
    expect(await series('slotwise_hold_to_confirm_seconds_count')).toBe(1);
    const seconds = await series('slotwise_hold_to_confirm_seconds_sum');
    expect(seconds).toBeGreaterThanOrEqual(90);
    expect(seconds).toBeLessThan(100);
    expect(await series('slotwise_hold_to_confirm_seconds_bucket{le="60"}')).toBe(0);
    expect(await series('slotwise_hold_to_confirm_seconds_bucket{le="120"}')).toBe(1);

    expect((await call(t, CANCEL, input)).status).toBe('CANCELLED');
    await call(t, CANCEL, input);
    expect(await booked('cancelled')).toBe(1);
  });

  it('counts a conflict on an exclusive resource and holds expired by the sweeper', async () => {
    const room = await f.resource(locationId, { exclusive: true });
    const startAt = new Date(Date.now() + 3 * 86_400_000);
    const first = await f.slot(locationId, room, { startAt, minutes: 60 });
    const overlapping = await f.slot(locationId, room, { startAt: new Date(startAt.getTime() + 30 * 60_000), minutes: 60 });
    expect((await call(t, HOLD, { slotId: gid('Slot', first), customer: customer(3) })).__typename).toBe('BookingReceipt');
    expect((await call(t, HOLD, { slotId: gid('Slot', overlapping), customer: customer(4) })).__typename).toBe('BookingConflictError');
    expect(await booked('conflict')).toBe(1);

    await t.app.db.sql.query(`UPDATE bookings SET hold_expires_at = now() - interval '1 second' WHERE slot_id = $1`, [first]);
    await t.app.services.bookings.releaseExpiredHolds();
    expect(await booked('expired')).toBe(1);
  });

  it('counts form registrations: one confirmed booking per chosen slot, full when a chosen slot is taken', async () => {
    const [confirmed, full] = [await booked('confirmed'), await booked('full')];
    const form = await publishedForm(t);
    const register = (email: string) =>
      t.execute(REGISTER, { input: { formSlug: form.slug, name: 'Ada', email, slotIds: [form.slots[0]!.id, form.slots[1]!.id] } });
    expect((await register('ada@example.com')).data.register.__typename).toBe('Registration');
    expect((await register('bob@example.com')).data.register.__typename).toBe('SlotsUnavailableError');
    expect(await booked('confirmed')).toBe(confirmed + 2);
    expect(await booked('full')).toBe(full + 1);
  });

  it('observes how many slots each exposedSlots answer showed', async () => {
    const resourceId = await f.resource(locationId);
    const date = new Date(Date.now() + 5 * 86_400_000).toISOString().slice(0, 10);
    for (const hour of [9, 13, 18]) await f.slot(locationId, resourceId, { startAt: new Date(`${date}T${String(hour).padStart(2, '0')}:00:00Z`) });
    const before = await series('slotwise_exposed_slots_count_sum');
    const result = await t.execute(EXPOSED, { resourceId: gid('Resource', resourceId), date });
    const shown = result.data.exposedSlots.slots.length;
    expect(shown).toBeGreaterThanOrEqual(1);
    expect(await series('slotwise_exposed_slots_count_count')).toBe(1);
    expect((await series('slotwise_exposed_slots_count_sum')) - before).toBe(shown);
  });
});
