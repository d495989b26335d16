import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../../test/kit/app.js';
import { call, RESCHEDULE } from '../../test/kit/documents.js';
import { gid } from '../../test/kit/fixtures.js';
import { renderBookingMail } from '../../test/kit/mail.js';
import { APPROVE, DECLINE, GUEST_EMAIL, HOST_EMAIL, PROPOSE, proposalFixtures, tokenOf } from '../../test/kit/proposals.js';

let t: TestApp;
let x: ReturnType<typeof proposalFixtures>;
let home: { locationId: string; resourceId: string };
let hours = 24;
/** A fresh free slot of the host, an hour after the last one. */
const nextSlot = (capacity = 1) => x.slot(home.locationId, home.resourceId, (hours += 2), capacity);

beforeAll(async () => {
  t = await createTestApp({ config: { PUBLIC_URL: 'https://book.example/' } });
  x = proposalFixtures(t);
  home = await x.host();
});
afterAll(() => t?.close());

/** A confirmed booking of the guest, its manage link, and a slot to propose. */
async function booked() {
  const booking = await x.book(await nextSlot());
  const manage = await x.link(booking.rawId);
  return { booking, manage, target: await nextSlot() };
}

async function propose(token: string, slotId: string, note?: string, options = {}) {
  return call(t, PROPOSE, { token, slotId: gid('Slot', slotId), note }, options);
}

