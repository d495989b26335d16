import { decodeGlobalID } from '@pothos/plugin-relay';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, TEST_SECRETS, type TestApp } from '../../test/kit/app.js';
import { BOOK, CANCEL, RESCHEDULE, call } from '../../test/kit/documents.js';
import { gid, GUEST, HOST, clinic } from '../../test/kit/fixtures.js';
import { parseIcs, queuedMails } from '../../test/kit/mail.js';
import { ConfigError, loadConfig } from '../config.js';

let t: TestApp;
let c: Awaited<ReturnType<typeof clinic>>;

beforeAll(async () => {
  t = await createTestApp({ config: { REMINDER_MINUTES_BEFORE: '60, 1440', ICS_TIME_ZONES: 'local' } });
  c = await clinic(t);
});
afterAll(() => t?.close());

const reminders = (bookingId: string) =>
  queuedMails(t, `kind = 'reminder' AND booking_id = $1`, [decodeGlobalID(bookingId).id]).then((rows) =>
    rows
      .map((r) => ({
        to: r.to,
        dueAt: r.dueAt.toISOString(),
        status: r.status,
        key: r.dedupeKey!.replace(/^reminder:[^:]+:/, ''),
        subject: r.content.subject,
      }))
      // Host first, then by time (rows of one statement share created_at).
      .sort((a, b) => Number(b.to === HOST.email) - Number(a.to === HOST.email) || a.dueAt.localeCompare(b.dueAt)),
  );

describe('REMINDER_MINUTES_BEFORE=60,1440', () => {
  it('queues reminders with the confirmation, moves them on reschedule and drops them on cancel', async () => {
    const { booking, manageToken } = await call(t, BOOK, { slotId: gid('Slot', await c.slot('2055-01-05T15:00:00Z')), customer: GUEST });
    const first = await reminders(booking.id);
    expect(first.map(({ to, dueAt, status, key }) => [to, dueAt, status, key])).toEqual([
      [HOST.email, '2055-01-04T15:00:00.000Z', 'PENDING', '0:1440:host'],
      [HOST.email, '2055-01-05T14:00:00.000Z', 'PENDING', '0:60:host'],
      [GUEST.email, '2055-01-04T15:00:00.000Z', 'PENDING', '0:1440:guest'],
      [GUEST.email, '2055-01-05T14:00:00.000Z', 'PENDING', '0:60:guest'],
    ]);
    expect(first[2]!.subject).toBe('Reminder: Session with Ada, Tue Jan 5, 10:00–10:30 AM EST');

    await call(t, RESCHEDULE, { bookingId: booking.id, manageToken, slotId: gid('Slot', await c.slot('2055-01-06T16:00:00Z')) });
    const moved = await reminders(booking.id);
    expect(
      moved
        .filter((r) => r.status === 'CANCELLED')
        .map((r) => r.key)
        .sort(),
    ).toEqual(first.map((r) => r.key).sort());
    expect(moved.filter((r) => r.status === 'PENDING').map(({ to, dueAt, key }) => [to, dueAt, key])).toEqual([
      [HOST.email, '2055-01-05T16:00:00.000Z', '1:1440:host'],
      [HOST.email, '2055-01-06T15:00:00.000Z', '1:60:host'],
      [GUEST.email, '2055-01-05T16:00:00.000Z', '1:1440:guest'],
      [GUEST.email, '2055-01-06T15:00:00.000Z', '1:60:guest'],
    ]);

    await call(t, CANCEL, { bookingId: booking.id, manageToken });
    const dropped = await reminders(booking.id);
    expect(dropped).toHaveLength(8);
    expect(dropped.every((r) => r.status === 'CANCELLED')).toBe(true);
  });

  it('does not queue a reminder whose time has passed', async () => {
    const start = new Date(Math.ceil((Date.now() + 90 * 60_000) / 60_000) * 60_000);
    const { booking } = await call(t, BOOK, { slotId: gid('Slot', await c.slot(start.toISOString())), customer: GUEST });
    const queued = await reminders(booking.id);
    expect(queued.map((r) => [r.key, r.dueAt])).toEqual([
      ['0:60:host', new Date(start.getTime() - 3_600_000).toISOString()],
      ['0:60:guest', new Date(start.getTime() - 3_600_000).toISOString()],
    ]);
  });
});

describe('ICS_TIME_ZONES=local through the API', () => {
  it("writes local times with TZID and a VTIMEZONE across the spring-forward change; the instants are the booking's", async () => {
    // 01:30 EST to 03:30 EDT on 2055-03-14: one real hour.
    const { booking } = await call(t, BOOK, { slotId: gid('Slot', await c.slot('2055-03-14T06:30:00Z', 60)), customer: GUEST });
    const [invite] = await queuedMails(t, `kind = 'invitation' AND booking_id = $1`, [decodeGlobalID(booking.id).id]);
    const ics = invite!.content.calendar!.ics;
    expect(ics).toContain('DTSTART;TZID=America/New_York:20550314T013000');
    expect(ics).toContain('DTEND;TZID=America/New_York:20550314T033000');
    const parsed = parseIcs(ics);
    expect(parsed.timezones).toHaveLength(1);
    expect(parsed.events[0]).toMatchObject({ start: '2055-03-14T06:30:00.000Z', end: '2055-03-14T07:30:00.000Z', zone: 'America/New_York' });
  });
});

describe('configuration', () => {
  const load = (env: Record<string, string>) => loadConfig({ ...TEST_SECRETS, ...env });
  it('reads REMINDER_MINUTES_BEFORE and ICS_TIME_ZONES, refusing bad values by name', () => {
    expect(load({}).REMINDER_MINUTES_BEFORE).toEqual([]);
    expect(load({ REMINDER_MINUTES_BEFORE: '' }).REMINDER_MINUTES_BEFORE).toEqual([]);
    expect(load({ REMINDER_MINUTES_BEFORE: '60, 1440,60' }).REMINDER_MINUTES_BEFORE).toEqual([1440, 60]);
    expect(() => load({ REMINDER_MINUTES_BEFORE: 'soon' })).toThrow(ConfigError);
    expect(() => load({ REMINDER_MINUTES_BEFORE: '0' })).toThrow(/REMINDER_MINUTES_BEFORE/);
    expect(load({}).ICS_TIME_ZONES).toBe('utc');
    expect(() => load({ ICS_TIME_ZONES: 'Europe/Paris' })).toThrow(/ICS_TIME_ZONES/);
  });
});
