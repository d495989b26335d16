import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sqlIn } from '../db/database.js';
import { createLogger } from '../logger.js';
import { startServer, type RunningServer } from '../server.js';
import { createTestApp, type TestApp } from '../../test/kit/app.js';
import { waitFor } from '../../test/kit/wait.js';
import { FROM, invite } from '../../test/kit/mail.js';
import { startMailServer, type MailServer } from '../../test/mail-server.js';
import { listenForNotifications } from '../db/listen.js';
import { MAIL_INTENTS_CHANNEL } from '../calendar/booking-mail.js';
import { DOMAIN_EVENTS_CHANNEL } from '../events/domain-events.js';
import { BOOK, call } from '../../test/kit/documents.js';
import { gid, GUEST, clinic } from '../../test/kit/fixtures.js';
import { OUTBOX_CHANNEL, type OutboxMail } from './outbox.js';

describe('delivery in a running server', () => {
  let t: TestApp;
  let smtp: MailServer;
  let server: RunningServer;
  const enqueue = (mails: OutboxMail[]) => t.app.db.sql.transaction((tx) => t.app.services.outbox.enqueue(tx, mails));

  beforeAll(async () => {
    smtp = await startMailServer();
    t = await createTestApp({ config: { SMTP_URL: smtp.url, NOTIFICATIONS_FROM_EMAIL: FROM } });
    server = await startServer(t.app, { port: 0, host: '127.0.0.1' });
  });
  afterAll(async () => {
    await server.stop();
    await t.close();
    await smtp.close();
  });

  it('delivers a committed mail through the mail-delivery job, and /metrics shows it', async () => {
    const [id] = await enqueue([invite('guest@example.org')]);
    const [mail] = await smtp.waitForMessages(1);
    expect(mail!.envelope.to).toEqual(['guest@example.org']);
    const [row] = await t.app.db.sql.query<{ status: string; message_id: string }>(`SELECT status, message_id FROM outbox_messages WHERE id = $1`, [
      id,
    ]);
    expect(mail!.parsed.messageId).toBe(row!.message_id);
    // The worker counts the send after the SMTP server's 250, so the counter may trail the arrival.
    const metrics = await waitFor(async () => {
      const text = await (await fetch(`${server.url}/metrics`)).text();
      return /^slotwise_mail_sent_total\{/m.test(text) && text;
    }, 'the sent counter');
    expect(metrics).toMatch(/^slotwise_mail_sent_total\{kind="invitation",method="REQUEST"\} 1$/m);
    expect(metrics).toMatch(/^slotwise_outbox_depth \d+$/m);
  });
});

describe('the wake-ups at commit', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(() => t.close());

  it("wake each job on connecting, then only for what gives it work, once per committed transaction (this process's directly, others' by NOTIFY), never for a rollback", async () => {
    const c = await clinic(t);
    const wakes = { render: 0, delivery: 0, events: 0 };
    const listener = listenForNotifications(
      t.app.db.sql,
      t.databaseUrl,
      {
        [MAIL_INTENTS_CHANNEL]: () => wakes.render++,
        [OUTBOX_CHANNEL]: () => wakes.delivery++,
        [DOMAIN_EVENTS_CHANNEL]: () => wakes.events++,
      },
      createLogger('silent'),
    );
    // What reaches PostgreSQL's notification queue, seen by a client of its own.
    const watcher = new pg.Client({ connectionString: t.databaseUrl });
    await watcher.connect();
    const notified: string[] = [];
    watcher.on('notification', (n) => notified.push(n.channel));
    await watcher.query(`LISTEN ${OUTBOX_CHANNEL}; LISTEN ${MAIL_INTENTS_CHANNEL}; LISTEN ${DOMAIN_EVENTS_CHANNEL}; LISTEN test_marker`);
    try {
      await waitFor(() => wakes.render + wakes.delivery + wakes.events === 3, 'the wakes on connecting');
      expect(wakes).toEqual({ render: 1, delivery: 1, events: 1 });
      await expect(
        t.app.db.sql.transaction(async (tx) => {
          await t.app.services.outbox.enqueue(tx, [invite('guest@example.org')]);
          throw new Error('rolled back');
        }),
      ).rejects.toThrow('rolled back');
      await t.app.db.sql.transaction((tx) => t.app.services.outbox.enqueue(tx, [invite('a@example.org'), invite('b@example.org')]));
      // Woken in process by the commit, with no NOTIFY: PostgreSQL serializes the commits that send one.
      expect(wakes).toEqual({ render: 1, delivery: 2, events: 1 });

      // A booking wakes the renderer and the event workers; delivery only once its mails are rendered.
      await call(t, BOOK, { slotId: gid('Slot', await c.slot('2027-02-01T15:00:00Z')), customer: GUEST });
      expect(wakes).toEqual({ render: 2, delivery: 2, events: 2 });
      expect((await t.app.services.bookingMail.renderQueued(t.app.db.sql)).rendered).toBe(1);
      expect(wakes).toEqual({ render: 2, delivery: 3, events: 2 });

      // A transaction this process does not run (Prisma's, another instance's) wakes it through NOTIFY.
      await t.app.db.prisma.$transaction((tx) => t.app.services.outbox.enqueue(sqlIn(tx), [invite('c@example.org')]));
      await waitFor(() => wakes.delivery === 4, 'the NOTIFY wake');
      // Notifications arrive in commit order: once the marker is in, so is every NOTIFY committed before it.
      await t.app.db.sql.query(`SELECT pg_notify('test_marker', '')`);
      await waitFor(() => notified.includes('test_marker'), 'the marker');
      expect(notified).toEqual([OUTBOX_CHANNEL, 'test_marker']);
      expect(wakes).toEqual({ render: 2, delivery: 4, events: 2 });
    } finally {
      await watcher.end();
      await listener.close();
    }
  });
});
