import ICAL from 'ical.js';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { openDatabase, type Database, type SqlQuery } from '../db/database.js';
import { createTestApp, type TestApp } from '../../test/kit/app.js';
import { FROM, invite, testIcs } from '../../test/kit/mail.js';
import { mimeTree, startMailServer, type MailServer } from '../../test/mail-server.js';
import { pii } from '../shared/pii.js';
import { DELIVERY_DEFAULTS, mailDeliveryFromConfig, type MailDeliveryOptions } from './delivery.js';
import type { OutboxMail } from './outbox.js';

describe('mail delivery over SMTP', () => {
  let t: TestApp;
  let smtp: MailServer;
  let clock: Date;
  const worker = (overrides: Partial<MailDeliveryOptions> = {}) =>
    mailDeliveryFromConfig(t.app, { now: () => clock, random: () => 0.5, ...overrides });
  const enqueue = (mails: OutboxMail[], q?: SqlQuery) =>
    q ? t.app.services.outbox.enqueue(q, mails) : t.app.db.sql.transaction((tx) => t.app.services.outbox.enqueue(tx, mails));
  const row = async (id: string) =>
    (
      await t.app.db.sql.query<{
        status: string;
        attempts: number;
        last_error: string | null;
        due_at: Date;
        sent_at: Date | null;
        message_id: string;
      }>(`SELECT status, attempts, last_error, due_at, sent_at, message_id FROM outbox_messages WHERE id = $1`, [id])
    )[0]!;

  beforeAll(async () => {
    smtp = await startMailServer();
    t = await createTestApp({ config: { SMTP_URL: smtp.url, NOTIFICATIONS_FROM_EMAIL: FROM } });
  });
  afterAll(async () => {
    await t.close();
    await smtp.close();
  });
  beforeEach(async () => {
    smtp.reset();
    await t.app.db.sql.query(`DELETE FROM outbox_messages`);
    // A second ahead of the database clock, so rows queued with due_at = now() are due.
    clock = new Date(Date.now() + 1_000);
  });

  it('sends mixed > alternative (text, html, calendar with the ICS METHOD) + invite.ics, with the row Message-ID, From and To', async () => {
    const [id] = await enqueue([invite('guest@example.org', 'CANCEL', 2)]);
    expect(await worker().runOnce()).toMatchObject({ claimed: 1, sent: 1 });
    const [mail] = await smtp.waitForMessages(1);
    const stored = await row(id!);

    const tree = mimeTree(mail!.raw);
    expect(tree.type).toBe('multipart/mixed');
    const [alternative, attachment] = tree.children;
    expect(alternative!.type).toBe('multipart/alternative');
    expect(alternative!.children.map((p) => p.type)).toEqual(['text/plain', 'text/html', 'text/calendar']);
    const calendarPart = alternative!.children[2]!;
    expect(calendarPart.params.method).toBe('CANCEL');
    expect(calendarPart.params.charset?.toUpperCase()).toBe('UTF-8');
    expect(attachment).toMatchObject({ type: 'application/ics', disposition: 'attachment', filename: 'invite.ics' });

    // The ICS itself, read by a real iCalendar parser, says the same METHOD as the MIME part.
    const ics = mail!.parsed.attachments.find((a) => a.filename === 'invite.ics')!.content.toString('utf8');
    expect(new ICAL.Component(ICAL.parse(ics)).getFirstPropertyValue('method')).toBe(calendarPart.params.method);

    expect(mail!.parsed.messageId).toBe(stored.message_id);
    expect(mail!.parsed.from?.value[0]?.address).toBe(FROM);
    expect(mail!.envelope).toEqual({ from: FROM, to: ['guest@example.org'] });
    const to = Array.isArray(mail!.parsed.to) ? mail!.parsed.to[0] : mail!.parsed.to;
    expect(to?.value.map((a) => a.address)).toEqual(['guest@example.org']);
    expect(stored).toMatchObject({ status: 'SENT', attempts: 1, last_error: null, sent_at: clock });
  });

  it('sends a mail without a calendar part as plain multipart/alternative', async () => {
    await enqueue([
      {
        kind: 'registration',
        to: 'guest@example.org',
        dedupeKey: `reg-${Date.now()}`,
        content: { subject: 'Registered', text: 'Hi', html: '<p>Hi</p>' },
      },
    ]);
    await worker().runOnce();
    const [mail] = await smtp.waitForMessages(1);
    const tree = mimeTree(mail!.raw);
    expect(tree.type).toBe('multipart/alternative');
    expect(tree.children.map((p) => p.type)).toEqual(['text/plain', 'text/html']);
    expect(mail!.parsed.attachments).toEqual([]);
  });

  it('refuses a calendar part whose method differs from the ICS METHOD: at enqueue (nothing queued), and at delivery (FAILED, nothing sent)', async () => {
    const mail = invite('guest@example.org');
    mail.content.calendar!.ics = testIcs('CANCEL', mail.ics!.uid);
    await expect(enqueue([mail])).rejects.toThrow('calendar method REQUEST does not match the ICS METHOD CANCEL');
    expect(await t.app.db.sql.query(`SELECT id FROM outbox_messages`)).toEqual([]);

    // A row written some other way (an older version, by hand) is checked again before sending.
    const [{ id }] = (await t.app.db.sql.query<{ id: string }>(
      `INSERT INTO outbox_messages (kind, ics_uid, ics_sequence, ics_method, recipient, recipient_hash, message_id, content)
       VALUES ('invitation', $1, 0, 'REQUEST', $2, $3, '<mismatch@slotwise.test>', $4) RETURNING id`,
      [mail.ics!.uid, pii().encrypt(mail.to), pii().emailHash(mail.to), pii().encrypt(JSON.stringify(mail.content))],
    )) as [{ id: string }];
    expect(await worker().runOnce()).toMatchObject({ failed: 1 });
    expect(await row(id)).toMatchObject({
      status: 'FAILED',
      attempts: 1,
      last_error: 'calendar method REQUEST does not match the ICS METHOD CANCEL',
    });
    expect(smtp.messages).toHaveLength(0);
  });

  it('retries transient failures (421, 451) with growing backoff, then delivers exactly once', async () => {
    smtp.failNext(1, 421, 'Service not available, closing channel');
    smtp.failNext(1, 451, 'Local error in processing');
    const [id] = await enqueue([invite('guest@example.org')]);
    const w = worker();
    const waits: number[] = [];

    for (const code of [421, 451]) {
      const started = clock.getTime();
      expect(await w.runOnce()).toMatchObject({ claimed: 1, retried: 1 });
      const r = await row(id!);
      expect(r.status).toBe('PENDING');
      expect(r.last_error).toContain(String(code));
      waits.push(r.due_at.getTime() - started);
      // Not due yet: nothing is claimed a millisecond before the retry time.
      clock = new Date(r.due_at.getTime() - 1);
      expect(await w.runOnce()).toMatchObject({ claimed: 0 });
      clock = r.due_at;
    }
    expect(await w.runOnce()).toMatchObject({ claimed: 1, sent: 1 });

    expect(waits[0]).toBeGreaterThanOrEqual(DELIVERY_DEFAULTS.retryBaseMs / 2);
    expect(waits[1]).toBeGreaterThan(waits[0]!);
    expect(smtp.refused).toBe(2);
    expect(await smtp.waitForMessages(1)).toHaveLength(1);
    expect(await row(id!)).toMatchObject({ status: 'SENT', attempts: 3, last_error: null, sent_at: clock });
    clock = new Date(clock.getTime() + 24 * 3600_000);
    expect(await w.runOnce()).toMatchObject({ claimed: 0 });
    expect(smtp.messages).toHaveLength(1);
  });

  it('backoff doubles per attempt, jittered between half and all of it, capped', () => {
    const low = worker({ random: () => 0 });
    const high = worker({ random: () => 0.999999 });
    for (let attempt = 1; attempt < 8; attempt++) {
      expect(low.backoffMs(attempt + 1)).toBeGreaterThanOrEqual(Math.min(high.backoffMs(attempt), DELIVERY_DEFAULTS.retryMaxMs / 2));
    }
    expect(low.backoffMs(1)).toBe(30_000);
    expect(high.backoffMs(1)).toBe(60_000);
    expect(high.backoffMs(30)).toBeLessThanOrEqual(DELIVERY_DEFAULTS.retryMaxMs);
    expect(high.backoffMs(30)).toBeGreaterThan(DELIVERY_DEFAULTS.retryMaxMs - 10);
  });

  it('a permanent 550 marks the row FAILED with the error, no more attempts', async () => {
    smtp.failNext(1, 550, 'No such user here');
    const [id] = await enqueue([invite('nobody@example.org')]);
    const w = worker();
    expect(await w.runOnce()).toMatchObject({ failed: 1 });
    const r = await row(id!);
    expect(r).toMatchObject({ status: 'FAILED', attempts: 1 });
    expect(r.last_error).toMatch(/550.*No such user here/);
    clock = new Date(clock.getTime() + 24 * 3600_000);
    expect(await w.runOnce()).toMatchObject({ claimed: 0 });
    expect(smtp.refused).toBe(1);
    expect(smtp.messages).toHaveLength(0);
  });

  it('gives up after MAIL_MAX_ATTEMPTS transient failures: FAILED with the last error', async () => {
    smtp.failNext(10, 451, 'Mailbox busy');
    const [id] = await enqueue([invite('busy@example.org')]);
    const w = worker({ maxAttempts: 3 });
    for (let attempt = 1; attempt <= 3; attempt++) {
      expect(await w.runOnce()).toMatchObject({ claimed: 1 });
      clock = (await row(id!)).due_at;
    }
    const r = await row(id!);
    expect(r).toMatchObject({ status: 'FAILED', attempts: 3 });
    expect(r.last_error).toMatch(/451.*Mailbox busy/);
    clock = new Date(clock.getTime() + 24 * 3600_000);
    expect(await w.runOnce()).toMatchObject({ claimed: 0 });
    expect(smtp.refused).toBe(3);
  });

  it('two workers on two connection pools racing over 50 rows deliver each exactly once', async () => {
    const ids = await enqueue(Array.from({ length: 50 }, (_, i) => invite(`guest${i}@example.org`)));
    const pools: Database[] = await Promise.all([0, 1].map(() => openDatabase({ url: t.databaseUrl, poolMax: 2 })));
    try {
      const workers = pools.map((db) => mailDeliveryFromConfig({ ...t.app, db }, { now: () => clock, batchSize: 3 }));
      const claimed = await Promise.all(
        workers.map(async (w) => {
          let total = 0;
          for (let run = 0; run < 50; run++) {
            const { claimed } = await w.runOnce();
            if (!claimed) break;
            total += claimed;
          }
          return total;
        }),
      );
      expect(claimed[0]! + claimed[1]!).toBe(50);
      expect(claimed.every((n) => n > 0)).toBe(true);
    } finally {
      await Promise.all(pools.map((db) => db.close()));
    }
    const messages = await smtp.waitForMessages(50);
    const stored = await t.app.db.sql.query<{ message_id: string; status: string; attempts: number }>(
      `SELECT message_id, status, attempts FROM outbox_messages WHERE id = ANY($1::uuid[])`,
      [ids],
    );
    expect(new Set(messages.map((m) => m.parsed.messageId)).size).toBe(50);
    expect(messages.map((m) => m.parsed.messageId).sort()).toEqual(stored.map((r) => r.message_id).sort());
    expect(stored.every((r) => r.status === 'SENT' && r.attempts === 1)).toBe(true);
  });

  it('a crash between the 250 and marking the row sends it once more after the lease, with the same Message-ID', async () => {
    const [id] = await enqueue([invite('guest@example.org')]);
    // This worker "dies" right after the SMTP 250: its mark statement never reaches the database.
    const crashing: SqlQuery = {
      query: (text, params) => (/SET status = 'SENT'/.test(text) ? Promise.reject(new Error('process killed')) : t.app.db.sql.query(text, params)),
    };
    const claimedAt = clock;
    await expect(mailDeliveryFromConfig({ ...t.app, db: { sql: crashing } }, { now: () => clock }).runOnce()).rejects.toThrow('process killed');
    await smtp.waitForMessages(1);
    expect(await row(id!)).toMatchObject({ status: 'PENDING', attempts: 1, due_at: new Date(claimedAt.getTime() + DELIVERY_DEFAULTS.leaseMs) });

    const survivor = worker();
    clock = new Date(claimedAt.getTime() + DELIVERY_DEFAULTS.leaseMs - 1);
    expect(await survivor.runOnce()).toMatchObject({ claimed: 0 });
    clock = new Date(claimedAt.getTime() + DELIVERY_DEFAULTS.leaseMs);
    expect(await survivor.runOnce()).toMatchObject({ claimed: 1, sent: 1 });

    const messages = await smtp.waitForMessages(2);
    const stored = await row(id!);
    expect(messages.map((m) => m.parsed.messageId)).toEqual([stored.message_id, stored.message_id]);
    expect(stored).toMatchObject({ status: 'SENT', attempts: 2 });
    clock = new Date(clock.getTime() + 24 * 3600_000);
    expect(await survivor.runOnce()).toMatchObject({ claimed: 0 });
    expect(smtp.messages).toHaveLength(2);
  });

  it('a worker that died during its last allowed attempt leaves the row FAILED, not sent again', async () => {
    const [id] = await enqueue([invite('guest@example.org')]);
    const dying: SqlQuery = {
      query: (text, params) => (/SET status = 'SENT'/.test(text) ? Promise.reject(new Error('process killed')) : t.app.db.sql.query(text, params)),
    };
    await expect(mailDeliveryFromConfig({ ...t.app, db: { sql: dying } }, { now: () => clock, maxAttempts: 1 }).runOnce()).rejects.toThrow();
    clock = new Date(clock.getTime() + DELIVERY_DEFAULTS.leaseMs);
    expect(await worker({ maxAttempts: 1 }).runOnce()).toMatchObject({ claimed: 0 });
    expect(await row(id!)).toMatchObject({ status: 'FAILED', attempts: 1, last_error: 'gave up: attempt 1 did not finish' });
    expect(smtp.messages).toHaveLength(1);
  });

  it('a batch running long on a slow server gives back its unattempted rows before their lease can run out', async () => {
    const ids = await enqueue([invite('a@example.org'), invite('b@example.org'), invite('c@example.org')]);
    const smtpTransport = worker().transport;
    // Each send "takes" 40 s of the clock: past a quarter of the 2-minute lease after the first one.
    const slow = worker({
      batchSize: 3,
      transport: {
        kind: 'smtp',
        send: async (id, message) => {
          await smtpTransport.send(id, message);
          clock = new Date(clock.getTime() + 40_000);
        },
        close: () => smtpTransport.close(),
      },
    });
    expect(await slow.runOnce()).toMatchObject({ claimed: 3, sent: 1, released: 2 });
    const rows = await Promise.all(ids.map(row));
    expect(rows.map((r) => `${r.status} ${r.attempts}`).sort()).toEqual(['PENDING 0', 'PENDING 0', 'SENT 1']);
    expect(rows.filter((r) => r.status === 'PENDING').map((r) => r.due_at)).toEqual([clock, clock]);
    expect(await worker().runOnce()).toMatchObject({ claimed: 2, sent: 2 });
    expect(await smtp.waitForMessages(3)).toHaveLength(3);
  });

  it('a rolled-back transaction that queued a mail queues and delivers nothing', async () => {
    await expect(
      t.app.db.sql.transaction(async (tx) => {
        expect(await enqueue([invite('guest@example.org')], tx)).toHaveLength(1);
        throw new Error('booking failed');
      }),
    ).rejects.toThrow('booking failed');
    expect(await t.app.db.sql.query(`SELECT id FROM outbox_messages`)).toEqual([]);
    expect(await worker().runOnce()).toMatchObject({ claimed: 0 });
    expect(smtp.messages).toHaveLength(0);
  });
});