describe('propose', () => {
  it('with the manage link: a pending proposal, and the host gets Approve / Decline links in their zone and UTC, without the guest address', async () => {
    const { booking, manage, target } = await booked();
    const proposal = await propose(manage, target, 'Running late that day');
    expect(proposal).toMatchObject({
      __typename: 'Proposal',
      status: 'PENDING',
      proposedBy: 'GUEST',
      note: 'Running late that day',
      booking: { id: booking.id, icsSequence: 0 },
    });

    const mails = await x.mails(`booking_id = '${booking.rawId}' AND kind LIKE 'proposal%'`);
    expect(mails.map((m) => [m.kind, m.to])).toEqual([['proposal', HOST_EMAIL]]);
    const { content } = mails[0]!;
    // Named as the host's invitation names it, the time in the host's zone with its abbreviation.
    expect(content.subject).toMatch(/^Proposed new time: Session with Grace, \w{3} \w{3} \d+, .+ GMT\+[12]$/);
    expect(content.text).toContain('Grace proposes to move your session with Grace.');
    expect(content.text).toContain('(Europe/Berlin) = ');
    expect(content.text).toContain(' UTC');
    expect(content.text).toContain('Note from Grace: Running late that day');
    expect(content.html).toContain('>Approve</a>');
    expect(`${content.text}${content.html}`).not.toContain(GUEST_EMAIL);
    expect(x.linkIn(content, 'Approve')).toMatch(/^https:\/\/book\.example\/approve\?t=ml_/);
    expect(x.linkIn(content, 'Decline')).toMatch(/^https:\/\/book\.example\/decline\?t=ml_/);

    const [audit] = await t.app.db.sql.query(`SELECT count(*)::int AS n FROM audit_events WHERE entity_type = 'MagicLink' AND action = 'LINK_USED'`);
    expect(audit).toMatchObject({ n: expect.any(Number) });
    expect((audit as { n: number }).n).toBeGreaterThan(0);
  });

  it('a host titled "Dr." proposes: the guest reads their first name, and the booking as the guest\'s invitation names it', async () => {
    const resourceId = await x.f.resource(home.locationId, { kind: 'PERSON', name: 'Dr. Jane Host', email: 'jane.host@clinic.example' });
    const slot = () => x.slot(home.locationId, resourceId, (hours += 2));
    const booking = await x.book(await slot());
    const hostLink = await x.link(booking.rawId, { role: 'host', email: 'jane.host@clinic.example' });
    expect(await propose(hostLink, await slot())).toMatchObject({ __typename: 'Proposal', proposedBy: 'HOST' });
    const [mail] = await x.mails(`booking_id = '${booking.rawId}' AND kind = 'proposal'`);
    expect(mail!.to).toBe(GUEST_EMAIL);
    expect(mail!.content.subject).toMatch(/^Proposed new time: Session with Jane, /);
    expect(mail!.content.text).toContain('Jane proposes to move your session with Jane.');
    expect(`${mail!.content.subject}${mail!.content.text}`).not.toContain('Dr.');
  });

  it('a new proposal supersedes the pending one (one pending per booking); its links then refuse', async () => {
    const { booking, manage, target } = await booked();
    const first = await propose(manage, target);
    const firstMail = (await x.mails(`booking_id = '${booking.rawId}' AND kind = 'proposal'`))[0]!;
    const second = await propose(manage, await nextSlot());
    const rows = await t.app.db.sql.query<{ status: string }>(`SELECT status FROM proposals WHERE booking_id = $1 ORDER BY created_at`, [
      booking.rawId,
    ]);
    expect(rows.map((r) => r.status)).toEqual(['SUPERSEDED', 'PENDING']);
    expect(first.id).not.toBe(second.id);
    const late = await call(t, APPROVE, { token: tokenOf(x.linkIn(firstMail.content, 'Approve')) });
    expect(late).toMatchObject({ __typename: 'ProposalClosedError', code: 'PROPOSAL_CLOSED', status: 'SUPERSEDED' });
    // The database itself refuses a second pending proposal.
    await expect(
      t.app.db.sql.query(`UPDATE proposals SET status = 'PENDING', decided_at = NULL WHERE booking_id = $1`, [booking.rawId]),
    ).rejects.toThrow(/proposals_one_pending_idx/);
  });

  it('signed in: staff propose as the host, the customer as the guest; a scheduler or a stranger may not', async () => {
    const { booking, target } = await booked();
    const staff = await call(t, PROPOSE, { bookingId: booking.id, slotId: gid('Slot', target) }, { token: await t.tokenFor(['frontdesk']) });
    expect(staff).toMatchObject({ __typename: 'Proposal', proposedBy: 'HOST' });
    expect((await x.mails(`booking_id = '${booking.rawId}' AND kind = 'proposal'`)).map((m) => m.to)).toEqual([GUEST_EMAIL]);
    const customer = await call(
      t,
      PROPOSE,
      { bookingId: booking.id, slotId: gid('Slot', await nextSlot()) },
      { token: await t.tokenFor(['user'], GUEST_EMAIL) },
    );
    expect(customer).toMatchObject({ __typename: 'Proposal', proposedBy: 'GUEST' });
    for (const token of [await t.tokenFor(['scheduler']), await t.tokenFor(['user'])]) {
      expect(await call(t, PROPOSE, { bookingId: booking.id, slotId: gid('Slot', target) }, { token })).toMatchObject({
        __typename: 'NotFoundError',
      });
    }
    expect(await call(t, PROPOSE, { bookingId: booking.id, slotId: gid('Slot', target) })).toMatchObject({
      __typename: 'ValidationError',
      fieldErrors: [{ path: ['input', 'token'] }],
    });
  });

  it('refuses a full, past or foreign slot and a cancelled booking, changing nothing', async () => {
    const { manage } = await booked();
    const full = await nextSlot();
    await x.book(full, 'other@mail.example');
    const otherHost = await x.host();
    const foreign = await x.slot(otherHost.locationId, otherHost.resourceId, 30);
    const before = await x.state();
    expect(await propose(manage, full)).toMatchObject({ __typename: 'SlotFullError' });
    expect(await propose(manage, foreign)).toMatchObject({ __typename: 'SlotUnavailableError' });
    expect(await call(t, PROPOSE, { token: manage, range: { startAt: '2030-01-01T10:00:00Z', endAt: '2030-01-01T11:00:00Z' } })).toMatchObject({
      __typename: 'ValidationError',
    });
    expect(await x.state()).toEqual(before);
  });
});

