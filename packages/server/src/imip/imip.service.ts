import type { Config } from '../config.js';
import type { SqlQuery } from '../db/database.js';
import { cancelInTx, cancelSessionInTx } from '../booking/lifecycle.js';
import type { SlotChange } from '../events/slot-events.js';
import { declineNoticeMail, proposalFailedMail } from '../proposals/proposal-mail.js';
import { checkTarget, type CheckedTarget, type ProposalTarget } from '../proposals/proposal-target.js';
import type { MailContent } from '../mail/mail-content.js';
import { insertProposal } from '../proposals/proposal.store.js';
import { issueProposeLink } from '../proposals/proposal-links.js';
import type { ProposalService } from '../proposals/proposal.service.js';
import { loadParties, partyOf, roleOfEmail, type BookingParties } from '../proposals/parties.js';
import { AppError } from '../shared/errors.js';
import { derivedMessageId, parseInboundMail, UnparseableMailError, type CalendarReply, type InboundMail } from './imip-parse.js';
import { finishImipMessage, insertImipMessage, recordReply, selectSlotStartingAt, type ImipOutcome } from './imip.store.js';

export type IngestResult = { outcome: ImipOutcome | 'unparseable'; id?: string };

const PARTSTATS = new Set(['NEEDS-ACTION', 'ACCEPTED', 'TENTATIVE', 'DECLINED', 'DELEGATED']);

interface Effect {
  outcome: ImipOutcome;
  bookingId?: string;
  role?: 'host' | 'guest' | null;
  proposalId?: string | null;
  detail?: string;
  changes?: SlotChange[];
  proposalCreated?: boolean;
}

/**
 * Inbound iMIP (seed 004 slices 6-7): every mail to the organizer mailbox, from the HTTP endpoint
 * or the IMAP poller, is stored once and applied in the same transaction: REPLY answers are recorded
 * (DECLINED by DECLINE_POLICY), a COUNTER becomes a proposal with Approve / Decline links.
 */
export class ImipService {
  constructor(
    private readonly proposals: ProposalService,
    private readonly config: Pick<Config, 'DECLINE_POLICY' | 'NOTIFICATIONS_FROM_EMAIL'>,
  ) {}

  async ingest(raw: Buffer, source: 'http' | 'imap', requestId?: string | null): Promise<IngestResult> {
    const s = this.proposals;
    let mail: InboundMail;
    try {
      mail = await parseInboundMail(raw);
    } catch (error) {
      if (!(error instanceof UnparseableMailError)) throw error;
      const stored = await insertImipMessage(
        s.deps.db.sql,
        raw,
        { messageId: error.messageId ?? derivedMessageId(raw), from: null, calendar: null },
        source,
        'unparseable',
      );
      s.metrics.recordImip('', 'unparseable');
      return { outcome: 'unparseable', id: stored?.id };
    }
    const now = s.now();
    const result = await s.transaction(async (sql): Promise<{ id?: string; effect: Effect }> => {
      const stored = await insertImipMessage(sql, raw, mail, source, mail.calendar ? 'unknown-uid' : 'not-calendar');
      if (!stored) return { effect: { outcome: 'duplicate' } };
      if (stored.duplicateKey || !mail.calendar) return { id: stored.id, effect: { outcome: stored.duplicateKey ? 'duplicate' : 'not-calendar' } };
      const effect = await this.apply(sql, mail, mail.calendar, now, requestId);
      await finishImipMessage(sql, stored.id, { ...effect, bookingId: effect.bookingId ?? null });
      return { id: stored.id, effect };
    });
    await s.publish(result.effect.changes ?? []);
    if (result.effect.proposalCreated) s.metrics.recordProposal('created');
    s.metrics.recordImip(mail.calendar?.method ?? '', result.effect.outcome);
    return { outcome: result.effect.outcome, id: result.id };
  }

