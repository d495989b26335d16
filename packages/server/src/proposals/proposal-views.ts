import type { SearchService } from '../scheduling/search.service.js';
import { ProposalClosedError } from './proposal-errors.js';
import { openLink } from './proposal-links.js';
import { freeTimes, type FreeTime } from './proposal-times.js';
import { pendingProposal, type Proposal } from './proposal.store.js';
import type { ProposalService } from './proposal.service.js';
import { partyOf, type BookingParties } from './parties.js';

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
    const booking = await s.checkLinkParty(link);
    const [times, pending] = await Promise.all([freeTimes(s.deps.db.sql, this.search, booking, now), pendingProposal(s.deps.db.sql, booking.id)]);
    return { booking, times, pending };
  }

  async decisionPage(token: string, verdict: 'approve' | 'decline'): Promise<{ booking: BookingParties; proposal: Proposal; proposerName: string }> {
    const s = this.service;
    const { proposal, link } = await s.proposalOf({ token }, verdict, s.now());
    const booking = await s.checkLinkParty(link!);
    if (proposal.status !== 'PENDING') throw new ProposalClosedError(proposal.id, proposal.status, proposal.failureReason);
    return { booking, proposal, proposerName: partyOf(booking, proposal.proposedBy, s.config.NOTIFICATIONS_FROM_EMAIL).name };
  }
}
