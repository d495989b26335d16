import { decodeGlobalID } from '@pothos/plugin-relay';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../../test/kit/app.js';
import { BOOK, CANCEL, RESCHEDULE, call } from '../../test/kit/documents.js';
import { gid, GUEST, HOST, clinic } from '../../test/kit/fixtures.js';
import { queuedMails } from '../../test/kit/mail.js';
import { mailSettings } from './mail-settings.js';
import { BookingMailer } from './booking-mail.js';
import { Outbox } from '../mail/outbox.js';

/** Issue #18: booking mails are rendered after commit, from an intent the booking transaction records. */
let t: TestApp;
let c: Awaited<ReturnType<typeof clinic>>;

beforeAll(async () => {
  t = await createTestApp({ config: { REMINDER_MINUTES_BEFORE: '60' } });
  c = await clinic(t);
});
afterAll(() => t?.close());

const dbId = (id: string) => decodeGlobalID(id).id;
const outboxRows = async (bookingId: string) =>
  (await t.app.db.sql.query<{ n: number }>(`SELECT count(*)::int AS n FROM outbox_messages WHERE booking_id = $1`, [bookingId]))[0]!.n;
const intents = (bookingId: string) =>
  t.app.db.sql.query<{ kind: string; details_only: boolean }>(
    `SELECT kind, details_only FROM booking_mail_intents WHERE booking_id = $1 ORDER BY id`,
    [bookingId],
  );
/** Another instance's mailer: the same configuration, its own objects. */
const otherInstance = () => new BookingMailer(new Outbox(t.app.config), mailSettings(t.app.config));

describe('booking mail intents', () => {
  it('the booking transaction records only the intent; the consumer renders the mails, once', async () => {
    const { booking } = await call(t, BOOK, { slotId: gid('Slot', await c.slot('2055-02-01T15:00:00Z')), customer: GUEST });
    expect(await outboxRows(dbId(booking.id))).toBe(0);
    expect(await intents(dbId(booking.id))).toEqual([{ kind: 'invitation', details_only: false }]);

    const mails = await queuedMails(t, 'booking_id = $1', [dbId(booking.id)]);
    expect(mails.map((m) => [m.kind, m.to]).sort()).toEqual([
      ['invitation', HOST.email],
      ['invitation', GUEST.email],
      ['reminder', HOST.email],
      ['reminder', GUEST.email],
    ]);
    expect(await intents(dbId(booking.id))).toEqual([]);
    // Nothing left to render: a second run (here or on another instance) queues nothing more.
    expect(await otherInstance().renderQueued(t.app.db.sql)).toEqual({ rendered: 0, failed: 0 });
    expect(await outboxRows(dbId(booking.id))).toBe(4);
  });

  it('changes rendered late show each change as it was, in order: invitation, update (old reminders withdrawn), cancellation', async () => {
    const first = await c.slot('2055-02-02T15:00:00Z');
    const second = await c.slot('2055-02-03T16:00:00Z');
    const { booking, manageToken } = await call(t, BOOK, { slotId: gid('Slot', first), customer: GUEST });
    const moved = await call(t, RESCHEDULE, { bookingId: booking.id, manageToken, slotId: gid('Slot', second) });
    await call(t, CANCEL, { bookingId: booking.id, manageToken });
    expect((await intents(dbId(booking.id))).map((i) => i.kind)).toEqual(['invitation', 'update', 'cancellation']);

    const mails = await queuedMails(t, `booking_id = $1 AND kind <> 'reminder'`, [dbId(booking.id)]);
    const guest = mails.filter((m) => m.to === GUEST.email);
    expect(guest.map((m) => [m.kind, m.icsSequence, m.icsMethod])).toEqual([
      ['invitation', 0, 'REQUEST'],
      ['update', 1, 'REQUEST'],
      ['cancellation', 2, 'CANCEL'],
    ]);
    expect(guest[0]!.content.text).toContain('2055-02-02 15:00–15:30 UTC');
    expect(guest[1]!.content.text).toContain('2055-02-03 16:00–16:30 UTC');
    expect(new Date(moved.startAt).toISOString()).toBe('2055-02-03T16:00:00.000Z');
    // Every reminder was withdrawn: the first time's by the update, the second's by the cancellation.
    const reminders = await queuedMails(t, `booking_id = $1 AND kind = 'reminder'`, [dbId(booking.id)]);
    expect(reminders).toHaveLength(4);
    expect(reminders.every((r) => r.status === 'CANCELLED')).toBe(true);
  });

  it('many consumers at once (instances) render every intent exactly once', async () => {
    const booked: string[] = [];
    for (let i = 0; i < 12; i++) {
      const slot = await c.slot(`2055-02-10T${String(8 + i).padStart(2, '0')}:00:00Z`);
      booked.push(dbId((await call(t, BOOK, { slotId: gid('Slot', slot), customer: { ...GUEST, email: `guest${i}@mail.example` } })).booking.id));
    }
    const runs = await Promise.all([0, 1, 2, 3].map(() => otherInstance().renderQueued(t.app.db.sql, 2)));
    expect(runs.reduce((sum, r) => sum + r.rendered, 0)).toBe(12);
    const counts = await t.app.db.sql.query<{ booking_id: string; invitations: number }>(
      `SELECT booking_id, count(*) FILTER (WHERE kind = 'invitation')::int AS invitations FROM outbox_messages
        WHERE booking_id = ANY($1::uuid[]) GROUP BY booking_id`,
      [booked],
    );
    expect(counts.map((r) => r.invitations)).toEqual(booked.map(() => 2));
  });
});