describe('tokens', () => {
  it('expired, reused, tampered, wrong purpose and wrong booking are refused with a reason; nothing changes', async () => {
    const { booking, manage, target } = await booked();
    const other = await booked();
    const proposal = await propose(manage, target);
    const mail = (await x.mails(`booking_id = '${booking.rawId}' AND kind = 'proposal'`))[0]!;
    const approve = tokenOf(x.linkIn(mail.content, 'Approve'));
    const decline = tokenOf(x.linkIn(mail.content, 'Decline'));
    const expired = await x.link(booking.rawId, { expiresAt: new Date(Date.now() + 1000) });
    const before = await x.state();

    const refused = async (doc: string, input: Record<string, unknown>, reason: string) =>
      expect(await call(t, doc, input)).toMatchObject({ __typename: 'LinkInvalidError', code: 'LINK_INVALID', reason });
    const later = t.app.services.proposals.now;
    t.app.services.proposals.now = () => new Date(Date.now() + 5000);
    await refused(PROPOSE, { token: expired, slotId: gid('Slot', target) }, 'EXPIRED');
    t.app.services.proposals.now = later;
    await refused(PROPOSE, { token: `${manage.slice(0, -2)}xx`, slotId: gid('Slot', target) }, 'UNKNOWN');
    await refused(PROPOSE, { token: 'not a token!', slotId: gid('Slot', target) }, 'UNKNOWN');
    await refused(APPROVE, { token: decline }, 'WRONG_PURPOSE');
    await refused(PROPOSE, { token: approve, slotId: gid('Slot', target) }, 'WRONG_PURPOSE');
    await refused(PROPOSE, { token: manage, bookingId: other.booking.id, slotId: gid('Slot', target) }, 'WRONG_BOOKING');
    await refused(APPROVE, { token: approve, proposalId: gid('Proposal', '01890000-0000-7000-8000-000000000000') }, 'WRONG_BOOKING');
    expect(await x.state()).toEqual(before);

    // Used once, refused the second time: one decision, one move.
    expect(await call(t, APPROVE, { token: approve, proposalId: proposal.id })).toMatchObject({
      __typename: 'ProposalDecision',
      proposal: { status: 'APPROVED' },
    });
    const after = await x.state();
    await refused(APPROVE, { token: approve }, 'USED');
    // The other link of the mail, never used itself: the proposal's state is the answer.
    expect(await call(t, DECLINE, { token: decline })).toMatchObject({ __typename: 'ProposalClosedError', status: 'APPROVED' });
    expect(await x.state()).toEqual(after);

    const audit = await t.app.db.sql.query<{ action: string; reason: string | null }>(
      `SELECT action, new_values->>'reason' AS reason FROM audit_events WHERE entity_type = 'MagicLink' AND new_values->>'bookingId' = $1 ORDER BY created_at`,
      [booking.rawId],
    );
    expect(audit.map((a) => `${a.action}:${a.reason ?? ''}`)).toEqual(
      expect.arrayContaining(['LINK_USED:', 'LINK_REFUSED:EXPIRED', 'LINK_REFUSED:WRONG_PURPOSE', 'LINK_REFUSED:USED']),
    );
  });
});

