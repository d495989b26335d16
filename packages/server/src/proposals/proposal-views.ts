import { BookingNotActiveError } from '../booking/errors.js';
import type { SearchService } from '../scheduling/search.service.js';
import { ProposalClosedError } from './proposal-errors.js';
import { openLink } from './proposal-links.js';
import { freeTimes, type FreeTime } from './proposal-times.js';
import { pendingProposal, type Proposal } from './proposal.store.js';
import type { ProposalService } from './proposal.service.js';
import type { MagicLinkRole } from '../links/magic-links.js';
import { partyOf, requireParties, type BookingParties } from './parties.js';

/** What the GET pages show. Reads only: opening a link (as mail scanners do) changes nothing. */
export class ProposalViews {
  constructor(
    private readonly service: ProposalService,
    private readonly search: SearchService,
  ) {}

  async proposePage(token: string): Promise<{ booking: BookingParties; times: FreeTime[]; pending: Proposal | null }> {
    const s = this.service;
    const now = s.now();
    const link = await openLink(s.deps.db.sql, token, ['manage', 'propose'], now);
    const booking = this.seenBy(await s.checkLinkParty(link), link.role);
    // As proposing refuses it: a booking that is not confirmed offers no times to move to.
    if (booking.status !== 'CONFIRMED') throw new BookingNotActiveError(booking.id, booking.status as 'HELD');
    const [times, pending] = await Promise.all([freeTimes(s.deps.db.sql, this.search, booking, now), pendingProposal(s.deps.db.sql, booking.id)]);
    return { booking, times, pending };
  }

  async decisionPage(token: string, verdict: 'approve' | 'decline'): Promise<{ booking: BookingParties; proposal: Proposal; proposerName: string }> {
    const s = this.service;
    const { proposal, link } = await s.proposalOf({ token }, verdict, s.now());
    const booking = this.seenBy(await s.checkLinkParty(link!), link!.role);
    if (proposal.status !== 'PENDING') throw new ProposalClosedError(proposal.id, proposal.status, proposal.failureReason);
    return { booking, proposal, proposerName: partyOf(booking, proposal.proposedBy, s.config.NOTIFICATIONS_FROM_EMAIL).name };
  }

  /** A booking as one party reads it after acting (the pages after a POST). */
  async bookingSeenBy(bookingId: string, role: MagicLinkRole): Promise<BookingParties> {
    return this.seenBy(await requireParties(this.service.deps.db.sql, bookingId), role);
  }

  /** The pages show times in the zone of the party who opened the link. */
  private seenBy(booking: BookingParties, role: MagicLinkRole): BookingParties {
    return { ...booking, timeZone: partyOf(booking, role, this.service.config.NOTIFICATIONS_FROM_EMAIL).timeZone };
  }
}
