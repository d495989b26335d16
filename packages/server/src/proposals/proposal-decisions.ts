import { isOverlapViolation } from '../booking/range.js';
import { rescheduleInTx } from '../booking/reschedule.js';
import type { SqlQuery } from '../db/database.js';
import type { MagicLink } from '../links/magic-links.js';
import type { SlotChange } from '../events/slot-events.js';
import { AppError, NotFoundError } from '../shared/errors.js';
import { LinkInvalidError, ProposalClosedError, spentLinkError, type ProposalFailure } from './proposal-errors.js';
import { auditLinkUse, issueProposeLink, openLink } from './proposal-links.js';
import { proposalDeclinedMail, proposalFailedMail } from './proposal-mail.js';
import { rescheduleTargetOf } from './proposal-target.js';
import { closeProposal, findProposal, spendDecisionLinks, writeAudit, type Proposal } from './proposal.store.js';
import type { Acting, Decider, ProposalService } from './proposal.service.js';
import { otherRole, partyOf, requireParties, type BookingParties } from './parties.js';

export interface Decision {
  proposal: Proposal;
  /** True when this call changed nothing because the same decision was already made. */
  alreadyDecided: boolean;
}

type Verdict = 'approve' | 'decline';
const DONE = { approve: 'APPROVED', decline: 'DECLINED' } as const;

/** What a decision transaction ended with; refusals that must still commit (expiry, failure) are thrown after commit. */
type Outcome = { decision: Decision; changes: SlotChange[] } | { closed: ProposalClosedError; proposal?: Proposal };

/**
 * Approve and decline (seed 004 slice 5). Each runs in one transaction that locks the booking, then
 * the proposal, then the link: of two decisions at the same moment the second sees the first's result,
 * so there is one decision, one booking update and one set of mails.
 */
export class ProposalDecisions {
  constructor(private readonly service: ProposalService) {}

  approve(who: Decider, requestId?: string | null): Promise<Decision> {
    return this.decide(who, 'approve', requestId);
  }

  decline(who: Decider, requestId?: string | null): Promise<Decision> {
    return this.decide(who, 'decline', requestId);
  }

  private async decide(who: Decider, verdict: Verdict, requestId?: string | null): Promise<Decision> {
    const s = this.service;
    const now = s.now();
    const outcome = await s.refusalsAudited(who, requestId, async () => {
      const { proposal, link } = await s.proposalOf(who, verdict, now);
      const acting: Acting = link ? { role: link.role, label: `link:${link.role}`, actorId: null, link } : await this.actorFor(who, proposal);
      try {
        return await s.transaction((sql) =>
          this.inTransaction(sql, { proposalId: proposal.id, acting, verdict, now, requestId, token: 'token' in who ? who.token : null }),
        );
      } catch (error) {
        // The booking engine refused the move and the transaction rolled back: the time is gone.
        if (
          verdict === 'approve' &&
          (error instanceof AppError || isOverlapViolation(error)) &&
          !(error instanceof LinkInvalidError) &&
          !(error instanceof ProposalClosedError)
        ) {
          return s.transaction((sql) => this.fail(sql, proposal.id, 'TIME_UNAVAILABLE', now, acting, requestId));
        }
        throw error;
      }
    });
    if ('closed' in outcome) throw outcome.closed;
    await s.publish(outcome.changes);
    if (!outcome.decision.alreadyDecided) s.metrics.recordProposal(verdict === 'approve' ? 'approved' : 'declined');
    return outcome.decision;
  }

  /** Staff decide any proposal; the signed-in customer decides what the host proposed. */
  private async actorFor(who: Decider, proposal: Proposal): Promise<Acting> {
    if ('token' in who) throw new Error('a link decides as its own role');
    const b = await requireParties(this.service.deps.db.sql, proposal.bookingId);
    const customerRole = proposal.proposedBy === 'host' ? 'guest' : 'host';
    return { ...this.service.actorRole(who.actor, b, customerRole, () => new NotFoundError('Proposal', proposal.id)), link: null };
  }

