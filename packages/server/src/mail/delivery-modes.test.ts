import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { simpleParser } from 'mailparser';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createSlotwise } from '../app.js';
import { loadConfig, type Config } from '../config.js';
import { createTestApp, TEST_SECRETS, type TestApp } from '../../test/kit/app.js';
import { FROM, invite } from '../../test/kit/mail.js';
import { startMailServer, type MailServer } from '../../test/mail-server.js';
import { sqlIn } from '../db/database.js';
import { mailDeliveryFromConfig } from './delivery.js';
import type { OutboxMail } from './outbox.js';

const dirs: string[] = [];
const tempDir = () => {
  const dir = mkdtempSync(join(tmpdir(), 'slotwise-mail-'));
  dirs.push(dir);
  return dir;
};
afterAll(() => dirs.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

describe('notification flags and transports (PostgreSQL)', () => {
  let t: TestApp;
  let smtp: MailServer;
  /** The worker exactly as the server builds it from these environment variables. */
  const workerFor = (env: Record<string, string>) => {
    const config: Config = loadConfig({ DATABASE_URL: t.databaseUrl, ...TEST_SECRETS, NOTIFICATIONS_FROM_EMAIL: FROM, ...env });
    return mailDeliveryFromConfig({ ...t.app, config });
  };
  const enqueue = (mails: OutboxMail[]) => t.app.db.sql.transaction((tx) => t.app.services.outbox.enqueue(tx, mails));
  const statusOf = async (id: string) =>
    (
      await t.app.db.sql.query<{ status: string; attempts: number; message_id: string }>(
        `SELECT status, attempts, message_id FROM outbox_messages WHERE id = $1`,
        [id],
      )
    )[0]!;

  beforeAll(async () => {
    smtp = await startMailServer();
    t = await createTestApp();
  });
  afterAll(async () => {
    await t.close();
    await smtp.close();
  });
  beforeEach(async () => {
    smtp.reset();
    await t.app.db.sql.query(`DELETE FROM outbox_messages`);
  });

  it('NOTIFICATIONS_ENABLED=false sends nothing and keeps the rows PENDING; turned on, they go out', async () => {
    const ids = await enqueue([invite('guest@example.org'), invite('host@example.org')]);
    const off = workerFor({ SMTP_URL: smtp.url, NOTIFICATIONS_ENABLED: 'false' });
    expect(await off.runOnce()).toEqual({ claimed: 0, sent: 0, retried: 0, failed: 0, released: 0 });
    for (const id of ids) expect(await statusOf(id)).toMatchObject({ status: 'PENDING', attempts: 0 });
    expect(smtp.messages).toHaveLength(0);

    expect(await workerFor({ SMTP_URL: smtp.url }).runOnce()).toMatchObject({ sent: 2 });
    expect(await smtp.waitForMessages(2)).toHaveLength(2);
  });

  it('mail queued inside a Prisma interactive transaction (sqlIn) is delivered once it commits', async () => {
    const [id] = await t.app.db.prisma.$transaction((tx) => t.app.services.outbox.enqueue(sqlIn(tx), [invite('guest@example.org')]));
    expect(await workerFor({ SMTP_URL: smtp.url }).runOnce()).toMatchObject({ claimed: 1, sent: 1 });
    expect(await statusOf(id!)).toMatchObject({ status: 'SENT' });
    expect(await smtp.waitForMessages(1)).toHaveLength(1);
  });

  it('NOTIFICATIONS_REDIRECT_TO delivers to that address and names the intended recipient in the bodies and a header', async () => {
    await enqueue([invite('guest@example.org')]);
    await workerFor({ SMTP_URL: smtp.url, NOTIFICATIONS_REDIRECT_TO: 'staging-inbox@slotwise.test' }).runOnce();
    const [mail] = await smtp.waitForMessages(1);
    expect(mail!.envelope.to).toEqual(['staging-inbox@slotwise.test']);
    const to = Array.isArray(mail!.parsed.to) ? mail!.parsed.to[0] : mail!.parsed.to;
    expect(to?.value.map((a) => a.address)).toEqual(['staging-inbox@slotwise.test']);
    expect(mail!.parsed.headers.get('x-slotwise-original-to')).toBe('guest@example.org');
    expect(mail!.parsed.text).toMatch(/^Intended for: guest@example\.org\n/);
    expect(mail!.parsed.html).toMatch(/^<p>Intended for: guest@example\.org<\/p>/);
    // The calendar part is untouched: the invite is the one the recipient would have had.
    expect(mail!.parsed.attachments.find((a) => a.filename === 'invite.ics')?.content.toString()).toContain('ATTENDEE;RSVP=TRUE');
  });

  it('without SMTP_URL writes each delivered message as <DATA_DIR>/mail/<outbox id>.eml', async () => {
    const dataDir = tempDir();
    const [id] = await enqueue([invite('guest@example.org')]);
    const worker = workerFor({ DATA_DIR: dataDir });
    expect(worker.transport.kind).toBe('file');
    expect(await worker.runOnce()).toMatchObject({ sent: 1 });
    const file = join(dataDir, 'mail', `${id}.eml`);
    const parsed = await simpleParser(readFileSync(file));
    const stored = await statusOf(id!);
    expect(parsed.messageId).toBe(stored.message_id);
    expect(parsed.attachments.map((a) => a.filename)).toContain('invite.ics');
    expect(stored.status).toBe('SENT');
    expect(smtp.messages).toHaveLength(0);
  });

  it('a mail folder that cannot be written is a transient failure: retried, not lost', async () => {
    const dataDir = tempDir();
    writeFileSync(join(dataDir, 'mail'), 'a file where the folder should be');
    const [id] = await enqueue([invite('guest@example.org')]);
    expect(await workerFor({ DATA_DIR: dataDir }).runOnce()).toMatchObject({ retried: 1 });
    expect(await statusOf(id!)).toMatchObject({ status: 'PENDING', attempts: 1 });
  });

  it('DATA_DIR=memory:// keeps no mail on disk but marks it sent', async () => {
    const [id] = await enqueue([invite('guest@example.org')]);
    const worker = workerFor({ DATA_DIR: 'memory://' });
    expect(worker.transport.kind).toBe('discard');
    expect(await worker.runOnce()).toMatchObject({ sent: 1 });
    expect(await statusOf(id!)).toMatchObject({ status: 'SENT' });
    expect(existsSync('memory:')).toBe(false);
  });
});

describe('embedded PGlite', () => {
  it('claims and delivers on the embedded database into <DATA_DIR>/mail', async () => {
    const app = await createSlotwise({ config: loadConfig({ DATA_DIR: 'memory://', LOG_LEVEL: 'silent' }) });
    try {
      const dataDir = tempDir();
      const [id] = await app.db.prisma.$transaction((tx) => app.services.outbox.enqueue(sqlIn(tx), [invite('guest@example.org')]));
      const worker = mailDeliveryFromConfig({ ...app, config: { ...app.config, DATA_DIR: dataDir } }, { now: () => new Date(Date.now() + 1_000) });
      expect(await worker.runOnce()).toMatchObject({ claimed: 1, sent: 1 });
      const parsed = await simpleParser(readFileSync(join(dataDir, 'mail', `${id}.eml`)));
      expect(parsed.subject).toContain('Invitation');
      expect(await worker.runOnce()).toMatchObject({ claimed: 0 });
    } finally {
      await app.close();
    }
  });
});