  private async apply(sql: SqlQuery, mail: InboundMail, c: CalendarReply, now: Date, requestId?: string | null): Promise<Effect> {
    if (c.method !== 'REPLY' && c.method !== 'COUNTER') return { outcome: 'not-calendar', detail: `METHOD ${c.method || '(none)'} is not a reply` };
    const b = await loadParties(sql, { icsUid: c.uid }, { lock: true });
    if (!b) return { outcome: 'unknown-uid' };
    // Exchange sends REPLYs without ORGANIZER and sometimes with an alias as ATTENDEE: the sender decides then.
    const role = (c.attendee && roleOfEmail(b, c.attendee)) || (mail.from && roleOfEmail(b, mail.from)) || null;
    if (!role) return { outcome: 'unknown-uid', bookingId: b.id, detail: 'the attendee is not a party of this booking' };
    if (c.sequence < b.icsSequence) return { outcome: 'stale', bookingId: b.id, role, detail: `SEQUENCE ${c.sequence} < ${b.icsSequence}` };
    if (b.status !== 'CONFIRMED' && b.status !== 'HELD') return { outcome: 'stale', bookingId: b.id, role, detail: `booking is ${b.status}` };
    const actor = { actorId: null, actorLabel: `imip:${role}`, requestId: requestId ?? null };
    if (c.method === 'COUNTER') return this.counter(sql, b, role, c, now, actor.actorLabel, requestId);

    const partstat = PARTSTATS.has(c.partstat ?? '') ? c.partstat! : 'NEEDS-ACTION';
    await recordReply(sql, b.id, role, partstat, c.sequence, now);
    if (partstat !== 'DECLINED') return { outcome: partstat === 'ACCEPTED' ? 'accepted' : 'tentative', bookingId: b.id, role };

    const outcome = role === 'guest' ? 'declined-guest' : 'declined-host';
    const decliner = partyOf(b, role, this.config.NOTIFICATIONS_FROM_EMAIL);
    if (this.config.DECLINE_POLICY === 'soft') {
      await this.notify(
        sql,
        b,
        this.config.NOTIFICATIONS_FROM_EMAIL,
        declineNoticeMail(b, decliner, false, b.timeZone),
        `reply-notice:${b.id}:${role}:${c.sequence}`,
      );
      return { outcome, bookingId: b.id, role, detail: 'soft policy: recorded, staff told' };
    }
    // Strict: the guest's decline cancels their booking; the host's cancels the session (seed 004: "delete
    // room"), so nobody books it again. The booking engine's cancel queues each calendar CANCEL.
    const context = this.proposals.engineContext(actor, now);
    if (role === 'host' && b.slotId) {
      const { changes } = await cancelSessionInTx(sql, b.slotId, context);
      return { outcome, bookingId: b.id, role, changes, detail: 'strict policy: session cancelled' };
    }
    const { changes } = await cancelInTx(sql, b.id, context);
    if (role === 'guest' && b.host)
      await this.notify(sql, b, b.host.email, declineNoticeMail(b, decliner, true, b.host.timeZone), `reply-notice:${b.id}:guest:${c.sequence}`);
    return { outcome, bookingId: b.id, role, changes, detail: 'strict policy: booking cancelled' };
  }

  /** A COUNTER is a proposal of the attendee's party; a time that cannot be booked ends FAILED at once, and they are told. */
  private async counter(
    sql: SqlQuery,
    b: BookingParties,
    role: 'host' | 'guest',
    c: CalendarReply,
    now: Date,
    label: string,
    requestId?: string | null,
  ): Promise<Effect> {
    if (b.status !== 'CONFIRMED') return { outcome: 'stale', bookingId: b.id, role, detail: 'only a confirmed booking can be moved' };
    const wanted = { startAt: c.startAt!, endAt: c.endAt! };
    let target: CheckedTarget | null = null;
    try {
      const proposed = await this.targetOf(sql, b, wanted);
      target = proposed && (await checkTarget(sql, b, proposed, now));
    } catch (error) {
      if (!(error instanceof AppError)) throw error;
    }
    if (!target) {
      const failed = await insertProposal(sql, {
        bookingId: b.id,
        proposedBy: role,
        source: 'imip',
        ...wanted,
        targetSlotId: null,
        bookingSequence: b.icsSequence,
        note: c.comment,
        expiresAt: now,
        status: 'FAILED',
        failureReason: 'TIME_UNAVAILABLE',
        now,
      });
      const counterer = partyOf(b, role, this.config.NOTIFICATIONS_FROM_EMAIL);
      const proposeUrl = await issueProposeLink(sql, this.proposals.config, b.id, counterer, now);
      await this.notify(
        sql,
        b,
        counterer.email,
        proposalFailedMail(b, wanted, 'TIME_UNAVAILABLE', proposeUrl, counterer),
        `proposal-failed:${failed.id}:${role}`,
      );
      return { outcome: 'counter-proposal', bookingId: b.id, role, proposalId: failed.id, detail: 'the proposed time is not bookable' };
    }
    const acting = { role, label, actorId: null, link: null };
    const { proposal } = await this.proposals.createProposal(sql, b, acting, target, { note: c.comment, source: 'imip', now, requestId });
    return { outcome: 'counter-proposal', bookingId: b.id, role, proposalId: proposal.id, proposalCreated: true };
  }

  /** Slot bookings move to the resource's slot starting at the countered time; range bookings to the range itself. */
  private async targetOf(sql: SqlQuery, b: BookingParties, wanted: { startAt: Date; endAt: Date }): Promise<ProposalTarget | null> {
    if (b.kind === 'RANGE') return { range: wanted };
    const slot = await selectSlotStartingAt(sql, b.slotId, wanted.startAt, wanted.endAt);
    return slot ? { slotId: slot.id } : null;
  }

  private async notify(sql: SqlQuery, b: BookingParties, to: string, content: MailContent, dedupeKey: string) {
    await this.proposals.deps.outbox.enqueue(sql, [{ kind: dedupeKey.split(':')[0]!, to, bookingId: b.id, dedupeKey, content }]);
  }
}
