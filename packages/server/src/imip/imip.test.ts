import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, expectNoErrors, type TestApp } from '../../test/kit/app.js';
import { call, RESCHEDULE } from '../../test/kit/documents.js';
import { gid } from '../../test/kit/fixtures.js';
import { APPROVE, GUEST_EMAIL, HOST_EMAIL, proposalFixtures, tokenOf } from '../../test/kit/proposals.js';
import { renderBookingMail } from '../../test/kit/mail.js';
import { sample, type SampleName, type SampleVars } from '../../test/kit/imip-samples/samples.js';
import { serveRoute } from '../../test/kit/serve-route.js';
import { pii } from '../shared/pii.js';
import { ImipService } from './imip.service.js';
import { inboundMailRoutes } from './inbound-route.js';

const TOKEN = 'inbound-secret-0123456789';
let t: TestApp;
let x: ReturnType<typeof proposalFixtures>;
let home: { locationId: string; resourceId: string };
let server: Awaited<ReturnType<typeof serveRoute>>;
let hours = 30;
const nextSlot = () => x.slot(home.locationId, home.resourceId, (hours += 2));

beforeAll(async () => {
  t = await createTestApp({ config: { INBOUND_MAIL_TOKEN: TOKEN } });
  x = proposalFixtures(t);
  home = await x.host();
  server = await serveRoute(inboundMailRoutes(t.app));
});
afterAll(async () => {
  await server?.close();
  await t?.close();
});