describe('approve and decline', () => {
  it('approve moves the booking through the engine once: SEQUENCE + 1, the old slot free, the new one booked, links spent', async () => {
    const { booking, manage, target } = await booked();
    const from = (await t.app.db.sql.query<{ slot_id: string }>(`SELECT slot_id FROM bookings WHERE id = $1`, [booking.rawId]))[0]!.slot_id;
    await propose(manage, target);
    const mail = (await x.mails(`booking_id = '${booking.rawId}' AND kind = 'proposal'`))[0]!;
    const result = await call(t, APPROVE, { token: tokenOf(x.linkIn(mail.content, 'Approve')) });
    expect(result).toMatchObject({
      __typename: 'ProposalDecision',
      alreadyDecided: false,
      proposal: { status: 'APPROVED', booking: { icsSequence: 1 } },
    });
    expect(await x.f.slotCounts(from)).toMatchObject({ booked: 0 });
    expect(await x.f.slotCounts(target)).toMatchObject({ booked: 1 });
    const [moved] = await t.app.db.sql.query(`SELECT slot_id, ics_sequence FROM bookings WHERE id = $1`, [booking.rawId]);
    expect(moved).toEqual({ slot_id: target, ics_sequence: 1 });
    // The engine's mail policy queued one REQUEST update per party, SEQUENCE 1, rendered after commit.
    await renderBookingMail(t);
    const updates = await t.app.db.sql.query(
      `SELECT ics_method, ics_sequence, count(*)::int AS n FROM outbox_messages WHERE booking_id = $1 AND kind = 'update' GROUP BY 1, 2`,
      [booking.rawId],
    );
    expect(updates).toEqual([{ ics_method: 'REQUEST', ics_sequence: 1, n: 2 }]);
    const [links] = await t.app.db.sql.query(
      `SELECT count(*) FILTER (WHERE used_at IS NULL)::int AS unused FROM magic_links WHERE proposal_id IS NOT NULL AND booking_id = $1`,
      [booking.rawId],
    );
    expect(links).toEqual({ unused: 0 });
    // Staff approving again: idempotent, nothing more.
    const again = await call(t, APPROVE, { proposalId: result.proposal.id }, { token: t.adminToken });
    expect(again).toMatchObject({ alreadyDecided: true, proposal: { status: 'APPROVED', booking: { icsSequence: 1 } } });
  });

  it('decline changes nothing of the booking and tells the proposer; approve after decline is refused', async () => {
    const { booking, manage, target } = await booked();
    const proposal = await propose(manage, target);
    const mail = (await x.mails(`booking_id = '${booking.rawId}' AND kind = 'proposal'`))[0]!;
    const declined = await call(t, DECLINE, { token: tokenOf(x.linkIn(mail.content, 'Decline')) });
    expect(declined).toMatchObject({ __typename: 'ProposalDecision', proposal: { status: 'DECLINED', booking: { icsSequence: 0 } } });
    const courtesy = await x.mails(`booking_id = '${booking.rawId}' AND kind = 'proposal-declined'`);
    expect(courtesy.map((m) => m.to)).toEqual([GUEST_EMAIL]);
    expect(courtesy[0]!.content.text).toContain('Alice declined the time you proposed');
    expect(courtesy[0]!.content.text).not.toContain(HOST_EMAIL);
    // The courtesy mail carries the proposer's own link to propose again.
    const again = x.linkIn(courtesy[0]!.content, 'Propose another time');
    expect(again).toMatch(/^https:\/\/book\.example\/reschedule\?r=ml_/);
    expect(await propose(tokenOf(again), await nextSlot())).toMatchObject({ __typename: 'Proposal', proposedBy: 'GUEST' });
    expect(await call(t, APPROVE, { proposalId: proposal.id }, { token: t.adminToken })).toMatchObject({
      __typename: 'ProposalClosedError',
      status: 'DECLINED',
    });
    // The Approve link of the same mail, never used itself: declined, not "already used".
    expect(await call(t, APPROVE, { token: tokenOf(x.linkIn(mail.content, 'Approve')) })).toMatchObject({
      __typename: 'ProposalClosedError',
      status: 'DECLINED',
    });
    expect(await x.f.slotCounts(target)).toMatchObject({ booked: 0 });
  });

  it('the time taken meanwhile: the proposal ends FAILED, both parties are told, the booking keeps its time', async () => {
    const { booking, manage, target } = await booked();
    await propose(manage, target);
    await x.book(target, 'fast@mail.example');
    const mail = (await x.mails(`booking_id = '${booking.rawId}' AND kind = 'proposal'`))[0]!;
    const result = await call(t, APPROVE, { token: tokenOf(x.linkIn(mail.content, 'Approve')) });
    expect(result).toMatchObject({ __typename: 'ProposalClosedError', status: 'FAILED', failureReason: 'TIME_UNAVAILABLE' });
    expect((await x.mails(`booking_id = '${booking.rawId}' AND kind = 'proposal-failed'`)).map((m) => m.to).sort()).toEqual(
      [HOST_EMAIL, GUEST_EMAIL].sort(),
    );
    const [row] = await t.app.db.sql.query(`SELECT ics_sequence FROM bookings WHERE id = $1`, [booking.rawId]);
    expect(row).toEqual({ ics_sequence: 0 });
  });

  it('the booking changed in between: refused as BOOKING_CHANGED, not moved a second time', async () => {
    const { booking, manage, target } = await booked();
    const proposal = await propose(manage, target);
    expect(await call(t, RESCHEDULE, { bookingId: booking.id, slotId: gid('Slot', await nextSlot()) }, { token: t.adminToken })).toMatchObject({
      icsSequence: 1,
    });
    const result = await call(t, APPROVE, { proposalId: proposal.id }, { token: t.adminToken });
    expect(result).toMatchObject({ __typename: 'ProposalClosedError', status: 'FAILED', failureReason: 'BOOKING_CHANGED' });
    expect(await x.f.slotCounts(target)).toMatchObject({ booked: 0 });
  });
});

