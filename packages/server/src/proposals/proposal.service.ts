import type { Config } from '../config.js';
import type { Database, SqlQuery } from '../db/database.js';
import { bookingTransaction } from '../booking/booking.service.js';
import type { TxContext } from '../booking/lifecycle.js';
import type { BookingMailer } from '../calendar/booking-mail.js';
import type { MagicLink, MagicLinkPurpose, MagicLinkRole } from '../links/magic-links.js';
import type { SlotChange, SlotEvents } from '../events/slot-events.js';
import type { Outbox } from '../mail/outbox.js';
import { BookingNotActiveError } from '../booking/errors.js';
import { BOOKING_MANAGER_ROLES, isOwner } from '../booking/access.js';
import { hasAnyRole, type Actor } from '../shared/actor.js';
import { NotFoundError } from '../shared/errors.js';
import { pii } from '../shared/pii.js';
import { LinkInvalidError, spentLinkError } from './proposal-errors.js';
import { auditLinkUse, auditRefusedLink, issueDecisionLinks, openLink } from './proposal-links.js';
import { proposalRequestMail } from './proposal-mail.js';
import { noProposalMetrics, type ProposalMetrics } from './proposal-metrics.js';
import { checkTarget, type CheckedTarget, type ProposalTarget } from './proposal-target.js';
import { findProposal, insertProposal, pendingProposal, supersedePending, writeAudit, type Proposal, type ProposalSource } from './proposal.store.js';
import { otherRole, partyOf, requireParties, type BookingParties } from './parties.js';

export type ProposalConfig = Pick<Config, 'PUBLIC_URL' | 'PORT' | 'NOTIFICATIONS_FROM_EMAIL' | 'DECISION_LINK_TTL_HOURS' | 'PROPOSE_LINK_TTL_HOURS'>;

export interface ProposalDeps {
  db: Pick<Database, 'prisma' | 'sql'>;
  config: ProposalConfig;
  slotEvents: SlotEvents;
  outbox: Outbox;
  /** The booking engine's mail policy: a move or cancel queues the calendar REQUEST / CANCEL mails. */
  bookingMail: BookingMailer;
  metrics?: ProposalMetrics;
}

/** Who proposes: the holder of a manage/propose link, or a signed-in staff member or customer. */
export type Proposer = { token: string; bookingId?: string | null } | { actor: Actor; bookingId: string };
/** Who decides: the holder of an approve/decline link, or a signed-in staff member or customer. */
export type Decider = { token: string; proposalId?: string | null } | { actor: Actor; proposalId: string };

/** Roles a proposal can come from, with how it is labelled in audit rows and `decidedBy`. */
export interface Acting {
  role: MagicLinkRole;
  label: string;
  actorId: string | null;
  link: MagicLink | null;
}

const HOUR_MS = 3_600_000;

/**
 * No-login reschedule proposals (seed 004 slices 4-5): propose here; approve and decline in
 * ProposalDecisions. Every change is one transaction with its audit rows and mails.
 */
export class ProposalService {
  now: () => Date = () => new Date();
  readonly metrics: ProposalMetrics;

  constructor(readonly deps: ProposalDeps) {
    this.metrics = deps.metrics ?? noProposalMetrics;
  }

  get config() {
    return this.deps.config;
  }

  async propose(who: Proposer, target: ProposalTarget, note: string | null | undefined, requestId?: string | null): Promise<Proposal> {
    const now = this.now();
    const text = note?.trim() ? note.trim().slice(0, 2000) : null;
    const { proposal, superseded } = await this.refusalsAudited(who, requestId, async () => {
      const acting = await this.proposerAccess(who, now);
      const bookingId = acting.link?.bookingId ?? (who as { bookingId: string }).bookingId;
      return this.transaction(async (sql) => {
        const b = await requireParties(sql, bookingId, { lock: true });
        if (b.status !== 'CONFIRMED') throw new BookingNotActiveError(b.id, b.status as 'HELD');
        const checked = await checkTarget(sql, b, target, now);
        const result = await this.createProposal(sql, b, acting, checked, { note: text, source: acting.link ? 'link' : 'account', now, requestId });
        if (acting.link) await auditLinkUse(sql, acting.link, 'propose', requestId, { proposalId: result.proposal.id });
        return result;
      });
    });
    if (superseded) this.metrics.recordProposal('superseded');
    this.metrics.recordProposal('created');
    return proposal;
  }

