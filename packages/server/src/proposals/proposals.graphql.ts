import { builder } from '../builder.js';
import type { Context } from '../context.js';
import { TryAgainError } from '../db/retry.js';
import { grantBookingAccess } from '../booking/access.js';
import { BookingConflictError, BookingNotActiveError, SlotFullError, SlotUnavailableError } from '../booking/errors.js';
import { BookingPolicyError } from '../policies/enforce.js';
import '../policies/policies.graphql.js';
import { STAFF_ROLES } from '../shared/actor.js';
import { ValidationError } from '../shared/errors.js';
import { parseGlobalId } from '../shared/ids.js';
import { ErrorInterface } from '../shared/shared.graphql.js';
import { LinkInvalidError, ProposalClosedError } from './proposal-errors.js';
import type { ProposalTarget } from './proposal-target.js';
import type { Decision } from './proposal-decisions.js';
import type { Proposal } from './proposal.store.js';
import type { Decider, Proposer } from './proposal.service.js';

const PartyRoleEnum = builder.enumType('PartyRole', {
  description: 'The two parties of a booking: the host (the person resource, or staff for rooms) and the guest (the customer).',
  values: { HOST: { value: 'host' }, GUEST: { value: 'guest' } } as const,
});
const ProposalStatusEnum = builder.enumType('ProposalStatus', {
  values: ['PENDING', 'APPROVED', 'DECLINED', 'SUPERSEDED', 'FAILED', 'EXPIRED'] as const,
});
const ProposalFailureEnum = builder.enumType('ProposalFailureReason', {
  values: ['TIME_UNAVAILABLE', 'BOOKING_CHANGED', 'BOOKING_NOT_ACTIVE'] as const,
});
const LinkInvalidReasonEnum = builder.enumType('LinkInvalidReason', {
  values: ['UNKNOWN', 'EXPIRED', 'USED', 'WRONG_PURPOSE', 'WRONG_BOOKING'] as const,
});