describe('expiry', () => {
  it('a proposal nobody decided in DECISION_LINK_TTL_HOURS: its links are expired, a staff decision marks it EXPIRED', async () => {
    const { booking, manage, target } = await booked();
    const proposal = await propose(manage, target);
    const mail = (await x.mails(`booking_id = '${booking.rawId}' AND kind = 'proposal'`))[0]!;
    const real = t.app.services.proposals.now;
    t.app.services.proposals.now = () => new Date(Date.now() + (t.app.config.DECISION_LINK_TTL_HOURS + 1) * 3_600_000);
    try {
      expect(await call(t, APPROVE, { token: tokenOf(x.linkIn(mail.content, 'Approve')) })).toMatchObject({
        __typename: 'LinkInvalidError',
        reason: 'EXPIRED',
      });
      expect(await call(t, APPROVE, { proposalId: proposal.id }, { token: t.adminToken })).toMatchObject({
        __typename: 'ProposalClosedError',
        status: 'EXPIRED',
      });
    } finally {
      t.app.services.proposals.now = real;
    }
    const [row] = await t.app.db.sql.query(`SELECT ics_sequence FROM bookings WHERE id = $1`, [booking.rawId]);
    expect(row).toEqual({ ics_sequence: 0 });
  });
});

describe('races', () => {
  const countRows = async (bookingId: string) =>
    (
      await t.app.db.sql.query<{ action: string; n: number }>(
        `SELECT action, count(*)::int AS n FROM audit_events WHERE entity_id = $1::uuid OR new_values->>'bookingId' = $2 GROUP BY action ORDER BY action`,
        [bookingId, bookingId],
      )
    ).reduce<Record<string, number>>((acc, r) => ({ ...acc, [r.action]: r.n }), {});

  it('approve and decline of one proposal at the same moment: one decision, at most one move', async () => {
    const { booking, manage, target } = await booked();
    await propose(manage, target);
    const mail = (await x.mails(`booking_id = '${booking.rawId}' AND kind = 'proposal'`))[0]!;
    const approve = tokenOf(x.linkIn(mail.content, 'Approve'));
    const decline = tokenOf(x.linkIn(mail.content, 'Decline'));
    const results = await Promise.all([...Array(6)].flatMap(() => [call(t, APPROVE, { token: approve }), call(t, DECLINE, { token: decline })]));
    const decided = results.filter((r) => r.__typename === 'ProposalDecision' && !r.alreadyDecided);
    expect(decided).toHaveLength(1);
    const rows = await countRows(booking.rawId);
    expect((rows.APPROVED ?? 0) + (rows.DECLINED ?? 0)).toBe(1);
    const [b] = await t.app.db.sql.query<{ ics_sequence: number }>(`SELECT ics_sequence FROM bookings WHERE id = $1`, [booking.rawId]);
    expect(b!.ics_sequence).toBe(rows.APPROVED ? 1 : 0);
    expect(rows.RESCHEDULED ?? 0).toBe(rows.APPROVED ?? 0);
    expect((await x.mails(`booking_id = '${booking.rawId}' AND kind = 'proposal-declined'`)).length).toBe(rows.DECLINED ?? 0);
    expect((await x.mails(`booking_id = '${booking.rawId}' AND kind = 'update'`)).length).toBe(2 * (rows.APPROVED ?? 0));
  });

  it('ten approvals at once (the link and staff): one decision, one update', async () => {
    const { booking, manage, target } = await booked();
    const proposal = await propose(manage, target);
    const mail = (await x.mails(`booking_id = '${booking.rawId}' AND kind = 'proposal'`))[0]!;
    const approve = tokenOf(x.linkIn(mail.content, 'Approve'));
    const staff = await t.tokenFor(['manager']);
    const results = await Promise.all([
      ...[...Array(5)].map(() => call(t, APPROVE, { token: approve })),
      ...[...Array(5)].map(() => call(t, APPROVE, { proposalId: proposal.id }, { token: staff })),
    ]);
    expect(results.filter((r) => r.__typename === 'ProposalDecision' && !r.alreadyDecided)).toHaveLength(1);
    expect(results.every((r) => r.__typename === 'ProposalDecision' || r.reason === 'USED')).toBe(true);
    const rows = await countRows(booking.rawId);
    expect([rows.APPROVED, rows.RESCHEDULED]).toEqual([1, 1]);
    await renderBookingMail(t);
    const [updates] = await t.app.db.sql.query(`SELECT count(*)::int AS n FROM outbox_messages WHERE booking_id = $1 AND kind = 'update'`, [
      booking.rawId,
    ]);
    expect(updates).toEqual({ n: 2 });
    const [b] = await t.app.db.sql.query(`SELECT ics_sequence FROM bookings WHERE id = $1`, [booking.rawId]);
    expect(b).toEqual({ ics_sequence: 1 });
    expect(await x.f.slotCounts(target)).toMatchObject({ booked: 1 });
  });
});