  /**
   * Writes a pending proposal (superseding the booking's pending one), the other party's Approve /
   * Decline links and their mail, in the caller's transaction; the caller holds the booking lock.
   */
  async createProposal(
    sql: SqlQuery,
    b: BookingParties,
    acting: Acting,
    target: CheckedTarget,
    options: { note: string | null; source: ProposalSource; now: Date; requestId?: string | null },
  ): Promise<{ proposal: Proposal; superseded: boolean }> {
    const { now } = options;
    const superseded = await supersedePending(sql, b.id, now, acting.label);
    const proposal = await insertProposal(sql, {
      bookingId: b.id,
      proposedBy: acting.role,
      source: options.source,
      startAt: target.startAt,
      endAt: target.endAt,
      targetSlotId: target.targetSlotId,
      bookingSequence: b.icsSequence,
      note: options.note,
      expiresAt: new Date(now.getTime() + this.config.DECISION_LINK_TTL_HOURS * HOUR_MS),
      now,
    });
    const proposer = partyOf(b, acting.role, this.config.NOTIFICATIONS_FROM_EMAIL);
    const decider = partyOf(b, otherRole(acting.role), this.config.NOTIFICATIONS_FROM_EMAIL);
    const links = await issueDecisionLinks(sql, this.config, {
      bookingId: b.id,
      proposalId: proposal.id,
      role: decider.role,
      email: decider.email,
      expiresAt: proposal.expiresAt,
    });
    await this.deps.outbox.enqueue(sql, [
      {
        kind: 'proposal',
        to: decider.email,
        bookingId: b.id,
        dedupeKey: `proposal:${proposal.id}`,
        content: proposalRequestMail(b, proposer, proposal, options.note, links, decider.timeZone),
      },
    ]);
    await writeAudit(sql, {
      entityType: 'Proposal',
      entityId: proposal.id,
      action: 'PROPOSED',
      actorId: acting.actorId,
      actorLabel: acting.label,
      requestId: options.requestId,
      newValues: {
        bookingId: b.id,
        proposedBy: acting.role,
        source: options.source,
        startAt: proposal.startAt.toISOString(),
        endAt: proposal.endAt.toISOString(),
        bookingSequence: b.icsSequence,
        ...(superseded ? { superseded } : {}),
      },
    });
    return { proposal, superseded: superseded !== null };
  }

  /** Staff act for the host; the signed-in customer is the guest; a link carries its role. */
  private async proposerAccess(who: Proposer, now: Date): Promise<Acting> {
    if ('token' in who) {
      const link = await openLink(this.deps.db.sql, who.token, ['manage', 'propose'], now);
      if (who.bookingId && who.bookingId !== link.bookingId) throw new LinkInvalidError('WRONG_BOOKING');
      await this.checkLinkParty(link);
      return { role: link.role, label: `link:${link.role}`, actorId: null, link };
    }
    const b = await requireParties(this.deps.db.sql, who.bookingId);
    return { ...this.actorRole(who.actor, b, 'guest', () => new NotFoundError('Booking', who.bookingId)), link: null };
  }

  /** The party a signed-in caller acts as: staff for the host, the booking's customer as the guest. */
  actorRole(
    actor: Actor,
    b: Pick<BookingParties, 'userId' | 'customerEmailHash'>,
    customerRole: MagicLinkRole,
    refuse: () => Error,
  ): Omit<Acting, 'link'> {
    const label = `user:${actor.userId}`;
    if (hasAnyRole(actor, BOOKING_MANAGER_ROLES)) return { role: 'host', label, actorId: actor.userId };
    if (customerRole === 'guest' && isOwner(actor, b)) return { role: 'guest', label, actorId: actor.userId };
    throw refuse();
  }

  /** A link is bound to the address it was sent to: it stops working if that party's address changed. */
  async checkLinkParty(link: MagicLink): Promise<BookingParties> {
    const b = await requireParties(this.deps.db.sql, link.bookingId);
    if (pii().emailHash(partyOf(b, link.role, this.config.NOTIFICATIONS_FROM_EMAIL).email) !== link.emailHash)
      throw new LinkInvalidError('WRONG_BOOKING');
    return b;
  }

  /** Runs fn; a refused link is audited (outside the rolled-back transaction) and the refusal rethrown. */
  async refusalsAudited<T>(who: Proposer | Decider, requestId: string | null | undefined, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (error) {
      if (error instanceof LinkInvalidError && 'token' in who) await auditRefusedLink(this.deps.db.sql, who.token, error.reason, requestId);
      throw error;
    }
  }

  /** The proposal a decision link or a signed-in caller points at (read only; decisions lock it again). */
  async proposalOf(
    who: Decider,
    purpose: Extract<MagicLinkPurpose, 'approve' | 'decline'>,
    now: Date,
  ): Promise<{ proposal: Proposal; link: MagicLink | null }> {
    const sql = this.deps.db.sql;
    if ('token' in who) {
      const link = await openLink(sql, who.token, [purpose], now, { allowUsed: true });
      if (!link.proposalId || (who.proposalId && who.proposalId !== link.proposalId)) throw new LinkInvalidError('WRONG_BOOKING');
      const proposal = await findProposal(sql, link.proposalId);
      if (!proposal || proposal.bookingId !== link.bookingId) throw new LinkInvalidError('WRONG_BOOKING');
      if (link.usedAt) throw spentLinkError(proposal, purpose);
      await this.checkLinkParty(link);
      return { proposal, link };
    }
    const proposal = await findProposal(sql, who.proposalId);
    if (!proposal) throw new NotFoundError('Proposal', who.proposalId);
    return { proposal, link: null };
  }

  /** What the booking engine's steps (rescheduleInTx, cancelInTx) need when a proposal or a calendar reply runs them; the link or the role already authorized. */
  engineContext(actor: { actorId: string | null; actorLabel: string; requestId?: string | null }, now: Date): TxContext {
    return { now, actor: { ...actor, requestId: actor.requestId ?? null }, authorize: () => {}, mail: this.deps.bookingMail };
  }

  /** The booking's pending proposal, if any. */
  pending(bookingId: string): Promise<Proposal | null> {
    return pendingProposal(this.deps.db.sql, bookingId);
  }

  /** The booking engine's transaction (its steps run inside it). */
  transaction<T>(fn: (sql: SqlQuery) => Promise<T>): Promise<T> {
    return bookingTransaction(this.deps.db.sql, fn);
  }

  publish(changes: SlotChange[]): Promise<void> {
    return this.deps.slotEvents.publish(changes);
  }
}
