import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../logger.js';
import { startServer, type RunningServer } from '../server.js';
import { createTestApp, type TestApp } from '../../test/kit/app.js';
import { waitFor } from '../../test/kit/wait.js';
import { FROM, invite } from '../../test/kit/mail.js';
import { startMailServer, type MailServer } from '../../test/mail-server.js';
import { listenForQueuedMail } from './outbox-wakeup.js';
import type { OutboxMail } from './outbox.js';

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

describe('the outbox wake-up (PostgreSQL NOTIFY)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(() => t.close());

  it('wakes once on connecting and once per committed transaction that queued mail, never for a rollback', async () => {
    let wakes = 0;
    const waiters: (() => void)[] = [];
    const wakeCount = (n: number) => new Promise<void>((resolve) => (wakes >= n ? resolve() : waiters.push(() => wakes >= n && resolve())));
    const listener = listenForQueuedMail(
      t.databaseUrl,
      () => {
        wakes++;
        waiters.forEach((w) => w());
      },
      createLogger('silent'),
    );
    try {
      await wakeCount(1);
      await expect(
        t.app.db.sql.transaction(async (tx) => {
          await t.app.services.outbox.enqueue(tx, [invite('guest@example.org')]);
          throw new Error('rolled back');
        }),
      ).rejects.toThrow('rolled back');
      await t.app.db.sql.transaction((tx) => t.app.services.outbox.enqueue(tx, [invite('a@example.org'), invite('b@example.org')]));
      // Notifications arrive in commit order: had the rollback notified, this would be its wake.
      await wakeCount(2);
      expect(wakes).toBe(2);
    } finally {
      await listener.close();
    }
  });
});