  private async inTransaction(
    sql: SqlQuery,
    d: { proposalId: string; acting: Acting; verdict: Verdict; now: Date; requestId?: string | null; token: string | null },
  ): Promise<Outcome> {
    const s = this.service;
    const first = await findProposal(sql, d.proposalId);
    const b = await requireParties(sql, first!.bookingId, { lock: true });
    const proposal = (await findProposal(sql, d.proposalId, { lock: true }))!;
    let link: MagicLink | null = null;
    if (d.token) {
      link = await openLink(sql, d.token, [d.verdict], d.now, { forUpdate: true, allowUsed: true });
      // Spent meanwhile (the other decision landed first).
      if (link.usedAt) throw spentLinkError(proposal, d.verdict);
    }

    if (proposal.status !== 'PENDING') {
      if (proposal.status === DONE[d.verdict]) return { decision: { proposal, alreadyDecided: true }, changes: [] };
      return { closed: new ProposalClosedError(proposal.id, proposal.status, proposal.failureReason) };
    }
    if (proposal.expiresAt.getTime() <= d.now.getTime()) {
      const expired = await closeProposal(sql, proposal.id, 'EXPIRED', d.now, 'system');
      s.metrics.recordProposal('expired');
      return { closed: new ProposalClosedError(expired.id, 'EXPIRED'), proposal: expired };
    }

    let changes: SlotChange[] = [];
    if (d.verdict === 'approve') {
      if (b.status !== 'CONFIRMED') return this.fail(sql, proposal.id, 'BOOKING_NOT_ACTIVE', d.now, d.acting, d.requestId, b);
      if (b.icsSequence !== proposal.bookingSequence) return this.fail(sql, proposal.id, 'BOOKING_CHANGED', d.now, d.acting, d.requestId, b);
      const context = s.engineContext({ actorId: d.acting.actorId, actorLabel: d.acting.label, requestId: d.requestId }, d.now);
      changes = (await rescheduleInTx(sql, b.id, rescheduleTargetOf(proposal), context)).changes;
    }
    const decided = await closeProposal(sql, proposal.id, DONE[d.verdict], d.now, d.acting.label);
    await spendDecisionLinks(sql, proposal.id, d.now);
    if (d.verdict === 'decline') {
      const proposer = partyOf(b, proposal.proposedBy, s.config.NOTIFICATIONS_FROM_EMAIL);
      const decider = partyOf(b, otherRole(proposal.proposedBy), s.config.NOTIFICATIONS_FROM_EMAIL);
      await s.deps.outbox.enqueue(sql, [
        {
          kind: 'proposal-declined',
          to: proposer.email,
          bookingId: b.id,
          dedupeKey: `proposal-declined:${proposal.id}`,
          content: proposalDeclinedMail(b, decider, proposal, await issueProposeLink(sql, s.config, b.id, proposer, d.now), proposer.timeZone),
        },
      ]);
    }
    await writeAudit(sql, {
      entityType: 'Proposal',
      entityId: proposal.id,
      action: d.verdict === 'approve' ? 'APPROVED' : 'DECLINED',
      actorId: d.acting.actorId,
      actorLabel: d.acting.label,
      requestId: d.requestId,
      newValues: { bookingId: b.id, status: decided.status, startAt: proposal.startAt.toISOString(), endAt: proposal.endAt.toISOString() },
    });
    if (link) await auditLinkUse(sql, link, d.verdict, d.requestId);
    return { decision: { proposal: decided, alreadyDecided: false }, changes };
  }

  /** Ends a still-pending proposal FAILED and tells both parties; the booking keeps its time. */
  private async fail(
    sql: SqlQuery,
    proposalId: string,
    reason: ProposalFailure,
    now: Date,
    acting: Acting,
    requestId?: string | null,
    locked?: BookingParties,
  ): Promise<Outcome> {
    const s = this.service;
    const proposal = (await findProposal(sql, proposalId))!;
    const b = locked ?? (await requireParties(sql, proposal.bookingId, { lock: true }));
    const current = (await findProposal(sql, proposalId, { lock: true }))!;
    if (current.status !== 'PENDING') return { closed: new ProposalClosedError(current.id, current.status, current.failureReason) };
    const failed = await closeProposal(sql, proposalId, 'FAILED', now, acting.label, reason);
    await spendDecisionLinks(sql, proposalId, now);
    const parties = [partyOf(b, 'guest', s.config.NOTIFICATIONS_FROM_EMAIL), partyOf(b, 'host', s.config.NOTIFICATIONS_FROM_EMAIL)];
    const mails = [];
    for (const p of parties) {
      const proposeUrl = b.status === 'CONFIRMED' ? await issueProposeLink(sql, s.config, b.id, p, now) : null;
      mails.push({
        kind: 'proposal-failed',
        to: p.email,
        bookingId: b.id,
        dedupeKey: `proposal-failed:${proposalId}:${p.role}`,
        content: proposalFailedMail(b, failed, reason, proposeUrl, p),
      });
    }
    await s.deps.outbox.enqueue(sql, mails);
    await writeAudit(sql, {
      entityType: 'Proposal',
      entityId: proposalId,
      action: 'FAILED',
      actorId: acting.actorId,
      actorLabel: acting.label,
      requestId,
      newValues: { bookingId: b.id, reason, bookingSequence: b.icsSequence, proposalSequence: failed.bookingSequence },
    });
    s.metrics.recordProposal('failed');
    return { closed: new ProposalClosedError(proposalId, 'FAILED', reason), proposal: failed };
  }
}
