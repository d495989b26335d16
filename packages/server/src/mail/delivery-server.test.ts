import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sqlIn } from '../db/database.js';
import { createLogger } from '../logger.js';
import { startServer, type RunningServer } from '../server.js';
import { createTestApp, type TestApp } from '../../test/kit/app.js';
import { waitFor } from '../../test/kit/wait.js';
import { FROM, invite } from '../../test/kit/mail.js';
import { startMailServer, type MailServer } from '../../test/mail-server.js';
import { listenForQueuedMail } from './outbox-wakeup.js';
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

describe('the outbox wake-up', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(() => t.close());

  it("wakes on connecting, once per committed transaction that queued mail (this process's directly, others' by NOTIFY), never for a rollback", async () => {
    let wakes = 0;
    const waiters: (() => void)[] = [];
    const wakeCount = (n: number) => new Promise<void>((resolve) => (wakes >= n ? resolve() : waiters.push(() => wakes >= n && resolve())));
    const listener = listenForQueuedMail(
      t.app.db.sql,
      t.databaseUrl,
      () => {
        wakes++;
        waiters.forEach((w) => w());
      },
      createLogger('silent'),
    );
    // What reaches PostgreSQL's notification queue, seen by a client of its own.
    const watcher = new pg.Client({ connectionString: t.databaseUrl });
    await watcher.connect();
    const notified: string[] = [];
    watcher.on('notification', (n) => notified.push(n.channel));
    await watcher.query(`LISTEN ${OUTBOX_CHANNEL}; LISTEN test_marker`);
    try {
      await wakeCount(1);
      await expect(
        t.app.db.sql.transaction(async (tx) => {
          await t.app.services.outbox.enqueue(tx, [invite('guest@example.org')]);
          throw new Error('rolled back');
        }),
      ).rejects.toThrow('rolled back');
      await t.app.db.sql.transaction((tx) => t.app.services.outbox.enqueue(tx, [invite('a@example.org'), invite('b@example.org')]));
      // Woken in process by the commit, with no NOTIFY: PostgreSQL serializes the commits that send one.
      expect(wakes).toBe(2);
      // A transaction this process does not run (Prisma's, another instance's) wakes it through NOTIFY.
      await t.app.db.prisma.$transaction((tx) => t.app.services.outbox.enqueue(sqlIn(tx), [invite('c@example.org')]));
      await wakeCount(3);
      // Notifications arrive in commit order: once the marker is in, so is every NOTIFY committed before it.
      await t.app.db.sql.query(`SELECT pg_notify('test_marker', '')`);
      await waitFor(() => notified.includes('test_marker'), 'the marker');
      expect(notified).toEqual([OUTBOX_CHANNEL, 'test_marker']);
      expect(wakes).toBe(3);
    } finally {
      await watcher.end();
      await listener.close();
    }
  });
});