export const ProposalRef = builder.objectRef<Proposal>('Proposal').implement({
  description: 'A new time one party of a booking proposed; the other party approves or declines it.',
  fields: (t) => ({
    id: t.globalID({ resolve: (p) => ({ type: 'Proposal', id: p.id }) }),
    status: t.field({ type: ProposalStatusEnum, resolve: (p) => p.status }),
    proposedBy: t.field({ type: PartyRoleEnum, resolve: (p) => p.proposedBy }),
    startAt: t.expose('startAt', { type: 'DateTime' }),
    endAt: t.expose('endAt', { type: 'DateTime' }),
    note: t.exposeString('note', { nullable: true }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    expiresAt: t.expose('expiresAt', { type: 'DateTime', description: 'A pending proposal not decided by then expires.' }),
    decidedAt: t.expose('decidedAt', { type: 'DateTime', nullable: true }),
    failureReason: t.field({ type: ProposalFailureEnum, nullable: true, resolve: (p) => p.failureReason }),
    booking: t.prismaField({
      type: 'Booking',
      resolve: (query, p, _args, ctx) => ctx.db.prisma.booking.findUniqueOrThrow({ ...query, where: { id: p.bookingId } }),
    }),
  }),
});

const ProposalDecisionRef = builder.objectRef<Decision>('ProposalDecision').implement({
  fields: (t) => ({
    proposal: t.field({ type: ProposalRef, resolve: (d) => d.proposal }),
    alreadyDecided: t.exposeBoolean('alreadyDecided', { description: 'True when the same decision had already been made: nothing changed now.' }),
  }),
});

builder.objectType(LinkInvalidError, {
  name: 'LinkInvalidError',
  description:
    'A no-login link that cannot be used (unknown or tampered, expired, used, for another step or booking). Nothing changed; the message says how to start again.',
  interfaces: [ErrorInterface],
  isTypeOf: (value) => value instanceof LinkInvalidError,
  fields: (t) => ({ reason: t.field({ type: LinkInvalidReasonEnum, resolve: (e) => e.reason }) }),
});

builder.objectType(ProposalClosedError, {
  name: 'ProposalClosedError',
  description: 'The proposal was already decided, replaced, failed or expired: this decision changed nothing.',
  interfaces: [ErrorInterface],
  isTypeOf: (value) => value instanceof ProposalClosedError,
  fields: (t) => ({
    proposalId: t.globalID({ resolve: (e) => ({ type: 'Proposal', id: e.proposalId }) }),
    status: t.field({ type: ProposalStatusEnum, resolve: (e) => e.status }),
    failureReason: t.field({ type: ProposalFailureEnum, nullable: true, resolve: (e) => e.failureReason }),
  }),
});

const ProposalRangeInput = builder.inputType('ProposalRangeInput', {
  fields: (t) => ({
    startAt: t.field({ type: 'DateTime', required: true }),
    endAt: t.field({ type: 'DateTime', required: true }),
  }),
});

const ProposeRescheduleInput = builder.inputType('ProposeRescheduleInput', {
  description: 'A token from a mail (manage or propose link), or signed in as staff or the customer with bookingId. Exactly one of slotId or range.',
  fields: (t) => ({
    token: t.string(),
    bookingId: t.id(),
    slotId: t.id(),
    range: t.field({ type: ProposalRangeInput }),
    note: t.string({ description: 'Shown to the other party; at most 2000 characters.' }),
  }),
});

const DecideProposalInput = builder.inputType('DecideProposalInput', {
  description: 'The token from the Approve / Decline link, or signed in (staff, or the customer for a time the host proposed) with proposalId.',
  fields: (t) => ({
    token: t.string(),
    proposalId: t.id(),
  }),
});

/** A link holder may read the booking the link is for in this response. */
function granted<T extends { bookingId: string }>(ctx: Context, value: T): T {
  grantBookingAccess(ctx, value.bookingId);
  return value;
}

function proposer(input: { token?: string | null; bookingId?: string | number | null }, ctx: Context): Proposer {
  const bookingId = input.bookingId ? parseGlobalId(String(input.bookingId), 'Booking', ['input', 'bookingId']) : null;
  if (input.token) return { token: input.token, bookingId };
  if (!ctx.actor) throw ValidationError.field(['input', 'token'], 'is required when not signed in');
  if (!bookingId) throw ValidationError.field(['input', 'bookingId'], 'is required without a token');
  return { actor: ctx.actor, bookingId };
}

function decider(input: { token?: string | null; proposalId?: string | number | null }, ctx: Context): Decider {
  const proposalId = input.proposalId ? parseGlobalId(String(input.proposalId), 'Proposal', ['input', 'proposalId']) : null;
  if (input.token) return { token: input.token, proposalId };
  if (!ctx.actor) throw ValidationError.field(['input', 'token'], 'is required when not signed in');
  if (!proposalId) throw ValidationError.field(['input', 'proposalId'], 'is required without a token');
  return { actor: ctx.actor, proposalId };
}

function target(input: { slotId?: string | number | null; range?: { startAt: Date; endAt: Date } | null }): ProposalTarget {
  if ((input.slotId == null) === (input.range == null)) {
    throw new ValidationError([
      { path: ['input', 'slotId'], message: 'give exactly one of slotId or range' },
      { path: ['input', 'range'], message: 'give exactly one of slotId or range' },
    ]);
  }
  return input.slotId ? { slotId: parseGlobalId(String(input.slotId), 'Slot', ['input', 'slotId']) } : { range: input.range! };
}

const DECISION_ERRORS = [LinkInvalidError, ProposalClosedError, BookingPolicyError, TryAgainError];

builder.mutationField('proposeReschedule', (t) =>
  t.field({
    type: ProposalRef,
    description:
      "Proposes a new time for a booking; the other party gets a mail with Approve and Decline links. Replaces the booking's pending proposal.",
    authScopes: { public: true },
    errors: {
      types: [LinkInvalidError, BookingNotActiveError, SlotFullError, SlotUnavailableError, BookingConflictError, BookingPolicyError, TryAgainError],
    },
    args: { input: t.arg({ type: ProposeRescheduleInput, required: true }) },
    resolve: async (_root, { input }, ctx) =>
      granted(ctx, await ctx.services.proposals.propose(proposer(input, ctx), target(input), input.note, ctx.requestId)),
  }),
);

builder.mutationField('approveProposal', (t) =>
  t.field({
    type: ProposalDecisionRef,
    description:
      'Moves the booking to the proposed time (checked again by the booking engine) and updates both calendars. If the time is gone the proposal ends FAILED.',
    authScopes: { public: true },
    errors: { types: DECISION_ERRORS },
    args: { input: t.arg({ type: DecideProposalInput, required: true }) },
    resolve: async (_root, { input }, ctx) => {
      const decision = await ctx.services.proposalDecisions.approve(decider(input, ctx), ctx.requestId);
      return (granted(ctx, decision.proposal), decision);
    },
  }),
);

builder.mutationField('declineProposal', (t) =>
  t.field({
    type: ProposalDecisionRef,
    description: 'Declines a proposed time: the booking keeps its time and the proposer is told.',
    authScopes: { public: true },
    errors: { types: DECISION_ERRORS },
    args: { input: t.arg({ type: DecideProposalInput, required: true }) },
    resolve: async (_root, { input }, ctx) => {
      const decision = await ctx.services.proposalDecisions.decline(decider(input, ctx), ctx.requestId);
      return (granted(ctx, decision.proposal), decision);
    },
  }),
);

export const BookingAttendeeRef = builder
  .objectRef<{ role: 'host' | 'guest'; partstat: string | null; repliedAt: Date | null; bouncedAt: Date | null; complainedAt: Date | null }>(
    'BookingAttendee',
  )
  .implement({
    description: "A party's last calendar answer (iMIP REPLY) and mail trouble (bounce, complaint).",
    fields: (t) => ({
      role: t.field({ type: PartyRoleEnum, resolve: (a) => a.role }),
      partstat: t.exposeString('partstat', { nullable: true, description: 'ACCEPTED, TENTATIVE, DECLINED, ... as the calendar client sent it.' }),
      repliedAt: t.expose('repliedAt', { type: 'DateTime', nullable: true }),
      bouncedAt: t.expose('bouncedAt', { type: 'DateTime', nullable: true, description: 'A hard bounce: mail to this party does not arrive.' }),
      complainedAt: t.expose('complainedAt', { type: 'DateTime', nullable: true }),
    }),
  });

builder.prismaObjectFields('Booking', (t) => ({
  attendees: t.field({
    type: [BookingAttendeeRef],
    description: "Each party's calendar answer and delivery trouble. Staff only.",
    authScopes: { roles: STAFF_ROLES },
    resolve: async (booking, _args, ctx) =>
      (await ctx.db.prisma.bookingAttendee.findMany({ where: { bookingId: booking.id }, orderBy: { role: 'asc' } })).map((a) => ({
        ...a,
        role: a.role,
      })),
  }),
  pendingProposal: t.field({
    type: ProposalRef,
    nullable: true,
    description: 'The proposed new time waiting for a decision, if any.',
    resolve: (booking, _args, ctx) => ctx.services.proposals.pending(booking.id),
  }),
}));
