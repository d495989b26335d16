import { expectTypename, type TestApp } from './app.js';
import { issueMagicLink, type MagicLinkPurpose, type MagicLinkRole } from '../../src/links/magic-links.js';
import type { MailContent } from '../../src/mail/mail-content.js';
import { readMailContent } from '../../src/mail/outbox.js';
import { pii } from '../../src/shared/pii.js';
import { call } from './documents.js';
import { fixtures, gid, uuidOf } from './fixtures.js';
import { renderBookingMail } from './mail.js';
import { BookDocument } from './sdk.js';

export const HOST_EMAIL = 'dr.host@clinic.example';
export const GUEST_EMAIL = 'guest.person@mail.example';
const HOUR = 3_600_000;

/** GraphQL documents of the proposal tests. */
const BASE_ERRORS = `... on Error { __typename code message }
  ... on LinkInvalidError { reason }
  ... on ValidationError { fieldErrors { path message } }`;
const ERRORS = `${BASE_ERRORS} ... on ProposalClosedError { status failureReason }`;
export const PROPOSE = `mutation Propose($input: ProposeRescheduleInput!) { proposeReschedule(input: $input) {
  __typename ... on Proposal { id status proposedBy startAt endAt note expiresAt booking { id startAt icsSequence } } ${BASE_ERRORS} } }`;
export const APPROVE = `mutation Approve($input: DecideProposalInput!) { approveProposal(input: $input) {
  __typename ... on ProposalDecision { alreadyDecided proposal { id status decidedAt booking { id startAt endAt icsSequence } } } ${ERRORS} } }`;
export const DECLINE = `mutation Decline($input: DecideProposalInput!) { declineProposal(input: $input) {
  __typename ... on ProposalDecision { alreadyDecided proposal { id status booking { id startAt icsSequence } } } ${ERRORS} } }`;

/**
 * A host (a person with an email) in Berlin with slots a day apart from `base`, and helpers to book
 * one as the guest, issue the links the invites' mails carry, and read the outbox back.
 */
export function proposalFixtures(t: TestApp) {
  const sql = t.app.db.sql;
  const f = fixtures(sql);
  return {
    f,
    async host(options: { exclusive?: boolean; email?: string | null } = {}) {
      const locationId = await f.location('Europe/Berlin');
      const resourceId = await f.resource(locationId, {
        exclusive: options.exclusive,
        kind: options.exclusive ? 'ROOM' : 'PERSON',
        name: 'Alice Host',
        email: options.email === undefined ? HOST_EMAIL : options.email,
      });
      return { locationId, resourceId };
    },
    /** Slots of one hour starting `hoursAhead` hours after now (whole hours). */
    async slot(locationId: string, resourceId: string, hoursAhead: number, capacity = 1) {
      const start = new Date(Math.ceil(Date.now() / HOUR) * HOUR + hoursAhead * HOUR);
      return f.slot(locationId, resourceId, { startAt: start, minutes: 60, capacity });
    },
    async book(slotId: string, email = GUEST_EMAIL, timeZone?: string) {
      const receipt = expectTypename(
        await call(t, BookDocument, { slotId: gid('Slot', slotId), customer: { name: 'Grace Guest', email, ...(timeZone ? { timeZone } : {}) } }),
        'BookingReceipt',
      );
      return { id: receipt.booking.id, rawId: uuidOf(receipt.booking.id), manageToken: receipt.manageToken };
    },
    /** A link as the invites' mails carry it (manage) or as a proposal mail does. */
    async link(bookingId: string, options: { purpose?: MagicLinkPurpose; role?: MagicLinkRole; email?: string; expiresAt?: Date } = {}) {
      const role = options.role ?? 'guest';
      return issueMagicLink(sql, {
        purpose: options.purpose ?? 'manage',
        bookingId,
        role,
        email: options.email ?? (role === 'guest' ? GUEST_EMAIL : HOST_EMAIL),
        expiresAt: options.expiresAt ?? new Date(Date.now() + 24 * HOUR),
      });
    },
    /** Every outbox mail, oldest first, decrypted. */
    async mails(where = 'TRUE'): Promise<{ kind: string; to: string; bookingId: string | null; content: MailContent }[]> {
      await renderBookingMail(t);
      const rows = await sql.query<{ kind: string; recipient: string; booking_id: string | null; content: string }>(
        `SELECT kind, recipient, booking_id, content FROM outbox_messages WHERE ${where} ORDER BY created_at, id`,
      );
      return rows.map((r) => ({ kind: r.kind, to: pii().decrypt(r.recipient), bookingId: r.booking_id, content: readMailContent(r.content) }));
    },
    /** The token behind a link in a mail's text, e.g. linkIn(mail, 'Approve'). */
    linkIn(content: MailContent, label: string): string {
      const match = new RegExp(`${label}: (\\S+)`).exec(content.text);
      if (!match) throw new Error(`no ${label} link in: ${content.text}`);
      return match[1]!;
    },
    /** What the "nothing changed" assertions compare. */
    async state() {
      await renderBookingMail(t);
      const [row] = await sql.query(
        `SELECT (SELECT json_agg(json_build_object('id', id, 'start', start_at, 'seq', ics_sequence, 'status', status, 'slot', slot_id) ORDER BY id) FROM bookings) AS bookings,
                (SELECT json_agg(json_build_object('id', id, 'status', status) ORDER BY id) FROM proposals) AS proposals,
                (SELECT count(*)::int FROM outbox_messages) AS mails,
                (SELECT count(*)::int FROM magic_links WHERE used_at IS NOT NULL) AS used_links,
                (SELECT json_agg(json_build_object('id', id, 'booked', booked, 'held', held) ORDER BY id) FROM slots) AS slots`,
      );
      return row;
    },
  };
}

export const tokenOf = (url: string) => new URL(url).searchParams.get('t') ?? new URL(url).searchParams.get('r')!;
