import { encodeGlobalID } from '@pothos/plugin-relay';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../logger.js';
import { createTestApp, expectNoErrors, type TestApp } from '../../test/kit/app.js';
import { FROM, invite } from '../../test/kit/mail.js';
import { startMailServer, type MailServer } from '../../test/mail-server.js';
import { mailDeliveryFromConfig, type MailDelivery } from './delivery.js';

const LIST = `query ($status: OutboxStatus, $first: Int, $after: String) {
  outboxMessages(status: $status, first: $first, after: $after) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges { node { id kind recipient subject method uid sequence status attempts lastError dueAt sentAt createdAt messageId } }
  }
}`;
const RETRY = `mutation ($id: ID!) {
  retryOutboxMessage(id: $id) {
    __typename
    ... on OutboxMessage { id status attempts lastError dueAt }
    ... on ValidationError { fieldErrors { path message } }
    ... on NotFoundError { entity }
  }
}`;

describe('staff view of the outbox, metrics and logs', () => {
  let t: TestApp;
  let smtp: MailServer;
  let worker: MailDelivery;
  const logLines: Record<string, unknown>[] = [];
  let ids: string[];
  const gid = (id: string) => encodeGlobalID('OutboxMessage', id);

  beforeAll(async () => {
    smtp = await startMailServer();
    const logger = createLogger('info', { write: (line: string) => void logLines.push(JSON.parse(line)) });
    t = await createTestApp({ config: { SMTP_URL: smtp.url, NOTIFICATIONS_FROM_EMAIL: FROM }, logger });
    worker = mailDeliveryFromConfig(t.app, { now: () => new Date(Date.now() + 1_000) });
    t.app.metrics.measureOutboxDepth(() => worker.depth());
    // Queued one by one, so the three are in a known order (each transaction's created_at is later).
    ids = [];
    for (const to of ['ada@example.org', 'bob@example.org', 'cy@example.org']) {
      ids.push(...(await t.app.db.sql.transaction((tx) => t.app.services.outbox.enqueue(tx, [invite(to, 'REQUEST', 1)]))));
    }
    smtp.failNext(1, 550, 'No such user here');
    expect(await worker.runOnce()).toMatchObject({ sent: 2, failed: 1 });
    await smtp.waitForMessages(2);
  });
  afterAll(async () => {
    await t.close();
    await smtp.close();
  });

  it('lists mail newest first with its delivery state and the recipient decrypted; pages with after', async () => {
    const first = expectNoErrors(await t.execute(LIST, { first: 2 }, { token: t.adminToken })).outboxMessages;
    expect(first.totalCount).toBe(3);
    expect(first.edges.map((e: any) => e.node.id)).toEqual([gid(ids[2]!), gid(ids[1]!)]);
    const rest = expectNoErrors(await t.execute(LIST, { first: 2, after: first.pageInfo.endCursor }, { token: t.adminToken })).outboxMessages;
    expect(rest.edges.map((e: any) => e.node.id)).toEqual([gid(ids[0]!)]);
    expect(rest.pageInfo.hasNextPage).toBe(false);

    const failed = expectNoErrors(await t.execute(LIST, { status: 'FAILED' }, { token: t.adminToken })).outboxMessages;
    expect(failed.totalCount).toBe(1);
    const [message] = await t.app.db.sql.query<{ message_id: string; ics_uid: string }>(
      `SELECT message_id, ics_uid FROM outbox_messages WHERE id = $1`,
      [ids[0]],
    );
    expect(failed.edges[0].node).toMatchObject({
      id: gid(ids[0]!),
      kind: 'invitation',
      recipient: 'ada@example.org',
      subject: expect.stringContaining('Invitation'),
      method: 'REQUEST',
      uid: message!.ics_uid,
      sequence: 1,
      status: 'FAILED',
      attempts: 1,
      lastError: expect.stringMatching(/550.*No such user here/),
      sentAt: null,
      messageId: message!.message_id,
    });
  });

  it('retryOutboxMessage re-queues a FAILED mail due now with attempts reset; the worker then sends it', async () => {
    const before = Date.now();
    const retried = expectNoErrors(await t.execute(RETRY, { id: gid(ids[0]!) }, { token: t.adminToken })).retryOutboxMessage;
    expect(retried).toMatchObject({ __typename: 'OutboxMessage', status: 'PENDING', attempts: 0, lastError: expect.stringContaining('550') });
    expect(new Date(retried.dueAt).getTime()).toBeGreaterThanOrEqual(before - 1_000);
    expect(await worker.runOnce()).toMatchObject({ claimed: 1, sent: 1 });
    const [mail] = (await smtp.waitForMessages(3)).slice(2);
    expect(mail!.envelope.to).toEqual(['ada@example.org']);
    const sent = expectNoErrors(await t.execute(LIST, { status: 'SENT' }, { token: t.adminToken })).outboxMessages;
    expect(sent.totalCount).toBe(3);
  });

  it('refuses to retry a message that is not FAILED (ValidationError on id) or does not exist (NotFoundError)', async () => {
    const sent = expectNoErrors(await t.execute(RETRY, { id: gid(ids[1]!) }, { token: t.adminToken })).retryOutboxMessage;
    expect(sent).toEqual({
      __typename: 'ValidationError',
      fieldErrors: [{ path: ['id'], message: 'only a FAILED message can be retried; this one is SENT' }],
    });
    const unknown = expectNoErrors(
      await t.execute(RETRY, { id: gid('00000000-0000-7000-8000-000000000000') }, { token: t.adminToken }),
    ).retryOutboxMessage;
    expect(unknown).toEqual({ __typename: 'NotFoundError', entity: 'OutboxMessage' });
    const [row] = await t.app.db.sql.query<{ status: string }>(`SELECT status FROM outbox_messages WHERE id = $1`, [ids[1]]);
    expect(row!.status).toBe('SENT');
  });

  it('is for admins only: staff and the public are refused, also through node()', async () => {
    const manager = await t.tokenFor(['manager']);
    expect((await t.execute(LIST, {}, { token: manager })).errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect((await t.execute(LIST, {})).errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    expect((await t.execute(RETRY, { id: gid(ids[2]!) }, { token: manager })).errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    const node = await t.execute(
      `query ($id: ID!) { node(id: $id) { ... on OutboxMessage { recipient } } }`,
      { id: gid(ids[2]!) },
      { token: manager },
    );
    // node() of something the caller may not see is null, as an unknown id is (issue #14).
    expect(node).toEqual({ data: { node: null } });
  });

  it('counts sent and failed mail by kind and method, and reports the outbox depth', async () => {
    const metrics = await t.app.metrics.registry.metrics();
    expect(metrics).toMatch(/^slotwise_mail_sent_total\{kind="invitation",method="REQUEST"\} 3$/m);
    expect(metrics).toMatch(/^slotwise_mail_failed_total\{kind="invitation",method="REQUEST"\} 1$/m);
    expect(metrics).toMatch(/^slotwise_outbox_depth 0$/m);
    for (const mail of [invite('dee@example.org'), invite('eve@example.org', 'CANCEL')]) {
      await t.app.db.sql.transaction((tx) => t.app.services.outbox.enqueue(tx, [mail]));
    }
    expect(await t.app.metrics.registry.metrics()).toMatch(/^slotwise_outbox_depth 2$/m);
    smtp.failNext(1, 451, 'Try again later');
    expect(await worker.runOnce()).toMatchObject({ retried: 1, sent: 1 });
    const after = await t.app.metrics.registry.metrics();
    expect(after).toMatch(/^slotwise_mail_retried_total\{kind="invitation",method="REQUEST"\} 1$/m);
    expect(after).toMatch(/^slotwise_mail_sent_total\{kind="cancellation",method="CANCEL"\} 1$/m);
    expect(after).toMatch(/^slotwise_outbox_depth 1$/m);
  });

  it('logs every attempt with outbox id, kind, uid, sequence, method, attempt and outcome, and no address', async () => {
    const attempts = logLines.filter((l) => l.component === 'mail');
    expect(attempts.map((l) => l.outcome)).toEqual(['failed', 'sent', 'sent', 'sent', 'retried', 'sent']);
    const [message] = await t.app.db.sql.query<{ ics_uid: string }>(`SELECT ics_uid FROM outbox_messages WHERE id = $1`, [ids[0]]);
    expect(attempts[0]).toMatchObject({
      outboxId: ids[0],
      kind: 'invitation',
      uid: message!.ics_uid,
      sequence: 1,
      method: 'REQUEST',
      attempt: 1,
      outcome: 'failed',
    });
    expect(attempts[4]).toMatchObject({ outcome: 'retried', retryInMs: expect.any(Number), error: expect.stringContaining('451') });
    const text = JSON.stringify(logLines);
    for (const address of ['ada@', 'bob@', 'cy@', 'dee@', 'eve@']) expect(text).not.toContain(address);
  });
});