async function post(raw: Buffer | string, options: { token?: string; type?: string; path?: string } = {}) {
  const response = await fetch(`${server.url}${options.path ?? '/inbound/mail'}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${options.token ?? TOKEN}`, 'content-type': options.type ?? 'message/rfc822' },
    body: typeof raw === 'string' ? raw : new Uint8Array(raw),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

/** A confirmed booking of the guest with the host, and the values a calendar reply to its invite carries. */
async function invite() {
  const slot = await nextSlot();
  const booking = await x.book(slot);
  const [row] = await t.app.db.sql.query<{ ics_uid: string; ics_sequence: number; start_at: Date; end_at: Date }>(
    `SELECT ics_uid, ics_sequence, start_at, end_at FROM bookings WHERE id = $1`,
    [booking.rawId],
  );
  const vars: SampleVars = { uid: row!.ics_uid, sequence: row!.ics_sequence, attendee: GUEST_EMAIL, start: row!.start_at, end: row!.end_at };
  return { booking, slot, vars };
}

const ATTENDEES = `query ($id: ID!) { booking(id: $id) { ... on Booking { status icsSequence attendees { role partstat repliedAt bouncedAt } } } }`;
const attendees = async (id: string) => expectNoErrors(await t.execute(ATTENDEES, { id }, { token: t.adminToken })).booking;
const stored = async () => t.app.db.sql.query<{ n: number }>(`SELECT count(*)::int AS n FROM imip_messages`).then((r) => r[0]!.n);

describe('POST /inbound/mail', () => {
  it('is off without INBOUND_MAIL_TOKEN (404), refuses a wrong token (401) and another content type (415)', async () => {
    const off = await serveRoute(inboundMailRoutes({ ...t.app, config: { ...t.app.config, INBOUND_MAIL_TOKEN: undefined } }));
    try {
      expect((await fetch(`${off.url}/inbound/mail`, { method: 'POST', body: 'x' })).status).toBe(404);
    } finally {
      await off.close();
    }
    const before = await stored();
    expect((await post('x', { token: 'wrong-token-0123456789' })).status).toBe(401);
    expect((await post('x', { type: 'text/plain' })).status).toBe(415);
    expect(await stored()).toBe(before);
  });

  it.each<[SampleName, 'ACCEPTED' | 'TENTATIVE', string]>([
    ['outlook-reply', 'ACCEPTED', 'accepted'],
    ['exchange-reply', 'TENTATIVE', 'tentative'],
    ['google-reply', 'ACCEPTED', 'accepted'],
    ['apple-reply', 'TENTATIVE', 'tentative'],
    ['thunderbird-reply', 'ACCEPTED', 'accepted'],
  ])('%s %s from the guest: recorded on the booking for staff, nothing else changes', async (name, partstat, outcome) => {
    const { booking, vars } = await invite();
    const before = await x.state();
    expect(await post(sample(name, { ...vars, partstat }))).toEqual({ status: 200, body: { outcome } });
    expect(await attendees(booking.id)).toMatchObject({
      status: 'CONFIRMED',
      icsSequence: 0,
      attendees: [{ role: 'GUEST', partstat, repliedAt: expect.any(String) }],
    });
    expect(await x.state()).toEqual(before);
  });

  it('the host answering (Apple Calendar, from another address of theirs): recorded as the host', async () => {
    const { booking, vars } = await invite();
    expect((await post(sample('apple-reply', { ...vars, attendee: HOST_EMAIL, from: 'alice@home.example', name: 'Alice Host' }))).body).toEqual({
      outcome: 'accepted',
    });
    expect((await attendees(booking.id)).attendees).toEqual([expect.objectContaining({ role: 'HOST', partstat: 'ACCEPTED' })]);
  });

  it('Exchange without ORGANIZER and with an alias as ATTENDEE: the sender decides who answered', async () => {
    const { booking, vars } = await invite();
    expect(
      (await post(sample('exchange-reply', { ...vars, attendee: 'g.guest@alias.example', from: GUEST_EMAIL, partstat: 'ACCEPTED' }))).body,
    ).toEqual({ outcome: 'accepted' });
    expect((await attendees(booking.id)).attendees).toEqual([expect.objectContaining({ role: 'GUEST', partstat: 'ACCEPTED' })]);
  });

  it('duplicates: the same Message-ID again, or the same (uid, method, sequence, attendee, answer) under another Message-ID', async () => {
    const { vars } = await invite();
    const raw = sample('outlook-reply', { ...vars, messageId: '<same-1@outlook.example>' });
    expect((await post(raw)).body).toEqual({ outcome: 'accepted' });
    const once = await stored();
    expect((await post(raw)).body).toEqual({ outcome: 'duplicate' });
    expect(await stored()).toBe(once);
    expect((await post(sample('thunderbird-reply', vars))).body).toEqual({ outcome: 'duplicate' });
    expect(await stored()).toBe(once + 1);
    // Five copies of one new reply at once: one applies, four are duplicates.
    const copies = await Promise.all([...Array(5)].map(() => post(sample('google-reply', { ...vars, partstat: 'TENTATIVE' }))));
    expect(copies.map((c) => c.body.outcome).sort()).toEqual(['duplicate', 'duplicate', 'duplicate', 'duplicate', 'tentative']);
  });

  it('stale: a reply to an older SEQUENCE changes nothing; unknown UID and not-calendar mails are stored and ignored', async () => {
    const { booking, vars } = await invite();
    expect(await call(t, RESCHEDULE, { bookingId: booking.id, slotId: gid('Slot', await nextSlot()) }, { token: t.adminToken })).toMatchObject({
      icsSequence: 1,
    });
    const before = await x.state();
    expect((await post(sample('google-reply', { ...vars, sequence: 0, partstat: 'DECLINED' }))).body).toEqual({ outcome: 'stale' });
    expect((await post(sample('outlook-reply', { ...vars, uid: 'not-ours@elsewhere.example' }))).body).toEqual({ outcome: 'unknown-uid' });
    expect((await post(sample('out-of-office', vars))).body).toEqual({ outcome: 'not-calendar' });
    expect(await x.state()).toEqual(before);
    expect((await attendees(booking.id)).attendees).toEqual([]);
    const rows = await t.app.db.sql.query<{ outcome: string; raw_message: string }>(
      `SELECT outcome, raw_message FROM imip_messages ORDER BY received_at DESC LIMIT 3`,
    );
    expect(rows.map((r) => r.outcome).sort()).toEqual(['not-calendar', 'stale', 'unknown-uid']);
    expect(Buffer.from(pii().decrypt(rows.find((r) => r.outcome === 'not-calendar')!.raw_message), 'base64').toString()).toContain(
      'I am out of the office',
    );
  });

  it('a broken message is 400 unparseable and stored; garbage too', async () => {
    const { vars } = await invite();
    expect(await post(sample('broken-calendar', vars))).toEqual({ status: 400, body: { outcome: 'unparseable' } });
    expect(await post('this is not a mail')).toEqual({ status: 400, body: { outcome: 'unparseable' } });
    const [row] = await t.app.db.sql.query(`SELECT count(*)::int AS n FROM imip_messages WHERE outcome = 'unparseable'`);
    expect(row).toEqual({ n: 2 });
  });
});

describe('DECLINED', () => {
  it('strict (default): the guest declines in Google Calendar -> booking cancelled, slot free, the host told', async () => {
    const { booking, slot, vars } = await invite();
    expect((await post(sample('google-reply', { ...vars, partstat: 'DECLINED' }))).body).toEqual({ outcome: 'declined-guest' });
    expect(await attendees(booking.id)).toMatchObject({ status: 'CANCELLED', icsSequence: 1, attendees: [{ role: 'GUEST', partstat: 'DECLINED' }] });
    expect(await x.f.slotCounts(slot)).toMatchObject({ booked: 0 });
    // The engine's cancel queued the calendar CANCEL (SEQUENCE 1) to the guest, and to the host.
    await renderBookingMail(t);
    const cancels = await t.app.db.sql.query(
      `SELECT ics_method, ics_sequence, count(*)::int AS n FROM outbox_messages WHERE booking_id = $1 AND kind = 'cancellation' GROUP BY 1, 2`,
      [booking.rawId],
    );
    expect(cancels).toEqual([{ ics_method: 'CANCEL', ics_sequence: 1, n: 2 }]);
    const notices = await x.mails(`booking_id = '${booking.rawId}' AND kind = 'reply-notice'`);
    expect(notices.map((m) => m.to)).toEqual([HOST_EMAIL]);
    expect(notices[0]!.content.text).toContain('Grace (guest) declined');
    expect(notices[0]!.content.text).not.toContain(GUEST_EMAIL);
  });

  it('strict: the host declines in Outlook -> the session is cancelled: every booking of it, and nobody books it again', async () => {
    const slot = await x.slot(home.locationId, home.resourceId, (hours += 2), 2);
    const [booking, other] = [await x.book(slot), await x.book(slot, 'second.guest@mail.example')];
    const [row] = await t.app.db.sql.query<{ ics_uid: string; start_at: Date; end_at: Date }>(
      `SELECT ics_uid, start_at, end_at FROM bookings WHERE id = $1`,
      [booking.rawId],
    );
    const vars: SampleVars = { uid: row!.ics_uid, sequence: 0, attendee: HOST_EMAIL, start: row!.start_at, end: row!.end_at };
    const reply = sample('outlook-reply', { ...vars, name: 'Alice Host', partstat: 'DECLINED' });
    expect((await post(reply)).body).toEqual({ outcome: 'declined-host' });
    expect(await attendees(booking.id)).toMatchObject({ status: 'CANCELLED', attendees: [{ role: 'HOST', partstat: 'DECLINED' }] });
    expect(await attendees(other.id)).toMatchObject({ status: 'CANCELLED', icsSequence: 1 });
    expect(await x.f.slotCounts(slot)).toMatchObject({ booked: 0, held: 0, status: 'BLOCKED' });
    const again = await t.execute(`mutation ($input: BookInput!) { book(input: $input) { __typename ... on SlotUnavailableError { reason } } }`, {
      input: { slotId: gid('Slot', slot), customer: { name: 'Late Guest', email: 'late.guest@mail.example' } },
    });
    expect(again.data?.book).toEqual({ __typename: 'SlotUnavailableError', reason: 'BLOCKED' });
    // Each booking's parties get the calendar CANCEL (SEQUENCE 1).
    await renderBookingMail(t);
    const cancels = await t.app.db.sql.query(
      `SELECT booking_id, ics_method, ics_sequence, count(*)::int AS n FROM outbox_messages
        WHERE booking_id = ANY($1::uuid[]) AND kind = 'cancellation' GROUP BY 1, 2, 3 ORDER BY 1`,
      [[booking.rawId, other.rawId].sort()],
    );
    expect(cancels).toEqual([booking.rawId, other.rawId].sort().map((id) => ({ booking_id: id, ics_method: 'CANCEL', ics_sequence: 1, n: 2 })));
  });

  it('soft: only recorded, staff told at the organizer mailbox; the booking stays', async () => {
    const soft = new ImipService(t.app.services.proposals, { ...t.app.config, DECLINE_POLICY: 'soft' });
    const { booking, slot, vars } = await invite();
    expect(await soft.ingest(sample('thunderbird-reply', { ...vars, partstat: 'DECLINED' }), 'http')).toMatchObject({ outcome: 'declined-guest' });
    expect(await attendees(booking.id)).toMatchObject({ status: 'CONFIRMED', icsSequence: 0, attendees: [{ role: 'GUEST', partstat: 'DECLINED' }] });
    expect(await x.f.slotCounts(slot)).toMatchObject({ booked: 1 });
    expect((await x.mails(`booking_id = '${booking.rawId}' AND kind = 'reply-notice'`)).map((m) => m.to)).toEqual([
      t.app.config.NOTIFICATIONS_FROM_EMAIL,
    ]);
  });
});

describe('COUNTER', () => {
  it("Google's COUNTER (only DTSTART / DTEND) -> a proposal with Approve / Decline to the host -> approve moves the booking", async () => {
    const { booking, vars } = await invite();
    const target = await nextSlot();
    const [s] = await t.app.db.sql.query<{ start_at: Date; end_at: Date }>(`SELECT start_at, end_at FROM slots WHERE id = $1`, [target]);
    expect((await post(sample('google-counter', { ...vars, newStart: s!.start_at, newEnd: s!.end_at }))).body).toEqual({
      outcome: 'counter-proposal',
    });
    const [proposal] = await t.app.db.sql.query(`SELECT status, proposed_by, source, target_slot_id FROM proposals WHERE booking_id = $1`, [
      booking.rawId,
    ]);
    expect(proposal).toEqual({ status: 'PENDING', proposed_by: 'guest', source: 'imip', target_slot_id: target });
    const mail = (await x.mails(`booking_id = '${booking.rawId}' AND kind = 'proposal'`))[0]!;
    expect(mail.to).toBe(HOST_EMAIL);
    const approved = await call(t, APPROVE, { token: tokenOf(x.linkIn(mail.content, 'Approve')) });
    expect(approved).toMatchObject({
      __typename: 'ProposalDecision',
      proposal: { status: 'APPROVED', booking: { icsSequence: 1, startAt: s!.start_at.toISOString() } },
    });
  });

  it('a COUNTER to a time with no free slot ends FAILED at once and the counterer is told', async () => {
    const { booking, vars } = await invite();
    const odd = new Date(vars.start.getTime() + 7 * 3_600_000 + 15 * 60_000);
    expect((await post(sample('google-counter', { ...vars, newStart: odd, newEnd: new Date(odd.getTime() + 3_600_000) }))).body).toEqual({
      outcome: 'counter-proposal',
    });
    const [proposal] = await t.app.db.sql.query(`SELECT status, failure_reason FROM proposals WHERE booking_id = $1`, [booking.rawId]);
    expect(proposal).toEqual({ status: 'FAILED', failure_reason: 'TIME_UNAVAILABLE' });
    expect((await x.mails(`booking_id = '${booking.rawId}' AND kind LIKE 'proposal%'`)).map((m) => [m.kind, m.to])).toEqual([
      ['proposal-failed', GUEST_EMAIL],
    ]);
  });
});

describe('POST /inbound/mail-status', () => {
  const report = (body: unknown) => post(JSON.stringify(body), { path: '/inbound/mail-status', type: 'application/json' });

  it('records delivered / bounced / complained for an outbox Message-ID; a hard bounce marks the party on the booking', async () => {
    const { booking, vars } = await invite();
    const target = await nextSlot();
    const [s] = await t.app.db.sql.query<{ start_at: Date; end_at: Date }>(`SELECT start_at, end_at FROM slots WHERE id = $1`, [target]);
    await post(sample('google-counter', { ...vars, newStart: s!.start_at, newEnd: s!.end_at }));
    const [mail] = await t.app.db.sql.query<{ message_id: string }>(
      `SELECT message_id FROM outbox_messages WHERE booking_id = $1 AND kind = 'proposal'`,
      [booking.rawId],
    );
    expect(await report({ messageId: mail!.message_id, status: 'delivered' })).toEqual({ status: 200, body: { recorded: true } });
    expect(await report({ messageId: mail!.message_id.slice(1, -1), status: 'bounced', detail: '550 5.1.1 user unknown' })).toEqual({
      status: 200,
      body: { recorded: true },
    });
    expect((await attendees(booking.id)).attendees).toEqual([expect.objectContaining({ role: 'HOST', bouncedAt: expect.any(String) })]);
    expect(await report({ messageId: '<nobody@example.com>', status: 'bounced' })).toMatchObject({ status: 404 });
    expect(await report({ messageId: mail!.message_id, status: 'lost' })).toMatchObject({ status: 400 });
    const [events] = await t.app.db.sql.query(`SELECT count(*)::int AS n FROM mail_delivery_events`);
    expect(events).toEqual({ n: 2 });
    const metrics = await t.app.metrics.registry.metrics();
    expect(metrics).toContain('slotwise_mail_delivery_reports_total{status="bounced",bounce_type="hard"} 1');
    expect(metrics).toMatch(/slotwise_imip_messages_total\{method="COUNTER",outcome="counter-proposal"\} [1-9]/);
    expect(metrics).toMatch(/slotwise_proposals_total\{event="created"\} [1-9]/);
  });
});
