import { AppError } from '../shared/errors.js';

export type LinkInvalidReason = 'UNKNOWN' | 'EXPIRED' | 'USED' | 'WRONG_PURPOSE' | 'WRONG_BOOKING';

const LINK_MESSAGES: Record<LinkInvalidReason, string> = {
  UNKNOWN:
    'This link is not valid: it may be incomplete or mistyped. Open the link from your latest mail again, or open the manage link in your calendar invitation to start again.',
  EXPIRED: 'This link has expired. Open the manage link in your latest calendar invitation to propose a time again.',
  USED: 'This link was already used, so nothing more was changed. Open the manage link in your latest calendar invitation to see the booking as it is now.',
  WRONG_PURPOSE:
    'This link is meant for another step. Use the link from the mail for this step, or open the manage link in your calendar invitation.',
  WRONG_BOOKING: 'This link belongs to another booking or proposal. Open the link from the mail about this booking again.',
};

/** A no-login link that cannot be used here; nothing was changed. The message says how to start again. */
export class LinkInvalidError extends AppError {
  readonly code = 'LINK_INVALID';
  constructor(
    readonly reason: LinkInvalidReason,
    detail?: string,
  ) {
    super(detail ? `${LINK_MESSAGES[reason]} ${detail}` : LINK_MESSAGES[reason]);
  }
}

export type ProposalStatus = 'PENDING' | 'APPROVED' | 'DECLINED' | 'SUPERSEDED' | 'FAILED' | 'EXPIRED';
export type ProposalFailure = 'TIME_UNAVAILABLE' | 'BOOKING_CHANGED' | 'BOOKING_NOT_ACTIVE';

const CLOSED_MESSAGES: Record<Exclude<ProposalStatus, 'PENDING'>, string> = {
  APPROVED: 'This proposal was already approved; the booking has its new time.',
  DECLINED: 'This proposal was already declined; the booking keeps its time.',
  SUPERSEDED: 'A newer proposal replaced this one; look for the latest mail about this booking.',
  FAILED: 'This proposal could not be applied; the booking keeps its time.',
  EXPIRED: 'This proposal expired before anyone decided; the booking keeps its time. Propose a time again from the manage link.',
};
const FAILURE_MESSAGES: Record<ProposalFailure, string> = {
  TIME_UNAVAILABLE: 'The proposed time is no longer available, so the booking keeps its time. Both of you were told.',
  BOOKING_CHANGED: 'The booking changed after this time was proposed, so the booking keeps its current time. Both of you were told.',
  BOOKING_NOT_ACTIVE: 'The booking is no longer active (cancelled or expired).',
};

/** The proposal was decided, replaced, failed or expired: this decision is refused and changes nothing. */
export class ProposalClosedError extends AppError {
  readonly code = 'PROPOSAL_CLOSED';
  constructor(
    readonly proposalId: string,
    readonly status: Exclude<ProposalStatus, 'PENDING'>,
    readonly failureReason: ProposalFailure | null = null,
  ) {
    super(failureReason ? FAILURE_MESSAGES[failureReason] : CLOSED_MESSAGES[status]);
  }
}

/**
 * A decision link found spent. Deciding spends both links of a proposal, so an Approve link after a
 * Decline (or the reverse) was never used itself: the proposal's state is the answer then. The same
 * link used again stays `USED`.
 */
export function spentLinkError(
  proposal: { id: string; status: ProposalStatus; failureReason: ProposalFailure | null },
  verdict: 'approve' | 'decline',
): AppError {
  const mine = verdict === 'approve' ? 'APPROVED' : 'DECLINED';
  if (proposal.status === 'PENDING' || proposal.status === mine) return new LinkInvalidError('USED');
  return new ProposalClosedError(proposal.id, proposal.status, proposal.failureReason);
}
